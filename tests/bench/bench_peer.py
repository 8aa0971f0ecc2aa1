"""Benchmark: certainly beside cert-manager, each on a fresh rig control plane.

Not a test: it prints figures. Run `make bench-peer` or
    .venv/bin/python -m tests.bench.bench_peer [--count 500] [--raised-qps]

For N CA-issued ECDSA Certificates applied at once: seconds from the apply to all Ready,
and the controller's API requests and writes per Certificate, counted from the real
apiserver's audit log by the controller's own user (each side gets a kubeconfig of its
own; the bench's apply runs as the admin and is not counted), and the controller's peak
RSS (cert-manager's process; for certainly the bench process, whose runner is in-process). cert-manager runs with its
default client QPS/burst; with --raised-qps once more with both raised (a no-op on the
rig: cert-manager drops client-side limits when the apiserver has API Priority and
Fairness, which kube-apiserver enables by default). The last line is
`peer: N=<n> cert-manager <s> s, certainly <s> s, ratio <r>` (cert-manager's default run
over certainly's).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from events.localapi.requestlog import WRITE_VERBS
from events.runner import Runner, RunOptions
from shared.kube.client import Kube
from shared.kube.resources import CERTIFICATES
from tests.bench.bench_issuance import ReadyWatch
from tests.bench.bench_issuance import certificate as issued_by_bench_ca
from tests.rig.audit import AuditLog, AuditRecord
from tests.rig.certmanager import CLUSTER_RESOURCE_NAMESPACE, CertManager
from tests.rig.certmanager import USER as CERT_MANAGER_USER
from tests.rig.controlplane import ControlPlane

NAMESPACE = "bench"
CERTAINLY_USER = "certainly"
ISSUERS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "bench-selfsigned"},
        "spec": {"selfSigned": {}},
    },
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "bench-root", "namespace": CLUSTER_RESOURCE_NAMESPACE},
        "spec": {
            "isCA": True,
            "commonName": "bench root",
            "secretName": "bench-root",
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": "bench-selfsigned", "kind": "ClusterIssuer"},
        },
    },
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "bench-ca"},
        "spec": {"ca": {"secretName": "bench-root"}},
    },
]


def certificate(name: str) -> dict[str, Any]:
    return issued_by_bench_ca(NAMESPACE, name)


@dataclass(frozen=True)
class Result:
    peer: str
    seconds: float
    requests: int
    writes: int
    count: int
    peak_rss: float  # MiB


@dataclass(frozen=True)
class Running:
    username: str  # whose requests the audit log counts
    peak_rss: Callable[[], float]  # MiB, the controller's high-water mark so far


Controller = Callable[[ControlPlane], AbstractContextManager[Running]]


def _vm_hwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cert_manager(*flags: str) -> Controller:
    @contextmanager
    def run(plane: ControlPlane) -> Iterator[Running]:
        with CertManager(plane, flags) as controller:
            assert controller.process is not None
            pid = controller.process.pid
            yield Running(CERT_MANAGER_USER, lambda: _vm_hwm(pid))

    return run


def _own_peak_rss() -> float:
    # The runner is in this process: its peak is this process's (bench overhead included).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def certainly(plane: ControlPlane) -> Iterator[Running]:
    kubeconfig = plane.user_kubeconfig(
        plane.workdir / "certainly.kubeconfig", CERTAINLY_USER, ("system:masters",)
    )
    plane.kubectl("create", "namespace", CLUSTER_RESOURCE_NAMESPACE)
    runner = Runner(
        RunOptions(kubeconfig=kubeconfig, cluster_resource_namespace=CLUSTER_RESOURCE_NAMESPACE)
    )
    runner.start()
    try:
        yield Running(CERTAINLY_USER, _own_peak_rss)
    finally:
        runner.close()


def measure(peer: str, controller: Controller, count: int, timeout: float) -> Result:
    with ControlPlane(workdir=Path(tempfile.mkdtemp(prefix="certainly-peer-"))) as plane:
        audit = AuditLog(plane.audit_log)
        with controller(plane) as running:
            kube = Kube.from_kubeconfig(plane.kubeconfig)
            plane.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(ISSUERS))
            plane.kubectl(
                "wait", "--for=condition=Ready", "--timeout=120s", "clusterissuer/bench-ca"
            )
            before = len(audit.snapshot())
            _, version = kube.list(CERTIFICATES, NAMESPACE)
            watch = ReadyWatch(kube, NAMESPACE, version)
            names = {f"c{i}" for i in range(count)}
            started = time.perf_counter()
            plane.kubectl(
                "apply", "-f", "-", stdin=yaml.safe_dump_all([certificate(n) for n in names])
            )
            if not watch.wait(names, timeout):
                missing = len(names - set(watch.ready_at))
                raise SystemExit(f"{peer}: {missing} of {count} not Ready in {timeout:.0f} s")
            seconds = max(watch.ready_at.values()) - started
            watch.close()
            mine = [
                r
                for r in audit.snapshot()[before:]
                if isinstance(r, AuditRecord) and r.username == running.username
            ]
            writes = [r for r in mine if r.verb in WRITE_VERBS and 200 <= r.code < 300]
            return Result(peer, seconds, len(mine), len(writes), count, running.peak_rss())


def main() -> None:
    parser = argparse.ArgumentParser(description="certainly beside cert-manager")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--raised-qps", action="store_true", help="also run cert-manager with QPS/burst raised"
    )
    args = parser.parse_args()
    peers: list[tuple[str, Controller]] = [("cert-manager", cert_manager())]
    if args.raised_qps:
        peers.append(
            ("cert-manager qps 1000", cert_manager("--kube-api-qps=1000", "--kube-api-burst=2000"))
        )
    peers.append(("certainly", certainly))
    results = []
    for peer, controller in peers:
        print(f"bench-peer: {peer}, N={args.count} ...", file=sys.stderr)
        results.append(measure(peer, controller, args.count, args.timeout))
    print(
        f"{'peer':<24} {'N':>6} {'s to all Ready':>15} {'requests/cert':>14} "
        f"{'writes/cert':>12} {'peak RSS MiB':>13}"
    )
    for r in results:
        print(
            f"{r.peer:<24} {r.count:>6} {r.seconds:>15.1f} "
            f"{r.requests / r.count:>14.1f} {r.writes / r.count:>12.1f} {r.peak_rss:>13.0f}"
        )
    theirs, ours = results[0], results[-1]
    print(
        f"peer: N={args.count} cert-manager {theirs.seconds:.1f} s, "
        f"certainly {ours.seconds:.1f} s, ratio {theirs.seconds / ours.seconds:.2f}"
    )


if __name__ == "__main__":
    main()
