"""The `kubernetes.io/tls` Secret cert-manager writes: data keys, annotations, labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from shared.certificates.spec import CertificateSpec
from shared.pki import formats
from shared.pki.keys import load_private_key
from shared.pki.x509 import certificate_names, load_certificate_chain

__all__ = [
    "CA_KEY",
    "CERT_KEY",
    "COMBINED_PEM_KEY",
    "DER_KEY",
    "FAO_LABEL",
    "JKS_KEYSTORE_KEY",
    "JKS_TRUSTSTORE_KEY",
    "MANAGED_DATA_KEYS",
    "PKCS12_KEYSTORE_KEY",
    "PKCS12_TRUSTSTORE_KEY",
    "PRIVATE_KEY_KEY",
    "build_secret_data",
    "join_csv",
    "secret_annotations",
    "secret_labels",
]

CERT_KEY: Final = "tls.crt"
PRIVATE_KEY_KEY: Final = "tls.key"
CA_KEY: Final = "ca.crt"
DER_KEY: Final = "key.der"
COMBINED_PEM_KEY: Final = "tls-combined.pem"
PKCS12_KEYSTORE_KEY: Final = "keystore.p12"
PKCS12_TRUSTSTORE_KEY: Final = "truststore.p12"
JKS_KEYSTORE_KEY: Final = "keystore.jks"
JKS_TRUSTSTORE_KEY: Final = "truststore.jks"
# Every key cert-manager may write; the rest of a Secret's data belongs to someone else.
MANAGED_DATA_KEYS: Final[frozenset[str]] = frozenset(
    {
        CERT_KEY,
        PRIVATE_KEY_KEY,
        CA_KEY,
        DER_KEY,
        COMBINED_PEM_KEY,
        PKCS12_KEYSTORE_KEY,
        PKCS12_TRUSTSTORE_KEY,
        JKS_KEYSTORE_KEY,
        JKS_TRUSTSTORE_KEY,
    }
)
# Marks Secrets cert-manager manages, so a label-filtered watch sees only those.
FAO_LABEL: Final = "controller.cert-manager.io/fao"


def build_secret_data(
    *,
    spec: CertificateSpec,
    key_pem: bytes,
    chain_pem: bytes,
    ca_pem: bytes | None,
    keystore_passwords: Mapping[str, bytes],
    now: datetime | None = None,
    previous: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """The Secret's data: tls.crt/tls.key, ca.crt when known, extra formats and keystores.

    `keystore_passwords` maps "pkcs12"/"jks" to the resolved password; a keystore the
    spec asks for without a password raises KeyError naming the keystore. `now` stamps
    JKS entries (the format records a creation time). Keystores are salted, so pass the
    Secret's current (decoded) data as `previous`: a store that still holds the same key,
    certificates, password and profile is kept byte for byte, and an unchanged Secret
    yields unchanged data (no write).
    """
    data: dict[str, bytes] = {CERT_KEY: chain_pem, PRIVATE_KEY_KEY: key_pem}
    if ca_pem:
        data[CA_KEY] = ca_pem
    wants_key = "DER" in spec.additional_output_formats or _wants_keystore(spec)
    key = load_private_key(key_pem) if wants_key else None
    if key is not None and "DER" in spec.additional_output_formats:
        data[DER_KEY] = formats.der_private_key(key)
    if "CombinedPEM" in spec.additional_output_formats:
        data[COMBINED_PEM_KEY] = formats.combined_pem(key_pem, chain_pem)
    if key is None:
        return data
    old = previous or {}
    chain = load_certificate_chain(chain_pem)
    ca = load_certificate_chain(ca_pem) if ca_pem else []
    pkcs12 = spec.keystores.pkcs12
    if pkcs12 is not None and pkcs12.create:
        pw, profile = _password(keystore_passwords, "pkcs12"), pkcs12.profile
        data[PKCS12_KEYSTORE_KEY] = _kept_or_new(
            old.get(PKCS12_KEYSTORE_KEY),
            still_valid=lambda b: formats.pkcs12_keystore_matches(
                b, key=key, chain=chain, ca=ca, password=pw, profile=profile
            ),
            encode=lambda: formats.pkcs12_keystore(
                key=key, chain=chain, ca=ca, password=pw, profile=profile
            ),
        )
        if ca:
            data[PKCS12_TRUSTSTORE_KEY] = _kept_or_new(
                old.get(PKCS12_TRUSTSTORE_KEY),
                still_valid=lambda b: formats.pkcs12_truststore_matches(
                    b, ca=ca, password=pw, profile=profile
                ),
                encode=lambda: formats.pkcs12_truststore(ca=ca, password=pw, profile=profile),
            )
    jks = spec.keystores.jks
    if jks is not None and jks.create:
        jks_pw, alias = _password(keystore_passwords, "jks"), jks.alias
        data[JKS_KEYSTORE_KEY] = _kept_or_new(
            old.get(JKS_KEYSTORE_KEY),
            still_valid=lambda b: formats.jks_keystore_matches(
                b, key=key, chain=chain, ca=ca, password=jks_pw, alias=alias
            ),
            encode=lambda: formats.jks_keystore(
                key=key, chain=chain, ca=ca, password=jks_pw, alias=alias, now=now
            ),
        )
        if ca:
            data[JKS_TRUSTSTORE_KEY] = _kept_or_new(
                old.get(JKS_TRUSTSTORE_KEY),
                still_valid=lambda b: formats.jks_truststore_matches(b, ca=ca, password=jks_pw),
                encode=lambda: formats.jks_truststore(ca=ca, password=jks_pw, now=now),
            )
    return data


def _kept_or_new(
    existing: bytes | None, *, still_valid: Callable[[bytes], bool], encode: Callable[[], bytes]
) -> bytes:
    if existing and still_valid(existing):
        return existing
    return encode()


def secret_annotations(*, spec: CertificateSpec, leaf: x509.Certificate) -> dict[str, str]:
    """secretTemplate annotations, then cert-manager's, derived from the issued leaf."""
    names = certificate_names(leaf)
    annotations = dict(spec.secret_template.annotations)
    annotations.update(
        {
            "cert-manager.io/certificate-name": spec.name,
            "cert-manager.io/issuer-name": spec.issuer_ref.name,
            "cert-manager.io/issuer-kind": spec.issuer_ref.kind,
            "cert-manager.io/issuer-group": spec.issuer_ref.group,
            "cert-manager.io/common-name": names.common_name,
            "cert-manager.io/alt-names": ",".join(names.dns_names),
            "cert-manager.io/ip-sans": ",".join(names.ip_addresses),
            "cert-manager.io/uri-sans": ",".join(names.uris),
        }
    )
    # Only present when the certificate has them, as cert-manager does.
    if names.emails:
        annotations["cert-manager.io/email-sans"] = join_csv(names.emails)
    for suffix, oid in _SUBJECT_ANNOTATIONS:
        values = [str(a.value) for a in leaf.subject.get_attributes_for_oid(oid)]
        if values:
            annotations[f"cert-manager.io/subject-{suffix}"] = join_csv(values)
    serial = leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if serial:
        annotations["cert-manager.io/subject-serialnumber"] = str(serial[0].value)
    return annotations


def secret_labels(spec: CertificateSpec) -> dict[str, str]:
    """secretTemplate labels plus cert-manager's "managed by us" label."""
    return {**spec.secret_template.labels, FAO_LABEL: "true"}


def join_csv(values: Iterable[str]) -> str:
    """One CSV record, quoted the way Go's encoding/csv does (cert-manager's JoinWithEscapeCSV)."""
    return ",".join(_csv_field(v) for v in values)


_SUBJECT_ANNOTATIONS: Final = (
    ("organizations", NameOID.ORGANIZATION_NAME),
    ("organizationalunits", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("countries", NameOID.COUNTRY_NAME),
    ("provinces", NameOID.STATE_OR_PROVINCE_NAME),
    ("localities", NameOID.LOCALITY_NAME),
    ("streetaddresses", NameOID.STREET_ADDRESS),
    ("postalcodes", NameOID.POSTAL_CODE),
)


def _csv_field(value: str) -> str:
    needs_quotes = value == r"\." or any(c in value for c in ',"\r\n')
    needs_quotes = needs_quotes or (value[:1].isspace() if value else False)
    if not needs_quotes:
        return value
    return '"' + value.replace('"', '""') + '"'


def _wants_keystore(spec: CertificateSpec) -> bool:
    stores = (spec.keystores.pkcs12, spec.keystores.jks)
    return any(store is not None and store.create for store in stores)


def _password(passwords: Mapping[str, bytes], kind: str) -> bytes:
    if kind not in passwords:
        raise KeyError(f"no password resolved for the {kind} keystore")
    return passwords[kind]
