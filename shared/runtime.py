"""The per-process context a function invocation works with.

A function process builds its context once (connection pool, clock, config) and
reuses it across invocations; nothing about any object is kept between them.
`certainly run` and the tests install their own (another kubeconfig, a fake clock).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shared.clock import Clock, SystemClock
from shared.config import Config
from shared.kube.client import Kube
from shared.kube.recorder import EventRecorder


@dataclass(frozen=True)
class Context:
    kube: Kube
    clock: Clock
    config: Config
    recorder: EventRecorder

    @classmethod
    def build(
        cls,
        kube: Kube,
        *,
        clock: Clock | None = None,
        config: Config | None = None,
        component: str = "certainly",
    ) -> Context:
        clock = clock or SystemClock()
        return cls(
            kube=kube,
            clock=clock,
            config=config or Config.from_environment(),
            recorder=EventRecorder(kube, clock, component=component),
        )


_lock = threading.Lock()
_installed: Context | None = None


def install(context: Context | None) -> None:
    """Use this context for every invocation in this process (None: back to the default)."""
    global _installed  # noqa: PLW0603 -- one context per process is the point
    with _lock:
        _installed = context


def current() -> Context:
    """The installed context, or one built from the environment (in-cluster or $KUBECONFIG)."""
    global _installed  # noqa: PLW0603
    with _lock:
        if _installed is None:
            _installed = Context.build(Kube.from_kubeconfig(user_agent="certainly"))
        return _installed
