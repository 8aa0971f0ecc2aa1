"""GET /metrics: `certainly run`'s health port and the on-expiry-tick function, on the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask
import functions_framework
import pytest
import requests
from kubernetes import client as k8s
from prometheus_client.parser import text_string_to_metric_families

from events.runner import Runner, RunOptions
from events.sinks import source_of
from shared import runtime
from shared.clock import FakeClock
from shared.config import Config
from shared.kube.client import Kube
from shared.kube.resources import CERTIFICATES, ISSUERS
from shared.metrics import CLOCK, EXPIRATION, READY, RENEWAL, scrape
from tests.conftest import REPO, Cluster
from tests.helpers import eventually
from tests.integration.deploy.image import free_port

pytestmark = pytest.mark.integration

TICK = "functions.on_expiry_tick:on_expiry_tick"
NOW = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def of(found: Series, metric: str, **labels: str) -> float | None:
    """The value of the one series of `metric` whose labels include `labels`."""
    values = [
        value
        for (name, have), value in found.items()
        if name == metric and set(labels.items()) <= have
    ]
    assert len(values) <= 1, f"{metric}{labels}: {values}"
    return values[0] if values else None


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def certificate(namespace: str, name: str, issuer: str = "ca") -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": [f"{name}.example.test"],
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
        },
    }


def tick_app() -> flask.Flask:
    source, function = source_of(TICK)
    app: flask.Flask = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target=function, source=source
    )
    return app


@pytest.fixture
def installed(kube: Kube) -> Iterator[runtime.Context]:
    context = runtime.Context.build(kube, clock=FakeClock(NOW))
    runtime.install(context)
    try:
        yield context
    finally:
        runtime.install(None)


def test_the_tick_function_answers_a_scrape_from_a_fresh_list_of_certificates(
    kube: Kube, namespace: str, installed: runtime.Context
) -> None:
    del installed
    created = kube.create(CERTIFICATES, certificate(namespace, "shop"))
    created["status"] = {
        "notAfter": "2026-08-30T08:30:00Z",
        "renewalTime": "2026-07-31T08:30:00Z",
        "conditions": [{"type": "Ready", "status": "False", "reason": "Failed", "message": "x"}],
    }
    kube.replace_status(CERTIFICATES, created)
    client = tick_app().test_client()

    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    found = parse(answer.get_data(as_text=True))
    who = {
        "name": "shop",
        "namespace": namespace,
        "issuer_name": "ca",
        "issuer_kind": "ClusterIssuer",
        "issuer_group": "cert-manager.io",
    }
    assert of(found, EXPIRATION, **who) == epoch("2026-08-30T08:30:00Z")
    assert of(found, RENEWAL, **who) == epoch("2026-07-31T08:30:00Z")
    assert [of(found, READY, condition=c, **who) for c in ("True", "False", "Unknown")] == [
        0.0,
        1.0,
        0.0,
    ]
    assert of(found, CLOCK) == NOW.timestamp()

    # Nothing is remembered between scrapes: a deleted Certificate's series are gone.
    kube.delete(CERTIFICATES, namespace, "shop")
    again = parse(client.get("/metrics").get_data(as_text=True))
    assert of(again, EXPIRATION, namespace=namespace) is None
    # Any other GET is still not a tick.
    assert client.get("/").status_code == 405


def test_the_tick_function_serves_openmetrics_to_a_scraper_that_asks(
    installed: runtime.Context,
) -> None:
    del installed
    answer = (
        tick_app()
        .test_client()
        .get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    )
    assert answer.status_code == 200
    assert answer.content_type.startswith("application/openmetrics-text")
    assert answer.get_data(as_text=True).endswith("# EOF\n")


def test_metrics_switched_off_answer_404(kube: Kube) -> None:
    runtime.install(runtime.Context.build(kube, config=Config(metrics=False)))
    try:
        answer = tick_app().test_client().get("/metrics")
    finally:
        runtime.install(None)
    assert answer.status_code == 404
    assert b"CERTAINLY_METRICS" in answer.data


def test_a_scrape_the_api_cannot_answer_is_a_503_not_an_empty_page() -> None:
    configuration = k8s.Configuration()
    configuration.host = "http://127.0.0.1:9"  # discard port: nothing listens
    configuration.retries = 0
    dead = Kube(configuration, user_agent="certainly/tests")
    try:
        answer = scrape(runtime.Context.build(dead, config=Config()))
    finally:
        dead.close()
    assert answer.status == 503
    assert b"cannot list Certificates" in answer.body


def test_a_runner_that_is_not_acting_exports_only_the_clock(
    cluster: Cluster, kube: Kube, namespace: str
) -> None:
    kube.create(CERTIFICATES, certificate(namespace, "idle", issuer="missing"))
    runner = Runner(RunOptions(kubeconfig=cluster.kubeconfig, tick_interval=3600))
    try:
        standby = parse(runner.scrape().body.decode())
        assert {name for name, _ in standby} == {CLOCK}
        runner.start()
        acting = parse(runner.scrape().body.decode())
        assert of(acting, READY, namespace=namespace, name="idle", condition="Unknown") == 1.0
    finally:
        runner.close()


def _run(kubeconfig: Path, health_port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTAINLY_")}
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "events.cli",
                "run",
                "--kubeconfig",
                str(kubeconfig),
                f"--health-port={health_port}",
                "--tick-interval=1h",
            ],
            cwd=REPO,
            env={**env, "CERTAINLY_METRICS": "true"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_certainly_run_serves_issued_certificates_metrics_on_its_health_port(
    cluster: Cluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    kube.create(
        ISSUERS,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "self", "namespace": namespace},
            "spec": {"selfSigned": {}},
        },
    )
    cert = certificate(namespace, "site")
    cert["spec"]["issuerRef"] = {"name": "self"}  # kind and group left to their defaults
    kube.create(CERTIFICATES, cert)
    port = free_port()
    log = tmp_path / "run.log"
    process = _run(cluster.kubeconfig, port, log)
    url = f"http://127.0.0.1:{port}/metrics"

    def issued() -> Series | None:
        assert process.poll() is None, log.read_text()
        try:
            answer = requests.get(url, timeout=5)
        except requests.ConnectionError:
            return None
        found = parse(answer.text)
        ready = of(found, READY, namespace=namespace, name="site", condition="True")
        return found if ready == 1.0 else None

    try:
        found = eventually(issued, timeout=30, what="the issued Certificate's metrics")
        status = kube.get(CERTIFICATES, namespace, "site")["status"]
        who = {
            "name": "site",
            "namespace": namespace,
            "issuer_name": "self",
            "issuer_kind": "",  # as written in spec.issuerRef, like cert-manager
            "issuer_group": "",
        }
        assert of(found, EXPIRATION, **who) == epoch(status["notAfter"])
        assert of(found, RENEWAL, **who) == epoch(status["renewalTime"])
        openmetrics = requests.get(
            url, headers={"Accept": "application/openmetrics-text"}, timeout=5
        )
        assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
