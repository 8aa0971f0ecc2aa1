"""A small endpoint in front of Pebble: ARI (its Debian build has none) and scripted outages.

It serves Pebble's directory with `renewalInfo` added, pointing at itself, and answers
`GET /renewal-info/<certID>` with the window the test sets; every other ACME URL in
the directory is Pebble's own, so orders and accounts go to Pebble unchanged. Queued
`outages` make the directory answer 503 (with Retry-After) that many times first;
queued `rate_limits` make it answer 429 rateLimited (with Retry-After).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from shared.kube.objects import format_time
from tests.e2e.servers import LOOPBACK, Pebble

RENEWAL_PATH = "/renewal-info/"


class AriEndpoint:
    def __init__(self, pebble: Pebble) -> None:
        self.pebble = pebble
        # certID -> the window to suggest; other certificates get `later`.
        self.windows: dict[str, tuple[datetime, datetime]] = {}
        self.later: tuple[datetime, datetime] | None = None
        self.retry_after_seconds = 3600
        self.asked: list[str] = []  # certIDs, in order
        self.outages: deque[str] = deque()  # Retry-After values for the next directory GETs
        self.rate_limits: deque[str] = deque()  # the same, answered 429 rateLimited
        self.directory_hits: list[float] = []  # monotonic times of directory GETs
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def directory_url(self) -> str:
        return f"{self.url}/directory"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _directory(self) -> bytes:
        response = requests.get(
            self.pebble.directory_url, verify=str(self.pebble.ca_bundle_path), timeout=5
        )
        directory = response.json()
        directory["renewalInfo"] = f"{self.url}{RENEWAL_PATH.rstrip('/')}"
        return json.dumps(directory).encode()

    def _renewal_info(self, cert_id: str) -> bytes | None:
        window = self.windows.get(cert_id, self.later)
        if window is None:
            return None
        self.asked.append(cert_id)
        start, end = window
        body = {"suggestedWindow": {"start": format_time(start), "end": format_time(end)}}
        return json.dumps(body).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body: bytes | None = None
                headers: dict[str, str] = {}
                if self.path == "/directory":
                    endpoint.directory_hits.append(time.monotonic())
                    if endpoint.outages:
                        self._refuse(503, "serverInternal", endpoint.outages.popleft())
                        return
                    if endpoint.rate_limits:
                        self._refuse(429, "rateLimited", endpoint.rate_limits.popleft())
                        return
                    body = endpoint._directory()
                elif self.path.startswith(RENEWAL_PATH):
                    body = endpoint._renewal_info(self.path.removeprefix(RENEWAL_PATH))
                    headers["Retry-After"] = str(endpoint.retry_after_seconds)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _refuse(self, status: int, problem_type: str, retry_after: str) -> None:
                problem = json.dumps(
                    {"type": f"urn:ietf:params:acme:error:{problem_type}", "detail": "not now"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", str(len(problem)))
                self.end_headers()
                self.wfile.write(problem)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler
