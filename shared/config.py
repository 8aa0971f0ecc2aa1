"""Settings every function reads from its environment, with cert-manager's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

CLUSTER_RESOURCE_NAMESPACE_ENV: Final = "CERTAINLY_CLUSTER_RESOURCE_NAMESPACE"
HTTP01_SOLVER_ADDRESS_ENV: Final = "CERTAINLY_HTTP01_SOLVER_ADDRESS"
DNS01_RECURSIVE_NAMESERVERS_ENV: Final = "CERTAINLY_DNS01_RECURSIVE_NAMESERVERS"
DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV: Final = "CERTAINLY_DNS01_RECURSIVE_NAMESERVERS_ONLY"
METRICS_ENV: Final = "CERTAINLY_METRICS"
TRUST_NAMESPACE_ENV: Final = "CERTAINLY_TRUST_NAMESPACE"

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def env_flag(name: str, *, default: bool) -> bool:
    """A boolean setting: true/false, 1/0, yes/no, on/off; unset or empty: the default."""
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"{name}={os.environ[name]!r}: expected true or false")


@dataclass(frozen=True)
class Config:
    # Where ClusterIssuers read their Secrets (cert-manager's --cluster-resource-namespace).
    cluster_resource_namespace: str = "cert-manager"
    # HOST:PORT of the local HTTP-01 responder (events/http01.py): when set, HTTP-01
    # challenges are served there from Challenge objects instead of by solver Pods.
    http01_solver_address: str | None = None
    # HOST:PORT nameservers for DNS-01 zone lookup and the propagation self-check.
    dns01_recursive_nameservers: tuple[str, ...] = ()
    # The DNS-01 self-check asks only those, not also each authoritative nameserver of
    # the zone (cert-manager's --dns01-recursive-nameservers-only).
    dns01_recursive_nameservers_only: bool = False
    # Serve GET /metrics (cert-manager's Prometheus metrics), on by default as in cert-manager.
    metrics: bool = True
    # Where Bundles read their ConfigMap and Secret sources (trust-manager's --trust-namespace).
    trust_namespace: str = "cert-manager"

    @classmethod
    def from_environment(cls) -> Config:
        return cls(
            cluster_resource_namespace=os.environ.get(CLUSTER_RESOURCE_NAMESPACE_ENV)
            or "cert-manager",
            http01_solver_address=os.environ.get(HTTP01_SOLVER_ADDRESS_ENV) or None,
            dns01_recursive_nameservers=tuple(
                n.strip()
                for n in os.environ.get(DNS01_RECURSIVE_NAMESERVERS_ENV, "").split(",")
                if n.strip()
            ),
            dns01_recursive_nameservers_only=env_flag(
                DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, default=False
            ),
            metrics=env_flag(METRICS_ENV, default=True),
            trust_namespace=os.environ.get(TRUST_NAMESPACE_ENV) or "cert-manager",
        )
