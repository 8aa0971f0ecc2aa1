"""`certainly run` follows the API server through a restart with a new CA and token.

`local up` makes a new serving CA and bearer token each time it starts and writes
them to the same kubeconfig; `run` must re-read it, not retry the old identity
forever (or flood its log while doing so).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.localapi.server import LocalAPI
from events.routes import WATCHED
from events.runner import Runner, RunOptions
from shared.kube.client import Kube
from shared.kube.errors import Unauthorized
from shared.kube.resources import CERTIFICATES, ISSUERS, NAMESPACES, SECRETS
from tests.integration.deploy.image import poll

pytestmark = pytest.mark.integration


class Restartable:
    """One LocalAPI at a time on a fixed port and state file, as `local up` restarts."""

    def __init__(self, directory: Path) -> None:
        self.state = directory / "state.json"
        self.kubeconfig = directory / "kubeconfig"
        self.api = LocalAPI(state_file=self.state)
        self.port = self.api.port
        self.api.start()
        self.api.write_kubeconfig(self.kubeconfig)

    def restart(self) -> None:
        old_token, old_ca = self.api.token, self.api.ca_pem
        self.api.stop()
        self.api = LocalAPI(port=self.port, state_file=self.state)
        assert (self.api.token, self.api.ca_pem) != (old_token, old_ca)
        self.api.start()
        self.api.write_kubeconfig(self.kubeconfig)

    def close(self) -> None:
        self.api.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Restartable]:
    restartable = Restartable(tmp_path)
    yield restartable
    restartable.close()


def _ready(obj: dict[str, object]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []  # type: ignore[attr-defined]
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _issue(kube: Kube, name: str) -> None:
    kube.create(
        CERTIFICATES,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "secretName": f"{name}-tls",
                "commonName": f"{name}.example.com",
                "dnsNames": [f"{name}.example.com"],
                "issuerRef": {"name": "self", "kind": "Issuer"},
            },
        },
    )


def test_run_issues_a_certificate_created_after_the_api_restarts_with_a_new_ca_and_token(
    server: Restartable, caplog: pytest.LogCaptureFixture
) -> None:
    runner = Runner(RunOptions(kubeconfig=server.kubeconfig, tick_interval=3600))
    runner.start()
    try:
        kube = Kube.from_kubeconfig(server.kubeconfig, user_agent="certainly/tests")
        kube.create(
            ISSUERS,
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Issuer",
                "metadata": {"name": "self", "namespace": "default"},
                "spec": {"selfSigned": {}},
            },
        )
        _issue(kube, "before")
        poll(lambda: _ready(kube.get(CERTIFICATES, "default", "before")), what="first issuance")

        caplog.clear()
        with caplog.at_level(logging.WARNING):
            server.restart()
            kube = Kube.from_kubeconfig(server.kubeconfig, user_agent="certainly/tests")
            _issue(kube, "after")
            poll(
                lambda: _ready(kube.get(CERTIFICATES, "default", "after")),
                timeout=60,
                what="issuance after the restart",
            )
        assert kube.get(SECRETS, "default", "after-tls")["data"]["tls.crt"]
        # A few warnings per watch while the server is away (its back-off doubles), and a
        # retry note per delivery caught in the gap: tens on a busy machine, where the
        # flood this guards against was thousands in a minute.
        noisy = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(noisy) <= 10 * len(WATCHED), noisy
        assert not [m for m in noisy if "Retrying" in m and "CERTIFICATE_VERIFY_FAILED" in m]
    finally:
        runner.close()


def test_a_refused_token_is_retried_once_the_kubeconfig_holds_a_new_one(tmp_path: Path) -> None:
    api = LocalAPI()
    api.start()
    try:
        kubeconfig = tmp_path / "kubeconfig"
        api.write_kubeconfig(kubeconfig)
        stale = kubeconfig.read_text().replace(api.token, "not-the-token")
        kubeconfig.write_text(stale)
        kube = Kube.from_kubeconfig(kubeconfig, user_agent="certainly/tests")
        with pytest.raises(Unauthorized):  # nothing new to read: the 401 stands
            kube.list(NAMESPACES)
        api.write_kubeconfig(kubeconfig)
        names = {n["metadata"]["name"] for n in kube.list(NAMESPACES)[0]}
        assert "default" in names
    finally:
        api.stop()
