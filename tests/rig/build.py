"""Build the rig's real programs from their Go modules, once per pinned version.

Each program is built from a small module under tests/rig/go/ (its go.mod pins the
release; none of the program's source is in this repository) into a cache outside the
checkout, `$CERTAINLY_RIG_CACHE` or `~/.cache/certainly-rig`, one folder per version.
A build that exists is reused; a build is written to a temporary folder and renamed into
place, so an interrupted build never leaves a half-built program that looks finished.

    python -m tests.rig.build            # build whatever is missing, print the folders
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GO_MODULES = Path(__file__).resolve().parent / "go"

KUBERNETES_VERSION = "v1.37.2"
ETCD_VERSION = "v3.7.0"
CERT_MANAGER_VERSION = "v1.21.2"


@dataclass(frozen=True)
class Program:
    """Some binaries built together from one module folder under tests/rig/go."""

    name: str
    version: str
    module: str  # folder under tests/rig/go
    packages: tuple[str, ...]
    binaries: tuple[str, ...]
    ldflags: str = "-s -w"

    @property
    def folder(self) -> Path:
        return cache_root() / f"{self.name}-{self.version}"

    def path(self, binary: str) -> Path:
        assert binary in self.binaries, binary
        return self.folder / binary

    @property
    def built(self) -> bool:
        return all((self.folder / b).is_file() for b in self.binaries)


def _version_flags(version: str) -> str:
    major, minor, _ = version.lstrip("v").split(".", 2)
    base = "k8s.io/component-base/version"
    return (
        f"-s -w -X {base}.gitVersion={version} -X {base}.gitMajor={major} "
        f"-X {base}.gitMinor={minor} -X {base}.gitTreeState=clean"
    )


KUBERNETES = Program(
    name="kubernetes",
    version=KUBERNETES_VERSION,
    module="kube",
    packages=(
        "k8s.io/kubernetes/cmd/kube-apiserver",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
    ),
    binaries=("kube-apiserver", "kube-controller-manager"),
    ldflags=_version_flags(KUBERNETES_VERSION),
)
ETCD = Program(
    name="etcd",
    version=ETCD_VERSION,
    module="etcd",
    packages=(".",),
    binaries=("etcd",),
)
CERT_MANAGER = Program(  # the peer certainly is measured against (tests/rig/certmanager.py)
    name="cert-manager",
    version=CERT_MANAGER_VERSION,
    module="certmanager",
    packages=(".",),
    binaries=("controller",),
    ldflags=(
        "-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=" + CERT_MANAGER_VERSION
    ),
)
PROGRAMS = (ETCD, KUBERNETES, CERT_MANAGER)


def cache_root() -> Path:
    configured = os.environ.get("CERTAINLY_RIG_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "certainly-rig"


def go_binary() -> str:
    found = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin:/usr/lib/go/bin")
    if found is None:
        raise RuntimeError("the rig needs Go (1.26 or newer) to build its programs: none on PATH")
    return found


def ensure_built(program: Program) -> Path:
    """The program's folder, building it first if it is not in the cache."""
    if program.built:
        return program.folder
    program.folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{program.name}-", dir=program.folder.parent))
    try:
        print(f"rig: building {program.name} {program.version} (once)", file=sys.stderr)
        subprocess.run(
            [
                go_binary(),
                "build",
                "-trimpath",
                f"-ldflags={program.ldflags}",
                "-o",
                f"{staging}{os.sep}",
                *program.packages,
            ],
            cwd=GO_MODULES / program.module,
            env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
            check=True,
        )
        if program.packages == (".",):  # `go build -o dir/ .` names the binary after the module
            built = next(p for p in staging.iterdir() if p.is_file())
            built.rename(staging / program.binaries[0])
        try:
            staging.rename(program.folder)
        except OSError:
            if not program.built:  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return program.folder


def main() -> None:
    for program in PROGRAMS:
        print(ensure_built(program))


if __name__ == "__main__":
    main()
