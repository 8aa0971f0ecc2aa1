"""/healthz and /readyz: what the kubelet (and Knative's queue-proxy) probe.

`/healthz` (liveness) answers 200 while the process can serve at all; `/readyz`
(readiness) answers 200 once it is started and until it begins to drain on
SIGTERM, so no new event is routed to a process that is shutting down. `/_/health`
is what OpenFaaS Community Edition probes (faas-netes' `functions.httpProbe`, for
both liveness and readiness, as of-watchdog answers it): it answers as `/readyz`.
`certainly serve` adds the routes to the function's functions-framework app;
`certainly run` and `certainly watch` serve them from a tiny HTTP server, which
also answers Prometheus scrapes on /metrics when given a scraper.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable
from typing import Final

import flask

from shared.metrics import METRICS_PATH, Scrape

# Answers GET /metrics given the scraper's Accept header.
Scraper = Callable[[str | None], Scrape]

HEALTHZ: Final = "/healthz"
READYZ: Final = "/readyz"
OPENFAAS_HEALTH: Final = "/_/health"


class Health:
    """Readiness state: not ready until started, not ready again once draining."""

    def __init__(self, *, alive: Callable[[], bool] = lambda: True) -> None:
        self._ready = threading.Event()
        self._draining = threading.Event()
        self._alive = alive

    def set_ready(self) -> None:
        self._ready.set()

    def set_draining(self) -> None:
        self._draining.set()

    @property
    def alive(self) -> bool:
        return self._alive()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and not self._draining.is_set() and self._alive()

    def answer(self, path: str) -> tuple[int, str] | None:
        """(status, body) for a probe path; None for any other path."""
        if path == HEALTHZ:
            return (200, "ok") if self.alive else (500, "not alive")
        if path in (READYZ, OPENFAAS_HEALTH):
            return (200, "ready") if self.ready else (503, "not ready")
        return None


def add_health_routes(app: flask.Flask, health: Health) -> None:
    """GET /healthz, /readyz and /_/health on a functions-framework app (ahead of its
    catch-all)."""

    def probe() -> flask.Response:
        status, body = health.answer(flask.request.path) or (404, "not found")
        return flask.Response(body, status=status, mimetype="text/plain")

    app.add_url_rule(HEALTHZ, endpoint="certainly-healthz", view_func=probe, methods=["GET"])
    app.add_url_rule(READYZ, endpoint="certainly-readyz", view_func=probe, methods=["GET"])
    app.add_url_rule(
        OPENFAAS_HEALTH, endpoint="certainly-openfaas-health", view_func=probe, methods=["GET"]
    )


class HealthServer:
    """The probes (and /metrics) on their own port, in a daemon thread (`certainly run`)."""

    def __init__(
        self,
        health: Health,
        *,
        host: str = "0.0.0.0",  # noqa: S104 -- the kubelet and Prometheus reach the Pod IP
        port: int = 0,
        metrics: Scraper | None = None,
    ) -> None:
        outer = health

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == METRICS_PATH and metrics is not None:
                    scraped = metrics(self.headers.get("Accept"))
                    self._send(scraped.status, scraped.body, scraped.content_type)
                    return
                status, body = outer.answer(path) or (404, "not found")
                self._send(status, body.encode(), "text/plain")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                del format, args  # probes every few seconds would drown the JSON logs

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
