"""Round trip of each DNS-01 provider against its local server: Present, the
authoritative self-check (the value visible in DNS), CleanUp.

Not a test: prints figures. Every provider is built from its solver block through
the registry, as an issuer would; DNS is the e2e fake that serves each API's state
(and BIND9 itself for rfc2136, when `named` is installed).

    .venv/bin/python -m tests.bench.bench_dns01 [--rounds 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import kubernetes.client as k8s

from shared.dns01 import resolver
from shared.dns01.base import DNS01Provider, challenge_record_name
from shared.dns01.registry import provider_for
from shared.dns01.webhook import post_via
from shared.kube.client import Kube
from tests.e2e.providers.authoritative import AuthoritativeDNS, RecordSource, Zone
from tests.e2e.providers.fake_acmedns import FakeAcmeDNS
from tests.e2e.providers.fake_clouddns import TOKEN_PATH, FakeCloudDNS, service_account_json
from tests.e2e.providers.fake_cloudflare import PREFIX, FakeCloudflare
from tests.e2e.providers.fake_route53 import start_moto
from tests.e2e.providers.fake_webhook import GROUP, SOLVER, FakeWebhook
from tests.e2e.providers.httpfake import JsonServer
from tests.e2e.servers import ZONE, start_bind9

ORIGIN = f"{ZONE}."
DIGEST_LENGTH = 43
WARM_UP = 10**6


@dataclasses.dataclass(frozen=True)
class Setup:
    provider: DNS01Provider
    nameserver: tuple[str, int]
    source: RecordSource | None = None  # None: the nameserver is the real thing (BIND9)
    cnames: dict[str, str] = dataclasses.field(default_factory=dict)  # set up by the "user"


def _secrets(table: dict[tuple[str, str], bytes]) -> Callable[[str, str], bytes]:
    return lambda name, key: table[(name, key)]


@contextmanager
def _json_fake(route: Callable[..., object]) -> Iterator[JsonServer]:
    server = JsonServer(route).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def _domain(index: int) -> str:
    return f"b{index}.{ZONE}"


def setups(stack: ExitStack, dns: AuthoritativeDNS, *, rounds: int) -> Iterator[tuple[str, Setup]]:
    local = ("127.0.0.1", dns.port)

    named = shutil.which("named") or (
        "/usr/sbin/named" if os.path.exists("/usr/sbin/named") else None
    )
    if named:
        bind9 = start_bind9(
            named=named, directory=Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        stack.callback(bind9.stop)
        rfc2136 = provider_for(
            {
                "rfc2136": {
                    "nameserver": bind9.address,
                    "tsigKeyName": bind9.tsig_key_name,
                    "tsigAlgorithm": bind9.tsig_algorithm,
                    "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
                }
            },
            read_secret=_secrets({("tsig", "secret"): bind9.tsig_secret.encode()}),
        )
        yield "rfc2136", Setup(provider=rfc2136, nameserver=("127.0.0.1", bind9.port))

    moto_server, moto = start_moto()
    stack.callback(moto_server.stop)
    os.environ["AWS_ENDPOINT_URL"] = moto.url
    route53 = provider_for(
        {
            "route53": {
                "region": "eu-west-1",
                "accessKeyID": "AKIDEXAMPLE",
                "secretAccessKeySecretRef": {"name": "aws", "key": "secret"},
            }
        },
        read_secret=_secrets({("aws", "secret"): b"bench-secret"}),
    )
    yield "route53", Setup(provider=route53, nameserver=local, source=moto)

    webhook = FakeWebhook()
    server = stack.enter_context(_json_fake(webhook.route))
    kube = Kube(k8s.Configuration(host=server.url))
    stack.callback(kube.close)
    provider = provider_for(
        {"webhook": {"groupName": GROUP, "solverName": SOLVER, "config": {}}},
        read_secret=_secrets({}),
    )
    provider = dataclasses.replace(provider, post=functools.partial(post_via, kube))  # type: ignore[type-var]
    yield "webhook", Setup(provider=provider, nameserver=local, source=webhook)

    cloudflare = FakeCloudflare(zones={ZONE: "zone-test"}, token="bench-token")
    server = stack.enter_context(_json_fake(cloudflare.route))
    provider = provider_for(
        {"cloudflare": {"apiTokenSecretRef": {"name": "cf", "key": "token"}}},
        read_secret=_secrets({("cf", "token"): b"bench-token"}),
    )
    provider = dataclasses.replace(provider, api_url=server.url + PREFIX)  # type: ignore[type-var]
    yield "cloudflare", Setup(provider=provider, nameserver=local, source=cloudflare)

    acmedns = FakeAcmeDNS(auth_domain=f"auth.{ZONE}")
    server = stack.enter_context(_json_fake(acmedns.route))
    registration = acmedns.register("bench")
    account = {
        "username": registration.username,
        "password": registration.password,
        "subdomain": registration.subdomain,
        "fulldomain": registration.fulldomain,
    }
    domains = [_domain(i) for i in (WARM_UP, *range(rounds))]
    provider = provider_for(
        {"acmeDNS": {"host": server.url, "accountSecretRef": {"name": "a", "key": "j"}}},
        read_secret=_secrets({("a", "j"): json.dumps(dict.fromkeys(domains, account)).encode()}),
    )
    cnames = {challenge_record_name(d): f"{registration.fulldomain}." for d in domains}
    yield "acmeDNS", Setup(provider=provider, nameserver=local, source=acmedns, cnames=cnames)

    clouddns = FakeCloudDNS(project="bench", zones={"example-test": ORIGIN})
    server = stack.enter_context(_json_fake(clouddns.route))
    key = service_account_json("bench", token_uri=server.url + TOKEN_PATH)
    provider = provider_for(
        {"cloudDNS": {"project": "bench", "serviceAccountSecretRef": {"name": "g", "key": "k"}}},
        read_secret=_secrets({("g", "k"): key}),
    )
    provider = dataclasses.replace(provider, api_endpoint=server.url, poll_interval=0.01)  # type: ignore[type-var]
    yield "cloudDNS", Setup(provider=provider, nameserver=local, source=clouddns)


def round_trip(setup: Setup, index: int) -> float:
    fqdn = challenge_record_name(_domain(index))
    value = f"{index:0{DIGEST_LENGTH}d}"
    started = time.perf_counter()
    setup.provider.present(fqdn=fqdn, zone=ORIGIN, value=value)
    seen = resolver.propagated(
        fqdn, value, nameservers=[setup.nameserver], authoritative_port=setup.nameserver[1]
    )
    setup.provider.cleanup(fqdn=fqdn, zone=ORIGIN, value=value)
    elapsed = time.perf_counter() - started
    if not seen:
        raise SystemExit(f"{fqdn}: {value} was not visible in DNS after Present")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    dns = AuthoritativeDNS(Zone(origin=ORIGIN)).start()
    print(
        f"{'provider':<12}{'p50 ms':>10}{'p90 ms':>10}{'max ms':>10}   (Present + self-check + CleanUp, {args.rounds} rounds)"
    )
    with ExitStack() as stack:
        stack.callback(dns.stop)
        for name, setup in setups(stack, dns, rounds=args.rounds):
            if setup.source is not None:
                dns.zone.source = setup.source
            dns.zone.cnames.clear()
            dns.zone.cnames.update(setup.cnames)
            round_trip(setup, WARM_UP)  # warm-up: connections, token exchange, zone lookup caches
            times = sorted(round_trip(setup, i) for i in range(args.rounds))
            p50 = statistics.median(times) * 1000
            p90 = times[min(len(times) - 1, int(len(times) * 0.9))] * 1000
            print(f"{name:<12}{p50:>10.1f}{p90:>10.1f}{times[-1] * 1000:>10.1f}")


if __name__ == "__main__":
    main()
