"""The Certificates an annotated Ingress asks for (pure part of the ingress-shim)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.ingress.shim import BadConfig, IssuerRef, desired_certificates, issuer_ref_of


def ingress(annotations: dict[str, str], tls: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "namespace": "apps",
            "uid": "u-1",
            "annotations": annotations,
            "labels": {"app": "web"},
        },
        "spec": {"tls": tls},
    }


def test_cluster_issuer_annotation_names_a_cluster_issuer() -> None:
    ref = issuer_ref_of({"cert-manager.io/cluster-issuer": "le"})
    assert ref == IssuerRef("le", "ClusterIssuer", "cert-manager.io")


def test_issuer_annotation_honours_kind_and_group() -> None:
    ref = issuer_ref_of(
        {
            "cert-manager.io/issuer": "vault",
            "cert-manager.io/issuer-kind": "VaultIssuer",
            "cert-manager.io/issuer-group": "example.io",
        }
    )
    assert ref == IssuerRef("vault", "VaultIssuer", "example.io")


def test_no_annotation_means_no_certificate() -> None:
    assert issuer_ref_of({"nginx.ingress.kubernetes.io/rewrite": "/"}) is None


def test_both_issuer_annotations_are_bad_config() -> None:
    with pytest.raises(BadConfig, match="choose one"):
        issuer_ref_of({"cert-manager.io/issuer": "a", "cert-manager.io/cluster-issuer": "b"})


def test_tls_acme_without_a_default_issuer_is_bad_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CERTAINLY_DEFAULT_ISSUER_NAME", raising=False)
    with pytest.raises(BadConfig, match="default issuer"):
        issuer_ref_of({"kubernetes.io/tls-acme": "true"})
    monkeypatch.setenv("CERTAINLY_DEFAULT_ISSUER_NAME", "le")
    monkeypatch.setenv("CERTAINLY_DEFAULT_ISSUER_KIND", "ClusterIssuer")
    assert issuer_ref_of({"kubernetes.io/tls-acme": "true"}) == IssuerRef(
        "le", "ClusterIssuer", "cert-manager.io"
    )


def test_one_certificate_per_secret_name_owned_by_the_ingress() -> None:
    obj = ingress(
        {"cert-manager.io/cluster-issuer": "le"},
        [
            {"hosts": ["a.example.test"], "secretName": "a-tls"},
            {"hosts": ["b.example.test"], "secretName": "b-tls"},
            {"hosts": ["c.example.test", "a.example.test"], "secretName": "a-tls"},
        ],
    )
    certs = desired_certificates(obj, IssuerRef("le", "ClusterIssuer", "cert-manager.io"))
    assert [c["metadata"]["name"] for c in certs] == ["a-tls", "b-tls"]
    assert certs[0]["spec"]["dnsNames"] == ["a.example.test", "c.example.test"]
    assert certs[0]["spec"]["secretName"] == "a-tls"
    owner = certs[0]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Ingress",
        "web",
        "u-1",
        True,
    )
    assert certs[0]["metadata"]["labels"] == {"app": "web"}


def test_certificate_annotations_become_spec_fields() -> None:
    obj = ingress(
        {
            "cert-manager.io/cluster-issuer": "le",
            "cert-manager.io/common-name": "a.example.test",
            "cert-manager.io/duration": "720h",
            "cert-manager.io/renew-before": "240h",
            "cert-manager.io/usages": "digital signature, server auth",
            "cert-manager.io/private-key-algorithm": "ECDSA",
            "cert-manager.io/private-key-size": "384",
            "cert-manager.io/private-key-rotation-policy": "Always",
            "cert-manager.io/revision-history-limit": "3",
        },
        [{"hosts": ["a.example.test"], "secretName": "a-tls"}],
    )
    (cert,) = desired_certificates(obj, IssuerRef("le", "ClusterIssuer", "cert-manager.io"))
    spec = cert["spec"]
    assert spec["commonName"] == "a.example.test"
    assert (spec["duration"], spec["renewBefore"]) == ("720h", "240h")
    assert spec["usages"] == ["digital signature", "server auth"]
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Always"}
    assert spec["revisionHistoryLimit"] == 3


@pytest.mark.parametrize(
    ("annotations", "tls", "message"),
    [
        (
            {"cert-manager.io/private-key-size": "big"},
            [{"hosts": ["a"], "secretName": "s"}],
            "integer",
        ),
        ({}, [{"hosts": ["a"]}], "no secretName"),
        ({}, [{"secretName": "s"}], "no hosts"),
    ],
)
def test_unusable_ingress_is_bad_config(
    annotations: dict[str, str], tls: list[dict[str, Any]], message: str
) -> None:
    obj = ingress({"cert-manager.io/cluster-issuer": "le", **annotations}, tls)
    with pytest.raises(BadConfig, match=message):
        desired_certificates(obj, IssuerRef("le", "ClusterIssuer", "cert-manager.io"))
