"""on-certificate-created: Certificate, CertificateRequest and owned Secret changes.

Validates, resolves the issuer, issues with synchronous issuers, writes the Secret
and conditions. Input: Knative ApiServerSource CloudEvents (add/update/delete).
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.handling import handle_object_event
from shared.routing import on_certificate_event


@functions_framework.cloud_event
def on_certificate_created(event: CloudEvent) -> None:
    handle_object_event("on-certificate-created", event, on_certificate_event)
