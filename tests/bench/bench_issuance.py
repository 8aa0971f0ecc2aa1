"""Benchmark: CA issuance through the whole system on the embedded local API.

Not a test: it prints figures. Run `make bench` or
    .venv/bin/python tests/bench/bench_issuance.py [--burst 500] [--sequential 50]

Prints
- apply-to-Ready latency p50/p99 for CA-issued ECDSA certificates, applied one at a time;
- certificates per second for a burst applied at once;
- API writes per issued certificate (creates/updates/patches/deletes, Events included),
  counted at the local API, by verb and resource;
- a baseline from the same process: the bare cost of one Certificate create plus one
  status update against the same API, so the ratio shows what issuance adds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from events.localapi.requestlog import WRITE_VERBS
from events.localapi.server import LocalAPI
from events.runner import Runner, RunOptions
from shared.kube.client import Kube
from shared.kube.objects import condition_is
from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS, NAMESPACES
from tests.conftest import RequestSource
from tests.rig.audit import AuditLog
from tests.rig.controlplane import ControlPlane

RECIPE_ROOT = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "bench-root", "namespace": "cert-manager"},
    "spec": {
        "isCA": True,
        "commonName": "bench root",
        "secretName": "bench-root",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": "bench-selfsigned", "kind": "ClusterIssuer"},
    },
}


def certificate(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": [f"{name}.{namespace}.svc.cluster.local"],
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": "bench-ca", "kind": "ClusterIssuer"},
        },
    }


class ReadyWatch:
    """Record when each Certificate first turns Ready, from a watch (no polling)."""

    def __init__(self, kube: Kube, namespace: str, version: str) -> None:
        self.ready_at: dict[str, float] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(
            target=self._run, args=(kube, namespace, version), daemon=True
        )
        self._thread.start()

    def _run(self, kube: Kube, namespace: str, version: str) -> None:
        while not self._stop:
            for _, obj in kube.watch(
                CERTIFICATES, namespace, resource_version=version, timeout_seconds=5
            ):
                version = obj["metadata"].get("resourceVersion", version)
                if condition_is(obj.get("status") or {}, "Ready"):
                    with self._cond:
                        self.ready_at.setdefault(obj["metadata"]["name"], time.perf_counter())
                        self._cond.notify_all()

    def wait(self, names: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not names <= set(self.ready_at):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        self._stop = True


def set_up_ca_issuer(kube: Kube, *, timeout: float = 60.0) -> None:
    """The ClusterIssuer `bench-ca`: a SelfSigned one, a root CA from it, and a CA over that."""
    kube.create(
        CLUSTER_ISSUERS,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": "bench-selfsigned"},
            "spec": {"selfSigned": {}},
        },
    )
    kube.create(CERTIFICATES, RECIPE_ROOT)
    kube.create(
        CLUSTER_ISSUERS,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": "bench-ca"},
            "spec": {"ca": {"secretName": "bench-root"}},
        },
    )
    deadline = time.monotonic() + timeout
    while not condition_is(
        kube.get(CLUSTER_ISSUERS, None, "bench-ca").get("status") or {}, "Ready"
    ):
        if time.monotonic() > deadline:
            raise SystemExit("the CA ClusterIssuer never became Ready")
        time.sleep(0.05)


def namespace(kube: Kube, name: str) -> str:
    kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def baseline(kube: Kube, count: int) -> float:
    """Seconds per (create + status update) of a Certificate: the API's floor, no issuing."""
    ns = namespace(kube, "bench-baseline")
    started = time.perf_counter()
    for i in range(count):
        created = kube.create(CERTIFICATES, certificate(ns, f"b{i}"))
        created["status"] = {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "Pending",
                    "message": "",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ]
        }
        kube.replace_status(CERTIFICATES, created)
    return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description="CA issuance benchmark")
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--api-process",
        action="store_true",
        help="serve the API from its own process, as a real API server is (no write count)",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="run on the rig's real control plane (kube-apiserver, etcd); counts from its audit log",
    )
    args = parser.parse_args()

    kubeconfig = Path(tempfile.mkdtemp()) / "kubeconfig"
    api: LocalAPI | None = None
    server: subprocess.Popen[bytes] | None = None
    plane: ControlPlane | None = None
    requests: RequestSource | None = None
    if args.real:
        plane = ControlPlane()
        plane.start()
        plane.kubectl("create", "namespace", "cert-manager")
        kubeconfig = plane.kubeconfig
        requests = AuditLog(plane.audit_log)
    elif args.api_process:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "events.cli",
                "local",
                "up",
                "--api-only",
                "--kubeconfig",
                str(kubeconfig),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not kubeconfig.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    else:
        api = LocalAPI()
        api.start()
        api.write_kubeconfig(kubeconfig)
        requests = api.requests
    kube = Kube.from_kubeconfig(kubeconfig, user_agent="bench")
    runner = Runner(RunOptions(kubeconfig=kubeconfig, tick_interval=30, workers=args.workers))
    runner.start()
    try:
        set_up_ca_issuer(kube)

        # 1. latency, one at a time
        ns = namespace(kube, "bench-latency")
        _, version = kube.list(CERTIFICATES, ns)
        watch = ReadyWatch(kube, ns, version)
        latencies = []
        for i in range(args.sequential):
            name = f"lat-{i}"
            started = time.perf_counter()
            kube.create(CERTIFICATES, certificate(ns, name))
            if not watch.wait({name}, timeout=30):
                raise SystemExit(f"{name} not Ready within 30 s")
            latencies.append(watch.ready_at[name] - started)
        watch.close()
        runner.dispatcher.wait_idle(timeout=30)

        # 2. a burst applied at once, counting every API write it causes
        ns = namespace(kube, "bench-burst")
        _, version = kube.list(CERTIFICATES, ns)
        watch = ReadyWatch(kube, ns, version)
        names = {f"burst-{i}" for i in range(args.burst)}
        seen = len(requests.snapshot()) if requests is not None else 0
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: kube.create(CERTIFICATES, certificate(ns, n)), sorted(names)))
        applied = time.perf_counter() - started
        if not watch.wait(names, timeout=600):
            raise SystemExit(f"only {len(watch.ready_at)} of {args.burst} Ready after 600 s")
        elapsed = max(watch.ready_at.values()) - started
        watch.close()
        runner.dispatcher.wait_idle(timeout=60)
        # certainly's requests in the burst's namespace; the user's own creates are not ours
        ours = [
            r
            for r in (requests.snapshot()[seen:] if requests is not None else [])
            if r.namespace == ns and r.user_agent.startswith("certainly")
        ]
        writes = [r for r in ours if r.verb in WRITE_VERBS and 200 <= r.code < 300]
        by_kind = Counter(
            f"{w.verb} {w.resource}{'/' + w.subresource if w.subresource else ''}" for w in writes
        )
        base = baseline(kube, 200)
    finally:
        runner.close()
        kube.close()
        if api is not None:
            api.stop()
        if plane is not None:
            plane.stop()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"apply-to-Ready latency, {args.sequential} CA-issued ECDSA P-256 certificates one at a time:"
    )
    print(
        f"  p50 {statistics.median(latencies) * 1000:.1f} ms   p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    print(f"burst of {args.burst} Certificates applied at once ({applied:.2f} s to apply):")
    print(f"  all Ready after {elapsed:.2f} s  ->  {args.burst / elapsed:.1f} certificates/s")
    where = "kube-apiserver + etcd (the rig)" if args.real else "the embedded API"
    print(f"API: {where}")
    if requests is None:
        print("API writes per issued certificate: run without --api-process to count them")
    else:
        print(
            f"API requests per issued certificate: {len(ours) / args.burst:.2f}, of them writes"
            f" (Events included): {len(writes) / args.burst:.2f}"
        )
    for kind, count in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {count / args.burst:5.2f}  {kind}")
    per_cert = elapsed / args.burst
    print(f"baseline (same process): Certificate create + status update = {base * 1000:.2f} ms")
    print(f"  issuance costs {per_cert / base:.1f}x the bare API floor per certificate")


if __name__ == "__main__":
    main()
