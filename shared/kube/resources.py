"""The Kubernetes resources certainly reads and writes, and their REST paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base


CERTIFICATES: Final = Resource("cert-manager.io", "v1", "certificates", "Certificate")
CERTIFICATE_REQUESTS: Final = Resource(
    "cert-manager.io", "v1", "certificaterequests", "CertificateRequest"
)
ISSUERS: Final = Resource("cert-manager.io", "v1", "issuers", "Issuer")
CLUSTER_ISSUERS: Final = Resource(
    "cert-manager.io", "v1", "clusterissuers", "ClusterIssuer", namespaced=False
)
ORDERS: Final = Resource("acme.cert-manager.io", "v1", "orders", "Order")
CHALLENGES: Final = Resource("acme.cert-manager.io", "v1", "challenges", "Challenge")
BUNDLES: Final = Resource("trust.cert-manager.io", "v1alpha1", "bundles", "Bundle", False)
SECRETS: Final = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS: Final = Resource("", "v1", "configmaps", "ConfigMap")
EVENTS: Final = Resource("", "v1", "events", "Event")
NAMESPACES: Final = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
INGRESSES: Final = Resource("networking.k8s.io", "v1", "ingresses", "Ingress")
LEASES: Final = Resource("coordination.k8s.io", "v1", "leases", "Lease")

ALL: Final = (
    CERTIFICATES,
    CERTIFICATE_REQUESTS,
    ISSUERS,
    CLUSTER_ISSUERS,
    ORDERS,
    CHALLENGES,
    BUNDLES,
    SECRETS,
    CONFIGMAPS,
    EVENTS,
    NAMESPACES,
    INGRESSES,
    LEASES,
)
_BY_KIND: Final = {(r.group, r.kind): r for r in ALL}


def resource_for(api_version: str, kind: str) -> Resource | None:
    """The resource an object of (apiVersion, kind) lives in, if certainly knows it."""
    group = api_version.rpartition("/")[0]
    return _BY_KIND.get((group, kind))
