"""The container image's entrypoint, run from the built wheel in a clean venv.

No container engine runs in CI, so the tests install the wheel exactly as
infra/image/Containerfile does (`pip wheel --no-deps`, a fresh venv, the pinned
constraints, then pip and setuptools removed) and start the image's ENTRYPOINT +
CMD with its ENV, from a directory where the repository's sources are not importable.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import requests

from tests.conftest import REPO

CONTAINERFILE: Final = REPO / "infra" / "image" / "Containerfile"


@dataclass(frozen=True)
class Image:
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: Mapping[str, str]


def read_containerfile(path: Path = CONTAINERFILE) -> Image:
    """ENTRYPOINT, CMD and ENV of the final stage."""
    lines: list[str] = []
    for raw in path.read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + raw.strip()
        else:
            lines.append(raw.strip())
    final = [line for line in lines if line][
        max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :
    ]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = {}
    for line in final:
        instruction, _, rest = line.partition(" ")
        if instruction == "ENTRYPOINT":
            entrypoint = tuple(json.loads(rest))
        elif instruction == "CMD":
            cmd = tuple(json.loads(rest))
        elif instruction == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return Image(entrypoint=entrypoint, cmd=cmd, env=env)


def build_venv(directory: Path) -> Path:
    """The wheel, installed with the pinned constraints into a fresh venv; its bin/."""
    wheels = directory / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("certainly-*.whl")
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(REPO / "constraints.txt"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    # As the Containerfile does: nothing that installs survives into the image, so
    # the entrypoint must run without pip and setuptools (pkg_resources).
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "setuptools", "pip"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return venv / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll(check: Callable[[], bool], *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Container:
    """A process started as the image would start it."""

    bin: Path
    image: Image
    workdir: Path
    args: Sequence[str] | None = None  # a manifest's `args` (replace CMD)
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        entrypoint = [str(self.bin / self.image.entrypoint[0]), *self.image.entrypoint[1:]]
        return [*entrypoint, *(self.image.cmd if self.args is None else self.args)]

    def start(self) -> None:
        env = {**clean_environment(), **self.image.env, **self.env}
        env["PATH"] = f"{self.bin}:{env.get('PATH', '/usr/bin:/bin')}"
        env["HOME"] = str(self.workdir)
        # A file, not a pipe: nobody reads a pipe while the process runs, and a full
        # one blocks its next log line (a shared cluster's backlog logs plenty).
        with self.log_path.open("w") as output:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.workdir,  # not the repository: only the installed wheel imports
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )

    @property
    def log_path(self) -> Path:
        return self.workdir / f"container-{id(self):x}.log"

    def wait_ready(self, url: str, *, timeout: float = 60.0) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"exited {self.process.returncode}: {self.logs()}")
            try:
                return requests.get(url, timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        poll(ready, timeout=timeout, what=url)

    def terminate(self, *, timeout: float = 30.0) -> int:
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"still running {timeout:.0f} s after SIGTERM: {self.logs()}"
            ) from None

    def logs(self) -> str:
        self.stop()
        return self.log_path.read_text()[-4000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def clean_environment() -> dict[str, str]:
    """Nothing from this test process (PYTHONPATH, the dev venv) leaks in."""
    keep = ("LANG", "LC_ALL", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep}
