"""`tests/rig/cluster up --kubeconfig PATH`: a real control plane in the foreground.

Ready when PATH exists (an admin kubeconfig, credentials inline, mode 0600) and
`kubectl --kubeconfig PATH get ns` answers. SIGINT or SIGTERM stops every process it
started and removes PATH and the temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from tests.rig.controlplane import ControlPlane


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests/rig/cluster")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start etcd, kube-apiserver, kube-controller-manager")
    up.add_argument(
        "--kubeconfig", type=Path, required=True, help="where to write the admin kubeconfig"
    )
    up.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, audit log)"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    workdir = Path(tempfile.mkdtemp(prefix="certainly-rig-"))
    plane = ControlPlane(workdir=workdir)
    target: Path = args.kubeconfig
    try:
        plane.start()
        staging = target.with_name(f".{target.name}.tmp")
        staging.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(plane.kubeconfig.read_bytes())
        staging.replace(target)
        print(
            f"control plane up at {plane.server} (kubeconfig {target}, logs and audit log in"
            f" {workdir}); Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        stop.wait()
    finally:
        plane.stop()
        target.unlink(missing_ok=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
