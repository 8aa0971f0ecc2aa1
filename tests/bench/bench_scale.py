"""Benchmark: issuance cost as the cluster grows, API and functions in separate processes.

Not a test: it prints figures. Run `make bench-scale` or
    .venv/bin/python -m tests.bench.bench_scale [--counts 500,2000,5000,10000]

For each N, a fresh `certainly local up --api-only` and a fresh `certainly run --workers 4`
(their own processes, as in a cluster) issue N CA-signed ECDSA P-256 Certificates spread
over ten namespaces; then every Certificate is marked Issuing=True/ManuallyTriggered,
as `cmctl renew` does, and re-issued. Printed per N:
- seconds from the first create to all Ready, and certificates/s;
- CPU seconds of the API process and of the run process over that first issuance;
- peak RSS (VmHWM) of each process over the whole round;
- API requests per certificate (the API's own apiserver_request_total, less the bench's
  creates and watches);
- a steady tick (nothing due): seconds and API requests, the sweep run in this process;
- the mass renewal's certificates/s;
and the ratio of the per-certificate time at the largest N to that at the smallest.

`--profile-api FILE` runs the API process under cProfile (one N only), for
`python -m pstats FILE`; BENCH_SCALE_PROFILE_TICK=FILE profiles the steady tick and
BENCH_SCALE_VERBOSE=1 prints the requests it made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from events.localapi.server import LocalAPI
from events.sinks import InProcessSink
from shared import runtime
from shared.contracts import ping_event
from shared.kube.client import Kube
from shared.kube.errors import Conflict, Unavailable
from shared.kube.objects import condition_is, set_condition
from shared.kube.resources import CERTIFICATES, NAMESPACES
from tests.bench.bench_issuance import certificate, set_up_ca_issuer

NAMESPACES_USED = 10
CLIENT_THREADS = 8
TICK_TARGET = "functions.on_expiry_tick:on_expiry_tick"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_METRIC = re.compile(r"^apiserver_request_total\{([^}]*)\} (\d+)$", re.MULTILINE)


@dataclass
class Round:
    n: int
    seconds: float = 0.0
    api_cpu: float = 0.0
    run_cpu: float = 0.0
    api_rss_mb: float = 0.0
    run_rss_mb: float = 0.0
    requests_per_cert: float = 0.0
    tick_seconds: float = 0.0
    tick_requests: int = 0
    renewal_seconds: float = 0.0
    renewal_run_cpu: float = 0.0
    renewal_api_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    @property
    def renewal_rate(self) -> float:
        return self.n / self.renewal_seconds if self.renewal_seconds else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class ReadyCount:
    """Which Certificates are Ready at which revision, from one cluster-wide watch."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self.revision: dict[tuple[str, str], int] = {}
        self.watches = 0
        self._cond = threading.Condition()
        self._stop = False
        _, self._version = kube.list(CERTIFICATES, "scale-0")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(Unavailable):  # the API stopped at the end of the round
            self._watch()

    def _watch(self) -> None:
        while not self._stop:
            self.watches += 1
            for kind, obj in self._kube.watch(
                CERTIFICATES, None, resource_version=self._version, timeout_seconds=30
            ):
                meta = obj["metadata"]
                self._version = meta.get("resourceVersion", self._version)
                if kind == "BOOKMARK" or not meta.get("namespace", "").startswith("scale-"):
                    continue
                status = obj.get("status") or {}
                if condition_is(status, "Ready") and not condition_is(status, "Issuing"):
                    with self._cond:
                        self.revision[(meta["namespace"], meta["name"])] = int(
                            status.get("revision") or 0
                        )
                        self._cond.notify_all()

    def wait(self, n: int, revision: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(1 for r in self.revision.values() if r >= revision) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    done = sum(1 for r in self.revision.values() if r >= revision)
                    raise SystemExit(f"only {done} of {n} at revision {revision} in {timeout} s")
                self._cond.wait(min(remaining, 1.0))

    def close(self) -> None:
        self._stop = True


def requests_by_kind(kube: Kube) -> Counter[str]:
    """The API's apiserver_request_total, by its labels (a non-resource path)."""
    response = kube._call("GET", "/metrics")
    try:
        text = response.data.decode()
    finally:
        response.release_conn()
    return Counter({m.group(1): int(m.group(2)) for m in _METRIC.finditer(text)})


def total_requests(kube: Kube) -> int:
    return sum(requests_by_kind(kube).values())


def wait_quiet(kube: Kube, timeout: float) -> int:
    """Until the API serves nothing but our scrapes for a second: the functions are idle.

    All Ready is not all done: events queued behind the last status writes (the
    Secret's, the request's) are still delivered, each a reconcile with no write.
    """
    deadline = time.monotonic() + timeout
    last = total_requests(kube)
    scrapes = 1
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = total_requests(kube)
        scrapes += 1
        if now - last <= 1:
            return scrapes
        last = now
    raise SystemExit(f"the functions were still busy after {timeout} s")


def start_processes(
    workdir: Path, profile: Path | None
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], Path]:
    kubeconfig = workdir / "kubeconfig"
    env = {**os.environ, "CERTAINLY_LOG_LEVEL": "WARNING"}
    command = ["-m", "events.cli", "local", "up", "--api-only", "--kubeconfig", str(kubeconfig)]
    if profile is not None:
        command = [
            "-m",
            "tests.bench.bench_scale",
            "--serve-profiled",
            str(kubeconfig),
            str(profile),
        ]
    api = subprocess.Popen(
        [sys.executable, *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "api.log").open("wb"),
    )
    deadline = time.monotonic() + 60
    while not kubeconfig.exists():
        if time.monotonic() > deadline or api.poll() is not None:
            raise SystemExit("the API did not start (see api.log)")
        time.sleep(0.05)
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "events.cli",
            "run",
            "--kubeconfig",
            str(kubeconfig),
            "--workers",
            "4",
            "--tick-interval",
            "1h",  # the bench times its own ticks
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "run.log").open("wb"),
    )
    return api, run, kubeconfig


def set_up_issuers(kube: Kube) -> None:
    set_up_ca_issuer(kube)
    for i in range(NAMESPACES_USED):
        kube.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"scale-{i}"}},
        )


def mark_for_renewal(kube: Kube, key: tuple[str, str]) -> None:
    """What `cmctl renew` does: Issuing=True, reason ManuallyTriggered, on the status."""
    for _ in range(5):
        cert = kube.get(CERTIFICATES, key[0], key[1])
        status = dict(cert.get("status") or {})
        set_condition(
            status,
            kind="Issuing",
            value="True",
            reason="ManuallyTriggered",
            message="Certificate re-issuance manually triggered",
            now=datetime.now(UTC),
        )
        try:
            kube.replace_status(CERTIFICATES, {**cert, "status": status})
            return
        except Conflict:
            continue  # the functions wrote first: re-read


def steady_tick(kube: Kube) -> tuple[float, int]:
    """One sweep with nothing due, run here as the scheduler's tick would run it."""
    runtime.install(runtime.Context.build(kube))
    sink = InProcessSink(TICK_TARGET)
    timings: list[float] = []
    requests: list[int] = []
    for _ in range(3):
        before = requests_by_kind(kube)
        started = time.perf_counter()
        profile = os.environ.get("BENCH_SCALE_PROFILE_TICK")
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        delivery = sink.deliver(ping_event(source="bench-scale", data={}))
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        timings.append(time.perf_counter() - started)
        made = requests_by_kind(kube) - before
        requests.append(sum(made.values()) - 1)  # less the scrape itself
        if os.environ.get("BENCH_SCALE_VERBOSE"):
            print("tick requests:", made.most_common(8))
        if delivery.status >= 300:
            raise SystemExit(f"the tick failed: {delivery.status} {delivery.body}")
    runtime.install(None)
    return statistics.median(timings), int(statistics.median(requests))


def one_round(n: int, *, renew: bool, profile: Path | None) -> Round:
    result = Round(n)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{n}-"))
    api, run, kubeconfig = start_processes(workdir, profile)
    kube = Kube.from_kubeconfig(kubeconfig, user_agent="bench")
    try:
        set_up_issuers(kube)
        ready = ReadyCount(kube)
        keys = [(f"scale-{i % NAMESPACES_USED}", f"cert-{i}") for i in range(n)]
        api_cpu, run_cpu = cpu_seconds(api.pid), cpu_seconds(run.pid)
        requests_before = total_requests(kube)
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            list(pool.map(lambda k: kube.create(CERTIFICATES, certificate(*k)), keys))
        ready.wait(n, 1, timeout=max(600.0, n * 0.5))
        result.seconds = time.perf_counter() - started
        result.api_cpu = cpu_seconds(api.pid) - api_cpu
        result.run_cpu = cpu_seconds(run.pid) - run_cpu
        scrapes = wait_quiet(kube, timeout=max(300.0, n * 0.1)) + 1
        # Less the bench's own: one create per Certificate, its watches and its scrapes.
        served = total_requests(kube) - requests_before - n - ready.watches - scrapes
        result.requests_per_cert = served / n
        result.tick_seconds, result.tick_requests = steady_tick(kube)
        if renew:
            api_cpu, run_cpu = cpu_seconds(api.pid), cpu_seconds(run.pid)
            started = time.perf_counter()
            with ThreadPoolExecutor(CLIENT_THREADS) as pool:
                list(pool.map(lambda k: mark_for_renewal(kube, k), keys))
            ready.wait(n, 2, timeout=max(600.0, n * 1.0))
            result.renewal_seconds = time.perf_counter() - started
            result.renewal_api_cpu = cpu_seconds(api.pid) - api_cpu
            result.renewal_run_cpu = cpu_seconds(run.pid) - run_cpu
        ready.close()
        result.api_rss_mb = peak_rss_mb(api.pid)
        result.run_rss_mb = peak_rss_mb(run.pid)
    finally:
        kube.close()
        for process in (run, api):
            process.send_signal(signal.SIGTERM)
        for process in (run, api):
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
    return result


def print_table(rounds: list[Round]) -> None:
    print(
        "| N | seconds to all Ready | certs/s | API CPU s | run CPU s | API peak RSS | "
        "run peak RSS | API requests/cert | steady tick | mass renewal |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rounds:
        renewal = (
            f"{r.renewal_rate:.1f}/s ({r.renewal_seconds:.1f} s)" if r.renewal_seconds else "—"
        )
        print(
            f"| {r.n} | {r.seconds:.1f} | {r.rate:.1f} | {r.api_cpu:.1f} | {r.run_cpu:.1f} | "
            f"{r.api_rss_mb:.0f} MB | {r.run_rss_mb:.0f} MB | {r.requests_per_cert:.1f} | "
            f"{r.tick_seconds:.2f} s, {r.tick_requests} requests | {renewal} |"
        )
    for r in rounds:
        print(
            f"N={r.n}: run CPU {r.run_cpu / r.n * 1000:.2f} ms/cert issuing"
            + (
                f", {r.renewal_run_cpu / r.n * 1000:.2f} ms/cert renewing; "
                f"API CPU {r.renewal_api_cpu / r.n * 1000:.2f} ms/cert renewing"
                if r.renewal_seconds
                else ""
            )
        )
    if len(rounds) > 1:
        first, last = rounds[0], rounds[-1]
        ratio = (last.seconds / last.n) / (first.seconds / first.n)
        print(f"per-certificate time at N={last.n} is {ratio:.2f}x that at N={first.n}")


def serve_profiled(kubeconfig: Path, out: Path) -> None:
    """The API on this process's main thread under cProfile (which sees one thread only)."""
    api = LocalAPI()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.call_soon(api.write_kubeconfig, kubeconfig)
        await api.serve_until(stop)

    profiler = cProfile.Profile()
    profiler.runcall(asyncio.run, serve())
    profiler.dump_stats(out)


def main() -> None:
    if sys.argv[1:2] == ["--serve-profiled"]:
        serve_profiled(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description="scale benchmark")
    parser.add_argument("--counts", default="500,2000,5000,10000")
    parser.add_argument("--no-renewal", action="store_true")
    parser.add_argument("--profile-api", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("CERTAINLY_LOG_LEVEL", "WARNING")  # the in-process tick's logs
    counts = [int(c) for c in args.counts.split(",")]
    if args.profile_api is not None and len(counts) != 1:
        raise SystemExit("--profile-api profiles one N: give one --counts")
    rounds: list[Round] = []
    for n in counts:
        rounds.append(one_round(n, renew=not args.no_renewal, profile=args.profile_api))
        print_table(rounds[-1:])
        sys.stdout.flush()
    print()
    print_table(rounds)


if __name__ == "__main__":
    main()
