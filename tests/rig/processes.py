"""Starting and stopping the rig's programs: each in its own process group, by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path


def spawn(argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    """Start a program with its output in `log`, in a new session (so its group can go)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the program's group; it is waited for by `reap`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)


def reap(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    """Wait `grace` seconds for a terminated program, then SIGKILL its group."""
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)


def stop(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    terminate(process)
    reap(process, grace=grace)
