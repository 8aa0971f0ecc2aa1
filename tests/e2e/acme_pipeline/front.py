"""A small ACME front for Pebble: ARI (its Debian build has none), scripted refusals, and
a record of what reached the CA.

It listens on HTTPS with Pebble's own certificate (so an issuer's Pebble caBundle trusts
it) and passes every ACME request on to Pebble with its own address as Host: Pebble
builds every URL it hands out from that, and checks each JWS `url` against it, so the
client keeps talking to the front and Pebble accepts what it signed. On top:
`GET /renewal-info/<certID>` answers the window the test sets; queued `outages` make
the directory answer 503 (with Retry-After) that many times first, queued
`rate_limits` 429 rateLimited; `new_orders` holds every newOrder payload, in order;
with `refuse_replaces` a newOrder naming a certificate it replaces is refused (409
alreadyReplaced, as a CA does for a certificate already replaced).
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

from shared.kube.objects import format_time
from tests.e2e.servers import LOOPBACK, Pebble

RENEWAL_PATH = "/renewal-info/"
DIRECTORY_PATH = "/directory"
# Headers of Pebble's answers the client needs (nonces, URLs, chains, pacing).
PASSED_HEADERS = ("Content-Type", "Replay-Nonce", "Location", "Link", "Retry-After")


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
        self.new_orders: list[dict[str, Any]] = []  # newOrder payloads, as the CA got them
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self.refuse_replaces = False
        pebble_dir = urlsplit(pebble.directory_url)
        self._pebble = f"{pebble_dir.scheme}://{pebble_dir.netloc}"
        self._pebble_directory_path = pebble_dir.path
        self._new_order_path = ""
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # start_pebble keeps Pebble's serving certificate (for 127.0.0.1) beside its log.
        tls.load_cert_chain(pebble.log.parent / "cert.pem", pebble.log.parent / "key.pem")
        self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        host, port = self._server.server_address[:2]
        self.host = f"{host!s}:{port}"
        self.url = f"https://{self.host}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def directory_url(self) -> str:
        return f"{self.url}{DIRECTORY_PATH}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def forward(
        self, method: str, path: str, body: bytes | None, content_type: str | None
    ) -> requests.Response:
        headers = {"Host": self.host}
        if content_type:
            headers["Content-Type"] = content_type
        return requests.request(
            method,
            f"{self._pebble}{path}",
            data=body,
            headers=headers,
            verify=str(self.pebble.ca_bundle_path),
            timeout=10,
        )

    def _directory(self) -> bytes:
        directory = self.forward("GET", self._pebble_directory_path, None, None).json()
        self._new_order_path = urlsplit(directory["newOrder"]).path
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
            def parse_request(self) -> bool:
                parsed = super().parse_request()
                if parsed:
                    endpoint.requests.append(f"{self.command} {self.path}")
                return parsed

            def do_GET(self) -> None:
                body: bytes | None = None
                headers: dict[str, str] = {}
                if self.path == DIRECTORY_PATH:
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
                else:
                    self._pass_on(None)
                    return
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

            def do_HEAD(self) -> None:
                self._pass_on(None)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if endpoint._new_order_path and self.path == endpoint._new_order_path:
                    payload = json.loads(_b64url(json.loads(body)["payload"]))
                    endpoint.new_orders.append(payload)
                    if endpoint.refuse_replaces and "replaces" in payload:
                        self._refuse(409, "alreadyReplaced", "", detail="already replaced")
                        return
                self._pass_on(body)

            def _pass_on(self, body: bytes | None) -> None:
                answer = endpoint.forward(
                    self.command, self.path, body, self.headers.get("Content-Type")
                )
                self.send_response(answer.status_code)
                for name in PASSED_HEADERS:
                    for value in answer.raw.headers.getlist(name):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.content)

            def _refuse(
                self, status: int, problem_type: str, retry_after: str, *, detail: str = "not now"
            ) -> None:
                problem = json.dumps(
                    {"type": f"urn:ietf:params:acme:error:{problem_type}", "detail": detail}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json")
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", str(len(problem)))
                self.end_headers()
                self.wfile.write(problem)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
