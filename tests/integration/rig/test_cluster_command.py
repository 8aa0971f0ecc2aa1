"""`tests/rig/cluster up --kubeconfig PATH`: the real control plane, as the README says."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, require_binary
from tests.helpers import eventually, kubectl

pytestmark = pytest.mark.integration


def _processes_under(workdir: str) -> list[str]:
    """Command lines of the running programs whose arguments name the rig's folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if workdir in line:
                found.append(line)
    return found


def test_cluster_up_serves_kubectl_and_stops_everything_on_sigterm(tmp_path: Path) -> None:
    require_binary("kubectl")
    kubeconfig = tmp_path / "rig.kubeconfig"
    log = (tmp_path / "cluster.log").open("wb")
    process = subprocess.Popen(
        [str(REPO / "tests" / "rig" / "cluster"), "up", "--kubeconfig", str(kubeconfig)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        eventually(kubeconfig.exists, timeout=120, what="the kubeconfig")
        assert kubeconfig.stat().st_mode & 0o777 == 0o600
        namespaces = kubectl(kubeconfig, "get", "ns", "-o", "name")
        assert "namespace/kube-system" in namespaces
        # infra/crds is applied, with cert-manager's short names served by discovery.
        assert "certificates.cert-manager.io" in kubectl(kubeconfig, "get", "crd", "-o", "name")
        whoami = kubectl(kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}")
        assert "system:masters" in whoami
        workdir = next(
            line.split(" in ", 1)[1].split(")")[0]
            for line in (tmp_path / "cluster.log").read_text().splitlines()
            if "logs and audit log in" in line
        )
        assert len(_processes_under(workdir)) == 3  # etcd, kube-apiserver, controller manager
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        log.close()
    assert not kubeconfig.exists()
    deadline = time.monotonic() + 10
    while _processes_under(workdir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_under(workdir) == []
