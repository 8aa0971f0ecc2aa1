"""Benchmark: cold start of a function process installed from the wheel.

Not a test: it prints figures. Run
    .venv/bin/python tests/bench/bench_coldstart.py [--runs 10] [--venv DIR]

Builds the wheel (`pip wheel --no-deps`), installs it with the pinned constraints into
a clean venv (or reuses --venv), then starts the container's command line
(`certainly serve`, FUNCTION_TARGET and PORT from the environment, as
infra/image/Containerfile does) `--runs` times against the embedded local API, and
times process start -> first CloudEvent answered (HTTP 200): imports, app creation,
socket bind, the function's first API round trip. Prints the median and spread per
function.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from cloudevents.conversion import to_binary

from events.localapi.server import LocalAPI
from shared.contracts import object_event, ping_event

REPO = Path(__file__).resolve().parents[2]
TARGETS = (
    "functions.on_certificate_created:on_certificate_created",
    "functions.on_expiry_tick:on_expiry_tick",
)


def build_venv(directory: Path) -> Path:
    wheels = directory / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("certainly-*.whl")
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            *(str(venv / "bin" / "python"), "-m", "pip", "install", "-q"),
            *("-c", str(REPO / "constraints.txt"), str(wheel)),
        ],
        check=True,
        capture_output=True,
    )
    return venv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event_for(target: str) -> tuple[dict[str, str], bytes]:
    if target.endswith("on_expiry_tick"):
        return to_binary(ping_event(source="bench"))
    missing = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": f"bench-{uuid.uuid4().hex[:6]}", "namespace": "default"},
        "spec": {"secretName": "x", "issuerRef": {"name": "x"}},
    }
    return to_binary(object_event("add", missing, source="bench"))


def cold_start(venv: Path, target: str, kubeconfig: Path, workdir: Path) -> float:
    port = free_port()
    headers, body = event_for(target)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(workdir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "FUNCTION_TARGET": target,
        "KUBECONFIG": str(kubeconfig),
        "CERTAINLY_LOG_LEVEL": "WARNING",
    }
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(venv / "bin" / "certainly"), "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = start + 60
        while time.perf_counter() < deadline:
            try:
                answer = requests.post(
                    f"http://127.0.0.1:{port}/", headers=headers, data=body, timeout=30
                )
            except requests.ConnectionError:
                time.sleep(0.005)  # polling the port: the process is still starting
                continue
            if answer.status_code != 200:
                raise RuntimeError(f"{target}: {answer.status_code} {answer.text[:200]}")
            return time.perf_counter() - start
        raise RuntimeError(f"{target}: no answer within 60s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--venv", type=Path, default=None, help="reuse this venv (has the wheel)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        venv = args.venv
        if venv is None:
            began = time.perf_counter()
            venv = build_venv(workdir)
            print(f"wheel + clean venv: {time.perf_counter() - began:.1f}s")
        api = LocalAPI()
        api.start()
        kubeconfig = workdir / "kubeconfig"
        api.write_kubeconfig(kubeconfig)
        try:
            print(f"cold start, process start -> first CloudEvent answered ({args.runs} runs):")
            for target in TARGETS:
                times = [cold_start(venv, target, kubeconfig, workdir) for _ in range(args.runs)]
                ms = sorted(t * 1000 for t in times)
                print(
                    f"  {target.partition(':')[2]:<24} median {statistics.median(ms):6.0f} ms"
                    f"  min {ms[0]:6.0f} ms  max {ms[-1]:6.0f} ms"
                )
        finally:
            api.stop()
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
