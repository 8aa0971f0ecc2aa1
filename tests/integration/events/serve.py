"""`certainly serve` as the container runs it: a real process on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
import requests

from tests.conftest import REPO, Cluster
from tests.integration.deploy.image import free_port, poll


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def rss_kib(self) -> int:
        """The serve process's resident set size (VmRSS), in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc/PID/status")

    def logs(self) -> str:
        return self.log.read_text()[-4000:]


class Serve(Protocol):
    def __call__(self, target: str) -> Served: ...


@pytest.fixture
def serve(cluster: Cluster, tmp_path: Path) -> Iterator[Serve]:
    started: list[Served] = []

    def start(target: str) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "CERTAINLY_LOG_LEVEL": "INFO"}
        command = [sys.executable, "-m", "events.cli", "serve", target]
        with log.open("w") as output:
            process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        served = Served(process=process, url=f"http://127.0.0.1:{port}", log=log)
        started.append(served)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"serve exited {process.returncode}: {served.logs()}")
            try:
                return requests.get(f"{served.url}/readyz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        poll(ready, timeout=60, what=f"certainly serve {target}")
        return served

    yield start
    for served in started:
        served.process.terminate()
        try:
            served.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(timeout=10)
