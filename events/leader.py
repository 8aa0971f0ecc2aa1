"""Leader election on a coordination.k8s.io/v1 Lease, so two `certainly run` replicas never both act.

The algorithm is client-go's: the leader renews the Lease every retry period; a
candidate takes it over only when the holder has not renewed it for a whole lease
duration, measured on the candidate's own clock from when it last saw the Lease
change (so clock skew between Pods does not matter); every write carries the
Lease's resourceVersion, so of two candidates racing for it exactly one wins. A
leader that cannot renew within the renew deadline stops acting before anyone else
may start (renew deadline < lease duration).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.clock import Clock
from shared.kube.client import Kube, Obj
from shared.kube.errors import AlreadyExists, ApiError, Conflict
from shared.kube.resources import LEASES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseConfig:
    namespace: str
    identity: str  # unique per replica: the Pod name
    name: str = "certainly"
    lease_duration: float = 15.0  # seconds a candidate waits for a silent leader
    renew_deadline: float = 10.0  # seconds a leader keeps acting without a renewal
    retry_period: float = 2.0  # seconds between attempts

    def __post_init__(self) -> None:
        if not self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("need retry_period < renew_deadline < lease_duration")


def _micro_time(moment: datetime) -> str:
    # metav1.MicroTime: RFC 3339 with microseconds.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        kube: Kube,
        config: LeaseConfig,
        *,
        clock: Clock,
        on_started_leading: Callable[[], None],
        on_stopped_leading: Callable[[], None],
    ) -> None:
        self._kube = kube
        self._config = config
        self._clock = clock
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._leading = False
        self._lock = threading.RLock()  # step() and the deadline watchdog both decide
        self._renewed_at: datetime | None = None
        # (holderIdentity, renewTime) last seen, and when we saw it change.
        self._observed: tuple[str, str] | None = None
        self._observed_at: datetime | None = None

    @property
    def leading(self) -> bool:
        return self._leading

    def step(self) -> bool:
        """One attempt to acquire or renew the Lease; True while this replica leads."""
        now = self._clock.now()
        try:
            won = self._try_acquire_or_renew(now)
        except ApiError as error:
            log.warning("lease %s: %s", self._config.name, error)
            won = False
        with self._lock:
            if won:
                self._renewed_at = now
                self._set_leading(True)
            else:
                self.check_deadline()
            return self._leading

    def check_deadline(self) -> None:
        """Stop leading once the renew deadline has passed without a renewal."""
        with self._lock:
            if self._leading and not self._within_renew_deadline(self._clock.now()):
                self._set_leading(False)

    def run(self, stop: threading.Event) -> None:
        """Step every retry period until `stop`, then release the Lease if held.

        A watchdog checks the renew deadline on its own, so a request to a hung API
        server cannot keep this replica acting past it while a standby takes over.
        """
        watchdog = threading.Thread(
            target=self._watch_deadline, args=(stop,), name="leader-deadline", daemon=True
        )
        watchdog.start()
        while not stop.is_set():
            self.step()
            stop.wait(self._config.retry_period)
        watchdog.join()
        self.release()

    def _watch_deadline(self, stop: threading.Event) -> None:
        while not stop.wait(self._config.retry_period):
            self.check_deadline()

    def release(self) -> None:
        """Give the Lease up (an empty holder) so a standby takes over at once."""
        with self._lock:
            if not self._leading:
                return
            self._leading = False  # voluntary: not a loss, so no on_stopped_leading
        try:
            lease = self._kube.get(LEASES, self._config.namespace, self._config.name)
            spec = lease.setdefault("spec", {})
            if spec.get("holderIdentity") == self._config.identity:
                spec["holderIdentity"] = ""
                self._kube.replace(LEASES, lease)
        except ApiError as error:
            log.warning("lease %s: could not release: %s", self._config.name, error)

    # -- internals -----------------------------------------------------------------

    def _within_renew_deadline(self, now: datetime) -> bool:
        deadline = timedelta(seconds=self._config.renew_deadline)
        return self._renewed_at is not None and now - self._renewed_at < deadline

    def _set_leading(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        log.info(
            "%s %s the lease %s/%s",
            self._config.identity,
            "acquired" if leading else "lost",
            self._config.namespace,
            self._config.name,
        )
        (self._on_started if leading else self._on_stopped)()

    def _spec(self, now: datetime, previous: dict[str, Any]) -> dict[str, Any]:
        ours = previous.get("holderIdentity") == self._config.identity
        transitions = int(previous.get("leaseTransitions") or 0)
        return {
            **previous,
            "holderIdentity": self._config.identity,
            "leaseDurationSeconds": max(1, round(self._config.lease_duration)),
            "acquireTime": previous.get("acquireTime") if ours else _micro_time(now),
            "renewTime": _micro_time(now),
            "leaseTransitions": transitions if ours or not previous else transitions + 1,
        }

    def _try_acquire_or_renew(self, now: datetime) -> bool:
        config = self._config
        lease = self._kube.find(LEASES, config.namespace, config.name)
        if lease is None:
            try:
                self._kube.create(LEASES, self._new_lease(now))
            except (AlreadyExists, Conflict):
                return False
            self._observe((config.identity, _micro_time(now)), now)
            return True
        spec: dict[str, Any] = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        self._observe((holder, str(spec.get("renewTime") or "")), now)
        if holder and holder != config.identity and not self._expired(spec, now):
            if self._leading:
                # Someone else holds it now: we lost it, whatever our deadline says.
                self._renewed_at = None
            return False
        lease["spec"] = self._spec(now, spec)
        try:
            self._kube.replace(LEASES, lease)
        except Conflict:
            return False
        self._observe((config.identity, lease["spec"]["renewTime"]), now)
        return True

    def _observe(self, record: tuple[str, str], now: datetime) -> None:
        if record != self._observed:
            self._observed, self._observed_at = record, now

    def _expired(self, spec: dict[str, Any], now: datetime) -> bool:
        duration = timedelta(seconds=float(spec.get("leaseDurationSeconds") or 0))
        # Judged from when we saw the holder's last renewal, not from its renewTime:
        # the holder's clock may be skewed against ours.
        assert self._observed_at is not None
        return now >= self._observed_at + duration

    def _new_lease(self, now: datetime) -> Obj:
        return {
            "apiVersion": LEASES.api_version,
            "kind": LEASES.kind,
            "metadata": {"name": self._config.name, "namespace": self._config.namespace},
            "spec": self._spec(now, {}),
        }
