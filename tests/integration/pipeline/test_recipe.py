"""The internal-CA recipe, applied with real kubectl, issued by the whole running system."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.localapi.server import LocalAPI
from events.runner import Runner, RunOptions
from tests.conftest import REPO, Cluster
from tests.helpers import kubectl

RECIPE = REPO / "infra" / "examples" / "internal-ca.yaml"
CERTIFICATES = {
    ("cert-manager", "my-selfsigned-ca", "root-secret"),
    ("production", "payments", "payments-tls"),
    ("production", "orders", "orders-tls"),
    ("staging", "web", "web-tls"),
}


@pytest.fixture
def system(cluster: Cluster, tmp_path: Path) -> Iterator[Path]:
    """A running certainly (watcher + scheduler + functions) and the kubeconfig to reach it."""
    api = None
    kubeconfig = cluster.kubeconfig
    if cluster.local:  # a fresh API: the watcher sees only this test's objects
        api = LocalAPI()
        api.start()
        kubeconfig = tmp_path / "kubeconfig"
        api.write_kubeconfig(kubeconfig)
    runner = Runner(RunOptions(kubeconfig=kubeconfig, tick_interval=2.0))
    runner.start()
    try:
        yield kubeconfig
    finally:
        runner.close()
        if api is not None:
            api.stop()


def test_internal_ca_recipe_becomes_ready_and_verifies(system: Path, tmp_path: Path) -> None:
    kubectl(system, "apply", "-f", str(RECIPE))
    for namespace, name, _ in CERTIFICATES:
        kubectl(
            system,
            "wait",
            "--for=condition=Ready",
            "--timeout=60s",
            "-n",
            namespace,
            f"certificate/{name}",
        )
    table = kubectl(system, "get", "certificate", "-A")
    assert table.split("\n")[0].split() == ["NAMESPACE", "NAME", "READY", "SECRET", "AGE"]
    rows = {tuple(line.split()[:3]) for line in table.splitlines()[1:]}
    # A shared real cluster lists other tests' Certificates too: only the recipe's count.
    assert {(ns, name, "True") for ns, name, _ in CERTIFICATES} <= rows
    wide = kubectl(system, "get", "certificate", "-n", "production", "-o", "wide")
    assert "my-ca-issuer" in wide and "Certificate is up to date and has not expired" in wide
    for namespace, _, secret in CERTIFICATES:
        data = json.loads(kubectl(system, "get", "secret", "-n", namespace, secret, "-o", "json"))[
            "data"
        ]
        assert {"tls.crt", "tls.key", "ca.crt"} <= set(data)
        for key in ("ca.crt", "tls.crt"):
            (tmp_path / key).write_bytes(base64.b64decode(data[key]))
        verify = subprocess.run(
            ["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / "tls.crt")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "OK" in verify.stdout, (secret, verify.stderr)
    described = kubectl(system, "describe", "certificate", "-n", "production", "payments")
    for words in (
        "Not After",
        "Renewal Time",
        "Issuing",
        "Generated",
        "Requested",
        "successfully issued",
    ):
        assert words in described, words
