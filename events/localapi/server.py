"""LocalAPI: the embedded Kubernetes API server, over plain http on 127.0.0.1.

It serves from one asyncio loop (its own thread via start(), or the caller's
via serve_until()), so the store needs no locks.

One port speaks plain http (`url`) and TLS (`tls_url`, what the kubeconfig
names, because client-go never sends credentials to a plain-http server);
the bearer token is required on both.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml
from aiohttp import web

from events.localapi.crds import default_crd_dir, load_crds
from events.localapi.errors import APIError
from events.localapi.eventttl import DEFAULT_EVENT_TTL, EventExpiry
from events.localapi.journal import Journal, JournalError
from events.localapi.listener import DualListener
from events.localapi.persistence import State, StoredObject, write_private
from events.localapi.requestlog import RequestLog
from events.localapi.resources import CRD_RESOURCE, NAMESPACES, Registry
from events.localapi.routes import Routes, json_response
from events.localapi.store import Store
from events.localapi.tls import make_serving_certificate
from events.localapi.verbs import Verbs

__all__ = ["LocalAPI", "default_crd_dir"]

log = logging.getLogger(__name__)

DEFAULT_NAMESPACES: Final = ("default", "kube-system", "kube-public", "cert-manager")
READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
EXPIRY_INTERVAL: Final = 10.0  # seconds between passes over expiring Events


class LocalAPI:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        state_file: Path | None = None,
        crd_dir: Path | None = None,
        namespaces: Sequence[str] = DEFAULT_NAMESPACES,
        watch_history: int = 20000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        bookmark_interval: float = 60.0,
        event_ttl: timedelta = DEFAULT_EVENT_TTL,
    ) -> None:
        self.host = host
        self.token = token or secrets.token_urlsafe(32)
        self.state_file = state_file
        self.crd_dir = crd_dir if crd_dir is not None else default_crd_dir()
        self.namespaces = tuple(namespaces)
        self.requests = RequestLog()
        # Read before anything is bound: a damaged state file stops us here (StateError).
        self._journal = Journal(state_file) if state_file is not None else None
        self._recovered = self._journal.recover() if self._journal is not None else None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self._serving = make_serving_certificate(host)
        self._store = Store(history=watch_history)
        self._registry = Registry()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._verbs = Verbs(
            store=self._store, registry=self._registry, clock=clock, schedule=self._schedule
        )
        self.event_expiry = EventExpiry(self._verbs, ttl=event_ttl)
        self._store.on_change.append(self.event_expiry.written)
        self._expiry_pending: asyncio.TimerHandle | None = None
        self._routes = Routes(
            store=self._store,
            registry=self._registry,
            verbs=self._verbs,
            requests=self.requests,
            token=self.token,
            clock=clock,
            bookmark_interval=bookmark_interval,
        )
        self._routes.server_address = f"{host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        """The CA that signed the TLS listener's certificate."""
        return self._serving.ca_pem

    def __repr__(self) -> str:  # never show the token
        return f"LocalAPI(url={self.url!r})"

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Serve in a background thread; returns once listening."""
        if self._thread is not None:
            raise RuntimeError("LocalAPI already started")
        self._thread = threading.Thread(target=self._run, name="certainly-localapi", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise RuntimeError("LocalAPI failed to start") from self._failure

    def stop(self) -> None:
        """Stop serving and flush the state file."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:  # never started: just release the ports
            self._close_sockets()
            return
        if loop is not None and stop is not None and not loop.is_closed():
            # A crashed server's loop may close under us: then there is nothing to stop.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = None
        self._close_sockets()

    def _close_sockets(self) -> None:
        self._socket.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._failure = exc
            if self._ready.is_set():
                log.exception("the local API stopped unexpectedly")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await self.serve_until(self._stop)

    async def serve_until(self, stop: asyncio.Event) -> None:
        """Serve on the running loop until stop is set (foreground use by the CLI)."""
        self._loop = asyncio.get_running_loop()
        self._bootstrap()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        assert runner.server is not None  # set by setup()
        listener = DualListener(
            self._socket, protocol_factory=runner.server, ssl_context=self._serving.context
        )
        listener.start()
        self._expire_events()
        self._ready.set()
        try:
            await stop.wait()
        finally:
            if self._expiry_pending is not None:
                self._expiry_pending.cancel()
            listener.close()
            self._routes.watches.close_all()
            await runner.cleanup()
            if self._journal is not None:
                await self._journal.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serve, and answer a write only once the journal holds it on disk."""
        response = await self._routes.handle(request)
        if self._journal is not None and request.method not in READ_METHODS:
            try:
                await self._journal.durable()
            except JournalError as exc:
                return json_response(APIError(500, "InternalError", str(exc)).status(), 500)
        return response

    def _schedule(self, work: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("background work failed")

        if self._loop is not None:
            self._loop.call_soon(guarded)
        else:
            guarded()

    def _expire_events(self) -> None:
        try:
            self.event_expiry.expire()
        except Exception:
            log.exception("expiring Events failed")
        if self._loop is not None:
            interval = min(EXPIRY_INTERVAL, self.event_expiry.ttl.total_seconds())
            self._expiry_pending = self._loop.call_later(interval, self._expire_events)

    # -- state -------------------------------------------------------------

    def _bootstrap(self) -> None:
        if self._journal is not None:
            if self._recovered is not None:
                self._restore(self._recovered)
                self._recovered = None
                self.event_expiry.track_existing()  # restored Events get a full TTL
            self._journal.open(self._capture)
            self._store.on_change.append(self._journal.append)
        for name in self.namespaces:
            if self._store.get(NAMESPACES.key, "", name) is None:
                self._verbs.create(NAMESPACES, "", {"metadata": {"name": name}})
        for crd in load_crds(self.crd_dir):
            self._install(crd)
        self._schedule(self._verbs.collector.resync)

    def _install(self, crd: dict[str, Any]) -> None:
        name = crd["metadata"]["name"]
        existing = self._store.get(CRD_RESOURCE.key, "", name)
        if existing is None:
            self._verbs.create(CRD_RESOURCE, "", crd)
        elif existing.get("spec") != crd.get("spec"):
            self._verbs.update(CRD_RESOURCE, "", name, {**existing, "spec": crd["spec"]})

    def _restore(self, state: State) -> None:
        self._store.rv = state["resourceVersion"]
        self._store.forget_history_before(state["resourceVersion"])
        for item in state["objects"]:
            key = (item["group"], item["resource"])
            self._store.load(key, item["object"])
            if key == CRD_RESOURCE.key:
                self._registry.install_crd(item["object"])

    def _capture(self) -> State:
        # Stored objects are never mutated, so a list of them is a consistent snapshot.
        objects = [
            StoredObject(group=group, resource=plural, object=obj)
            for (group, plural), obj in self._store.all_items()
        ]
        return State(resourceVersion=self._store.rv, objects=objects)

    # -- clients -----------------------------------------------------------

    def write_kubeconfig(self, path: Path, *, context: str = "certainly-local") -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": context,
                    "cluster": {
                        "server": self.tls_url,
                        "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": context, "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": context, "user": context, "namespace": "default"},
                }
            ],
            "current-context": context,
            "preferences": {},
        }
        # 0600 even when a kubeconfig was there with a wider mode; atomic, so a client
        # re-reading it after a restart never sees half of it.
        write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
