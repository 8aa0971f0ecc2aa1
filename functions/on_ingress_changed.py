"""on-ingress-changed: the ingress-shim (a Certificate per TLS secretName of an annotated Ingress).

Input: Knative ApiServerSource CloudEvents for networking.k8s.io/v1 Ingresses.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.handling import handle_object_event
from shared.ingress.handlers import on_ingress_event


@functions_framework.cloud_event
def on_ingress_changed(event: CloudEvent) -> None:
    handle_object_event("on-ingress-changed", event, on_ingress_event)
