"""Which function each kind of object change goes to, by name, as a Knative Trigger would."""

from __future__ import annotations

from typing import Final

from shared.kube.resources import (
    BUNDLES,
    CERTIFICATE_REQUESTS,
    CERTIFICATES,
    CHALLENGES,
    CLUSTER_ISSUERS,
    INGRESSES,
    ISSUERS,
    ORDERS,
    SECRETS,
    Resource,
)

ON_CERTIFICATE_CREATED: Final = "functions.on_certificate_created:on_certificate_created"
ON_ISSUER_CHANGED: Final = "functions.on_issuer_changed:on_issuer_changed"
ON_EXPIRY_TICK: Final = "functions.on_expiry_tick:on_expiry_tick"
ON_CHALLENGE_READY: Final = "functions.on_challenge_ready:on_challenge_ready"
ON_INGRESS_CHANGED: Final = "functions.on_ingress_changed:on_ingress_changed"
ON_BUNDLE_CHANGED: Final = "functions.on_bundle_changed:on_bundle_changed"

# kind -> function target
ROUTES: Final[dict[str, str]] = {
    "Certificate": ON_CERTIFICATE_CREATED,
    "CertificateRequest": ON_CERTIFICATE_CREATED,
    "Secret": ON_CERTIFICATE_CREATED,
    "Issuer": ON_ISSUER_CHANGED,
    "ClusterIssuer": ON_ISSUER_CHANGED,
    "Order": ON_CHALLENGE_READY,
    "Challenge": ON_CHALLENGE_READY,
    "Ingress": ON_INGRESS_CHANGED,
    "Bundle": ON_BUNDLE_CHANGED,
}


# What the watcher watches, with a label selector where only some objects concern us:
# Secrets we manage carry cert-manager's `controller.cert-manager.io/fao` label.
WATCHED: Final[tuple[tuple[Resource, str | None], ...]] = (
    (ISSUERS, None),
    (CLUSTER_ISSUERS, None),
    (CERTIFICATES, None),
    (CERTIFICATE_REQUESTS, None),
    (ORDERS, None),
    (CHALLENGES, None),
    (INGRESSES, None),
    (BUNDLES, None),
    (SECRETS, "controller.cert-manager.io/fao=true,!cert-manager.io/next-private-key"),
)
