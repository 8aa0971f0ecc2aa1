"""Bounded polling: stops when done, or when the budget would be overrun (no real sleeping)."""

from __future__ import annotations

from shared.acmeflow.polling import Poller


class Time:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_as_soon_as_done() -> None:
    time = Time()
    values = iter([1, 2, 3, 4])
    poller = Poller(budget=10, sleep=time.sleep, monotonic=lambda: time.now)
    assert poller.until(lambda: next(values), lambda v: v == 3) == 3
    assert len(time.sleeps) == 2


def test_gives_back_the_last_value_when_the_budget_is_spent() -> None:
    time = Time()
    poller = Poller(budget=1.0, sleep=time.sleep, monotonic=lambda: time.now)
    assert poller.until(lambda: "pending", lambda v: v == "valid") == "pending"
    assert time.now <= 1.0
    assert time.sleeps == sorted(time.sleeps)  # backs off, never hammers the CA
