"""Benchmark: ACME issuance with real Pebble through the whole system on the local API.

Not a test: it prints figures.
    .venv/bin/python -m tests.bench.bench_acme [--count 20]

Starts BIND9, Pebble (resolving through BIND9), the embedded Kubernetes API and
`certainly run` (watcher, scheduler, functions in-process, the local HTTP-01
responder), registers one ClusterIssuer per challenge type, then applies
Certificates one at a time and prints for HTTP-01 and for DNS-01 (rfc2136, a
wildcard plus its apex: two authorizations)
- apply-to-Ready latency p50/p90/max;
- ACME requests per issued certificate, counted in Pebble's log by endpoint (every
  request its front end handled, including those resent after Pebble's deliberate
  10% badNonce rejections);
- Kubernetes API writes per issued certificate, counted at the local API.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from events.localapi.server import LocalAPI
from events.runner import Runner, RunOptions
from shared.acmeflow import presenters
from shared.kube.client import Kube
from shared.kube.objects import condition_is
from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS, NAMESPACES, SECRETS
from tests.e2e.servers import ZONE, Bind9, Pebble, start_bind9, start_pebble

NAMESPACE = "bench"
RESOURCE_NAMESPACE = "cert-manager"
TIMEOUT = 60.0


def wait_ready(kube: Kube, resource: Any, namespace: str | None, name: str) -> float:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        obj = kube.find(resource, namespace, name)
        if obj is not None and condition_is(obj.get("status") or {}, "Ready"):
            return time.monotonic()
        time.sleep(0.01)
    raise SystemExit(f"{resource.kind} {name} not Ready after {TIMEOUT}s")


def cluster_issuer(name: str, pebble: Pebble, solver: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": name},
        "spec": {
            "acme": {
                "server": pebble.directory_url,
                "email": "bench@example.test",
                "privateKeySecretRef": {"name": f"{name}-account"},
                "caBundle": base64.b64encode(pebble.ca_bundle_pem).decode(),
                "solvers": [solver],
            }
        },
    }


def certificate(name: str, issuer: str, dns_names: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": dns_names,
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
        },
    }


def pebble_requests(pebble: Pebble) -> Counter[str]:
    """Requests Pebble's front end has handled so far, by method and path (ids stripped)."""
    counts: Counter[str] = Counter()
    for line in pebble.log.read_text(errors="replace").splitlines():
        if "-> calling handler()" not in line:
            continue
        method, _, path = line.split(" -> ")[0].split(" ", 3)[-1].partition(" ")
        counts[f"{method} /{path.strip('/').split('/')[0]}"] += 1
    return counts


def run(
    kube: Kube,
    api: LocalAPI,
    pebble: Pebble,
    *,
    label: str,
    issuer: str,
    names: Any,
    count: int,
) -> None:
    latencies: list[float] = []
    requests_before = pebble_requests(pebble)
    api.requests.clear()
    for index in range(count):
        name = f"{label.lower().replace('-', '')}-{index}"
        started = time.monotonic()
        kube.create(CERTIFICATES, certificate(name, issuer, names()))
        latencies.append(wait_ready(kube, CERTIFICATES, NAMESPACE, name) - started)
    acme = pebble_requests(pebble) - requests_before
    writes = Counter(f"{r.verb} {r.resource}" for r in api.requests.writes())
    latencies.sort()
    p90 = latencies[max(0, int(len(latencies) * 0.9) - 1)]
    print(f"{label}: {count} certificates applied one at a time")
    print(
        f"  apply-to-Ready  p50 {statistics.median(latencies) * 1000:.0f} ms"
        f"  p90 {p90 * 1000:.0f} ms  max {latencies[-1] * 1000:.0f} ms"
    )
    print(f"  ACME requests per certificate  {sum(acme.values()) / count:.1f}")
    for key, value in acme.most_common():
        print(f"    {value / count:5.1f}  {key}")
    print(f"  API writes per certificate  {sum(writes.values()) / count:.1f}")
    for key, value in writes.most_common():
        print(f"    {value / count:5.1f}  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    named, pebble_binary = shutil.which("named", path="/usr/sbin:/usr/bin"), shutil.which("pebble")
    if not named or not pebble_binary:
        raise SystemExit("needs BIND9 (named) and pebble: make test installs them")
    with tempfile.TemporaryDirectory(prefix="bench-acme-") as tmp:
        root = Path(tmp)
        bind9: Bind9 = start_bind9(named=named, directory=root / "bind9")
        pebble = start_pebble(
            pebble=pebble_binary, directory=root / "pebble", dns_server=bind9.address
        )
        api = LocalAPI()
        api.start()
        kubeconfig = root / "kubeconfig"
        api.write_kubeconfig(kubeconfig)
        kube = Kube.from_kubeconfig(kubeconfig, user_agent="bench")
        runner: Runner | None = None
        try:
            for ns in (NAMESPACE, RESOURCE_NAMESPACE):
                if kube.find(NAMESPACES, None, ns) is None:  # the local API may seed some
                    kube.create(
                        NAMESPACES,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                    )
            kube.create(
                SECRETS,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "tsig", "namespace": RESOURCE_NAMESPACE},
                    "data": {"secret": base64.b64encode(bind9.tsig_secret.encode()).decode()},
                },
            )
            presenters.authoritative_port = bind9.port  # BIND9 is also the zone's authority
            runner = Runner(
                RunOptions(
                    kubeconfig=kubeconfig,
                    tick_interval=5.0,
                    cluster_resource_namespace=RESOURCE_NAMESPACE,
                    http01_solver_address=f"127.0.0.1:{pebble.http_port}",
                    dns01_recursive_nameservers=(bind9.address,),
                )
            )
            runner.start()
            http01 = {"http01": {"ingress": {"ingressClassName": "nginx"}}}
            rfc2136 = {
                "rfc2136": {
                    "nameserver": bind9.address,
                    "tsigKeyName": bind9.tsig_key_name,
                    "tsigAlgorithm": bind9.tsig_algorithm,
                    "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
                }
            }
            kube.create(CLUSTER_ISSUERS, cluster_issuer("bench-http01", pebble, http01))
            kube.create(CLUSTER_ISSUERS, cluster_issuer("bench-dns01", pebble, {"dns01": rfc2136}))
            wait_ready(kube, CLUSTER_ISSUERS, None, "bench-http01")
            wait_ready(kube, CLUSTER_ISSUERS, None, "bench-dns01")

            def one_name() -> list[str]:
                return [f"h-{secrets.token_hex(4)}.{ZONE}"]

            def wildcard() -> list[str]:
                base = f"d-{secrets.token_hex(4)}.{ZONE}"
                return [f"*.{base}", base]

            run(
                kube,
                api,
                pebble,
                label="HTTP-01",
                issuer="bench-http01",
                names=one_name,
                count=args.count,
            )
            run(
                kube,
                api,
                pebble,
                label="DNS-01",
                issuer="bench-dns01",
                names=wildcard,
                count=args.count,
            )
        finally:
            if runner is not None:
                runner.close()
            kube.close()
            api.stop()
            pebble.stop()
            bind9.stop()


if __name__ == "__main__":
    main()
