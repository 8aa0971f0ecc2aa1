"""ACME Renewal Information (ARI, RFC 9773): when the CA wants a certificate renewed.

The certificate's ARI identifier also goes into a new order's `replaces`
field, telling the CA which certificate the order renews.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acme import client as acme_client
from cryptography import x509

from shared.acme.errors import PermanentAcmeError, parse_retry_after, translated


@dataclass(frozen=True)
class RenewalWindow:
    start: datetime.datetime
    end: datetime.datetime
    retry_after: datetime.timedelta | None  # when to ask again, if the CA said
    explanation_url: str | None = None

    def pick(self, *, fraction: float) -> datetime.datetime:
        """A time within the window; pass random.random() to spread renewals (RFC 9773 4.2)."""
        return self.start + (self.end - self.start) * min(max(fraction, 0.0), 1.0)


def cert_id(cert_pem: bytes) -> str:
    """base64url(AKI keyIdentifier) "." base64url(serial as DER INTEGER content octets)."""
    certificate = x509.load_pem_x509_certificate(cert_pem)
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        raise PermanentAcmeError(
            problem_type="client", detail="certificate has no authority key identifier"
        ) from None
    if aki.key_identifier is None:
        raise PermanentAcmeError(
            problem_type="client", detail="certificate's authority key identifier has no keyid"
        )
    serial = certificate.serial_number
    # Two's complement, big-endian, minimal length with room for the sign bit.
    serial_der = serial.to_bytes(serial.bit_length() // 8 + 1, byteorder="big", signed=True)
    return f"{_b64url(aki.key_identifier)}.{_b64url(serial_der)}"


def offers_renewal_info(client: acme_client.ClientV2) -> bool:
    return _renewal_info_url(client) is not None


def replaces(*, client: acme_client.ClientV2, cert_pem: bytes) -> str | None:
    """The `replaces` value for an order renewing `cert_pem`, if the CA speaks ARI."""
    return cert_id(cert_pem) if offers_renewal_info(client) else None


def renewal_window(
    *,
    client: acme_client.ClientV2,
    cert_pem: bytes,
    clock: Callable[[], datetime.datetime] | None = None,
) -> RenewalWindow | None:
    """The CA's suggested window for renewing `cert_pem`; None when it offers no ARI."""
    base = _renewal_info_url(client)
    if base is None:
        return None
    with translated():
        response = client.net.get(f"{base.rstrip('/')}/{cert_id(cert_pem)}")
    body: dict[str, Any] = response.json()
    try:
        window = body["suggestedWindow"]
        start = _parse_time(window["start"])
        end = _parse_time(window["end"])
    except (KeyError, TypeError, ValueError):
        raise PermanentAcmeError(
            problem_type="malformed", detail="renewalInfo has no valid suggestedWindow"
        ) from None
    if end < start:
        raise PermanentAcmeError(problem_type="malformed", detail="renewalInfo window ends early")
    now = (clock or _utcnow)()
    explanation = body.get("explanationURL")
    return RenewalWindow(
        start=start,
        end=end,
        retry_after=parse_retry_after(response.headers.get("Retry-After"), now=now),
        explanation_url=str(explanation) if explanation else None,
    )


def _renewal_info_url(client: acme_client.ClientV2) -> str | None:
    try:
        url = client.directory["renewalInfo"]
    except KeyError:
        return None
    return str(url) if url else None


def _parse_time(value: object) -> datetime.datetime:
    if not isinstance(value, str):
        raise TypeError("time is not a string")
    parsed = datetime.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
