"""cert-manager's and trust-manager's own CRDs, the reference our infra/crds are held to.

The pins live here and nowhere else. The CRDs are read from the released Go modules, as
`go mod download` fetches them from the module proxy into Go's module cache (outside the
checkout), so no copy of upstream's schemas is kept in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    crd_dir: str  # inside the module
    # CRD files in crd_dir that the release does not install (not in its Helm chart).
    unreleased: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.path}@{self.version}"


# cert-manager: the newest v1.21 patch release on the proxy.
CERT_MANAGER: Final = Module("github.com/cert-manager/cert-manager", "v1.21.2", "deploy/crds")
# trust-manager: its newest release. ClusterBundle (trust-manager.io/v1alpha2) sits in
# deploy/crds but the v0.25.0 Helm chart installs only Bundle, so users do not have it yet.
TRUST_MANAGER: Final = Module(
    "github.com/cert-manager/trust-manager",
    "v0.25.0",
    "deploy/crds",
    unreleased=("trust-manager.io_clusterbundles.yaml",),
)
MODULES: Final = (CERT_MANAGER, TRUST_MANAGER)
DOWNLOAD_TIMEOUT: Final = 600.0


class UpstreamUnavailable(RuntimeError):
    """The module could not be fetched (no Go, no proxy); the message says why."""


def module_dir(module: Module) -> Path:
    """The module's extracted tree in Go's module cache, downloading it if needed."""
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go is None:
        raise UpstreamUnavailable("go is not installed; it fetches upstream's CRDs")
    try:
        result = subprocess.run(
            [go, "mod", "download", "-json", str(module)],
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT,
            # Outside any go.mod (tests/rig may have one), and with the Go we have.
            cwd=tempfile.gettempdir(),
            env={**os.environ, "GOTOOLCHAIN": "local"},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UpstreamUnavailable(f"go mod download {module} timed out") from exc
    # With -json, errors are reported in the JSON's Error field as well as the exit code.
    try:
        info: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        info = {}
    if result.returncode != 0 or info.get("Error") or not info.get("Dir"):
        why = info.get("Error") or result.stderr.strip() or f"exit {result.returncode}"
        raise UpstreamUnavailable(f"go mod download {module}: {why}")
    return Path(info["Dir"])


def strip_templating(text: str) -> str:
    """Plain YAML from a Helm template: lines that are only template actions are dropped."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("{{"))


def released_crds(module: Module) -> dict[str, dict[str, Any]]:
    """kind -> CustomResourceDefinition, for every CRD the pinned release installs."""
    directory = module_dir(module) / module.crd_dir
    crds: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name in module.unreleased:
            continue
        for doc in yaml.safe_load_all(strip_templating(path.read_text(encoding="utf-8"))):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                crds[doc["spec"]["names"]["kind"]] = doc
    if not crds:
        raise UpstreamUnavailable(f"{module} has no CRDs under {module.crd_dir}")
    return crds
