"""Real kubectl against the cluster under test (the local API unless KUBECONFIG is set)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from itertools import count
from typing import Any

import pytest
import yaml

from tests.conftest import Cluster, require_binary
from tests.integration.localapi.conftest import Kubectl, certificate, eventually

pytestmark = pytest.mark.integration

_names = count(1)


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(require_binary("kubectl"), cluster.kubeconfig, tmp_path_factory.mktemp("kcache"))


@pytest.fixture
def ns(kubectl: Kubectl) -> Iterator[str]:
    name = f"kubectl-{next(_names)}"
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def apply(kubectl: Kubectl, obj: Mapping[str, Any], *extra: str) -> str:
    return kubectl.run("apply", "-f", "-", *extra, stdin=yaml.safe_dump(obj)).stdout


def test_apply_docs_certificate_then_get_prints_cert_manager_columns(
    kubectl: Kubectl, ns: str
) -> None:
    out = apply(kubectl, certificate("example-com", ns))
    assert "certificate.cert-manager.io/example-com created" in out

    table = kubectl.run("get", "certificates", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "SECRET", "AGE"]
    assert table[1].split()[:2] == ["example-com", "example-com-tls"]

    wide = kubectl.run("get", "cert", "-n", ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:5] == ["NAME", "READY", "SECRET", "ISSUER", "STATUS"]
    assert "ca-issuer" in wide[1].split()


def test_jsonpath_and_yaml_output_show_server_set_metadata(kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, certificate("paths", ns))
    secret_name = kubectl.run(
        "get", "certificate", "paths", "-n", ns, "-o", "jsonpath={.spec.secretName}"
    ).stdout
    assert secret_name == "paths-tls"
    obj = yaml.safe_load(kubectl.run("get", "certificate", "paths", "-n", ns, "-o", "yaml").stdout)
    assert obj["metadata"]["generation"] == 1
    assert int(obj["metadata"]["resourceVersion"]) > 0
    assert obj["metadata"]["uid"]


def test_wait_for_ready_returns_once_status_patched_ready(kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, certificate("waited", ns))
    waiter = subprocess.Popen(
        kubectl.argv(
            "wait", "--for=condition=Ready", "certificate/waited", "-n", ns, "--timeout=30s"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = {
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "Ready",
                        "message": "Certificate is up to date and has not expired",
                        "lastTransitionTime": "2026-01-01T00:00:00Z",
                    }
                ]
            }
        }
        kubectl.run(
            "patch", "certificate", "waited", "-n", ns, "--subresource=status",
            "--type=merge", "-p", json.dumps(status),
        )  # fmt: skip
        out, err = waiter.communicate(timeout=40)
    finally:
        waiter.kill()
    assert waiter.returncode == 0, err
    assert "condition met" in out
    ready = kubectl.run("get", "certificate", "waited", "-n", ns).stdout.splitlines()[1].split()
    assert ready[1] == "True"


def test_label_annotate_and_patch_change_the_object(kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, certificate("touched", ns))
    kubectl.run("label", "certificate", "touched", "-n", ns, "team=pki")
    kubectl.run("annotate", "certificate", "touched", "-n", ns, "note=hello")
    kubectl.run(
        "patch", "certificate", "touched", "-n", ns, "--type=json",
        "-p", '[{"op":"replace","path":"/spec/secretName","value":"renamed"}]',
    )  # fmt: skip
    obj = kubectl.json("get", "certificate", "touched", "-n", ns)
    assert obj["metadata"]["labels"] == {"team": "pki"}
    assert obj["metadata"]["annotations"]["note"] == "hello"
    assert obj["spec"]["secretName"] == "renamed"
    assert obj["metadata"]["generation"] == 2  # only the spec change counts
    selected = kubectl.run("get", "certificates", "-n", ns, "-l", "team=pki", "-o", "name")
    assert selected.stdout.split() == ["certificate.cert-manager.io/touched"]


def test_second_client_side_apply_removes_a_dropped_field(kubectl: Kubectl, ns: str) -> None:
    first = certificate("reapplied", ns, commonName="example.com")
    apply(kubectl, first)
    second = certificate("reapplied", ns)
    assert "commonName" not in second["spec"]
    assert "configured" in apply(kubectl, second)
    spec = kubectl.json("get", "certificate", "reapplied", "-n", ns)["spec"]
    assert "commonName" not in spec

    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": ns},
        "data": {"keep": "1", "drop": "2"},
    }
    apply(kubectl, config_map)
    config_map["data"] = {"keep": "1"}
    apply(kubectl, config_map)
    assert kubectl.json("get", "configmap", "settings", "-n", ns)["data"] == {"keep": "1"}


def test_invalid_enum_is_rejected_naming_the_field(kubectl: Kubectl, ns: str) -> None:
    bad = certificate("bad", ns, privateKey={"algorithm": "FOO"})
    result = kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(bad), check=False)
    assert result.returncode != 0
    assert 'The Certificate "bad" is invalid' in result.stderr  # kubectl's rewording
    assert 'spec.privateKey.algorithm: Unsupported value: "FOO"' in result.stderr


def test_unknown_field_is_rejected_by_strict_validation(kubectl: Kubectl, ns: str) -> None:
    bad = certificate("typo", ns, secretNmae="oops")
    result = kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(bad), check=False)
    assert result.returncode != 0
    assert 'unknown field "spec.secretNmae"' in result.stderr


def test_delete_cascades_to_owned_secret_unless_orphaned(kubectl: Kubectl, ns: str) -> None:
    for name in ("owner", "orphaner"):
        apply(kubectl, certificate(name, ns))
        uid = kubectl.json("get", "certificate", name, "-n", ns)["metadata"]["uid"]
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": f"{name}-tls",
                "namespace": ns,
                "ownerReferences": [
                    {
                        "apiVersion": "cert-manager.io/v1",
                        "kind": "Certificate",
                        "name": name,
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "stringData": {"hello": "world"},
        }
        apply(kubectl, secret)
    kubectl.run("delete", "certificate", "owner", "-n", ns)
    kubectl.run("delete", "certificate", "orphaner", "-n", ns, "--cascade=orphan")

    def secrets() -> set[str]:
        out = kubectl.run("get", "secrets", "-n", ns, "-o", "name").stdout.split()
        return {line.removeprefix("secret/") for line in out}

    eventually(lambda: "owner-tls" not in secrets(), what="owned secret collected")
    assert "orphaner-tls" in secrets()
    kept = kubectl.json("get", "secret", "orphaner-tls", "-n", ns)
    assert "ownerReferences" not in kept["metadata"]


def test_get_watch_prints_changes_as_they_happen(kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, certificate("watched", ns))
    watcher = subprocess.Popen(
        kubectl.argv("get", "certificates", "-n", ns, "-w", "--output-watch-events"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        header = watcher.stdout.readline().split()
        assert header[:3] == ["EVENT", "NAME", "READY"]
        assert watcher.stdout.readline().split()[:2] == ["ADDED", "watched"]
        kubectl.run("label", "certificate", "watched", "-n", ns, "seen=yes")
        assert watcher.stdout.readline().split()[:2] == ["MODIFIED", "watched"]
        kubectl.run("delete", "certificate", "watched", "-n", ns)
        assert watcher.stdout.readline().split()[:2] == ["DELETED", "watched"]
    finally:
        watcher.kill()
        watcher.communicate()


def test_server_side_apply_creates_merges_and_drops_unapplied_fields(
    kubectl: Kubectl, ns: str
) -> None:
    first = certificate("ssa", ns, commonName="example.com")
    out = apply(kubectl, first, "--server-side")
    assert "serverside-applied" in out
    second = certificate("ssa", ns)
    apply(kubectl, second, "--server-side")
    spec = kubectl.json("get", "certificate", "ssa", "-n", ns)["spec"]
    assert "commonName" not in spec
    assert spec["secretName"] == "ssa-tls"

    conflicting = certificate("ssa", ns, secretName="other")
    clash = kubectl.run(
        "apply", "-f", "-", "--server-side", "--field-manager=someone-else",
        stdin=yaml.safe_dump(conflicting), check=False,
    )  # fmt: skip
    assert clash.returncode != 0
    assert "conflict" in clash.stderr.lower()
    assert ".spec.secretName" in clash.stderr


def test_create_secret_and_configmap_from_kubectl_generators(kubectl: Kubectl, ns: str) -> None:
    # The typed client behind these sends protobuf bodies.
    kubectl.run("create", "secret", "generic", "creds", "-n", ns, "--from-literal=user=admin")
    kubectl.run("create", "configmap", "conf", "-n", ns, "--from-literal=mode=fast")
    table = kubectl.run("get", "secret", "creds", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert table[1].split()[:3] == ["creds", "Opaque", "1"]
    assert kubectl.json("get", "secret", "creds", "-n", ns)["data"] == {"user": "YWRtaW4="}
    assert kubectl.json("get", "configmap", "conf", "-n", ns)["data"] == {"mode": "fast"}


def test_create_ingress_for_ingress_shim(kubectl: Kubectl, ns: str) -> None:
    kubectl.run(
        "create", "ingress", "web", "-n", ns, "--class=nginx",
        "--rule=example.com/*=web:80,tls=web-tls",
        "--annotation=cert-manager.io/cluster-issuer=letsencrypt",
    )  # fmt: skip
    ingress = kubectl.json("get", "ingress", "web", "-n", ns)
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert ingress["spec"]["tls"] == [{"hosts": ["example.com"], "secretName": "web-tls"}]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "web", "port": {"number": 80}}
    table = kubectl.run("get", "ingress", "web", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]


def test_describe_explain_and_api_resources_work(kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, certificate("described", ns))
    described = kubectl.run("describe", "certificate", "described", "-n", ns).stdout
    assert "Secret Name:   described-tls" in described
    explained = kubectl.run("explain", "certificate.spec.privateKey.algorithm").stdout
    assert "RSA" in explained and "ECDSA" in explained
    listed = kubectl.run("api-resources", "--api-group=cert-manager.io", "-o", "name").stdout
    assert set(listed.split()) >= {
        "certificates.cert-manager.io",
        "certificaterequests.cert-manager.io",
        "issuers.cert-manager.io",
        "clusterissuers.cert-manager.io",
    }
    grouped = kubectl.run("get", "cert-manager", "-n", ns, "-o", "name").stdout.split()
    assert "certificate.cert-manager.io/described" in grouped
