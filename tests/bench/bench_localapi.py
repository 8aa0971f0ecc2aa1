"""Throughput of the local API: GET of one object and status updates (PUT /status).

Not a test: prints figures. The server runs in its own process so client and
server do not share a GIL; N client threads share one pooled HTTP client.

    .venv/bin/python -m tests.bench.bench_localapi [--threads 8] [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3

SERVER = """
import json, sys
from events.localapi.server import LocalAPI
api = LocalAPI()
api.start()
print(json.dumps({"url": api.url, "token": api.token}), flush=True)
sys.stdin.read()  # run until the parent closes our stdin
api.stop()
"""


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def start_server() -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["url"], info["token"]


def run_phase(
    threads: int, seconds: float, work: Callable[[int, Result], None]
) -> tuple[float, Result]:
    """Run work(thread_index, result) in a loop on each thread for `seconds`."""
    stop = threading.Event()
    results = [Result() for _ in range(threads)]

    def loop(index: int) -> None:
        while not stop.is_set():
            work(index, results[index])

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)  # the measuring window itself, not a wait for state
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    merged = Result()
    for result in results:
        merged.latencies += result.latencies
        merged.errors += result.errors
    return elapsed, merged


def report(name: str, elapsed: float, result: Result) -> None:
    count = len(result.latencies)
    lat = sorted(result.latencies)
    p50 = statistics.median(lat) * 1000 if lat else 0.0
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0.0
    print(
        f"{name:<22} {count / elapsed:>9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        f"  ({count} ok, {result.errors} errors)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    proc, url, token = start_server()
    try:
        pool = urllib3.PoolManager(maxsize=args.threads, block=True)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        base = f"{url}/apis/cert-manager.io/v1/namespaces/default/certificates"

        def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
            response = pool.request(
                method,
                path,
                body=None if body is None else json.dumps(body).encode(),
                headers=headers,
            )
            return response.status, json.loads(response.data) if response.data else None

        current: list[dict[str, Any]] = []
        for i in range(args.threads):
            spec = {
                "secretName": f"bench-{i}-tls",
                "dnsNames": [f"bench-{i}.example.com"],
                "issuerRef": {"name": "ca", "kind": "Issuer"},
            }
            status, obj = call("POST", base, {"metadata": {"name": f"bench-{i}"}, "spec": spec})
            assert status == 201, obj
            current.append(obj)

        def get_one(index: int, result: Result) -> None:
            started = time.perf_counter()
            status, _ = call("GET", f"{base}/bench-{index}")
            if status == 200:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors += 1

        def update_status(index: int, result: Result) -> None:
            obj = current[index]
            obj["status"] = {"revision": obj.get("status", {}).get("revision", 0) + 1}
            started = time.perf_counter()
            status, body = call("PUT", f"{base}/bench-{index}/status", obj)
            if status == 200:
                result.latencies.append(time.perf_counter() - started)
                current[index] = body  # carries the new resourceVersion
            else:
                result.errors += 1

        print(f"local API at {url}: {args.threads} client threads, {args.seconds:.0f}s per phase")
        report("GET one object", *run_phase(args.threads, args.seconds, get_one))
        report("PUT status (with rv)", *run_phase(args.threads, args.seconds, update_status))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
