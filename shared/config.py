"""Settings every function reads from its environment, with cert-manager's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

CLUSTER_RESOURCE_NAMESPACE_ENV: Final = "CERTAINLY_CLUSTER_RESOURCE_NAMESPACE"
HTTP01_SOLVER_ADDRESS_ENV: Final = "CERTAINLY_HTTP01_SOLVER_ADDRESS"
DNS01_RECURSIVE_NAMESERVERS_ENV: Final = "CERTAINLY_DNS01_RECURSIVE_NAMESERVERS"
DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV: Final = "CERTAINLY_DNS01_RECURSIVE_NAMESERVERS_ONLY"



def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


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
            dns01_recursive_nameservers_only=_flag(DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV),
        )
