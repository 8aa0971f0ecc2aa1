"""CA and SelfSigned issuance through the real on-certificate-created function."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from cryptography import x509

from shared.issuance.names import fnv32
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, ISSUERS, SECRETS
from tests.integration.pipeline.conftest import Env, condition, ready


def pem(secret: dict[str, object], key: str) -> bytes:
    return base64.b64decode((secret["data"])[key])  # type: ignore[index]


def test_ca_issued_secret_holds_key_chain_and_ca_that_openssl_verifies(
    env: Env, tmp_path: Path
) -> None:
    env.ca_issuer()
    cert = env.issue(
        "web", issuerRef={"name": "ca", "kind": "Issuer"}, privateKey={"algorithm": "ECDSA"}
    )
    secret = env.get(SECRETS, "web-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert {"tls.crt", "tls.key", "ca.crt"} <= set(secret["data"])
    (tmp_path / "ca.crt").write_bytes(pem(secret, "ca.crt"))
    (tmp_path / "tls.crt").write_bytes(pem(secret, "tls.crt"))
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / "tls.crt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0 and "OK" in verify.stdout, verify.stderr
    annotations = secret["metadata"]["annotations"]
    assert annotations["cert-manager.io/certificate-name"] == "web"
    assert annotations["cert-manager.io/issuer-name"] == "ca"
    assert annotations["cert-manager.io/issuer-kind"] == "Issuer"
    assert annotations["cert-manager.io/alt-names"] == "web.example.test"
    status = cert["status"]
    assert status["revision"] == 1
    assert status["notAfter"] and status["notBefore"] and status["renewalTime"]
    assert "Issuing" not in {c["type"] for c in status["conditions"]}


def test_request_is_named_by_revision_annotated_and_approved(env: Env) -> None:
    env.ca_issuer()
    env.issue("api", issuerRef={"name": "ca", "kind": "Issuer"})
    request = env.get(CERTIFICATE_REQUESTS, "api-1")
    annotations = request["metadata"]["annotations"]
    assert annotations["cert-manager.io/certificate-name"] == "api"
    assert annotations["cert-manager.io/certificate-revision"] == "1"
    assert annotations["cert-manager.io/private-key-secret-name"] == "api-next-private-key"
    approved = condition(request, "Approved")
    assert (approved["status"], approved["reason"]) == ("True", "cert-manager.io")
    assert condition(request, "Ready")["reason"] == "Issued"
    assert request["status"]["certificate"] and request["status"]["ca"]
    # the temporary key Secret is gone once the certificate is stored
    assert env.find(SECRETS, "api-next-private-key") is None


def test_events_tell_the_issuance_story_in_order(env: Env) -> None:
    env.ca_issuer()
    env.issue("story", issuerRef={"name": "ca", "kind": "Issuer"})
    told = [(e["reason"], e["message"]) for e in env.events("story")]
    assert [reason for reason, _ in told] == ["Issuing", "Generated", "Requested", "Issuing"]
    assert told[-1][1] == "The certificate has been successfully issued"


def test_a_certificate_not_due_is_never_reissued(env: Env) -> None:
    env.ca_issuer()
    env.issue("stable", issuerRef={"name": "ca", "kind": "Issuer"})
    before = env.get(SECRETS, "stable-tls")["data"]["tls.crt"]
    writes = env.writes()
    for _ in range(3):
        assert env.deliver(CERTIFICATES, "stable").ok
        assert env.deliver(SECRETS, "stable-tls").ok
        assert env.tick().ok
    assert env.get(CERTIFICATES, "stable")["status"]["revision"] == 1
    assert env.get(SECRETS, "stable-tls")["data"]["tls.crt"] == before
    assert env.writes() == writes  # duplicate events change nothing: not one write


def test_deleting_the_secret_reissues(env: Env) -> None:
    env.ca_issuer()
    env.issue("gone", issuerRef={"name": "ca", "kind": "Issuer"})
    deleted = env.get(SECRETS, "gone-tls")
    env.kube.delete(SECRETS, env.namespace, "gone-tls")
    assert env.deliver_object({**deleted, "apiVersion": "v1", "kind": "Secret"}, action="delete").ok
    cert = env.get(CERTIFICATES, "gone")
    assert ready(cert) and cert["status"]["revision"] == 2
    assert env.find(SECRETS, "gone-tls") is not None
    # revisionHistoryLimit 1: only the newest request is kept
    assert env.find(CERTIFICATE_REQUESTS, "gone-1") is None
    assert env.find(CERTIFICATE_REQUESTS, "gone-2") is not None


def test_changing_dns_names_reissues_with_the_new_names(env: Env) -> None:
    env.ca_issuer()
    cert = env.issue("names", issuerRef={"name": "ca", "kind": "Issuer"})
    cert["spec"]["dnsNames"] = ["names.example.test", "more.example.test"]
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "names").ok
    cert = env.get(CERTIFICATES, "names")
    assert cert["status"]["revision"] == 2 and ready(cert)
    leaf = x509.load_pem_x509_certificates(pem(env.get(SECRETS, "names-tls"), "tls.crt"))[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"names.example.test", "more.example.test"}


def test_manual_renew_as_cmctl_does_it(env: Env) -> None:
    env.ca_issuer()
    cert = env.issue("manual", issuerRef={"name": "ca", "kind": "Issuer"})
    cert["status"]["conditions"].append(
        {
            "type": "Issuing",
            "status": "True",
            "reason": "ManuallyTriggered",
            "message": "Certificate re-issuance manually triggered",
            "lastTransitionTime": cert["status"]["notBefore"],
        }
    )
    env.kube.replace_status(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "manual").ok
    cert = env.get(CERTIFICATES, "manual")
    assert cert["status"]["revision"] == 2
    assert condition(cert, "Issuing") == {}


def test_rotation_policy_never_keeps_the_key(env: Env) -> None:
    env.ca_issuer()
    env.issue(
        "keep", issuerRef={"name": "ca", "kind": "Issuer"}, privateKey={"rotationPolicy": "Never"}
    )
    key = env.get(SECRETS, "keep-tls")["data"]["tls.key"]
    cert = env.get(CERTIFICATES, "keep")
    cert["spec"]["dnsNames"] = ["keep2.example.test"]
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "keep").ok
    assert env.get(CERTIFICATES, "keep")["status"]["revision"] == 2
    assert env.get(SECRETS, "keep-tls")["data"]["tls.key"] == key


def test_rotation_policy_never_refuses_a_key_that_no_longer_fits_the_spec(env: Env) -> None:
    env.ca_issuer()
    key = {"rotationPolicy": "Never", "algorithm": "RSA", "size": 2048}
    env.issue("fixed", issuerRef={"name": "ca", "kind": "Issuer"}, privateKey=key)
    stored = env.get(SECRETS, "fixed-tls")["data"]["tls.key"]
    cert = env.get(CERTIFICATES, "fixed")
    cert["spec"]["privateKey"]["size"] = 4096
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "fixed").ok
    assert env.deliver(CERTIFICATES, "fixed").ok  # asked again: told once, still refused
    cert = env.get(CERTIFICATES, "fixed")
    assert cert["status"]["revision"] == 1
    assert env.get(SECRETS, "fixed-tls")["data"]["tls.key"] == stored
    mismatch = "Existing private key is not up to date for spec: [spec.privateKey.size]"
    for kind in ("Issuing", "Ready"):
        assert (condition(cert, kind)["reason"], condition(cert, kind)["message"]) == (
            "SecretMismatch",
            mismatch,
        )
    refused = [e for e in env.events("fixed") if e["reason"] == "CannotRegenerateKey"]
    assert [e["type"] for e in refused] == ["Warning"]
    assert 'existing private key in Secret "fixed-tls"' in refused[0]["message"]
    assert "[spec.privateKey.size]" in refused[0]["message"]


def test_secret_template_and_output_formats_reach_the_secret(env: Env) -> None:
    env.ca_issuer()
    env.issue(
        "tmpl",
        issuerRef={"name": "ca", "kind": "Issuer"},
        secretTemplate={"labels": {"team": "payments"}, "annotations": {"owner": "alice"}},
        additionalOutputFormats=[{"type": "CombinedPEM"}, {"type": "DER"}],
    )
    secret = env.get(SECRETS, "tmpl-tls")
    assert secret["metadata"]["labels"]["team"] == "payments"
    assert secret["metadata"]["annotations"]["owner"] == "alice"
    assert {"tls-combined.pem", "key.der"} <= set(secret["data"])
    # a template change applies without re-issuing
    cert = env.get(CERTIFICATES, "tmpl")
    cert["spec"]["secretTemplate"]["labels"]["team"] = "billing"
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "tmpl").ok
    assert env.get(SECRETS, "tmpl-tls")["metadata"]["labels"]["team"] == "billing"
    assert env.get(CERTIFICATES, "tmpl")["status"]["revision"] == 1


def test_selfsigned_ca_certificate_is_its_own_ca(env: Env) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "ss"},
            "spec": {"selfSigned": {}},
        }
    )
    assert env.deliver(ISSUERS, "ss").ok
    env.issue(
        "root",
        isCA=True,
        commonName="root",
        dnsNames=[],
        issuerRef={"name": "ss", "kind": "Issuer"},
    )
    secret = env.get(SECRETS, "root-tls")
    assert pem(secret, "tls.crt") == pem(secret, "ca.crt")
    leaf = x509.load_pem_x509_certificate(pem(secret, "tls.crt"))
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_request_inherits_the_certificate_metadata_as_cert_manager_does(env: Env) -> None:
    env.ca_issuer()
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {
                "name": "meta",
                "labels": {"app": "shop"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    "example.com/owner": "alice",
                },
            },
            "spec": {
                "secretName": "meta-tls",
                "dnsNames": ["meta.example.test"],
                "issuerRef": {"name": "ca", "kind": "Issuer"},
                "secretTemplate": {"labels": {"secret-only": "yes"}},
            },
        }
    )
    assert env.deliver(CERTIFICATES, "meta").ok
    request = env.get(CERTIFICATE_REQUESTS, "meta-1")
    assert request["metadata"]["labels"] == {"app": "shop"}
    annotations = request["metadata"]["annotations"]
    assert annotations["example.com/owner"] == "alice"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations
    assert annotations["cert-manager.io/certificate-revision"] == "1"


def test_a_long_certificate_name_gets_a_shortened_request_name(env: Env) -> None:
    env.ca_issuer()
    name = "a-certificate-whose-name-is-much-longer-than-fifty-two-characters"
    env.issue(name, issuerRef={"name": "ca", "kind": "Issuer"}, dnsNames=["long.example.test"])
    expected = f"{name[:43]}-{fnv32(name.encode()):08x}-1"
    assert env.request_names(name) == [expected]
    assert len(expected) <= 63
