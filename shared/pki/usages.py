"""cert-manager's key usage names mapped onto X.509 KeyUsage / ExtendedKeyUsage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

__all__ = ["EXT_KEY_USAGES", "KEY_USAGES", "UnknownUsage", "Usages", "resolve_usages"]

# Names are the CRD's KeyUsage enum; values the KeyUsage constructor argument they set.
KEY_USAGES: Final[dict[str, str]] = {
    "signing": "digital_signature",
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}
EXT_KEY_USAGES: Final[dict[str, ObjectIdentifier]] = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec end system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft sgc": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape sgc": ObjectIdentifier("2.16.840.1.113730.4.1"),
}
DEFAULT_USAGES: Final[tuple[str, ...]] = ("digital signature", "key encipherment")


class UnknownUsage(ValueError):
    """A usage name outside cert-manager's KeyUsage enum."""


@dataclass(frozen=True)
class Usages:
    key_usage: x509.KeyUsage | None
    extended_key_usage: x509.ExtendedKeyUsage | None


def resolve_usages(usages: Iterable[str], *, is_ca: bool) -> Usages:
    """X.509 extensions for cert-manager usages; empty means the defaults, CAs add cert sign."""
    names = tuple(usages) or DEFAULT_USAGES
    flags: set[str] = {"key_cert_sign"} if is_ca else set()
    ekus: list[ObjectIdentifier] = []
    for name in names:
        if name in KEY_USAGES:
            flags.add(KEY_USAGES[name])
        elif name in EXT_KEY_USAGES:
            if EXT_KEY_USAGES[name] not in ekus:
                ekus.append(EXT_KEY_USAGES[name])
        else:
            raise UnknownUsage(f"unknown key usage {name!r}")
    key_usage = None
    if flags:
        key_usage = x509.KeyUsage(
            digital_signature="digital_signature" in flags,
            content_commitment="content_commitment" in flags,
            key_encipherment="key_encipherment" in flags,
            data_encipherment="data_encipherment" in flags,
            key_agreement="key_agreement" in flags
            or bool(flags & {"encipher_only", "decipher_only"}),
            key_cert_sign="key_cert_sign" in flags,
            crl_sign="crl_sign" in flags,
            encipher_only="encipher_only" in flags,
            decipher_only="decipher_only" in flags,
        )
    return Usages(
        key_usage=key_usage,
        extended_key_usage=x509.ExtendedKeyUsage(ekus) if ekus else None,
    )


def usage_names(key_usage: x509.KeyUsage | None, eku: x509.ExtendedKeyUsage | None) -> set[str]:
    """The cert-manager names an issued certificate carries (canonical spellings)."""
    names: set[str] = set()
    if key_usage is not None:
        for name, attr in KEY_USAGES.items():
            if name == "signing":
                continue
            if attr in {"encipher_only", "decipher_only"} and not key_usage.key_agreement:
                continue
            if getattr(key_usage, attr):
                names.add(name)
    if eku is not None:
        for name, oid in EXT_KEY_USAGES.items():
            if name != "s/mime" and oid in eku:
                names.add(name)
    return names
