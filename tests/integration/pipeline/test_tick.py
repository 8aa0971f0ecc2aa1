"""on-expiry-tick accepts PingSource CloudEvents and plain cron-connector POSTs."""

from __future__ import annotations

import json

from cloudevents.conversion import to_binary, to_structured

from events.routes import ON_EXPIRY_TICK
from shared.contracts import object_event, ping_event
from shared.kube.resources import CERTIFICATES
from tests.integration.pipeline.conftest import Env, ready, sink


def test_plain_post_from_the_openfaas_cron_connector_sweeps(env: Env) -> None:
    env.ca_issuer()
    env.certificate("cron", issuerRef={"name": "ca", "kind": "Issuer"})  # no event delivered
    reply = sink(ON_EXPIRY_TICK).post(
        b"", {"X-Connector": "cron-connector", "X-Topic": "cron-function"}
    )
    assert reply.status == 200, reply
    report = json.loads(reply.body)
    assert f"{env.namespace}/cron" in report["reconciled"]
    assert ready(env.get(CERTIFICATES, "cron"))


def test_pingsource_binary_and_structured_are_accepted(env: Env) -> None:
    for encode in (to_binary, to_structured):
        headers, body = encode(ping_event(source="/pingsources/tick"))
        reply = sink(ON_EXPIRY_TICK).post(body, dict(headers))
        assert reply.status == 200, reply
        assert "certificates" in json.loads(reply.body)


def test_tick_refuses_other_event_types_and_methods(env: Env) -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "x", "namespace": env.namespace},
    }
    headers, body = to_binary(object_event("add", obj, source="t"))
    reply = sink(ON_EXPIRY_TICK).post(body, dict(headers))
    assert reply.status == 400 and "dev.knative.sources.ping" in reply.body
    broken = sink(ON_EXPIRY_TICK).post(b"{", {"ce-specversion": "1.0", "ce-type": "x"})
    assert broken.status == 400
