"""Fixtures shared by every tier.

`cluster` is the Kubernetes API the integration tests talk to: the embedded
local API by default, or a real cluster when KUBECONFIG is set, so the
emulator never becomes the specification.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from events.localapi.server import LocalAPI

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str) -> str:
    """Path of a real server/tool; a failure in CI, a skip on a laptop without it."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        message = f"{name} is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    api: LocalAPI | None  # the embedded local API (None for a real cluster)

    @property
    def local(self) -> bool:
        return self.api is not None


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    external = os.environ.get("KUBECONFIG")
    if external:
        yield Cluster(kubeconfig=Path(external), api=None)
        return

    kubeconfig = tmp_path_factory.mktemp("localapi") / "kubeconfig"
    api = LocalAPI()
    api.start()
    api.write_kubeconfig(kubeconfig)
    try:
        yield Cluster(kubeconfig=kubeconfig, api=api)
    finally:
        api.stop()
