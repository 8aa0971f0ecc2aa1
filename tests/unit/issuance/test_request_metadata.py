"""What a CertificateRequest inherits from its Certificate's metadata."""

from __future__ import annotations

from shared.certificates.spec import parse_certificate
from shared.issuance.requests import build_request, copied_annotations

CERTIFICATE = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {
        "name": "web",
        "namespace": "apps",
        "uid": "u-1",
        "labels": {"app": "web", "team": "payments"},
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "fluxcd.io/sync-checksum": "abc",
            "argocd.argoproj.io/tracking-id": "x",
            "example.com/owner": "alice",
            "cert-manager.io/certificate-revision": "99",
        },
    },
    "spec": {
        "secretName": "web-tls",
        "dnsNames": ["web.example.test"],
        "issuerRef": {"name": "ca"},
        "secretTemplate": {"labels": {"secret-only": "yes"}},
    },
}


def test_tool_annotations_are_not_copied_others_are() -> None:
    copied = copied_annotations(CERTIFICATE["metadata"]["annotations"])  # type: ignore[index]
    assert copied == {"example.com/owner": "alice", "cert-manager.io/certificate-revision": "99"}


def test_request_carries_the_certificate_labels_and_annotations_not_the_template() -> None:
    request = build_request(
        CERTIFICATE,
        parse_certificate(CERTIFICATE),
        name="web-3",
        revision=3,
        csr_pem=b"csr",
        key_secret_name="web-next-private-key",
    )
    metadata = request["metadata"]
    assert metadata["labels"] == {"app": "web", "team": "payments"}
    assert metadata["annotations"] == {
        "example.com/owner": "alice",
        "cert-manager.io/certificate-name": "web",
        "cert-manager.io/certificate-revision": "3",  # ours win over a copied one
        "cert-manager.io/private-key-secret-name": "web-next-private-key",
    }
