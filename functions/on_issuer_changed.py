"""on-issuer-changed: Issuer / ClusterIssuer changes -> Ready condition, waiting Certificates."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.handling import handle_object_event
from shared.routing import on_issuer_event


@functions_framework.cloud_event
def on_issuer_changed(event: CloudEvent) -> None:
    handle_object_event("on-issuer-changed", event, on_issuer_event)
