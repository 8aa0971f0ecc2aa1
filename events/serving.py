"""Serve one function's WSGI app until SIGTERM, then finish the in-flight events.

werkzeug's `run_simple` dies on SIGTERM with requests half done; here the signal
marks the process draining (`/readyz` turns 503), stops accepting connections, and
waits for every request thread already running before the process exits. Requests
pass `RequestGuard` (events/request_guard.py) first: bounded bodies, well-formed
CloudEvents.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, make_server

from events.health import Health
from events.request_guard import RequestGuard, is_cloudevent_app

log = logging.getLogger(__name__)


class GracefulServer:
    def __init__(self, app: Any, *, host: str, port: int, health: Health) -> None:
        guarded = RequestGuard(app, cloudevents=is_cloudevent_app(app))
        server = make_server(host, port, guarded, threaded=True)
        assert isinstance(server, ThreadedWSGIServer)
        self._server = server
        # Non-daemon request threads are joined by server_close(): the in-flight
        # event is answered before we exit.
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self._health = health
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="serve", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread.start()
        self._health.set_ready()

    def shutdown(self) -> None:
        """Stop taking requests, then wait for the ones in flight."""
        self._health.set_draining()
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        log.info("server stopped: in-flight requests finished")
