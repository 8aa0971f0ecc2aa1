"""on-challenge-ready: Order and Challenge changes drive the ACME workflow.

Creates the CA's order, presents and accepts challenges (HTTP-01, DNS-01), finalizes
and stores the certificate on the Order. Input: Knative ApiServerSource CloudEvents.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.acmeflow.handlers import on_acme_event
from shared.handling import handle_object_event


@functions_framework.cloud_event
def on_challenge_ready(event: CloudEvent) -> None:
    handle_object_event("on-challenge-ready", event, on_acme_event)
