"""The local HTTP-01 responder: `/.well-known/acme-challenge/<token>` answered from Challenges.

In a cluster cert-manager runs a solver Pod per challenge; locally one small server
(`--http01-solver-address`) stands in for all of them. It keeps no state of its own:
the answer is the `spec.key` of the HTTP-01 Challenge object with that token, read
through the API and cached for at most a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, Protocol

from shared.kube.client import Kube
from shared.kube.resources import CHALLENGES

log = logging.getLogger(__name__)

CHALLENGE_PATH: Final = "/.well-known/acme-challenge/"
CACHE_SECONDS: Final = 1.0
# A token we do not know may belong to a Challenge created a moment ago: re-read then,
# but not more often than this, so a scan for random tokens cannot flood the API.
MISS_REFRESH_SECONDS: Final = 0.1

# token -> (domain, key authorization)
Answers = dict[str, tuple[str, str]]


def parse_address(address: str) -> tuple[str, int]:
    """ "HOST:PORT" (port 0: any free one) -> (host, port); ValueError saying what is wrong."""
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"HTTP-01 solver address {address!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


class ChallengeAnswers:
    """HTTP-01 answers from the API, cached briefly."""

    def __init__(self, kube: Kube, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._kube = kube
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._answers: Answers = {}
        self._loaded_at = float("-inf")

    def lookup(self, token: str, *, host: str | None) -> str | None:
        now = self._monotonic()
        with self._lock:
            age = now - self._loaded_at
            if age > CACHE_SECONDS or (token not in self._answers and age > MISS_REFRESH_SECONDS):
                self._answers = self._load()
                self._loaded_at = now
            found = self._answers.get(token)
        if found is None:
            return None
        domain, key = found
        if host and host.rsplit(":", 1)[0].lower() != domain.lower():
            return None
        return key

    def _load(self) -> Answers:
        items, _ = self._kube.list(CHALLENGES)
        answers: Answers = {}
        for item in items:
            spec = item.get("spec") or {}
            state = (item.get("status") or {}).get("state")
            if spec.get("type") != "HTTP-01" or state in ("invalid", "errored", "expired"):
                continue
            if spec.get("token") and spec.get("key"):
                answers[str(spec["token"])] = (str(spec.get("dnsName") or ""), str(spec["key"]))
        return answers


class KeyAuthorizations(Protocol):
    """Where key authorizations come from: Challenge objects, or a table in a test."""

    def lookup(self, token: str, *, host: str | None) -> str | None: ...


class HTTP01Responder:
    """A threaded HTTP server on `address` ("HOST:PORT"), started and stopped by its owner."""

    def __init__(self, address: str, answers: KeyAuthorizations) -> None:
        host, port = parse_address(address)
        handler = type("Handler", (_Handler,), {"answers": answers})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="http01-responder",
            daemon=True,
        )

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP-01 responder listening on %s", self.address)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)


class _Handler(BaseHTTPRequestHandler):
    answers: KeyAuthorizations

    def do_GET(self) -> None:
        key = None
        if self.path.startswith(CHALLENGE_PATH):
            token = self.path.removeprefix(CHALLENGE_PATH)
            try:
                key = self.answers.lookup(token, host=self.headers.get("Host"))
            except Exception:  # the API is down: the CA retries, we must not die
                log.exception("HTTP-01 responder could not read Challenges")
        if key is None:
            self.send_error(404)
            return
        payload = key.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http01: " + format, *args)
