"""The `certainly` command line.

  certainly local up [--kubeconfig PATH] [--port N] [--state FILE] [--api-only]
                     [--event-ttl DURATION]
  certainly run [--kubeconfig PATH] [--leader-elect] [--health-port N]
  certainly watch --function-url TARGET=URL... [--health-port N]
  certainly serve [TARGET] [--port N]

`local up` serves the embedded Kubernetes API (and, unless --api-only, runs the
functions against it); `run` runs watcher + scheduler + functions against any API;
`watch` only watches and POSTs each change to the deployed functions (OpenFaaS);
`serve` runs one function's functions-framework server (the container entrypoint;
TARGET defaults to $FUNCTION_TARGET, the port to $PORT).

Every flag an operator sets in a manifest has an environment variable too
(infra/README.md, "Configuration"); the flag wins over the variable.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Final

import functions_framework

from events.health import Health, HealthServer, add_health_routes
from events.leader import LeaseConfig
from events.localapi.eventttl import DEFAULT_EVENT_TTL
from events.localapi.persistence import StateError
from events.localapi.server import LocalAPI
from events.runner import Runner, RunOptions
from events.serving import GracefulServer
from events.sinks import source_of
from shared import logs
from shared.certificates.durations import parse_duration
from shared.config import Config

DEFAULT_KUBECONFIG = Path(".certainly/kubeconfig")
TICK_INTERVAL_ENV: Final = "CERTAINLY_TICK_INTERVAL"
DEFAULT_TICK_INTERVAL: Final = "1m"

log = logging.getLogger("certainly")


def _stop_on_signals(stop: threading.Event) -> threading.Event:
    """Make SIGINT/SIGTERM set `stop` instead of ending the process where it stands."""

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("received signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _wait_for_signal(stop: threading.Event | None = None) -> None:
    """Block until SIGINT/SIGTERM (or until `stop` is set by someone else)."""
    _stop_on_signals(stop or threading.Event()).wait()


def interval(text: str) -> float:
    """Seconds in a Go duration (`30s`, `1m`, `1m30s`); a bare number is seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = parse_duration(text.strip()).total_seconds()
    if not 0 < seconds < math.inf:
        raise ValueError(f"interval {text!r} must be a positive duration")
    return seconds


def _interval_arg(text: str) -> float:
    try:
        return interval(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{error} (--tick-interval or ${TICK_INTERVAL_ENV})"
        ) from None


def _duration_arg(text: str) -> float:
    try:
        return interval(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_options(args: argparse.Namespace, kubeconfig: Path | None) -> RunOptions:
    remote: list[tuple[str, str]] = []
    for item in args.function_url or ():
        target, _, url = item.partition("=")
        remote.append((target, url))
    return RunOptions(
        kubeconfig=kubeconfig,
        tick_interval=args.tick_interval,
        workers=args.workers,
        remote=tuple(remote),
        cluster_resource_namespace=args.cluster_resource_namespace,
        http01_solver_address=args.http01_solver_address,
        dns01_recursive_nameservers=tuple(
            n.strip() for n in (args.dns01_recursive_nameservers or "").split(",") if n.strip()
        ),
        dns01_recursive_nameservers_only=args.dns01_recursive_nameservers_only,
        watch_only=args.command == "watch",
        leader=_lease(args),
    )


def _lease(args: argparse.Namespace) -> LeaseConfig | None:
    if not getattr(args, "leader_elect", False):
        return None
    return LeaseConfig(
        namespace=args.lease_namespace,
        name=args.lease_name,
        identity=os.environ.get("POD_NAME") or f"{os.uname().nodename}-{os.getpid()}",
    )


def cmd_local_up(args: argparse.Namespace) -> int:
    try:
        api = LocalAPI(
            port=args.port, state_file=args.state, event_ttl=timedelta(seconds=args.event_ttl)
        )
    except StateError as error:
        print(f"certainly local up: {error}", file=sys.stderr)  # one line, no traceback
        return 1
    # From here a signal stops us cleanly (the journal folded into the state file),
    # even one that comes while we start.
    stop = _stop_on_signals(threading.Event())
    api.start()
    kubeconfig: Path = args.kubeconfig
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    api.write_kubeconfig(kubeconfig)
    runner = None
    try:
        if not args.api_only:
            runner = Runner(run_options(args, kubeconfig))
            runner.start()
        stop.wait()
    finally:
        if runner is not None:
            runner.close()
        api.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`run` and `watch`; exits 1 when it stopped because it lost the leader Lease."""
    runner = Runner(run_options(args, args.kubeconfig))
    # Before anything reports ready: a SIGTERM that comes as soon as the probes answer
    # (or the Lease is taken) is a clean stop, not the default action's abrupt end.
    _stop_on_signals(runner.stop)
    probes = (
        HealthServer(runner.health, port=args.health_port, metrics=runner.scrape)
        if args.health_port
        else None
    )
    if probes is not None:
        probes.start()
    runner.start()
    try:
        runner.stop.wait()
    finally:
        runner.close()
        if probes is not None:
            probes.stop()
    return 1 if runner.lost_leadership else 0


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.target:
        raise SystemExit("certainly serve: give TARGET or set FUNCTION_TARGET")
    source, function = source_of(args.target)
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target=function, source=source
    )
    health = Health()
    add_health_routes(app, health)
    server = GracefulServer(app, host=args.host, port=args.port, health=health)
    server.start()
    log.info("serving %s on %s:%d", args.target, args.host, server.port)
    try:
        _wait_for_signal()
    finally:
        server.shutdown()
    return 0


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tick-interval",
        type=_interval_arg,
        default=os.environ.get(TICK_INTERVAL_ENV) or DEFAULT_TICK_INTERVAL,
        metavar="DURATION",
        help=f"time between sweeps: 30s, 1m, 1m30s; a bare number is seconds "
        f"(default ${TICK_INTERVAL_ENV} or {DEFAULT_TICK_INTERVAL})",
    )
    parser.add_argument("--workers", type=int, default=4, help="concurrent deliveries")
    parser.add_argument(
        "--cluster-resource-namespace",
        default=None,
        help="namespace ClusterIssuers read Secrets from (default cert-manager)",
    )
    parser.add_argument(
        "--http01-solver-address",
        metavar="HOST:PORT",
        default=None,
        help="serve HTTP-01 challenges here (the local solver) instead of via solver Pods",
    )
    parser.add_argument(
        "--dns01-recursive-nameservers",
        metavar="HOST:PORT[,...]",
        default=None,
        help="nameservers for DNS-01 zone lookup and self-checks",
    )
    parser.add_argument(
        "--dns01-recursive-nameservers-only",
        action="store_true",
        default=None,
        help="self-check DNS-01 records with those nameservers only, "
        "not with each authoritative nameserver too",
    )
    parser.add_argument(
        "--function-url",
        action="append",
        metavar="TARGET=URL",
        help="deliver to a deployed function over HTTP instead of in-process",
    )


def _add_process_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--health-port",
        type=int,
        default=0,
        help="serve /healthz, /readyz and /metrics here (0: off)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certainly", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--log-level",
        default=None,
        help=f"DEBUG, INFO, WARNING or ERROR (default ${logs.LOG_LEVEL_ENV} or INFO)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="the local emulator")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    up = local_commands.add_parser("up", help="serve the local Kubernetes API (and run certainly)")
    up.add_argument("--kubeconfig", type=Path, default=DEFAULT_KUBECONFIG)
    up.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    up.add_argument("--state", type=Path, default=None, help="keep objects in this file")
    up.add_argument("--api-only", action="store_true", help="serve only the API")
    up.add_argument(
        "--event-ttl",
        type=_duration_arg,
        default=DEFAULT_EVENT_TTL.total_seconds(),
        metavar="DURATION",
        help="how long Events are kept after their last write, as kube-apiserver's "
        "--event-ttl (default 1h)",
    )
    _add_run_flags(up)
    up.set_defaults(handler=cmd_local_up)

    run = commands.add_parser("run", help="watcher + scheduler + functions against an API")
    run.add_argument("--kubeconfig", type=Path, default=None)
    _add_run_flags(run)
    _add_process_flags(run)
    run.add_argument(
        "--leader-elect", action="store_true", help="act only while holding the leader Lease"
    )
    run.add_argument("--lease-name", default="certainly")
    run.add_argument("--lease-namespace", default=os.environ.get("POD_NAMESPACE") or "cert-manager")
    run.set_defaults(handler=cmd_run)

    watch = commands.add_parser(
        "watch", help="watch and POST each change to deployed functions (no ticks)"
    )
    watch.add_argument("--kubeconfig", type=Path, default=None)
    _add_run_flags(watch)
    _add_process_flags(watch)
    watch.set_defaults(handler=cmd_run)

    serve = commands.add_parser("serve", help="serve one function over HTTP")
    serve.add_argument(
        "target",
        nargs="?",
        default=os.environ.get("FUNCTION_TARGET"),
        help="module:function, e.g. functions.on_expiry_tick:on_expiry_tick",
    )
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 -- a container listens on all
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080))
    serve.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # A bad setting stops the process here, not at the first event it handles.
        logs.level_from(args.log_level)
        Config.from_environment()
    except ValueError as error:
        parser.error(str(error))
    logs.setup(args.log_level)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
