"""Settings every function reads from its environment, with cert-manager's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

CLUSTER_RESOURCE_NAMESPACE_ENV: Final = "CERTAINLY_CLUSTER_RESOURCE_NAMESPACE"


@dataclass(frozen=True)
class Config:
    # Where ClusterIssuers read their Secrets (cert-manager's --cluster-resource-namespace).
    cluster_resource_namespace: str = "cert-manager"

    @classmethod
    def from_environment(cls) -> Config:
        return cls(
            cluster_resource_namespace=os.environ.get(CLUSTER_RESOURCE_NAMESPACE_ENV)
            or "cert-manager",
        )
