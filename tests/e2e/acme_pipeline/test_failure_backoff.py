"""A challenge Pebble rejects: Challenge and Order invalid with Pebble's reason, the Certificate
not Ready with it, an Event, the 1h backoff, and the old Secret kept; after the backoff it
issues."""

from __future__ import annotations

import base64
from datetime import timedelta

import dns.name
import dns.query
import dns.tsigkeyring
import dns.update
import pytest
from cryptography import x509

from events.routes import ON_CERTIFICATE_CREATED
from events.sinks import InProcessSink
from shared.contracts import object_event
from shared.kube.resources import CHALLENGES, CLUSTER_ISSUERS, ORDERS
from tests.e2e.acme_pipeline.conftest import (
    CERTIFICATES,
    SECRETS,
    Pipeline,
    condition,
    http01_solvers,
    ready,
)
from tests.e2e.flows import unique_name
from tests.e2e.servers import LOOPBACK, ZONE, Bind9

pytestmark = pytest.mark.e2e

UNREACHABLE = "127.0.0.2"  # loopback, but nothing listens there: Pebble's connection is refused


def point(bind9: Bind9, host: str, address: str | None) -> None:
    """Add (or with None remove) an A record for `host`, overriding the zone's wildcard."""
    keyring = dns.tsigkeyring.from_text({bind9.tsig_key_name: bind9.tsig_secret})
    update = dns.update.UpdateMessage(
        f"{ZONE}.",
        keyring=keyring,
        keyalgorithm="hmac-sha256",
        keyname=dns.name.from_text(bind9.tsig_key_name),
    )
    if address is None:
        update.delete(f"{host}.", "A")
    else:
        update.replace(f"{host}.", 60, "A", address)
    response = dns.query.tcp(update, LOOPBACK, port=bind9.port, timeout=5)
    assert response.rcode() == 0


def leaf_names(pipeline: Pipeline, secret: str) -> list[str]:
    pem = base64.b64decode(pipeline.get(SECRETS, secret)["data"]["tls.crt"])
    leaf = x509.load_pem_x509_certificate(pem)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return list(sans.get_values_for_type(x509.DNSName))


def test_rejected_challenge_fails_with_pebbles_reason_backs_off_and_keeps_the_old_secret(
    pipeline: Pipeline,
) -> None:
    issuer = pipeline.cluster_issuer("fail", solvers=http01_solvers())["metadata"]["name"]
    good, bad = unique_name("good"), unique_name("bad")
    pipeline.start()
    pipeline.wait_ready(CLUSTER_ISSUERS, issuer)
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "site"},
            "spec": {
                "secretName": "site-tls",
                "dnsNames": [good],
                "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
            },
        }
    )
    pipeline.wait_ready(CERTIFICATES, "site")

    point(pipeline.bind9, bad, UNREACHABLE)
    try:
        cert = pipeline.get(CERTIFICATES, "site")
        cert["spec"]["dnsNames"] = [bad]
        pipeline.kube.replace(CERTIFICATES, cert)
        cert = pipeline.wait_for(
            CERTIFICATES,
            "site",
            until=lambda c: c["status"].get("failedIssuanceAttempts") == 1,
            what="first failure recorded",
        )
    finally:
        point(pipeline.bind9, bad, None)

    # As cert-manager: the failure is on Issuing; Ready speaks of the Secret.
    assert not ready(cert)
    issuing = condition(cert, "Issuing")
    assert issuing["status"] == "False"
    assert "connection refused" in issuing["message"].lower(), issuing["message"]
    (challenge,) = pipeline.items(CHALLENGES)
    assert challenge["status"]["state"] == "invalid"
    assert "connection refused" in challenge["status"]["reason"].lower()
    invalid = [o for o in pipeline.items(ORDERS) if o["status"]["state"] == "invalid"]
    assert len(invalid) == 1 and "connection refused" in invalid[0]["status"]["reason"].lower()
    warnings = [e for e in pipeline.events("site") if e["type"] == "Warning"]
    assert any(e["reason"] == "Failed" for e in warnings), warnings
    assert leaf_names(pipeline, "site-tls") == [good]  # the old Secret stays

    # Within the hour nothing is retried, however often the Certificate is looked at.
    sink = InProcessSink(ON_CERTIFICATE_CREATED)
    pipeline.clock.advance(timedelta(minutes=59))
    assert sink.deliver(object_event("update", pipeline.get(CERTIFICATES, "site"), source="t")).ok
    assert len(pipeline.items(ORDERS)) == len(invalid) + 1  # rev 1's valid one and the failed one

    # After it, the next look issues (the name resolves to the responder again).
    pipeline.clock.advance(timedelta(minutes=2))
    assert sink.deliver(object_event("update", pipeline.get(CERTIFICATES, "site"), source="t")).ok
    cert = pipeline.wait_for(
        CERTIFICATES,
        "site",
        until=lambda c: ready(c) and c["status"].get("revision") == 2,
        what="issued after the backoff",
    )
    assert "failedIssuanceAttempts" not in cert["status"]
    assert leaf_names(pipeline, "site-tls") == [bad]
