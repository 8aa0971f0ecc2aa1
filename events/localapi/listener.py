"""One port for plain http and TLS: the first byte of a connection says which.

client-go (kubectl) sends credentials only over TLS, while tests and the
bench use plain http; a TLS ClientHello starts with 0x16 (handshake record),
an HTTP request with a method name, so both share the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Final

log = logging.getLogger(__name__)

TLS_HANDSHAKE: Final = 0x16
HANDSHAKE_TIMEOUT: Final = 10.0


class DualListener:
    def __init__(
        self,
        sock: socket.socket,
        *,
        protocol_factory: Callable[[], asyncio.Protocol],
        ssl_context: ssl.SSLContext,
    ) -> None:
        self._sock = sock
        self._factory = protocol_factory
        self._ssl = ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[socket.socket] = set()
        self._tasks: set[asyncio.Task[object]] = set()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock.setblocking(False)
        self._sock.listen(128)
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            for conn in list(self._pending):
                self._loop.remove_reader(conn.fileno())
                conn.close()
        self._pending.clear()
        for task in list(self._tasks):
            task.cancel()
        self._sock.close()

    def _accept(self) -> None:
        assert self._loop is not None
        for _ in range(64):  # drain the backlog a bit at a time
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.exception("accept failed")
                return
            conn.setblocking(False)
            self._pending.add(conn)
            self._loop.add_reader(conn.fileno(), self._sniff, conn)

    def _sniff(self, conn: socket.socket) -> None:
        assert self._loop is not None
        self._loop.remove_reader(conn.fileno())
        self._pending.discard(conn)
        try:
            first = conn.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            self._pending.add(conn)
            self._loop.add_reader(conn.fileno(), self._sniff, conn)
            return
        except OSError:
            conn.close()
            return
        if not first:
            conn.close()  # closed before saying anything
            return
        tls = first[0] == TLS_HANDSHAKE
        task: asyncio.Task[object] = self._loop.create_task(
            self._loop.connect_accepted_socket(
                self._factory,
                conn,
                ssl=self._ssl if tls else None,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT if tls else None,
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            with contextlib.suppress(Exception):
                task.result()  # a failed handshake only ends that connection
