"""A tiny in-process ACME server over real HTTP, for behaviours Pebble cannot be made to show
(ARI, Retry-After, runs of bad nonces). It signs nothing and checks no signatures: it
records what the client sent and replays scripted answers."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    payload: Any  # the JWS payload, decoded; None for POST-as-GET and GETs


def problem(code: str, detail: str, status: int, **headers: str) -> Reply:
    body = {"type": f"urn:ietf:params:acme:error:{code}", "detail": detail}
    return Reply(status=status, body=body, headers=headers, content_type=PROBLEM_JSON)


class StubCA:
    def __init__(self, *, renewal_info: bool = True) -> None:
        self.replies: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self.received: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.directory: dict[str, Any] = {
            "newNonce": f"{self.url}/nonce",
            "newAccount": f"{self.url}/new-account",
            "newOrder": f"{self.url}/new-order",
        }
        if renewal_info:
            self.directory["renewalInfo"] = f"{self.url}/renewal-info"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def directory_url(self) -> str:
        return f"{self.url}/directory"

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.replies[(method, path)].extend(replies)

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, method: str, path: str) -> Reply:
        queued = self.replies.get((method, path))
        if queued:
            return queued.popleft()
        if path == "/directory":
            return Reply(body=self.directory)
        if path == "/nonce":
            return Reply(status=200)
        return problem("malformed", f"stub has no reply for {method} {path}", 404)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ca = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ca.received.append(
                    Received(
                        method=method,
                        path=self.path,
                        headers=dict(self.headers.items()),
                        payload=_jws_payload(raw),
                    )
                )
                reply = ca._answer(method, self.path)
                body = reply.body
                data = (
                    body
                    if isinstance(body, bytes)
                    else b""
                    if body is None
                    else json.dumps(body).encode()
                )
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Replay-Nonce", secrets.token_urlsafe(16).rstrip("="))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_HEAD(self) -> None:
                self._serve("HEAD")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler


def _jws_payload(raw: bytes) -> Any:
    if not raw:
        return None
    payload = json.loads(raw).get("payload", "")
    if not payload:
        return None
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
