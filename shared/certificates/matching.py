"""Does an issued certificate, or the request behind it, still match the spec?

Both return the spec fields that differ ("spec.dnsNames", ...), which cert-manager puts
in its trigger messages.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from typing import Any

from cryptography import x509

from shared.certificates.durations import parse_duration
from shared.certificates.spec import CertificateSpec
from shared.pki.csr import InvalidCSR, build_subject, load_csr
from shared.pki.usages import UnknownUsage, resolve_usages, usage_names
from shared.pki.x509 import certificate_names

__all__ = ["name_violations", "request_violations"]


def name_violations(leaf: x509.Certificate, spec: CertificateSpec) -> list[str]:
    """cert-manager's loose comparison of an issued certificate's names with the spec.

    Names may move between the common name and the DNS SANs (some CAs promote one to
    the other), so those two are compared as one set first.
    """
    names = certificate_names(leaf)
    violations: list[str] = []
    expected = set(spec.dns_names)
    actual = set(names.dns_names)
    if spec.common_name:
        expected.add(spec.common_name)
        actual.add(names.common_name)
    if expected != actual:
        if (spec.common_name and spec.common_name not in actual) or (
            names.common_name and names.common_name not in expected
        ):
            violations.append("spec.commonName")
        if not set(spec.dns_names) <= actual or not set(names.dns_names) <= expected:
            violations.append("spec.dnsNames")
    if sorted(names.ip_addresses) != sorted(_canonical_ips(spec.ip_addresses)):
        violations.append("spec.ipAddresses")
    if sorted(names.uris) != sorted(spec.uris):
        violations.append("spec.uris")
    if sorted(names.emails) != sorted(spec.email_addresses):
        violations.append("spec.emailAddresses")
    return violations


def request_violations(request: Mapping[str, Any], spec: CertificateSpec) -> list[str] | None:
    """Fields where a CertificateRequest no longer matches the spec; None if unreadable."""
    req_spec = request.get("spec")
    if not isinstance(req_spec, Mapping):
        return None
    try:
        pem = base64.b64decode(str(req_spec.get("request") or ""), validate=True)
        csr = load_csr(pem)
    except (InvalidCSR, binascii.Error, ValueError):
        return None
    violations: list[str] = []
    try:
        wanted_subject = build_subject(
            common_name=spec.common_name, subject=spec.subject, literal_subject=spec.literal_subject
        )
    except ValueError:
        wanted_subject = None
    if spec.literal_subject:
        if wanted_subject is None or csr.subject != wanted_subject:
            violations.append("spec.literalSubject")
    else:
        cn = [a.value for a in csr.subject if a.oid == x509.NameOID.COMMON_NAME]
        if (str(cn[0]) if cn else "") != spec.common_name:
            violations.append("spec.commonName")
        if wanted_subject is not None and _non_cn(csr.subject) != _non_cn(wanted_subject):
            violations.append("spec.subject")
    sans = _csr_sans(csr)
    if sorted(sans.get_values_for_type(x509.DNSName) if sans else []) != sorted(spec.dns_names):
        violations.append("spec.dnsNames")
    ips = [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] if sans else []
    if sorted(ips) != sorted(_canonical_ips(spec.ip_addresses)):
        violations.append("spec.ipAddresses")
    uris = sans.get_values_for_type(x509.UniformResourceIdentifier) if sans else []
    if sorted(uris) != sorted(spec.uris):
        violations.append("spec.uris")
    emails = sans.get_values_for_type(x509.RFC822Name) if sans else []
    if sorted(emails) != sorted(spec.email_addresses):
        violations.append("spec.emailAddresses")
    if bool(req_spec.get("isCA")) != spec.is_ca:
        violations.append("spec.isCA")
    if _usage_set(req_spec.get("usages"), is_ca=spec.is_ca) != _usage_set(
        list(spec.usages), is_ca=spec.is_ca
    ):
        violations.append("spec.usages")
    duration = req_spec.get("duration")
    try:
        if isinstance(duration, str) and parse_duration(duration) != spec.duration:
            violations.append("spec.duration")
    except ValueError:
        violations.append("spec.duration")
    ref = req_spec.get("issuerRef")
    if isinstance(ref, Mapping) and (
        ref.get("name") != spec.issuer_ref.name
        or (ref.get("kind") or "Issuer") != spec.issuer_ref.kind
        or (ref.get("group") or "cert-manager.io") != spec.issuer_ref.group
    ):
        violations.append("spec.issuerRef")
    return violations


def _csr_sans(csr: x509.CertificateSigningRequest) -> x509.SubjectAlternativeName | None:
    try:
        return csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _non_cn(name: x509.Name) -> list[tuple[str, str]]:
    return sorted(
        (a.oid.dotted_string, str(a.value)) for a in name if a.oid != x509.NameOID.COMMON_NAME
    )


def _usage_set(usages: object, *, is_ca: bool) -> set[str] | None:
    names = [u for u in usages if isinstance(u, str)] if isinstance(usages, list) else []
    try:
        resolved = resolve_usages(names, is_ca=is_ca)
    except UnknownUsage:
        return None
    return usage_names(resolved.key_usage, resolved.extended_key_usage)


def _canonical_ips(ips: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for ip in ips:
        try:
            out.append(str(ipaddress.ip_address(ip)))
        except ValueError:
            out.append(ip)
    return out
