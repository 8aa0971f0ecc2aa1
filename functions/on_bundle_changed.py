"""on-bundle-changed: trust-manager's Bundle (CA certificates synced to namespaces).

Input: Knative ApiServerSource CloudEvents for trust.cert-manager.io/v1alpha1 Bundles.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.handling import handle_object_event
from shared.trust.handlers import on_bundle_event


@functions_framework.cloud_event
def on_bundle_changed(event: CloudEvent) -> None:
    handle_object_event("on-bundle-changed", event, on_bundle_event)
