"""What a controller left in the cluster, reduced to what two controllers should agree on.

`observe` reads one side's Certificates, their Secrets, latest CertificateRequests and
Events into flat facts per Certificate ({"x509.key": "RSA 2048", ...}); `differences`
lists every fact the two sides hold differently. Names, UIDs, timestamps and serial
numbers are left out: they differ by nature.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtensionOID

from tests.helpers import kubectl
from tests.integration.oracle.corpus import CERTIFICATES, NAMESPACE

Facts = dict[str, str]


@dataclass(frozen=True)
class Difference:
    certificate: str
    fact: str  # e.g. "condition.Ready", "secret.annotation.cert-manager.io/alt-names"
    cert_manager: str | None  # None: that side does not have the fact
    certainly: str | None

    @property
    def kind(self) -> str:
        """The fact's family, for counting: "condition", "secret.annotation", "x509.key"."""
        parts = self.fact.split(".")
        return ".".join(parts[:2]) if parts[0] in {"secret", "x509", "request"} else parts[0]

    def __str__(self) -> str:
        return f"{self.certificate}: {self.fact}: cert-manager {self.cert_manager!r}, certainly {self.certainly!r}"


def _items(kubeconfig: Path, kind: str) -> list[dict[str, Any]]:
    listed = json.loads(kubectl(kubeconfig, "get", kind, "-n", NAMESPACE, "-o", "json"))
    items: list[dict[str, Any]] = listed["items"]
    return items


def observe(kubeconfig: Path) -> dict[str, Facts]:
    certificates = {c["metadata"]["name"]: c for c in _items(kubeconfig, "certificates")}
    secrets = {s["metadata"]["name"]: s for s in _items(kubeconfig, "secrets")}
    requests: dict[str, dict[str, Any]] = {}
    for request in _items(kubeconfig, "certificaterequests"):
        annotations = request["metadata"].get("annotations") or {}
        owner = annotations.get("cert-manager.io/certificate-name", "")
        revision = int(annotations.get("cert-manager.io/certificate-revision", "0"))
        latest = requests.get(owner)
        if latest is None or revision > int(
            latest["metadata"]["annotations"].get("cert-manager.io/certificate-revision", "0")
        ):
            requests[owner] = request
    events: dict[str, dict[str, set[str]]] = {}
    for event in _items(kubeconfig, "events"):
        involved = event.get("involvedObject") or {}
        if involved.get("kind") == "Certificate":
            told = events.setdefault(involved.get("name", ""), {})
            told.setdefault(event.get("reason", ""), set()).add(
                f"{event.get('type', '')}: {_message(event.get('message', ''))}"
            )
    facts: dict[str, Facts] = {}
    for name in CERTIFICATES:
        certificate = certificates.get(name)
        if certificate is None:
            facts[name] = {"exists": "no"}
            continue
        found = _certificate_facts(certificate)
        secret = secrets.get(certificate["spec"]["secretName"])
        if secret is not None:
            found.update(_secret_facts(secret))
        if name in requests:
            found.update(_request_facts(requests[name]))
        for reason, messages in sorted(events.get(name, {}).items()):
            found[f"event.{reason}"] = " | ".join(sorted(messages))
        facts[name] = found
    return facts


def differences(cert_manager: dict[str, Facts], certainly: dict[str, Facts]) -> list[Difference]:
    found = []
    for name in CERTIFICATES:
        ours, theirs = certainly.get(name, {}), cert_manager.get(name, {})
        for fact in sorted(ours.keys() | theirs.keys()):
            if ours.get(fact) != theirs.get(fact):
                found.append(Difference(name, fact, theirs.get(fact), ours.get(fact)))
    return found


# -- the parts -------------------------------------------------------------------------


# Quoted names that differ by nature: a temporary key Secret's (random suffix).
_TEMPORARY_SECRET = re.compile(r'(temporary Secret resource )"[a-z0-9.-]+"')


def _message(text: str) -> str:
    return _TEMPORARY_SECRET.sub(r'\1"<temporary>"', text)


def _conditions(prefix: str, conditions: Iterable[dict[str, Any]]) -> Facts:
    facts = {}
    for condition in conditions:
        key = f"{prefix}.{condition['type']}"
        facts[key] = f"{condition['status']} {condition.get('reason', '')}".strip()
        if prefix == "condition":
            facts[f"{key}.message"] = _message(condition.get("message", ""))
    return facts


def _certificate_facts(certificate: dict[str, Any]) -> Facts:
    status = certificate.get("status") or {}
    facts = _conditions("condition", status.get("conditions") or [])
    facts["status.fields"] = ",".join(sorted(k for k in status if k != "conditions"))
    if "revision" in status:
        facts["status.revision"] = str(status["revision"])
    return facts


def _request_facts(request: dict[str, Any]) -> Facts:
    spec = request["spec"]
    issuer = spec.get("issuerRef") or {}
    facts = {
        "request.usages": ",".join(spec.get("usages") or []),
        "request.isCA": str(spec.get("isCA", False)),
        "request.duration": str(spec.get("duration", "")),
        "request.issuerRef": f"{issuer.get('group', '')}/{issuer.get('kind', '')}/{issuer.get('name', '')}",
    }
    facts.update(
        _conditions("request.condition", (request.get("status") or {}).get("conditions") or [])
    )
    return facts


def _secret_facts(secret: dict[str, Any]) -> Facts:
    metadata = secret["metadata"]
    data = secret.get("data") or {}
    facts = {"secret.type": secret.get("type", ""), "secret.keys": ",".join(sorted(data))}
    for key, value in (metadata.get("labels") or {}).items():
        facts[f"secret.label.{key}"] = value
    for key, value in (metadata.get("annotations") or {}).items():
        facts[f"secret.annotation.{key}"] = value
    if data.get("tls.key"):
        header = base64.b64decode(data["tls.key"]).split(b"\n", 1)[0].decode(errors="replace")
        facts["secret.keyEncoding"] = header
    if data.get("tls.crt"):
        facts.update(_x509_facts(base64.b64decode(data["tls.crt"])))
    return facts


def _key(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    return type(key).__name__


def _extension(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> Any:
    try:
        return certificate.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def _x509_facts(pem: bytes) -> Facts:
    chain = x509.load_pem_x509_certificates(pem)
    leaf = chain[0]
    facts = {
        "x509.subject": leaf.subject.rfc4514_string(),
        "x509.key": _key(leaf),
        "x509.chain": str(len(chain)),
        "x509.validity": str(
            round((leaf.not_valid_after_utc - leaf.not_valid_before_utc).total_seconds() / 60)
        )
        + " min",
    }
    if sans := _extension(leaf, ExtensionOID.SUBJECT_ALTERNATIVE_NAME):
        facts["x509.sans"] = ",".join(sorted(f"{type(n).__name__}:{n.value}" for n in sans.value))
        facts["x509.sans.critical"] = str(sans.critical)
    if usage := _extension(leaf, ExtensionOID.KEY_USAGE):
        v = usage.value
        names = [
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
        ]
        facts["x509.keyUsage"] = ",".join(n for n in names if getattr(v, n))
        facts["x509.keyUsage.critical"] = str(usage.critical)
    if extended := _extension(leaf, ExtensionOID.EXTENDED_KEY_USAGE):
        facts["x509.extKeyUsage"] = ",".join(sorted(o._name for o in extended.value))
    if basic := _extension(leaf, ExtensionOID.BASIC_CONSTRAINTS):
        facts["x509.basicConstraints"] = (
            f"ca={basic.value.ca} pathlen={basic.value.path_length} critical={basic.critical}"
        )
    if constraints := _extension(leaf, ExtensionOID.NAME_CONSTRAINTS):
        value = constraints.value
        facts["x509.nameConstraints"] = (
            f"permitted={sorted(str(n.value) for n in value.permitted_subtrees or ())} "
            f"excluded={sorted(str(n.value) for n in value.excluded_subtrees or ())} "
            f"critical={constraints.critical}"
        )
    if crl := _extension(leaf, ExtensionOID.CRL_DISTRIBUTION_POINTS):
        facts["x509.crlDistributionPoints"] = ",".join(
            str(n.value) for point in crl.value for n in point.full_name or ()
        )
    if aia := _extension(leaf, ExtensionOID.AUTHORITY_INFORMATION_ACCESS):
        facts["x509.authorityInfoAccess"] = ",".join(
            sorted(f"{d.access_method._name}={d.access_location.value}" for d in aia.value)
        )
    facts["x509.extensions"] = ",".join(sorted(e.oid._name for e in leaf.extensions))
    return facts
