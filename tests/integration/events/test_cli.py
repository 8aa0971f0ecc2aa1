"""`certainly local up` as a user runs it: a real process, kubectl, signals, --state."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import eventually, kubectl

pytestmark = pytest.mark.integration


def local_up(kubeconfig: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "events.cli", "local", "up", "--kubeconfig", str(kubeconfig), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def answers(kubeconfig: Path) -> bool:
    if not kubeconfig.exists():
        return False
    result = subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", "get", "namespaces", "-o", "name"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return result.returncode == 0 and "namespace/cert-manager" in result.stdout


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    process.send_signal(sig)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_local_up_serves_kubectl_and_stops_cleanly_on_signals(
    tmp_path: Path, sig: signal.Signals
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    process = local_up(kubeconfig)
    try:
        eventually(lambda: answers(kubeconfig), timeout=30, what="the local API")
        crds = kubectl(kubeconfig, "get", "crds", "-o", "name")
        assert "customresourcedefinition.apiextensions.k8s.io/certificates.cert-manager.io" in crds
    finally:
        output = stop(process, sig)
    assert "certainly is running" in output


def test_state_file_keeps_objects_across_restarts(tmp_path: Path) -> None:
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state.json"
    process = local_up(kubeconfig, "--api-only", "--state", str(state))
    try:
        eventually(lambda: answers(kubeconfig), timeout=30, what="the local API")
        kubectl(kubeconfig, "create", "namespace", "kept")
        kubectl(kubeconfig, "create", "configmap", "-n", "kept", "memo", "--from-literal=a=1")
    finally:
        stop(process, signal.SIGTERM)
    kubeconfig.unlink()
    process = local_up(kubeconfig, "--api-only", "--state", str(state))
    try:
        eventually(lambda: answers(kubeconfig), timeout=30, what="the restarted local API")
        value = kubectl(
            kubeconfig, "get", "configmap", "-n", "kept", "memo", "-o", "jsonpath={.data.a}"
        )
        assert value == "1"
    finally:
        stop(process, signal.SIGTERM)
