"""cert-manager's own controller, run out of cluster against a rig control plane.

The peer certainly is compared with (tests/integration/oracle) and measured against
(tests/bench/bench_peer.py): built once from tests/rig/go/certmanager, started with a
kubeconfig of its own user (so the audit log tells its requests apart), no leader
election, no webhook, the release's defaults otherwise. It runs against the CRDs the
plane applied (infra/crds), not cert-manager's own. Stopped by PID; its log is
`cert-manager.log` in the plane's workdir.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig import processes
from tests.rig.build import CERT_MANAGER, ensure_built
from tests.rig.controlplane import ControlPlane, ControlPlaneError

USER = "cert-manager-controller"  # the audit log's username for its requests
CLUSTER_RESOURCE_NAMESPACE = "cert-manager"
# Logged once every controller is constructed and the informers are started.
READY_LINE = "started controllers"


@dataclass
class CertManager:
    plane: ControlPlane
    # Extra flags, e.g. ("--kube-api-qps=1000", "--kube-api-burst=2000").
    flags: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log(self) -> Path:
        return self.plane.workdir / "cert-manager.log"

    def __enter__(self) -> CertManager:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, *, timeout: float = 60.0) -> None:
        binary = ensure_built(CERT_MANAGER) / "controller"
        kubeconfig = self.plane.user_kubeconfig(
            self.plane.workdir / "cert-manager.kubeconfig", USER, ("system:masters",)
        )
        existing = self.plane.kubectl("get", "namespace", "-o", "name")
        if f"namespace/{CLUSTER_RESOURCE_NAMESPACE}" not in existing.split():
            self.plane.kubectl("create", "namespace", CLUSTER_RESOURCE_NAMESPACE)
        self.process = processes.spawn(
            [
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--cluster-resource-namespace={CLUSTER_RESOURCE_NAMESPACE}",
                *self.flags,
            ],
            self.log,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            processes.stop(process)

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if READY_LINE in text:
                return
            if self.process.poll() is not None:
                tail = "\n".join(text.strip().splitlines()[-5:])
                raise ControlPlaneError(
                    f"cert-manager exited with {self.process.returncode}: {tail}"
                )
            time.sleep(0.2)
        raise ControlPlaneError(f"cert-manager did not start its controllers in {timeout:.0f} s")


@contextlib.contextmanager
def running(plane: ControlPlane, *flags: str) -> Iterator[CertManager]:
    with CertManager(plane, flags) as controller:
        yield controller
