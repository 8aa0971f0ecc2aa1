"""`certainly watch` (OpenFaaS): relays each change to the function's URL, runs nothing itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from events.localapi.server import LocalAPI
from events.routes import ROUTES
from events.runner import Runner, RunOptions
from shared.kube.client import Kube
from shared.kube.resources import CERTIFICATES, NAMESPACES
from tests.integration.deploy.gateway import Gateway
from tests.integration.deploy.image import poll

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    yield server
    server.close()


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    api = LocalAPI()  # fresh: the watcher sees only this test's objects
    api.start()
    path = tmp_path / "kubeconfig"
    api.write_kubeconfig(path)
    try:
        yield path
    finally:
        api.stop()


def _urls(gateway: Gateway) -> tuple[tuple[str, str], ...]:
    return tuple(
        (target, f"{gateway.url}/function/{target.partition(':')[2].replace('_', '-')}")
        for target in sorted(set(ROUTES.values()))
    )


def test_watch_posts_a_certificate_change_to_its_function(
    gateway: Gateway, kubeconfig: Path
) -> None:
    runner = Runner(
        RunOptions(
            kubeconfig=kubeconfig, watch_only=True, remote=_urls(gateway), tick_interval=0.05
        )
    )
    kube = Kube.from_kubeconfig(kubeconfig, user_agent="certainly/tests")
    runner.start()
    try:
        kube.create(
            NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "w"}}
        )
        kube.create(
            CERTIFICATES,
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": "web", "namespace": "w"},
                "spec": {"secretName": "web-tls", "issuerRef": {"name": "ca"}},
            },
        )

        def delivered() -> bool:
            return any(
                path == "/function/on-certificate-created"
                and headers.get("ce-kind") == "Certificate"
                for path, headers in gateway.received
            )

        poll(delivered, what="the Certificate's event at the gateway")
    finally:
        runner.close()
        kube.close()
    # No scheduler: with a 0.05s interval a tick would have been sent by now.
    assert all(h.get("ce-type") != "dev.knative.sources.ping" for _, h in gateway.received)


def test_watch_refuses_to_start_without_a_url_for_every_routed_function(kubeconfig: Path) -> None:
    with pytest.raises(ValueError, match="no --function-url"):
        Runner(RunOptions(kubeconfig=kubeconfig, watch_only=True, remote=()))
