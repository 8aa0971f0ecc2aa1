"""/healthz, /readyz, /metrics, and a SIGTERM that lets the in-flight event finish."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import flask
import functions_framework
import pytest
import requests

from events.health import Health, HealthServer, add_health_routes
from events.serving import GracefulServer
from events.sinks import source_of
from shared import runtime
from shared.kube.client import Kube
from shared.metrics import Scrape
from tests.conftest import Cluster
from tests.integration.deploy.image import poll

pytestmark = pytest.mark.integration


def _function_app(target: str) -> flask.Flask:
    source, function = source_of(target)
    app: flask.Flask = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target=function, source=source
    )
    return app


@pytest.mark.parametrize(
    "target",
    [
        "functions.on_certificate_created:on_certificate_created",  # a CloudEvent function
        "functions.on_expiry_tick:on_expiry_tick",  # an HTTP function: catches every path
    ],
)
def test_probes_answer_ahead_of_the_function(target: str, cluster: Cluster) -> None:
    kube = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    runtime.install(runtime.Context.build(kube))
    try:
        _probes_answer_ahead_of_the_function(target)
    finally:
        runtime.install(None)
        kube.close()


def _probes_answer_ahead_of_the_function(target: str) -> None:
    app = _function_app(target)
    health = Health()
    add_health_routes(app, health)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503  # not started yet
    health.set_ready()
    assert client.get("/readyz").status_code == 200
    health.set_draining()
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200  # draining is not dead
    # The function still answers POST / exactly as it does without the probes.
    plain = _function_app(target).test_client()
    body = b"not an event"
    assert client.post("/", data=body).status_code == plain.post("/", data=body).status_code


def test_health_reports_a_dead_process_as_not_alive_and_not_ready() -> None:
    health = Health(alive=lambda: False)
    health.set_ready()
    assert health.answer("/healthz") == (500, "not alive")
    assert health.answer("/readyz") == (503, "not ready")
    assert health.answer("/other") is None


EXPOSITION = b"certmanager_clock_time_seconds_gauge 1.7e+09\n"
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


def _scraper(accept: str | None) -> Scrape:
    del accept
    return Scrape(200, EXPOSITION, TEXT_FORMAT)


@pytest.fixture
def probes() -> Iterator[tuple[Health, str]]:
    health = Health()
    server = HealthServer(health, host="127.0.0.1", port=0, metrics=_scraper)
    server.start()
    try:
        yield health, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_the_health_server_serves_the_probes(probes: tuple[Health, str]) -> None:
    health, url = probes
    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 503
    health.set_ready()
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 200
    metrics = requests.get(f"{url}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"] == TEXT_FORMAT
    assert metrics.content == EXPOSITION
    assert requests.get(f"{url}/other", timeout=5).status_code == 404


def test_the_health_server_has_no_metrics_route_without_a_scraper() -> None:
    server = HealthServer(Health(), host="127.0.0.1", port=0)
    server.start()
    try:
        answer = requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
    finally:
        server.stop()
    assert answer.status_code == 404


def test_shutdown_finishes_the_in_flight_event_before_returning() -> None:
    app = flask.Flask("slow")
    entered, release = threading.Event(), threading.Event()

    @app.post("/")
    def slow() -> str:
        entered.set()
        release.wait(30)
        return "done"

    health = Health()
    add_health_routes(app, health)
    server = GracefulServer(app, host="127.0.0.1", port=0, health=health)
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    answers: list[requests.Response] = []
    request = threading.Thread(target=lambda: answers.append(requests.post(url, timeout=30)))
    request.start()
    assert entered.wait(10)

    stopping = threading.Thread(target=server.shutdown)
    stopping.start()
    poll(lambda: not health.ready, what="draining")
    assert stopping.is_alive(), "shutdown returned with an event in flight"
    release.set()
    stopping.join(10)
    request.join(10)
    assert not stopping.is_alive()
    assert [a.status_code for a in answers] == [200]
    assert answers[0].text == "done"
    with pytest.raises(requests.ConnectionError):
        requests.post(url, timeout=5)
