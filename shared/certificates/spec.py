"""A Certificate's spec, parsed once into frozen values with cert-manager's defaults.

`parse_certificate` applies the same checks as cert-manager's validating webhook, in its
wording (`spec.duration: Invalid value: ...`), so a Certificate that cert-manager would
reject gets a condition a person can act on instead of a failed issuance.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from shared.certificates.durations import format_duration, parse_duration
from shared.certificates.names import email_problem, ia5_problem, subdomain_problems
from shared.kube.metadata_rules import annotation_problems, label_problems

__all__ = [
    "ADDITIONAL_OUTPUT_FORMATS",
    "DEFAULT_DURATION",
    "DEFAULT_USAGES",
    "KNOWN_USAGES",
    "MINIMUM_DURATION",
    "MINIMUM_RENEW_BEFORE",
    "TEMPLATE_KEYS_ANNOTATION",
    "CertificateSpec",
    "FieldError",
    "InvalidSpec",
    "IssuerRef",
    "JKSKeystore",
    "Keystores",
    "NameConstraintItems",
    "NameConstraints",
    "OtherName",
    "PKCS12Keystore",
    "PrivateKeySpec",
    "SecretKeyRef",
    "SecretTemplate",
    "Subject",
    "format_duration",
    "parse_certificate",
    "parse_duration",
]

# Which secretTemplate keys we put on the Secret, so removing one removes it there; a
# template may not set it (nor cert-manager.io/* annotations: both are refused here).
TEMPLATE_KEYS_ANNOTATION: Final = "certainly.io/secret-template-keys"
# The one cert-manager.io/* annotation a template may set (cainjector reads it).
DIRECT_INJECTION_ANNOTATION: Final = "cert-manager.io/allow-direct-injection"

DEFAULT_DURATION: Final = timedelta(hours=2160)  # 90 days
MINIMUM_DURATION: Final = timedelta(hours=1)
MINIMUM_RENEW_BEFORE: Final = timedelta(minutes=5)
MAX_COMMON_NAME_BYTES: Final = 64
DEFAULT_USAGES: Final[tuple[str, ...]] = ("digital signature", "key encipherment")
CERT_MANAGER_GROUP: Final = "cert-manager.io"

# cert-manager's KeyUsage enum (the CRD's allowed values).
KNOWN_USAGES: Final[frozenset[str]] = frozenset(
    {
        "signing",
        "digital signature",
        "content commitment",
        "key encipherment",
        "key agreement",
        "data encipherment",
        "cert sign",
        "crl sign",
        "encipher only",
        "decipher only",
        "any",
        "server auth",
        "client auth",
        "code signing",
        "email protection",
        "s/mime",
        "ipsec end system",
        "ipsec tunnel",
        "ipsec user",
        "timestamping",
        "ocsp signing",
        "microsoft sgc",
        "netscape sgc",
    }
)
ADDITIONAL_OUTPUT_FORMATS: Final[frozenset[str]] = frozenset({"DER", "CombinedPEM"})
PKCS12_PROFILES: Final[tuple[str, ...]] = ("LegacyRC2", "LegacyDES", "Modern2023")
KEY_ALGORITHMS: Final[tuple[str, ...]] = ("RSA", "ECDSA", "Ed25519")
KEY_ENCODINGS: Final[tuple[str, ...]] = ("PKCS1", "PKCS8")
ROTATION_POLICIES: Final[tuple[str, ...]] = ("Never", "Always")
ECDSA_SIZES: Final[tuple[int, ...]] = (256, 384, 521)
SIGNATURE_ALGORITHMS: Final[dict[str, tuple[str, ...]]] = {
    "RSA": ("SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA"),
    "ECDSA": ("ECDSAWithSHA256", "ECDSAWithSHA384", "ECDSAWithSHA512"),
    "Ed25519": ("PureEd25519",),
}
RSA_MIN_SIZE: Final = 2048
RSA_MAX_SIZE: Final = 8192


@dataclass(frozen=True)
class IssuerRef:
    name: str
    kind: str = "Issuer"
    group: str = CERT_MANAGER_GROUP


@dataclass(frozen=True)
class PrivateKeySpec:
    algorithm: str = "RSA"
    size: int | None = None  # None: the algorithm's default (RSA 2048, ECDSA 256)
    encoding: str = "PKCS1"
    rotation_policy: str = "Always"


@dataclass(frozen=True)
class Subject:
    organizations: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    organizational_units: tuple[str, ...] = ()
    localities: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    street_addresses: tuple[str, ...] = ()
    postal_codes: tuple[str, ...] = ()
    serial_number: str = ""


@dataclass(frozen=True)
class OtherName:
    """An otherName SAN with a UTF-8 string value (e.g. a UPN, 1.3.6.1.4.1.311.20.2.3)."""

    oid: str
    utf8_value: str


@dataclass(frozen=True)
class NameConstraintItems:
    dns_domains: tuple[str, ...] = ()
    ip_ranges: tuple[str, ...] = ()  # CIDRs
    email_addresses: tuple[str, ...] = ()
    uri_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameConstraints:
    """X.509 NameConstraints for a CA certificate."""

    critical: bool = False
    permitted: NameConstraintItems | None = None
    excluded: NameConstraintItems | None = None


@dataclass(frozen=True)
class SecretTemplate:
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SecretKeyRef:
    """A key in a Secret in the Certificate's namespace (keystore passwords)."""

    name: str
    key: str = "password"


@dataclass(frozen=True)
class PKCS12Keystore:
    create: bool
    password_secret_ref: SecretKeyRef | None = None
    password: str | None = field(default=None, repr=False)
    profile: str = "LegacyRC2"


@dataclass(frozen=True)
class JKSKeystore:
    create: bool
    password_secret_ref: SecretKeyRef | None = None
    password: str | None = field(default=None, repr=False)
    alias: str = "certificate"


@dataclass(frozen=True)
class Keystores:
    pkcs12: PKCS12Keystore | None = None
    jks: JKSKeystore | None = None


@dataclass(frozen=True)
class CertificateSpec:
    namespace: str
    name: str
    secret_name: str
    issuer_ref: IssuerRef
    common_name: str = ""
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()
    email_addresses: tuple[str, ...] = ()
    other_names: tuple[OtherName, ...] = ()
    subject: Subject = field(default_factory=Subject)
    literal_subject: str = ""
    duration: timedelta = DEFAULT_DURATION
    renew_before: timedelta | None = None
    renew_before_percentage: int | None = None
    is_ca: bool = False
    usages: tuple[str, ...] = DEFAULT_USAGES
    private_key: PrivateKeySpec = field(default_factory=PrivateKeySpec)
    secret_template: SecretTemplate = field(default_factory=SecretTemplate)
    revision_history_limit: int = 1
    additional_output_formats: tuple[str, ...] = ()
    keystores: Keystores = field(default_factory=Keystores)
    encode_usages_in_request: bool = True
    name_constraints: NameConstraints | None = None


@dataclass(frozen=True)
class FieldError:
    """One webhook-style field error: `path` is e.g. "spec.duration"."""

    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


class InvalidSpec(ValueError):
    """The Certificate cannot be issued as written; `message` says what to change."""

    reason: str
    message: str
    errors: tuple[FieldError, ...]

    def __init__(self, errors: Sequence[FieldError], *, reason: str = "InvalidSpec") -> None:
        self.errors = tuple(errors)
        self.reason = reason
        self.message = "; ".join(str(e) for e in self.errors)
        super().__init__(self.message)


def parse_certificate(obj: Mapping[str, Any]) -> CertificateSpec:
    """Parse and validate a `cert-manager.io/v1` Certificate as the API returns it."""
    errors: list[FieldError] = []
    reader = _Reader(errors)
    metadata = reader.mapping(obj, "metadata")
    spec = reader.mapping(obj, "spec")

    secret_name = reader.string(spec, "secretName", "spec")
    if not secret_name:
        errors.append(FieldError("spec.secretName", "Required value: must be specified"))
    else:
        errors.extend(
            FieldError("spec.secretName", f'Invalid value: "{secret_name}": {why}')
            for why in subdomain_problems(secret_name)
        )

    issuer_ref = _parse_issuer_ref(reader, reader.mapping(spec, "issuerRef", "spec"), errors)
    subject = _parse_subject(reader, reader.mapping(spec, "subject", "spec"))
    common_name = reader.string(spec, "commonName", "spec")
    literal_subject = reader.string(spec, "literalSubject", "spec")
    dns_names = reader.strings(spec, "dnsNames", "spec")
    ip_addresses = reader.strings(spec, "ipAddresses", "spec")
    uris = reader.strings(spec, "uris", "spec")
    emails = reader.strings(spec, "emailAddresses", "spec")
    other_names = _parse_other_names(spec, errors)
    _validate_names(
        errors,
        common_name=common_name,
        literal_subject=literal_subject,
        subject=subject,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        uris=uris,
        emails=emails,
        other_names=other_names,
    )

    duration = reader.duration(spec, "duration", "spec")
    renew_before = reader.duration(spec, "renewBefore", "spec")
    percentage = reader.integer(spec, "renewBeforePercentage", "spec")
    _validate_renewal(
        errors,
        duration=duration or DEFAULT_DURATION,
        renew_before=renew_before,
        percentage=percentage,
    )

    usages = reader.strings(spec, "usages", "spec")
    for index, usage in enumerate(usages):
        if usage not in KNOWN_USAGES:
            errors.append(
                FieldError(f"spec.usages[{index}]", f'Invalid value: "{usage}": unknown keyusage')
            )

    private_key = _parse_private_key(reader, reader.mapping(spec, "privateKey", "spec"), errors)
    signature = reader.string(spec, "signatureAlgorithm", "spec")
    allowed = SIGNATURE_ALGORITHMS.get(private_key.algorithm)
    if signature and allowed is not None and signature not in allowed:
        errors.append(
            FieldError(
                "spec.signatureAlgorithm",
                f'Invalid value: "{signature}": for key algorithm {private_key.algorithm} the '
                f"allowed signature algorithms are [{' '.join(allowed)}]",
            )
        )
    secret_template = _parse_secret_template(
        reader, reader.mapping(spec, "secretTemplate", "spec"), errors
    )
    history = reader.integer(spec, "revisionHistoryLimit", "spec")
    if history is not None and history < 1:
        errors.append(
            FieldError(
                "spec.revisionHistoryLimit",
                f"Invalid value: {history}: must not be less than 1",
            )
        )
    formats = _parse_output_formats(reader, spec, errors)
    keystores = _parse_keystores(reader, reader.mapping(spec, "keystores", "spec"), errors)
    encode_usages = reader.boolean(spec, "encodeUsagesInRequest", "spec")
    is_ca = bool(reader.boolean(spec, "isCA", "spec"))
    name_constraints = _parse_name_constraints(reader, spec, errors, is_ca=is_ca)

    if errors:
        raise InvalidSpec(errors)
    return CertificateSpec(
        namespace=reader.string(metadata, "namespace", "metadata") or "default",
        name=reader.string(metadata, "name", "metadata"),
        secret_name=secret_name,
        issuer_ref=issuer_ref,
        common_name=common_name,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        uris=uris,
        email_addresses=emails,
        other_names=other_names,
        subject=subject,
        literal_subject=literal_subject,
        duration=duration or DEFAULT_DURATION,
        renew_before=renew_before,
        renew_before_percentage=percentage,
        is_ca=is_ca,
        usages=usages or DEFAULT_USAGES,
        private_key=private_key,
        secret_template=secret_template,
        revision_history_limit=1 if history is None else history,
        additional_output_formats=formats,
        keystores=keystores,
        encode_usages_in_request=True if encode_usages is None else encode_usages,
        name_constraints=name_constraints,
    )


class _Reader:
    """Typed access to JSON fields; a wrong type becomes a FieldError, not a TypeError."""

    def __init__(self, errors: list[FieldError]) -> None:
        self._errors = errors

    def _wrong(self, path: str, value: Any, expected: str) -> None:
        self._errors.append(
            FieldError(path, f"Invalid value: {type(value).__name__}: must be {expected}")
        )

    def mapping(self, obj: Mapping[str, Any], key: str, parent: str = "") -> Mapping[str, Any]:
        value = obj.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self._wrong(_join(parent, key), value, "an object")
            return {}
        return value

    def string(self, obj: Mapping[str, Any], key: str, parent: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self._wrong(_join(parent, key), value, "a string")
            return ""
        return value

    def strings(self, obj: Mapping[str, Any], key: str, parent: str) -> tuple[str, ...]:
        value = obj.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._wrong(_join(parent, key), value, "a list of strings")
            return ()
        return tuple(value)

    def integer(self, obj: Mapping[str, Any], key: str, parent: str) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(_join(parent, key), value, "an integer")
            return None
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, parent: str) -> bool | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self._wrong(_join(parent, key), value, "a boolean")
            return None
        return value

    def duration(self, obj: Mapping[str, Any], key: str, parent: str) -> timedelta | None:
        text = self.string(obj, key, parent)
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError:
            self._errors.append(
                FieldError(
                    _join(parent, key),
                    f'Invalid value: "{text}": must be a duration such as "2160h" or "1h30m"',
                )
            )
            return None


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _parse_issuer_ref(
    reader: _Reader, ref: Mapping[str, Any], errors: list[FieldError]
) -> IssuerRef:
    name = reader.string(ref, "name", "spec.issuerRef")
    kind = reader.string(ref, "kind", "spec.issuerRef") or "Issuer"
    given_group = reader.string(ref, "group", "spec.issuerRef")
    group = given_group or CERT_MANAGER_GROUP
    if not name:
        errors.append(FieldError("spec.issuerRef.name", "Required value: must be specified"))
    # External issuers (another group) choose their own kinds.
    if group == CERT_MANAGER_GROUP and kind not in {"Issuer", "ClusterIssuer"}:
        # An external issuer's kind without its group is the usual mistake: say so.
        hint = "" if given_group else " (did you forget to set spec.issuerRef.group?)"
        errors.append(
            FieldError(
                "spec.issuerRef.kind",
                f'Invalid value: "{kind}": must be one of Issuer or ClusterIssuer{hint}',
            )
        )
    return IssuerRef(name=name, kind=kind, group=group)


def _parse_subject(reader: _Reader, subject: Mapping[str, Any]) -> Subject:
    path = "spec.subject"
    return Subject(
        organizations=reader.strings(subject, "organizations", path),
        countries=reader.strings(subject, "countries", path),
        organizational_units=reader.strings(subject, "organizationalUnits", path),
        localities=reader.strings(subject, "localities", path),
        provinces=reader.strings(subject, "provinces", path),
        street_addresses=reader.strings(subject, "streetAddresses", path),
        postal_codes=reader.strings(subject, "postalCodes", path),
        serial_number=reader.string(subject, "serialNumber", path),
    )


def _validate_names(
    errors: list[FieldError],
    *,
    common_name: str,
    literal_subject: str,
    subject: Subject,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    uris: tuple[str, ...],
    emails: tuple[str, ...],
    other_names: tuple[OtherName, ...],
) -> None:
    if literal_subject:
        if common_name:
            errors.append(
                FieldError(
                    "spec.commonName",
                    f'Invalid value: "{common_name}": When providing a `LiteralSubject` no '
                    "`commonName` may be provided.",
                )
            )
        if subject != Subject():
            errors.append(
                FieldError(
                    "spec.subject",
                    "Invalid value: When providing a `LiteralSubject` no `Subject` properties "
                    "may be provided.",
                )
            )
    literal_cn = ""
    if literal_subject:
        try:
            literal = x509.Name.from_rfc4514_string(literal_subject)
        except ValueError as error:
            errors.append(
                FieldError(
                    "spec.literalSubject",
                    f'Invalid value: "{literal_subject}": not an RFC 4514 subject: '
                    f"{error or 'unrecognised attribute type or bad syntax'}",
                )
            )
        else:
            for attribute in literal.get_attributes_for_oid(NameOID.COMMON_NAME):
                literal_cn = str(attribute.value)
    cn = common_name or literal_cn
    if not (cn or dns_names or ip_addresses or uris or emails or other_names):
        errors.append(
            FieldError(
                "spec",
                'Invalid value: "": at least one of commonName (from the commonName field or '
                "from a literalSubject), dnsNames, emailSANs, ipAddresses, otherNames, or "
                "uriSANs must be set",
            )
        )
    # Go counts bytes; an X.509 CommonName holds at most 64 (RFC 5280's ub-common-name).
    if len(cn.encode()) > MAX_COMMON_NAME_BYTES:
        errors.append(
            FieldError(
                "spec.commonName", f"Too long: may not be more than {MAX_COMMON_NAME_BYTES} bytes"
            )
        )
    for index, country in enumerate(subject.countries):
        # X.520 countryName is a two-letter code, written as a PrintableString: the X.509
        # encoder refuses another length, and a character such as ';' makes a CSR that no
        # parser reads back (the fuzz found '0;').
        if not (len(country) == 2 and country.isascii() and country.isalpha()):
            errors.append(
                FieldError(
                    f"spec.subject.countries[{index}]",
                    f'Invalid value: "{country}": must be a two-letter ISO 3166 country code',
                )
            )
    for index, dns_name in enumerate(dns_names):
        problem = ia5_problem(dns_name, dns=True)
        if problem:
            errors.append(
                FieldError(f"spec.dnsNames[{index}]", f'Invalid value: "{dns_name}": {problem}')
            )
    for index, ip in enumerate(ip_addresses):
        try:
            # Go's net.ParseIP knows no IPv6 zones ("fe80::1%eth0"); Python's would keep one.
            if "%" in ip:
                raise ValueError(ip)
            ipaddress.ip_address(ip)
        except ValueError:
            errors.append(
                FieldError(
                    f"spec.ipAddresses[{index}]", f'Invalid value: "{ip}": invalid IP address'
                )
            )
    for index, email in enumerate(emails):
        problem = email_problem(email)
        if problem:
            errors.append(
                FieldError(f"spec.emailAddresses[{index}]", f'Invalid value: "{email}": {problem}')
            )
    for index, uri in enumerate(uris):
        problem = ia5_problem(uri) if ":" in uri else "invalid URI"
        if problem:
            errors.append(FieldError(f"spec.uris[{index}]", f'Invalid value: "{uri}": {problem}'))


def _parse_other_names(spec: Mapping[str, Any], errors: list[FieldError]) -> tuple[OtherName, ...]:
    raw = spec.get("otherNames") or []
    if not isinstance(raw, list):
        errors.append(FieldError("spec.otherNames", "Invalid value: must be a list"))
        return ()
    names: list[OtherName] = []
    for index, item in enumerate(raw):
        path = f"spec.otherNames[{index}]"
        oid = item.get("oid") if isinstance(item, Mapping) else None
        value = item.get("utf8Value") if isinstance(item, Mapping) else None
        if not oid:
            errors.append(FieldError(f"{path}.oid", "Required value: must be specified"))
        if not isinstance(oid, str) or not _is_oid(oid):
            errors.append(FieldError(f"{path}.oid", f'Invalid value: "{oid}": invalid oid syntax'))
        if not isinstance(value, str) or not value:
            errors.append(
                FieldError(
                    f"{path}.utf8Value",
                    "Required value: must be set to a valid non-empty UTF8 string",
                )
            )
        if isinstance(oid, str) and _is_oid(oid) and isinstance(value, str) and value:
            names.append(OtherName(oid=oid, utf8_value=value))
    return tuple(names)


def _is_oid(text: str) -> bool:
    if not re.fullmatch(r"[0-2](\.[0-9]+)+", text):
        return False
    try:
        x509.ObjectIdentifier(text)  # also refuses arcs X.660 forbids (1.40)
    except ValueError:
        return False
    return True


def _parse_name_constraints(
    reader: _Reader, spec: Mapping[str, Any], errors: list[FieldError], *, is_ca: bool
) -> NameConstraints | None:
    if "nameConstraints" not in spec or spec["nameConstraints"] is None:
        return None
    path = "spec.nameConstraints"
    raw = reader.mapping(spec, "nameConstraints", "spec")
    if not is_ca:
        errors.append(
            FieldError(path, "Invalid value: isCA should be true when nameConstraints is set")
        )
    subtrees: dict[str, NameConstraintItems | None] = {}
    for part in ("permitted", "excluded"):
        if raw.get(part) is None:
            subtrees[part] = None
            continue
        items = reader.mapping(raw, part, path)
        where = f"{path}.{part}"
        ranges = reader.strings(items, "ipRanges", where)
        for index, cidr in enumerate(ranges):
            try:
                # Go's net.ParseCIDR takes a prefix with host bits set (10.0.0.1/8).
                if "/" not in cidr:
                    raise ValueError(cidr)
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                errors.append(
                    FieldError(
                        f"{where}.ipRanges[{index}]",
                        f'Invalid value: "{cidr}": invalid CIDR address',
                    )
                )
        subtree = NameConstraintItems(
            dns_domains=reader.strings(items, "dnsDomains", where),
            ip_ranges=ranges,
            email_addresses=reader.strings(items, "emailAddresses", where),
            uri_domains=reader.strings(items, "uriDomains", where),
        )
        for field_name, values in (
            ("dnsDomains", subtree.dns_domains),
            ("emailAddresses", subtree.email_addresses),
            ("uriDomains", subtree.uri_domains),
        ):
            for index, value in enumerate(values):
                problem = ia5_problem(value, dns=field_name == "dnsDomains")
                if problem:
                    errors.append(
                        FieldError(
                            f"{where}.{field_name}[{index}]", f'Invalid value: "{value}": {problem}'
                        )
                    )
        subtrees[part] = subtree
    if not any(items is not None and items != NameConstraintItems() for items in subtrees.values()):
        errors.append(FieldError(path, "Invalid value: either permitted or excluded must be set"))
    return NameConstraints(
        critical=bool(reader.boolean(raw, "critical", path)),
        permitted=subtrees["permitted"],
        excluded=subtrees["excluded"],
    )


def _validate_renewal(
    errors: list[FieldError],
    *,
    duration: timedelta,
    renew_before: timedelta | None,
    percentage: int | None,
) -> None:
    if duration < MINIMUM_DURATION:
        errors.append(
            FieldError(
                "spec.duration",
                f'Invalid value: "{format_duration(duration)}": certificate duration must be '
                f"greater than {format_duration(MINIMUM_DURATION)}",
            )
        )
    if renew_before is not None and percentage is not None:
        exclusive = (
            "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"
        )
        errors.append(
            FieldError(
                "spec.renewBefore",
                f'Invalid value: "{format_duration(renew_before)}": {exclusive}',
            )
        )
        errors.append(
            FieldError("spec.renewBeforePercentage", f"Invalid value: {percentage}: {exclusive}")
        )
    if renew_before is not None:
        if renew_before < MINIMUM_RENEW_BEFORE:
            errors.append(
                FieldError(
                    "spec.renewBefore",
                    f'Invalid value: "{format_duration(renew_before)}": certificate renewBefore '
                    f"must be greater than {format_duration(MINIMUM_RENEW_BEFORE)}",
                )
            )
        if renew_before >= duration:
            errors.append(
                FieldError(
                    "spec.renewBefore",
                    f'Invalid value: "{format_duration(renew_before)}": certificate duration '
                    f"{format_duration(duration)} must be greater than renewBefore "
                    f"{format_duration(renew_before)}",
                )
            )
    if percentage is not None:
        # The webhook's arithmetic, kept as it is: it checks duration * (100 - pct) / 100
        # although renewal happens duration * pct / 100 before expiry, so what it refuses
        # is refused here too, and nothing else.
        # In float seconds, as the webhook's float64: a timedelta would overflow.
        renew_before_pct = duration.total_seconds() * (100 - percentage) / 100
        if renew_before_pct >= duration.total_seconds():
            errors.append(
                FieldError(
                    "spec.renewBeforePercentage",
                    f"Invalid value: {percentage}: certificate renewBeforePercentage must result "
                    "in a renewBefore less than duration",
                )
            )
        elif renew_before_pct < MINIMUM_RENEW_BEFORE.total_seconds():
            errors.append(
                FieldError(
                    "spec.renewBeforePercentage",
                    f"Invalid value: {percentage}: certificate renewBeforePercentage must result "
                    f"in a renewBefore greater than {format_duration(MINIMUM_RENEW_BEFORE)}",
                )
            )


def _parse_private_key(
    reader: _Reader, key: Mapping[str, Any], errors: list[FieldError]
) -> PrivateKeySpec:
    path = "spec.privateKey"
    algorithm = reader.string(key, "algorithm", path) or "RSA"
    size = reader.integer(key, "size", path) or None
    encoding = reader.string(key, "encoding", path) or "PKCS1"
    rotation = reader.string(key, "rotationPolicy", path) or "Always"
    if algorithm not in KEY_ALGORITHMS:
        errors.append(
            FieldError(
                f"{path}.algorithm",
                f'Invalid value: "{algorithm}": must be either empty or one of rsa, ecdsa or '
                "ed25519",
            )
        )
    elif algorithm == "RSA" and size is not None and not RSA_MIN_SIZE <= size <= RSA_MAX_SIZE:
        errors.append(
            FieldError(
                f"{path}.size",
                f"Invalid value: {size}: must be between {RSA_MIN_SIZE} and {RSA_MAX_SIZE} for "
                "rsa keyAlgorithm",
            )
        )
    elif algorithm == "ECDSA" and size is not None and size not in ECDSA_SIZES:
        errors.append(
            FieldError(
                f"{path}.size",
                f'Unsupported value: {size}: supported values: "256", "384", "521"',
            )
        )
    if encoding not in KEY_ENCODINGS:
        errors.append(
            FieldError(
                f"{path}.encoding",
                f'Unsupported value: "{encoding}": supported values: "PKCS1", "PKCS8"',
            )
        )
    if rotation not in ROTATION_POLICIES:
        errors.append(
            FieldError(
                f"{path}.rotationPolicy",
                f'Unsupported value: "{rotation}": supported values: "Never", "Always"',
            )
        )
    return PrivateKeySpec(
        algorithm=algorithm,
        size=None if algorithm == "Ed25519" else size,
        encoding=encoding,
        rotation_policy=rotation,
    )


def _parse_secret_template(
    reader: _Reader, template: Mapping[str, Any], errors: list[FieldError]
) -> SecretTemplate:
    labels = _string_map(reader, template, "labels", errors)
    annotations = _string_map(reader, template, "annotations", errors)
    # What the API server would refuse on the Secret is refused here, with its wording.
    for problem in label_problems(labels):
        errors.append(FieldError("spec.secretTemplate.labels", problem))
    for problem in annotation_problems(annotations):
        errors.append(FieldError("spec.secretTemplate.annotations", problem))
    for key in annotations:
        # cert-manager owns its annotations on the Secret; a template may not forge them.
        if key.startswith("cert-manager.io/") and key != DIRECT_INJECTION_ANNOTATION:
            errors.append(
                FieldError(
                    "spec.secretTemplate.annotations",
                    f'Invalid value: "{key}": cert-manager.io/* annotations are not allowed',
                )
            )
        elif key == TEMPLATE_KEYS_ANNOTATION:
            errors.append(
                FieldError(
                    "spec.secretTemplate.annotations",
                    f'Invalid value: "{key}": reserved for tracking the template itself',
                )
            )
    return SecretTemplate(labels=labels, annotations=annotations)


def _string_map(
    reader: _Reader, obj: Mapping[str, Any], key: str, errors: list[FieldError]
) -> dict[str, str]:
    value = reader.mapping(obj, key, "spec.secretTemplate")
    if not all(isinstance(v, str) for v in value.values()):
        errors.append(
            FieldError(f"spec.secretTemplate.{key}", "Invalid value: values must be strings")
        )
        return {}
    return dict(value)


def _parse_output_formats(
    reader: _Reader, spec: Mapping[str, Any], errors: list[FieldError]
) -> tuple[str, ...]:
    raw = spec.get("additionalOutputFormats") or []
    if not isinstance(raw, list):
        errors.append(FieldError("spec.additionalOutputFormats", "Invalid value: must be a list"))
        return ()
    formats: list[str] = []
    for index, item in enumerate(raw):
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind not in ADDITIONAL_OUTPUT_FORMATS:
            errors.append(
                FieldError(
                    f"spec.additionalOutputFormats[{index}].type",
                    f'Unsupported value: "{kind}": supported values: "CombinedPEM", "DER"',
                )
            )
        elif kind in formats:
            errors.append(
                FieldError(
                    f"spec.additionalOutputFormats[{index}].type", f'Duplicate value: "{kind}"'
                )
            )
        else:
            formats.append(kind)
    return tuple(formats)


def _parse_keystores(
    reader: _Reader, keystores: Mapping[str, Any], errors: list[FieldError]
) -> Keystores:
    pkcs12: PKCS12Keystore | None = None
    jks: JKSKeystore | None = None
    if "pkcs12" in keystores:
        raw = reader.mapping(keystores, "pkcs12", "spec.keystores")
        path = "spec.keystores.pkcs12"
        ref, password = _keystore_password(reader, raw, path, errors)
        profile = reader.string(raw, "profile", path) or "LegacyRC2"
        if profile not in PKCS12_PROFILES:
            errors.append(
                FieldError(
                    f"{path}.profile",
                    f'Unsupported value: "{profile}": supported values: '
                    + ", ".join(f'"{p}"' for p in PKCS12_PROFILES),
                )
            )
        pkcs12 = PKCS12Keystore(
            create=bool(reader.boolean(raw, "create", path)),
            password_secret_ref=ref,
            password=password,
            profile=profile,
        )
    if "jks" in keystores:
        raw = reader.mapping(keystores, "jks", "spec.keystores")
        path = "spec.keystores.jks"
        ref, password = _keystore_password(reader, raw, path, errors)
        jks = JKSKeystore(
            create=bool(reader.boolean(raw, "create", path)),
            password_secret_ref=ref,
            password=password,
            alias=reader.string(raw, "alias", path) or "certificate",
        )
    return Keystores(pkcs12=pkcs12, jks=jks)


def _keystore_password(
    reader: _Reader, raw: Mapping[str, Any], path: str, errors: list[FieldError]
) -> tuple[SecretKeyRef | None, str | None]:
    ref: SecretKeyRef | None = None
    if "passwordSecretRef" in raw:
        ref_raw = reader.mapping(raw, "passwordSecretRef", path)
        name = reader.string(ref_raw, "name", f"{path}.passwordSecretRef")
        if not name:
            errors.append(
                FieldError(f"{path}.passwordSecretRef.name", "Required value: must be specified")
            )
        key = reader.string(ref_raw, "key", f"{path}.passwordSecretRef") or "password"
        ref = SecretKeyRef(name=name, key=key)
    password = raw.get("password")
    if password is not None and not isinstance(password, str):
        # Never echo the value: it is a secret.
        errors.append(FieldError(f"{path}.password", "Invalid value: must be a string"))
        password = None
    if path.endswith("pkcs12") and password and "\x00" in password:
        # OpenSSL reads a PKCS#12 password as a C string: a NUL ends it early.
        errors.append(
            FieldError(
                f"{path}.password",
                "Invalid value: must not contain a NUL character (a PKCS#12 password cannot)",
            )
        )
    label = "JKS" if path.endswith("jks") else "PKCS#12"
    if ref is not None and password is not None:
        errors.append(
            FieldError(
                path,
                "Forbidden: exactly one of passwordSecretRef and password must be provided for "
                f"{label} keystores; cannot set both",
            )
        )
    if ref is None and password is None:
        errors.append(
            FieldError(
                path,
                # (sic) cert-manager's wording, repeated "must" included
                "Forbidden: must set exactly one of passwordSecretRef and password must for "
                f"{label} keystores",
            )
        )
    if password == "":
        errors.append(
            FieldError(
                f"{path}.password",
                f"Forbidden: literal password cannot be empty if set on {label} keystores",
            )
        )
    return ref, password
