"""cert-manager's `webhook` solver: delegate Present/CleanUp to a third-party DNS webhook.

The webhook is an aggregated API server; a ChallengePayload is POSTed through
the Kubernetes API to /apis/<groupName>/v1alpha1/<solverName>, exactly as
cert-manager does, so existing webhooks (and their RBAC) keep working. The
webhook reads its own credentials from `resourceNamespace`.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NotRequired, TypedDict

from shared import runtime
from shared.dns01 import credentials as creds
from shared.dns01.base import CHALLENGE_LABEL
from shared.dns01.credentials import SecretReader
from shared.dns01.errors import DNSUpdateError, ProviderConfigError
from shared.kube.client import Kube
from shared.kube.errors import ApiError

PROVIDER: Final = "webhook"
API_VERSION: Final = "webhook.acme.cert-manager.io/v1alpha1"
KIND: Final = "ChallengePayload"
# Fixed namespace for deterministic request uids: the same call always has the same uid.
UID_NAMESPACE: Final = uuid.UUID("5f0c3c1e-6a53-4b47-9d0e-2e8f1c9a7d11")

Action = Literal["Present", "CleanUp"]


class ChallengeRequest(TypedDict):
    uid: str
    action: Action
    type: Literal["dns-01"]
    dnsName: str
    key: str
    resourceNamespace: str
    resolvedFQDN: str
    resolvedZone: str
    allowAmbientCredentials: bool
    config: NotRequired[Any]


class ChallengeResponse(TypedDict, total=False):
    uid: str
    success: bool
    status: Mapping[str, Any]


class ChallengePayload(TypedDict):
    apiVersion: str
    kind: str
    request: NotRequired[ChallengeRequest]
    response: NotRequired[ChallengeResponse]


# (absolute API path, payload) -> the JSON the API answered.
Poster = Callable[[str, ChallengePayload], Mapping[str, Any]]


def post_via(kube: Kube, path: str, payload: ChallengePayload) -> Mapping[str, Any]:
    """POST through a Kubernetes API connection (its auth, TLS and error mapping)."""
    return kube.post(path, dict(payload))


def _post_via_runtime(path: str, payload: ChallengePayload) -> Mapping[str, Any]:
    return post_via(runtime.current().kube, path, payload)


@dataclass(frozen=True)
class WebhookProvider:
    group_name: str
    solver_name: str
    config: Any = None  # passed through verbatim; may hold secret *references*, never logged
    resource_namespace: str = ""
    allow_ambient_credentials: bool = False
    # The Challenge's spec.dnsName (set by for_domain); empty when used without a Challenge.
    dns_name: str = ""
    post: Poster = field(default=_post_via_runtime, repr=False, compare=False)

    @property
    def path(self) -> str:
        return f"/apis/{self.group_name}/v1alpha1/{self.solver_name}"

    def for_domain(self, dns_name: str) -> WebhookProvider:
        return dataclasses.replace(self, dns_name=dns_name)

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        self._call("Present", fqdn=fqdn, zone=zone, value=value)

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        self._call("CleanUp", fqdn=fqdn, zone=zone, value=value)

    def request(self, action: Action, *, fqdn: str, zone: str, value: str) -> ChallengeRequest:
        resolved = fqdn.rstrip(".") + "."
        request: ChallengeRequest = {
            "uid": str(uuid.uuid5(UID_NAMESPACE, f"{action}\n{resolved}\n{value}")),
            "action": action,
            "type": "dns-01",
            "dnsName": self.dns_name.rstrip(".") or _dns_name(resolved),
            "key": value,
            "resourceNamespace": self.resource_namespace,
            "resolvedFQDN": resolved,
            "resolvedZone": zone.rstrip(".") + ".",
            "allowAmbientCredentials": self.allow_ambient_credentials,
        }
        if self.config is not None:
            request["config"] = self.config
        return request

    def _call(self, action: Action, *, fqdn: str, zone: str, value: str) -> None:
        what = f"webhook {self.group_name}/{self.solver_name} {action} for {fqdn}"
        payload: ChallengePayload = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "request": self.request(action, fqdn=fqdn, zone=zone, value=value),
        }
        try:
            answer = self.post(self.path, payload)
        except ApiError as error:
            raise DNSUpdateError(f"{what}: {error.status} {error.reason}") from error
        response = answer.get("response")
        if not isinstance(response, Mapping):
            raise DNSUpdateError(f"{what}: the webhook answered without a response")
        if response.get("success") is not True:
            status = response.get("status")
            message = status.get("message") if isinstance(status, Mapping) else None
            raise DNSUpdateError(f"{what}: {message or 'failed without a message'}")


def _dns_name(resolved_fqdn: str) -> str:
    """Without a Challenge: the domain the record name is for (no challenge label, no dot)."""
    return resolved_fqdn.removeprefix(f"{CHALLENGE_LABEL}.").rstrip(".")


def from_spec(spec: Mapping[str, Any], read_secret: SecretReader) -> WebhookProvider:
    group_name = creds.required_str(spec, "groupName", provider=PROVIDER)
    solver_name = creds.required_str(spec, "solverName", provider=PROVIDER)
    config = spec.get("config")
    try:
        json.dumps(config)
    except (TypeError, ValueError):
        raise ProviderConfigError("webhook.config must be JSON") from None
    return WebhookProvider(
        group_name=group_name,
        solver_name=solver_name,
        config=config,
        resource_namespace=creds.scope_namespace(read_secret),
        allow_ambient_credentials=creds.ambient_allowed(read_secret),
    )
