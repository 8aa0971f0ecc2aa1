"""ACME issuer: an account with the CA (check), and an Order per CertificateRequest (sign).

Signing is asynchronous: `sign` finds or creates the Order named after the request
and reports Pending until the Order reconciler (shared/acmeflow) has driven it to a
final state; then the certificate it stored on the Order is the answer.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from acme import client as acme_client

from shared.acme.account import (
    AccountKey,
    ExternalAccountBinding,
    InvalidAccountKeyError,
    account_key_from_pem,
    account_key_to_pem,
    ensure_account,
    generate_account_key,
)
from shared.acme.client import make_client
from shared.acme.errors import AcmeError
from shared.acme.renewal_info import cert_id
from shared.acmeflow.names import REPLACES_ANNOTATION, order_name
from shared.issuance.names import request_name
from shared.issuers.base import (
    Failed,
    Issued,
    IssuerScope,
    Outcome,
    Pending,
    Readiness,
    SigningRequest,
)
from shared.kube.errors import AlreadyExists, NotFound
from shared.kube.objects import (
    condition_is,
    encode_data,
    meta,
    name_of,
    namespace_of,
    owner_reference,
    secret_bytes,
)
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, ORDERS, SECRETS
from shared.pki.x509 import certificate_names

DEFAULT_KEY: Final = "tls.key"
FINAL_FAILURES: Final = frozenset({"invalid", "errored", "expired"})

Obj = dict[str, Any]


class AcmeConfigError(ValueError):
    """The issuer's `acme` block cannot work as written (becomes InvalidConfig)."""


class AccountKeyMissing(Exception):
    """The account key Secret is absent and key generation is disabled."""


# What building a client for an issuer can fail with, short of the CA itself: the issuer
# check reports these on the issuer; reconcilers wait for it to be fixed.
CLIENT_ERRORS: Final = (AcmeConfigError, AccountKeyMissing, InvalidAccountKeyError)


@dataclass(frozen=True)
class AcmeSettings:
    server: str
    email: str
    key_secret: str
    key_field: str
    ca_bundle_pem: bytes | None
    skip_tls_verify: bool
    preferred_chain: str | None
    profile: str | None
    disable_key_generation: bool
    eab_key_id: str | None
    eab_secret: tuple[str, str] | None = field(default=None)  # (name, key) of the HMAC key
    eab_algorithm: str = "HS256"


def settings_of(spec: Mapping[str, Any]) -> AcmeSettings:
    acme = spec.get("acme")
    if not isinstance(acme, Mapping):
        raise AcmeConfigError("spec.acme must be an object")
    server = str(acme.get("server") or "")
    if not server.startswith(("https://", "http://")):
        raise AcmeConfigError("spec.acme.server must be the ACME directory URL")
    ref = acme.get("privateKeySecretRef") or {}
    if not isinstance(ref, Mapping) or not ref.get("name"):
        raise AcmeConfigError("spec.acme.privateKeySecretRef.name is required")
    ca_bundle: bytes | None = None
    if acme.get("caBundle"):
        try:
            ca_bundle = base64.b64decode(str(acme["caBundle"]), validate=True)
        except ValueError:
            raise AcmeConfigError("spec.acme.caBundle is not valid base64") from None
    if ca_bundle is not None and acme.get("skipTLSVerify"):
        raise AcmeConfigError("caBundle and skipTLSVerify are mutually exclusive")
    eab = acme.get("externalAccountBinding")
    eab_key_id = eab_secret = None
    eab_algorithm = "HS256"
    if isinstance(eab, Mapping):
        key_ref = eab.get("keySecretRef") or {}
        if not eab.get("keyID") or not isinstance(key_ref, Mapping) or not key_ref.get("name"):
            raise AcmeConfigError("externalAccountBinding needs keyID and keySecretRef.name")
        eab_key_id = str(eab["keyID"])
        eab_secret = (str(key_ref["name"]), str(key_ref.get("key") or "secret"))
        eab_algorithm = str(eab.get("keyAlgorithm") or "HS256")
    return AcmeSettings(
        server=server,
        email=str(acme.get("email") or ""),
        key_secret=str(ref["name"]),
        key_field=str(ref.get("key") or DEFAULT_KEY),
        ca_bundle_pem=ca_bundle,
        skip_tls_verify=bool(acme.get("skipTLSVerify")),
        preferred_chain=str(acme.get("preferredChain") or "") or None,
        profile=str(acme.get("profile") or "") or None,
        disable_key_generation=bool(acme.get("disableAccountKeyGeneration")),
        eab_key_id=eab_key_id,
        eab_secret=eab_secret,
        eab_algorithm=eab_algorithm,
    )


def account_key(scope: IssuerScope, settings: AcmeSettings) -> AccountKey:
    """The stored account key; generated and stored first if missing (unless disabled)."""
    secret = scope.find_secret(settings.key_secret)
    pem = secret_bytes(secret, settings.key_field)
    if pem:
        return account_key_from_pem(pem)
    if settings.disable_key_generation:
        raise AccountKeyMissing(
            f'account key Secret "{settings.key_secret}" (key {settings.key_field!r}) not found'
            " and disableAccountKeyGeneration is set"
        )
    if secret is not None:
        raise AccountKeyMissing(
            f'Secret "{settings.key_secret}" has no {settings.key_field!r}; not overwriting it'
        )
    key = generate_account_key()
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": settings.key_secret, "namespace": scope.secrets_namespace},
        "data": encode_data({settings.key_field: account_key_to_pem(key)}),
    }
    try:
        scope.kube.create(SECRETS, body)
    except AlreadyExists:
        # Another invocation stored one first: everyone uses that one.
        return account_key(scope, settings)
    return key


def key_hash(key: AccountKey) -> str:
    return hashlib.sha256(account_key_to_pem(key)).hexdigest()


def client_for(scope: IssuerScope, *, settings: AcmeSettings | None = None) -> acme_client.ClientV2:
    """A client signing as the issuer's registered account (status.acme.uri)."""
    settings = settings or settings_of(scope.spec)
    uri = ((scope.issuer.get("status") or {}).get("acme") or {}).get("uri")
    return make_client(
        directory_url=settings.server,
        account_key=account_key(scope, settings),
        ca_bundle_pem=settings.ca_bundle_pem,
        skip_tls_verify=settings.skip_tls_verify,
        account_uri=str(uri) if uri else None,
    )


class Acme:
    def check(self, scope: IssuerScope) -> Readiness:
        try:
            settings = settings_of(scope.spec)
        except AcmeConfigError as error:
            return Readiness(False, "InvalidConfig", f"Invalid ACME issuer config: {error}")
        try:
            key = account_key(scope, settings)
        except (AccountKeyMissing, InvalidAccountKeyError) as error:
            return Readiness(
                False, "ErrRegisterACMEAccount", f"Failed to load account key: {error}"
            )
        stored = (scope.issuer.get("status") or {}).get("acme") or {}
        # The tick re-verifies every issuer: a Ready account registered on this server
        # with this key (its Secret still there) and email needs no round trip to the CA.
        if (
            condition_is(scope.issuer.get("status") or {}, "Ready")
            and stored.get("uri")
            and same_server(str(stored["uri"]), settings.server)
            and stored.get("lastRegisteredEmail", "") == settings.email
            and stored.get("lastPrivateKeyHash") == key_hash(key)
            and _observed(scope.issuer)
        ):
            # Registered with this key and email already: no round trip to the CA.
            return _registered(str(stored["uri"]), settings.email, key)
        try:
            client = make_client(
                directory_url=settings.server,
                account_key=key,
                ca_bundle_pem=settings.ca_bundle_pem,
                skip_tls_verify=settings.skip_tls_verify,
            )
            info = ensure_account(client=client, email=settings.email, eab=_eab(scope, settings))
        except (AcmeError, NotFound) as error:
            return Readiness(
                False, "ErrRegisterACMEAccount", f"Failed to register ACME account: {error}"
            )
        return _registered(info.uri, info.email, key)

    def sign(self, scope: IssuerScope, request: SigningRequest) -> Outcome:
        cr = request.request
        namespace, name = namespace_of(cr), order_name(cr)
        order = scope.kube.find(ORDERS, namespace, name)
        if order is None:
            try:
                order = scope.kube.create(ORDERS, build_order(scope, request, name=name))
            except AlreadyExists:
                order = scope.kube.get(ORDERS, namespace, name)
            # The same words as while it is pending: one request status write, not two.
            return _waiting(namespace, name, "pending")
        status = order.get("status") or {}
        state = str(status.get("state") or "")
        if state == "valid" and status.get("certificate"):
            return Issued(chain_pem=base64.b64decode(status["certificate"]), ca_pem=None)
        if state in FINAL_FAILURES:
            reason = status.get("reason") or "the CA gave no reason"
            return Failed(
                "Failed",
                f'Failed to wait for order resource "{name}" to become ready: '
                f'order is in "{state}" state: {reason}',
            )
        return _waiting(namespace, name, state or "pending")


def _waiting(namespace: str, name: str, state: str) -> Pending:
    return Pending(
        "OrderPending", f'Waiting on certificate issuance from order {namespace}/{name}: "{state}"'
    )


def build_order(scope: IssuerScope, request: SigningRequest, *, name: str) -> Obj:
    """The Order for a CertificateRequest, owned by it (cert-manager's shape)."""
    cr = request.request
    names = certificate_names(request.csr)
    spec: Obj = {
        "request": (cr.get("spec") or {}).get("request"),
        "issuerRef": dict((cr.get("spec") or {}).get("issuerRef") or {}),
        "dnsNames": sorted(names.dns_names),
    }
    if names.common_name:
        spec["commonName"] = names.common_name
    if names.ip_addresses:
        spec["ipAddresses"] = sorted(names.ip_addresses)
    if (cr.get("spec") or {}).get("duration"):
        spec["duration"] = cr["spec"]["duration"]
    profile = (scope.spec.get("acme") or {}).get("profile")
    if profile:
        spec["profile"] = profile
    annotations = {
        k: v for k, v in (meta(cr).get("annotations") or {}).items() if "cert-manager" in k
    }
    replaces = replaced_certificate_id(scope, cr)
    if replaces:
        annotations[REPLACES_ANNOTATION] = replaces
    return {
        "apiVersion": ORDERS.api_version,
        "kind": "Order",
        "metadata": {
            "name": name,
            "namespace": namespace_of(cr),
            "labels": order_labels(scope, cr),
            "annotations": annotations,
            "ownerReferences": [owner_reference({"apiVersion": "cert-manager.io/v1", **cr})],
        },
        "spec": spec,
    }


def order_labels(scope: IssuerScope, request: Mapping[str, Any]) -> dict[str, str]:
    """The request's labels and its Certificate's: solvers' matchLabels select on these."""
    labels = dict(meta(request).get("labels") or {})
    certificate = (meta(request).get("annotations") or {}).get("cert-manager.io/certificate-name")
    if certificate:
        found = scope.kube.find(CERTIFICATES, namespace_of(request), certificate)
        labels.update(meta(found or {}).get("labels") or {})
    return labels


def replaced_certificate_id(scope: IssuerScope, request: Mapping[str, Any]) -> str | None:
    """The ARI id of the certificate this request renews: the previous revision's, if known."""
    annotations = meta(request).get("annotations") or {}
    certificate = annotations.get("cert-manager.io/certificate-name")
    try:
        revision = int(annotations.get("cert-manager.io/certificate-revision") or 0)
    except ValueError:
        return None
    if not certificate or revision < 2:
        return None
    previous = scope.kube.find(
        CERTIFICATE_REQUESTS, namespace_of(request), request_name(certificate, revision - 1)
    )
    pem = (previous or {}).get("status", {}).get("certificate")
    if not pem:
        return None
    try:
        return cert_id(base64.b64decode(pem))
    except (AcmeError, ValueError):
        return None  # not a certificate the CA can identify (no AKI key id)


def _registered(uri: str, email: str, key: AccountKey) -> Readiness:
    return Readiness(
        True,
        "ACMEAccountRegistered",
        "The ACME account was registered with the ACME server",
        status={
            "acme": {"uri": uri, "lastRegisteredEmail": email, "lastPrivateKeyHash": key_hash(key)}
        },
    )


def same_server(account_uri: str, server: str) -> bool:
    """Whether the account was registered with this server (cert-manager compares hosts)."""
    return urlsplit(account_uri).netloc == urlsplit(server).netloc


def _observed(issuer: Mapping[str, Any]) -> bool:
    for condition in (issuer.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("observedGeneration") == meta(issuer).get("generation"))
    return False


def _eab(scope: IssuerScope, settings: AcmeSettings) -> ExternalAccountBinding | None:
    if settings.eab_key_id is None or settings.eab_secret is None:
        return None
    secret_name, field_name = settings.eab_secret
    hmac_key = secret_bytes(scope.secret(secret_name), field_name)
    if not hmac_key:
        raise NotFound(404, "NotFound", f'Secret "{secret_name}" has no key {field_name!r}')
    algorithm = settings.eab_algorithm if settings.eab_algorithm in ("HS384", "HS512") else "HS256"
    return ExternalAccountBinding(
        key_id=settings.eab_key_id,
        hmac_key=hmac_key.decode().strip(),
        key_algorithm=algorithm,  # type: ignore[arg-type]
    )


__all__ = ["Acme", "AcmeSettings", "client_for", "name_of", "settings_of"]
