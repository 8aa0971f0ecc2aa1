"""Leader election: two replicas of `certainly run` never both act."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from events.leader import LeaderElector, LeaseConfig
from events.localapi.server import LocalAPI
from events.runner import Runner, RunOptions
from shared.clock import FakeClock
from shared.kube.client import Kube
from shared.kube.resources import LEASES
from tests.integration.deploy.image import poll

pytestmark = pytest.mark.integration

NAMESPACE = "default"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[LocalAPI, Path]]:
    """A fresh local API: the runners here must not act on other tests' objects."""
    server = LocalAPI()
    server.start()
    kubeconfig = tmp_path / "kubeconfig"
    server.write_kubeconfig(kubeconfig)
    try:
        yield server, kubeconfig
    finally:
        server.stop()


class Candidate:
    def __init__(self, kubeconfig: Path, clock: FakeClock, identity: str, lease: str) -> None:
        self.kube = Kube.from_kubeconfig(kubeconfig, user_agent=f"tests/{identity}")
        self.transitions: list[str] = []
        self.elector = LeaderElector(
            self.kube,
            LeaseConfig(namespace=NAMESPACE, identity=identity, name=lease),
            clock=clock,
            on_started_leading=lambda: self.transitions.append("started"),
            on_stopped_leading=lambda: self.transitions.append("stopped"),
        )

    def step(self) -> bool:
        return self.elector.step()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pair(api: tuple[LocalAPI, Path], clock: FakeClock) -> Iterator[tuple[Candidate, Candidate]]:
    lease = f"lease-{uuid.uuid4().hex[:6]}"
    a = Candidate(api[1], clock, "a", lease)
    b = Candidate(api[1], clock, "b", lease)
    yield a, b
    a.kube.close()
    b.kube.close()


def _lease(candidate: Candidate) -> dict[str, object]:
    config = candidate.elector._config
    spec: dict[str, object] = candidate.kube.get(LEASES, config.namespace, config.name)["spec"]
    return spec


def test_the_first_candidate_takes_the_lease_and_the_second_waits(
    pair: tuple[Candidate, Candidate],
) -> None:
    a, b = pair
    assert a.step() and not b.step()
    assert a.transitions == ["started"] and b.transitions == []
    assert _lease(a)["holderIdentity"] == "a"


def test_a_renewing_leader_keeps_the_lease(
    pair: tuple[Candidate, Candidate], clock: FakeClock
) -> None:
    a, b = pair
    a.step()
    b.step()
    for _ in range(10):
        clock.advance(timedelta(seconds=5))  # well past a lease duration in total
        assert a.step()
        assert not b.step()


def test_a_silent_leader_is_replaced_after_a_lease_duration_and_then_steps_down(
    pair: tuple[Candidate, Candidate], clock: FakeClock
) -> None:
    a, b = pair
    a.step()
    b.step()
    clock.advance(timedelta(seconds=14))
    assert not b.step(), "taken over before the lease expired"
    clock.advance(timedelta(seconds=1))
    assert b.step()
    assert _lease(b)["holderIdentity"] == "b"
    assert _lease(b)["leaseTransitions"] == 1
    # The old leader wakes up, sees b holding a live lease: it stops at once.
    assert not a.step()
    assert a.transitions == ["started", "stopped"]


def test_a_leader_that_cannot_renew_stops_before_anyone_may_take_over(
    api: tuple[LocalAPI, Path], pair: tuple[Candidate, Candidate], clock: FakeClock
) -> None:
    a, _ = pair
    assert a.step()
    api[0].stop()  # the API goes away
    clock.advance(timedelta(seconds=9))
    assert a.step(), "stopped before its renew deadline"
    clock.advance(timedelta(seconds=1))
    assert not a.step()
    assert a.transitions == ["started", "stopped"]


def test_the_deadline_watchdog_stops_a_leader_whose_renewal_hangs(
    pair: tuple[Candidate, Candidate], clock: FakeClock
) -> None:
    a, _ = pair
    assert a.step()
    # No step returns (the renewal request hangs); only the watchdog looks.
    clock.advance(timedelta(seconds=9))
    a.elector.check_deadline()
    assert a.transitions == ["started"]
    clock.advance(timedelta(seconds=1))
    a.elector.check_deadline()
    assert a.transitions == ["started", "stopped"]
    assert not a.elector.leading


def test_a_released_lease_is_taken_over_at_once(
    pair: tuple[Candidate, Candidate], clock: FakeClock
) -> None:
    a, b = pair
    a.step()
    assert not b.step()
    a.elector.release()
    assert b.step()
    assert a.transitions == ["started"]  # releasing is not losing


def test_lease_timings_must_leave_a_leader_time_to_stop() -> None:
    with pytest.raises(ValueError, match="renew_deadline"):
        LeaseConfig(namespace="x", identity="y", lease_duration=10, renew_deadline=10)


def _runner(kubeconfig: Path, identity: str, lease: str) -> Runner:
    config = LeaseConfig(
        namespace=NAMESPACE,
        identity=identity,
        name=lease,
        lease_duration=3.0,
        renew_deadline=2.0,
        retry_period=0.1,
    )
    return Runner(RunOptions(kubeconfig=kubeconfig, tick_interval=3600, leader=config))


def test_two_runners_never_both_act_and_the_standby_takes_over(
    api: tuple[LocalAPI, Path],
) -> None:
    lease = f"lease-{uuid.uuid4().hex[:6]}"
    first = _runner(api[1], "first", lease)
    second = _runner(api[1], "second", lease)
    runners = [first, second]
    try:
        first.start()
        second.start()
        poll(lambda: first.acting.is_set() or second.acting.is_set(), what="a leader")
        leader = first if first.acting.is_set() else second
        standby = second if leader is first else first

        # Both keep stepping every 0.1s: give the standby twenty chances to misbehave.
        def lease_reads() -> int:
            return sum(
                1 for r in api[0].requests.snapshot() if r.resource == "leases" and r.verb == "get"
            )

        seen = lease_reads()
        poll(lambda: lease_reads() >= seen + 20, what="more lease attempts")
        assert leader.acting.is_set() and not standby.acting.is_set()
        assert leader.health.ready and standby.health.ready  # both serve probes
        leader.close()
        runners.remove(leader)
        poll(standby.acting.is_set, timeout=10, what="the standby to take over")
    finally:
        for runner in runners:
            runner.close()
