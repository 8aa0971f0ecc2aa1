"""`certainly run`: watcher + scheduler + the functions, in one process, against any API.

Functions are reached by name through their functions-framework apps, exactly as a
Knative Trigger or an OpenFaaS gateway would reach them; only the transport differs.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from cloudevents.http import CloudEvent

from events.delivery import Dispatcher
from events.health import Health
from events.http01 import ChallengeAnswers, HTTP01Responder
from events.leader import LeaderElector, LeaseConfig
from events.routes import ON_EXPIRY_TICK, ROUTES, WATCHED
from events.scheduler import Scheduler
from events.sinks import HttpSink, InProcessSink, Sink
from events.watcher import Watcher
from shared import runtime
from shared.clock import Clock, SystemClock
from shared.config import Config
from shared.issuance.requests import CERTIFICATE_NAME
from shared.kube.client import Kube
from shared.metrics import Scrape, scrape

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    kubeconfig: Path | None = None
    tick_interval: float = 60.0
    workers: int = 4
    # target -> URL: deliver to a deployed function over HTTP instead of in-process
    remote: tuple[tuple[str, str], ...] = ()
    cluster_resource_namespace: str | None = None
    # HOST:PORT to serve HTTP-01 challenges on (the local solver); None: solver Pods
    http01_solver_address: str | None = None
    dns01_recursive_nameservers: tuple[str, ...] = ()
    dns01_recursive_nameservers_only: bool | None = None  # None: the environment decides
    # Only watch and relay: every routed kind goes to a --function-url, no ticks
    # (OpenFaaS: the cron-connector ticks).
    watch_only: bool = False
    # Act only while holding this Lease (two replicas of `certainly run`).
    leader: LeaseConfig | None = None
    # On shutdown, how long deliveries under way may take; queued ones are dropped.
    # Well inside the Deployments' terminationGracePeriodSeconds (60).
    shutdown_grace: float = 20.0


def partition_key(event: CloudEvent) -> str:
    """Changes to a Certificate's request or Secret queue behind the Certificate itself.

    One Certificate's events are then handled in order by one worker, and a burst of
    them (request created, signed, Secret written) coalesces into one reconcile.
    """
    attributes = event.get_attributes()
    kind, namespace = attributes.get("kind"), attributes.get("namespace")
    data = event.data if isinstance(event.data, dict) else {}
    owner = ((data.get("metadata") or {}).get("annotations") or {}).get(CERTIFICATE_NAME)
    if kind in ("CertificateRequest", "Secret") and owner:
        return f"Certificate/{namespace}/{owner}"
    return f"{kind}/{namespace}/{attributes.get('name')}"


class Runner:
    def __init__(self, options: RunOptions, *, clock: Clock | None = None) -> None:
        if options.watch_only and (
            missing := sorted(set(ROUTES.values()) - dict(options.remote).keys())
        ):
            raise ValueError(f"watch only: no --function-url for {', '.join(missing)}")
        # Each client re-reads the kubeconfig when the server's identity changes.
        self.kube = Kube.from_kubeconfig(options.kubeconfig, user_agent="certainly/watcher")
        functions_kube = Kube.from_kubeconfig(options.kubeconfig, user_agent="certainly/functions")
        config = Config.from_environment()
        if options.cluster_resource_namespace:
            config = dataclasses.replace(
                config, cluster_resource_namespace=options.cluster_resource_namespace
            )
        if options.http01_solver_address:
            config = dataclasses.replace(
                config, http01_solver_address=options.http01_solver_address
            )
        if options.dns01_recursive_nameservers:
            config = dataclasses.replace(
                config, dns01_recursive_nameservers=options.dns01_recursive_nameservers
            )
        if options.dns01_recursive_nameservers_only is not None:
            config = dataclasses.replace(
                config, dns01_recursive_nameservers_only=options.dns01_recursive_nameservers_only
            )
        self.http01: HTTP01Responder | None = None
        if config.http01_solver_address:
            self.http01 = HTTP01Responder(config.http01_solver_address, ChallengeAnswers(self.kube))
        self.context = runtime.Context.build(functions_kube, clock=clock, config=config)
        runtime.install(self.context)
        remote = dict(options.remote)
        targets = {*ROUTES.values(), ON_EXPIRY_TICK}
        if options.watch_only:
            targets = set(ROUTES.values())
        self.options = options
        self.health = Health()
        self.acting = threading.Event()
        self.lost_leadership = False
        self._leader_stop = threading.Event()
        self._leader_thread: threading.Thread | None = None
        self.leader: LeaderElector | None = None
        if options.leader is not None:
            self.leader = LeaderElector(
                Kube.from_kubeconfig(options.kubeconfig, user_agent="certainly/leader"),
                options.leader,
                clock=SystemClock(),
                on_started_leading=self._act,
                on_stopped_leading=self._lost_leadership,
            )
        self.sinks: dict[str, Sink] = {
            t: HttpSink(remote[t]) if t in remote else InProcessSink(t) for t in sorted(targets)
        }
        self.stop = threading.Event()
        self.dispatcher = Dispatcher(workers=options.workers)
        source = self.kube.host
        self.watcher = Watcher(
            self.kube, watched=WATCHED, emit=self.route, source=source, stop=self.stop
        )
        self.scheduler = Scheduler(
            interval=options.tick_interval,
            emit=self.tick,
            source=f"{source}#certainly-scheduler",
            stop=self.stop,
        )

    def route(self, event: CloudEvent) -> None:
        target = ROUTES.get(str(event.get_attributes().get("kind")))
        if target is not None:
            self.dispatcher.submit(self.sinks[target], event, key=partition_key(event))

    def scrape(self, accept: str | None = None) -> Scrape:
        """GET /metrics: the Certificate series only while this replica acts.

        A standby (leader election) exports just the clock, so scraping both replicas
        does not double every Certificate's series, as with cert-manager's standby.
        """
        return scrape(self.context, accept=accept, include_certificates=self.acting.is_set())

    def tick(self, event: CloudEvent) -> None:
        self.dispatcher.submit(self.sinks[ON_EXPIRY_TICK], event)

    def start(self) -> None:
        self.health.set_ready()
        if self.leader is None:
            self._act()
            return
        self._leader_thread = threading.Thread(
            target=self.leader.run, args=(self._leader_stop,), name="leader", daemon=True
        )
        self._leader_thread.start()

    def _lost_leadership(self) -> None:
        # Watcher and scheduler cannot restart: stop acting; `certainly run` exits and
        # the Pod restarts as a candidate.
        log.warning("lost the lease: stopping")
        self.lost_leadership = True
        self.stop.set()

    def _act(self) -> None:
        if self.stop.is_set():
            return
        if self.http01 is not None:
            self.http01.start()
        self.watcher.start()
        if not self.options.watch_only:
            self.scheduler.start()
        self.acting.set()
        log.info("certainly is running: watching %d kinds", len(WATCHED))

    def close(self) -> None:
        """Stop watching and ticking, then let deliveries under way finish."""
        self.health.set_draining()
        self.stop.set()
        self.dispatcher.shutdown(grace=self.options.shutdown_grace)
        if self.acting.is_set():
            self.watcher.join(timeout=2)
            if not self.options.watch_only:
                self.scheduler.join(timeout=2)
            if self.http01 is not None:
                self.http01.stop()
        # Only now, with nothing in flight, may a standby take over.
        self._leader_stop.set()
        if self._leader_thread is not None:
            self._leader_thread.join(timeout=10)
        runtime.install(None)
