"""The manifests both controllers are given, in two phases.

Phase one is applied to a fresh control plane and left to settle; phase two then changes
what only a second look can test (an issuer that appears late, a key size changed under
`rotationPolicy: Never`, a manual renewal, a deleted or tampered Secret, dnsNames changed
under `rotationPolicy: Always`). Every Certificate lives in one namespace; the CA Issuer signs
unless a case says otherwise.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "oracle"
GROUP = "cert-manager.io/v1"

Manifest = dict[str, Any]


def _issuer(name: str, spec: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": GROUP,
        "kind": "Issuer",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }


def _certificate(name: str, issuer: str = "ca", **spec: Any) -> Manifest:
    body: dict[str, Any] = {
        "secretName": f"{name}-tls",
        "issuerRef": {"name": issuer, "kind": "Issuer"},
    }
    if not {"commonName", "dnsNames", "ipAddresses", "uris", "emailAddresses"} & spec.keys():
        body["dnsNames"] = [f"{name}.example.com"]
    body.update(spec)
    return {
        "apiVersion": GROUP,
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": body,
    }


CA_URLS = {
    "crlDistributionPoints": ["http://crl.example.com/ca.crl"],
    "ocspServers": ["http://ocsp.example.com"],
    "issuingCertificateURLs": ["http://ca.example.com/ca.crt"],
}

PHASE_ONE: list[Manifest] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    _issuer("selfsigned", {"selfSigned": {}}),
    _certificate(
        "root",
        issuer="selfsigned",
        isCA=True,
        commonName="oracle root",
        secretName="root-ca",
        privateKey={"algorithm": "ECDSA", "size": 256},
    ),
    _issuer("ca", {"ca": {"secretName": "root-ca"}}),
    _issuer("ca-urls", {"ca": {"secretName": "root-ca", **CA_URLS}}),
    _certificate("rsa-2048", privateKey={"algorithm": "RSA", "size": 2048}),
    _certificate("rsa-4096", privateKey={"algorithm": "RSA", "size": 4096}),
    _certificate("ecdsa-256", privateKey={"algorithm": "ECDSA", "size": 256}),
    _certificate("ecdsa-384", privateKey={"algorithm": "ECDSA", "size": 384}),
    _certificate("ecdsa-521", privateKey={"algorithm": "ECDSA", "size": 521}),
    _certificate("ed25519", privateKey={"algorithm": "Ed25519"}),
    _certificate("pkcs8", privateKey={"algorithm": "RSA", "encoding": "PKCS8"}),
    _certificate("default-key"),
    _certificate("intermediate", isCA=True, commonName="oracle intermediate"),
    _certificate(
        "usages",
        usages=["digital signature", "key encipherment", "server auth", "client auth"],
    ),
    _certificate("code-signing", usages=["signing", "code signing", "email protection"]),
    _certificate("duration", duration="720h", renewBefore="240h"),
    _certificate("short", duration="1h", renewBeforePercentage=50),
    _certificate(
        "template",
        secretTemplate={
            "labels": {"team": "payments"},
            "annotations": {"example.com/owner": "payments"},
        },
    ),
    _certificate(
        "sans",
        commonName="sans.example.com",
        dnsNames=["sans.example.com", "www.sans.example.com"],
        ipAddresses=["10.0.0.1", "2001:db8::1"],
        uris=["spiffe://cluster.local/ns/oracle/sa/web"],
        emailAddresses=["admin@example.com"],
        subject={"organizations": ["Oracle Org"], "countries": ["GB"]},
    ),
    _certificate(
        "outputs",
        additionalOutputFormats=[{"type": "CombinedPEM"}, {"type": "DER"}],
    ),
    _certificate("ca-urls", issuer="ca-urls"),
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "keystore-password", "namespace": NAMESPACE},
        "stringData": {"password": "changeit"},
    },
    _certificate(
        "keystores",
        keystores={
            "pkcs12": {
                "create": True,
                "passwordSecretRef": {"name": "keystore-password", "key": "password"},
                "profile": "Modern2023",
            },
            "jks": {
                "create": True,
                "passwordSecretRef": {"name": "keystore-password", "key": "password"},
            },
        },
    ),
    _certificate(
        "literal",
        literalSubject="CN=literal.example.com,O=Oracle Org,C=GB",
        dnsNames=["literal.example.com"],
    ),
    _certificate(
        "constrained",
        isCA=True,
        commonName="constrained ca",
        nameConstraints={
            "critical": True,
            "permitted": {"dnsDomains": ["example.com"]},
            "excluded": {"ipRanges": ["10.0.0.0/8"]},
        },
    ),
    _certificate(
        "other-names",
        dnsNames=["other.example.com"],
        otherNames=[{"oid": "1.3.6.1.4.1.311.20.2.3", "utf8Value": "upn@example.com"}],
    ),
    # Valid to the CRD schema, refused by cert-manager's webhook (absent here).
    _certificate("invalid-key-size", privateKey={"algorithm": "ECDSA", "size": 100}),
    _certificate("late", issuer="late"),
    _certificate("renew"),  # phase two: Issuing=True ManuallyTriggered, as `cmctl renew`
    _certificate("secret-deleted"),  # phase two: its Secret is deleted
    _certificate("tampered"),  # phase two: its Secret's certificate is overwritten
    _certificate(  # phase two: dnsNames change; a new key, as the policy says
        "always-rotate", privateKey={"algorithm": "ECDSA", "rotationPolicy": "Always"}
    ),
    _certificate(
        "never-rotate", privateKey={"algorithm": "RSA", "size": 2048, "rotationPolicy": "Never"}
    ),
]

PHASE_TWO: list[Manifest] = [
    _issuer("late", {"selfSigned": {}}),
    _certificate(
        "never-rotate", privateKey={"algorithm": "RSA", "size": 4096, "rotationPolicy": "Never"}
    ),
    _certificate(
        "always-rotate",
        dnsNames=["always-rotate.example.com", "www.always-rotate.example.com"],
        privateKey={"algorithm": "ECDSA", "rotationPolicy": "Always"},
    ),
]

CERTIFICATES = sorted(
    {m["metadata"]["name"] for m in PHASE_ONE + PHASE_TWO if m["kind"] == "Certificate"}
)
# Not Ready once phase one has settled: a spec no issuer signs, an issuer not there yet.
WAITING_AFTER_PHASE_ONE = {"invalid-key-size", "late"}
# Not Ready once phase two has settled: that spec still, and a key size changed under
# rotationPolicy Never (the stored key no longer fits and may not be replaced).
NOT_READY = {"invalid-key-size", "never-rotate"}
# Re-issued in phase two, by hand or because the Secret went: revision 2 on both sides.
REISSUED = {"renew", "secret-deleted", "tampered", "always-rotate"}
# Not a certificate: what "tampered" finds in its Secret's tls.crt.
TAMPERED_CERTIFICATE = (
    b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
)
MANUAL_TRIGGER = {
    "type": "Issuing",
    "status": "True",
    "reason": "ManuallyTriggered",
    "message": "Certificate re-issuance manually triggered",
}
