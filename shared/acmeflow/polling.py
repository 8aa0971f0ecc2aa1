"""Bounded polling of the CA within one invocation.

ACME progress (an authorization turning valid, an order being issued) is no
Kubernetes event, so a reconciler waits for it a few seconds at most and
otherwise leaves the object for the next event or tick. Wall-clock time is right
here: it bounds how long we hold an invocation, it is not domain time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

T = TypeVar("T")

BUDGET_SECONDS: Final = 10.0
FIRST_INTERVAL: Final = 0.05
MAX_INTERVAL: Final = 0.5


@dataclass(frozen=True)
class Poller:
    budget: float = BUDGET_SECONDS
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    def until(self, fetch: Callable[[], T], done: Callable[[T], bool]) -> T:
        """fetch() until done(value) or the budget is spent; the last value either way."""
        deadline = self.monotonic() + self.budget
        interval = FIRST_INTERVAL
        while True:
            value = fetch()
            if done(value) or self.monotonic() + interval > deadline:
                return value
            self.sleep(interval)
            interval = min(interval * 2, MAX_INTERVAL)


# Replaced by tests that want a different budget; reconcilers read it at call time.
default_poller = Poller()
