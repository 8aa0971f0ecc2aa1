"""Google Cloud DNS through google-cloud-dns: cert-manager's `cloudDNS` solver.

A TXT name holds one record set, replaced as a whole: a change deletes the set
as read and adds the new one, so Cloud DNS itself refuses the change if another
writer moved first (the deletion no longer matches) and we re-read and retry.
Each change is waited on until it is `done`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import google.api_core.exceptions
import google.auth
import google.auth.exceptions
from google.cloud import dns
from google.oauth2 import service_account

from shared.dns01 import credentials as creds
from shared.dns01.credentials import SecretReader
from shared.dns01.errors import DNSUpdateError, ProviderConfigError

PROVIDER: Final = "cloudDNS"
TTL: Final = 60  # cert-manager's value
API_ENDPOINT: Final = "https://dns.googleapis.com"
DONE_TIMEOUT_SECONDS: Final = 120.0
DONE_POLL_SECONDS: Final = 1.0
CHANGE_ATTEMPTS: Final = 5
SCOPES: Final = ("https://www.googleapis.com/auth/ndev.clouddns.readwrite",)


@dataclass(frozen=True)
class CloudDNSProvider:
    project: str
    hosted_zone_name: str = ""  # the managed zone's *name*; empty: found by DNS name
    # google-auth service account credentials, built once (parsing the RSA key is the
    # slowest step of a call); they also reuse their access token. None: ambient.
    credentials: Any = field(default=None, repr=False, compare=False)
    api_endpoint: str = API_ENDPOINT
    done_timeout: float = DONE_TIMEOUT_SECONDS
    poll_interval: float = DONE_POLL_SECONDS
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        self._change(fqdn=fqdn, value=value, add=True)

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        self._change(fqdn=fqdn, value=value, add=False)

    def _change(self, *, fqdn: str, value: str, add: bool) -> None:
        name = _absolute(fqdn)
        what = f"{'adding' if add else 'removing'} TXT at {name}"
        client = self._client()
        managed = client.zone(_call(lambda: self._zone_name(client, name), what))
        for _ in range(CHANGE_ATTEMPTS):
            current = _call(lambda: _txt_set(managed, name), what)
            values = list(current.rrdatas) if current is not None else []
            if (_quote(value) in values) == add:
                return  # already as wanted: present/cleanup are idempotent
            wanted = [*values, _quote(value)] if add else [v for v in values if v != _quote(value)]
            changes = managed.changes()
            if current is not None:
                changes.delete_record_set(current)
            if wanted:
                changes.add_record_set(managed.resource_record_set(name, "TXT", TTL, wanted))
            try:
                changes.create()
            except (
                google.api_core.exceptions.Conflict,
                google.api_core.exceptions.PreconditionFailed,
            ):
                continue  # the set changed under us: re-read and retry
            except google.api_core.exceptions.GoogleAPICallError as error:
                raise DNSUpdateError(f"{what}: {_describe(error)}") from None
            self._wait_done(changes, what=what)
            return
        raise DNSUpdateError(f"{what}: the record set kept changing; gave up")

    def _wait_done(self, changes: Any, *, what: str) -> None:
        deadline = time.monotonic() + self.done_timeout
        while changes.status != "done":
            if time.monotonic() >= deadline:
                raise DNSUpdateError(f"{what}: change {changes.name} not done after deadline")
            self.sleep(self.poll_interval)
            _call(changes.reload, what)

    def _zone_name(self, client: Any, name: str) -> str:
        if self.hosted_zone_name:
            return self.hosted_zone_name
        best: tuple[int, str] | None = None
        for managed in client.list_zones():
            # The client keeps `visibility` only in its raw resource; a private zone is
            # invisible to the CA, so it never holds the challenge record.
            if getattr(managed, "_properties", {}).get("visibility") == "private":
                continue
            dns_name = _absolute(managed.dns_name or "")
            encloses = name == dns_name or name.endswith("." + dns_name)
            if encloses and (best is None or len(dns_name) > best[0]):
                best = (len(dns_name), str(managed.name))
        if best is None:
            raise DNSUpdateError(
                f"no managed zone in project {self.project} holds {name}; set hostedZoneName"
            )
        return best[1]

    def _client(self) -> Any:
        options = {"api_endpoint": self.api_endpoint}
        credentials = self.credentials
        if credentials is None:
            try:
                credentials, _ = google.auth.default(scopes=SCOPES)
            except google.auth.exceptions.DefaultCredentialsError:
                raise ProviderConfigError(
                    "cloudDNS: no ambient Google credentials found; set serviceAccountSecretRef"
                ) from None
        return dns.Client(project=self.project, credentials=credentials, client_options=options)


def _txt_set(managed: Any, name: str) -> Any:
    # The REST API filters by name and type; this client version only lacks the parameters.
    listing = managed.list_resource_record_sets()
    listing.extra_params = {"name": name, "type": "TXT"}
    for record_set in listing:
        if _absolute(record_set.name) == name and record_set.record_type == "TXT":
            return record_set
    return None


def _call(step: Callable[[], Any], what: str) -> Any:
    try:
        return step()
    except google.api_core.exceptions.GoogleAPICallError as error:
        raise DNSUpdateError(f"{what}: {_describe(error)}") from None
    except google.auth.exceptions.RefreshError:
        # The token endpoint's answer may echo the assertion: say only what failed.
        raise DNSUpdateError(
            f"{what}: could not get an access token for the service account"
        ) from None
    except google.auth.exceptions.TransportError as error:
        raise DNSUpdateError(f"{what}: {type(error).__name__}") from None


def _service_account_credentials(info: dict[str, Any]) -> Any:
    return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
        info, scopes=SCOPES
    )


def _describe(error: google.api_core.exceptions.GoogleAPICallError) -> str:
    return f"{error.code} {error.message}".strip()


def _absolute(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


SERVICE_ACCOUNT_FIELDS: Final = ("type", "client_email", "private_key", "token_uri")


def parse_service_account(raw: str) -> Any:
    """Credentials from a service account JSON key, checked before any call; nothing of
    the key appears in messages."""
    where = "cloudDNS.serviceAccountSecretRef"
    try:
        info = json.loads(raw)
    except ValueError:
        raise ProviderConfigError(f"{where} is not JSON") from None
    if not isinstance(info, dict):
        raise ProviderConfigError(f"{where} is not a service account key")
    missing = [f for f in SERVICE_ACCOUNT_FIELDS if not isinstance(info.get(f), str)]
    if missing:
        raise ProviderConfigError(f"{where} lacks {', '.join(missing)}")
    if info["type"] != "service_account":
        raise ProviderConfigError(f"{where} is a {info['type']!r} key, not service_account")
    try:
        return _service_account_credentials(info)
    except ValueError:
        raise ProviderConfigError(f"{where}: private_key is not a usable PEM key") from None


def from_spec(spec: Mapping[str, Any], read_secret: SecretReader) -> CloudDNSProvider:
    project = creds.required_str(spec, "project", provider=PROVIDER)
    ref = creds.secret_ref(spec, "serviceAccountSecretRef", provider=PROVIDER)
    credentials: Any = None
    if ref is not None:
        raw = creds.read_text(read_secret, ref, provider=PROVIDER, field="serviceAccountSecretRef")
        credentials = parse_service_account(raw)
    elif not creds.ambient_allowed(read_secret):
        raise ProviderConfigError(
            "cloudDNS: serviceAccountSecretRef is required; ambient credentials are only"
            " used for ClusterIssuers"
        )
    return CloudDNSProvider(
        project=project,
        hosted_zone_name=creds.optional_str(spec, "hostedZoneName", provider=PROVIDER),
        credentials=credentials,
    )
