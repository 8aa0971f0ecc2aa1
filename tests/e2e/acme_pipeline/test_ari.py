"""ARI: renewal is scheduled inside the CA's suggested window, and the renewal order
names the certificate it replaces — at the CA, as the front in front of Pebble records;
a CA refusing that gets a plain order and a Warning Event instead."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from itertools import groupby

import pytest

from shared import runtime
from shared.acme.renewal_info import cert_id
from shared.acmeflow.names import RENEWAL_TIME_ANNOTATION, REPLACES_ANNOTATION
from shared.acmeflow.order import reconcile_order
from shared.kube.objects import parse_time
from shared.kube.resources import CERTIFICATE_REQUESTS, CLUSTER_ISSUERS, ORDERS
from tests.e2e.acme_pipeline.conftest import (
    CERTIFICATES,
    Pipeline,
    condition,
    http01_solvers,
    ready,
)
from tests.e2e.acme_pipeline.front import AriEndpoint
from tests.e2e.flows import unique_name

pytestmark = pytest.mark.e2e


@pytest.fixture
def ari(pipeline: Pipeline) -> Iterator[AriEndpoint]:
    endpoint = AriEndpoint(pipeline.pebble)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def test_renewal_happens_inside_the_suggested_window_and_replaces_the_old_certificate(
    pipeline: Pipeline, ari: AriEndpoint
) -> None:
    now = pipeline.clock.now()
    window = (now + timedelta(days=10), now + timedelta(days=11))
    ari.later = window  # until the first certificate is known: every certificate
    issuer = pipeline.cluster_issuer("ari", solvers=http01_solvers(), server=ari.directory_url)
    name = issuer["metadata"]["name"]
    pipeline.start()
    pipeline.wait_ready(CLUSTER_ISSUERS, name)
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "ari"},
            "spec": {
                "secretName": "ari-tls",
                "dnsNames": [unique_name("ari")],
                "issuerRef": {"name": name, "kind": "ClusterIssuer"},
            },
        }
    )
    pipeline.wait_ready(CERTIFICATES, "ari")
    (first,) = pipeline.items(ORDERS)
    first_id = cert_id(base64.b64decode(first["status"]["certificate"]))
    ari.windows[first_id] = window
    ari.later = (now + timedelta(days=60), now + timedelta(days=61))  # for the renewed one

    # The tick asks the CA and keeps a time inside its window; nothing renews yet.
    first = pipeline.wait_for(
        ORDERS,
        first["metadata"]["name"],
        until=lambda o: RENEWAL_TIME_ANNOTATION in (o["metadata"].get("annotations") or {}),
        what="ARI renewal time recorded",
    )
    renew_at = parse_time(first["metadata"]["annotations"][RENEWAL_TIME_ANNOTATION])
    assert renew_at is not None and window[0] <= renew_at <= window[1]
    assert ari.asked[0] == first_id
    assert pipeline.get(CERTIFICATES, "ari")["status"]["revision"] == 1

    # Once the window has passed, the next tick renews, naming the replaced certificate.
    pipeline.clock.advance(timedelta(days=11, minutes=1))
    cert = pipeline.wait_for(
        CERTIFICATES,
        "ari",
        until=lambda c: ready(c) and c["status"].get("revision") == 2,
        what="renewed at revision 2",
    )
    assert condition(cert, "Issuing") == {}
    request = pipeline.get(CERTIFICATE_REQUESTS, "ari-2")
    second = next(
        o
        for o in pipeline.items(ORDERS)
        if o["metadata"]["ownerReferences"][0]["uid"] == request["metadata"]["uid"]
    )
    assert second["metadata"]["annotations"][REPLACES_ANNOTATION] == first_id
    # ... and the CA was told: the second newOrder named it, the first nothing. (A
    # newOrder resent after one of Pebble's deliberate badNonce answers repeats.)
    replaces = [key for key, _ in groupby(o.get("replaces") for o in ari.new_orders)]
    assert replaces == [None, first_id]
    assert second["status"]["state"] == "valid"
    renewing = [e for e in pipeline.events("ari") if "(ARI)" in e.get("message", "")]
    assert renewing, [e.get("message") for e in pipeline.events("ari")]


def test_a_refused_replaces_orders_without_it_and_says_so(
    pipeline: Pipeline, ari: AriEndpoint, ctx: runtime.Context
) -> None:
    ari.refuse_replaces = True
    order = pipeline.order_in_process("refuse", solvers=http01_solvers(), server=ari.directory_url)
    order["metadata"].setdefault("annotations", {})[REPLACES_ANNOTATION] = (
        "aYhba4dGQEHhs3uEe6CuLN4.GKM"
    )
    pipeline.kube.replace(ORDERS, order)

    reconcile_order(ctx, namespace=pipeline.namespace, name=order["metadata"]["name"])

    replaces = [key for key, _ in groupby(o.get("replaces") for o in ari.new_orders)]
    assert replaces == ["aYhba4dGQEHhs3uEe6CuLN4.GKM", None]  # badNonce resends collapse
    assert pipeline.get(ORDERS, order["metadata"]["name"])["status"]["url"]
    warnings = [e for e in pipeline.events(order["metadata"]["name"]) if e["type"] == "Warning"]
    assert [e["reason"] for e in warnings] == ["ReplacesRefused"]
    assert "aYhba4dGQEHhs3uEe6CuLN4.GKM" in warnings[0]["message"]
    assert "alreadyReplaced" in warnings[0]["message"]
