"""What the Secrets holding certificates contain, against what their Certificates say.

A deleted or replaced Secret whose event was lost is found here, from one LIST of
the labelled Secrets; only validity, serial and annotations are kept, no key material.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.certificates.policy import CERTIFICATE_NAME, ISSUER_GROUP, ISSUER_KIND, ISSUER_NAME
from shared.certificates.secret import FAO_LABEL
from shared.issuance import requests as cr
from shared.issuance.certificates import NEXT_KEY_LABEL
from shared.issuance.names import request_name
from shared.issuers.resolve import GROUP
from shared.kube.objects import annotations_of, format_time, name_of, namespace_of, secret_bytes
from shared.kube.resources import SECRETS
from shared.pki.x509 import readable_leaf
from shared.runtime import Context

# The Secrets Certificates are stored in; temporary next-key Secrets are not needed.
STORED_SELECTOR: Final = f"{FAO_LABEL}=true,!{NEXT_KEY_LABEL}"

Obj = dict[str, Any]
SecretKey = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class StoredCertificate:
    """What a Certificate's Secret holds, as far as the sweep compares it (no key material)."""

    not_before: str | None
    not_after: str | None
    serial: int | None
    annotations: Mapping[str, str]


def stored_differs(
    cert: Mapping[str, Any], stored: StoredCertificate | None, *, issued_serial: int | None
) -> bool:
    """Whether the Secret no longer holds what the Certificate's status says was issued.

    A deleted or replaced Secret whose event was lost: missing, another certificate
    (validity differs from status, or serial from the current revision's request, when
    that request is still there), or written for another Certificate or issuer.
    """
    if stored is None:
        return True
    status = cert.get("status") or {}
    if (stored.not_before, stored.not_after) != (status.get("notBefore"), status.get("notAfter")):
        return True
    if issued_serial is not None and stored.serial != issued_serial:
        return True
    if stored.annotations.get(CERTIFICATE_NAME) != name_of(cert):
        return True
    ref = (cert.get("spec") or {}).get("issuerRef") or {}
    wanted = (str(ref.get("name") or ""), str(ref.get("kind") or "Issuer"), ref.get("group"))
    annotations = stored.annotations
    held = (
        annotations.get(ISSUER_NAME),
        annotations.get(ISSUER_KIND) or "Issuer",
        annotations.get(ISSUER_GROUP),
    )
    return (wanted[0], wanted[1], wanted[2] or GROUP) != (held[0], held[1], held[2] or GROUP)


def stored_certificates(ctx: Context) -> dict[SecretKey, StoredCertificate]:
    """The certificates held in our Secrets, cluster-wide, from one LIST.

    Only validity and annotations are kept: the listed objects (and their keys) are
    dropped as soon as this returns.
    """
    secrets, _ = ctx.kube.list(SECRETS, label_selector=STORED_SELECTOR)
    return {(namespace_of(s), name_of(s)): _summary(s) for s in secrets}


def _summary(secret: Mapping[str, Any]) -> StoredCertificate:
    # Unreadable: differs from any status, so the Certificate is looked at.
    leaf = readable_leaf(secret_bytes(secret, "tls.crt"))
    if leaf is None:
        return StoredCertificate(None, None, None, annotations_of(secret))
    return StoredCertificate(
        not_before=format_time(leaf.not_valid_before_utc),
        not_after=format_time(leaf.not_valid_after_utc),
        serial=leaf.serial_number,
        annotations=annotations_of(secret),
    )


def issued_serial(cert: Mapping[str, Any], requests: Mapping[SecretKey, Obj]) -> int | None:
    """The serial the current revision's request was issued, if that request is kept."""
    revision = (cert.get("status") or {}).get("revision")
    if not revision:
        return None
    request = requests.get((namespace_of(cert), request_name(name_of(cert), int(revision))))
    if request is None or cr.state_of(request) != "issued":
        return None
    leaf = readable_leaf(cr.decoded(request, "certificate"))
    return None if leaf is None else leaf.serial_number


def stored_for(
    cert: Mapping[str, Any], stored: Mapping[SecretKey, StoredCertificate]
) -> StoredCertificate | None:
    return stored.get((namespace_of(cert), str((cert.get("spec") or {}).get("secretName"))))
