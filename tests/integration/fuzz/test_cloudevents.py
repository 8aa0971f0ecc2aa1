"""Fuzzed CloudEvents, binary and structured, posted to the real functions' apps: whatever
the type, attributes and data, and whichever object (existing or not, any kind, any
name) they name, the answer is 2xx or 4xx, never 5xx, and no object the events name is
left with an InternalError condition."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from hypothesis import given
from hypothesis import strategies as st

from events.routes import (
    ON_BUNDLE_CHANGED,
    ON_CERTIFICATE_CREATED,
    ON_CHALLENGE_READY,
    ON_EXPIRY_TICK,
    ON_INGRESS_CHANGED,
    ON_ISSUER_CHANGED,
)
from shared.contracts import PING, RESOURCE_PREFIX
from shared.kube.resources import CERTIFICATES, ISSUERS
from tests.integration.fuzz.budget import fuzz_settings, summary
from tests.integration.fuzz.strategies import awkward, specs
from tests.integration.pipeline.conftest import Env, condition, sink

pytestmark = pytest.mark.integration

CASES = 500

# The object-event functions are cheap; a valid tick sweeps the whole API, so ticks are
# one target in ten.
TARGETS = [
    ON_CERTIFICATE_CREATED,
    ON_CERTIFICATE_CREATED,
    ON_CERTIFICATE_CREATED,
    ON_ISSUER_CHANGED,
    ON_ISSUER_CHANGED,
    ON_CHALLENGE_READY,
    ON_INGRESS_CHANGED,
    ON_BUNDLE_CHANGED,
    ON_BUNDLE_CHANGED,
    ON_EXPIRY_TICK,
]
KINDS = {
    "Certificate": "cert-manager.io/v1",
    "CertificateRequest": "cert-manager.io/v1",
    "Issuer": "cert-manager.io/v1",
    "ClusterIssuer": "cert-manager.io/v1",
    "Secret": "v1",
    "Order": "acme.cert-manager.io/v1",
    "Challenge": "acme.cert-manager.io/v1",
    "Ingress": "networking.k8s.io/v1",
    "Bundle": "trust.cert-manager.io/v1alpha1",
    "ConfigMap": "v1",
    "Pod": "v1",
}
# Names Kubernetes accepts, and names it does not (the object can then not exist).
names = st.one_of(
    st.sampled_from(["web", "ca", "ca-root", "ca-root-ca", "missing", "web-tls"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True),
    awkward,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | awkward,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(awkward, inner, max_size=3),
    max_leaves=10,
)


TARGET_KINDS = {
    ON_CERTIFICATE_CREATED: ["Certificate", "CertificateRequest", "Secret"],
    ON_ISSUER_CHANGED: ["Issuer", "ClusterIssuer"],
    ON_CHALLENGE_READY: ["Order", "Challenge"],
    ON_INGRESS_CHANGED: ["Ingress"],
    ON_BUNDLE_CHANGED: ["Bundle"],
    ON_EXPIRY_TICK: [],
}


@st.composite
def kubernetes_objects(draw: st.DrawFn, namespace: str, kinds: list[str], plausible: bool) -> Any:
    """What ApiServerSource would send, more or less: sometimes no object at all."""
    if not plausible and draw(st.integers(min_value=0, max_value=4)) == 0:
        return draw(json_values)
    kind = draw(st.sampled_from(kinds if plausible and kinds else sorted(KINDS)))
    metadata: dict[str, Any] = {
        "name": draw(names),
        "namespace": namespace
        if plausible
        else draw(st.sampled_from([namespace, "", "kube-system"]) | awkward),
    }
    if draw(st.booleans()):
        metadata["annotations"] = {"cert-manager.io/certificate-name": draw(names)}
    if draw(st.booleans()):
        metadata["labels"] = {"cert-manager.io/next-private-key": "true"}
    obj: dict[str, Any] = {
        "apiVersion": KINDS[kind]
        if plausible
        else draw(st.sampled_from([KINDS[kind], "v1", "x/y"]) | awkward),
        "kind": kind,
        "metadata": metadata,
    }
    if kind == "Certificate":
        obj["spec"] = draw(specs)
    elif draw(st.booleans()):
        obj["spec"] = draw(json_values)
    return obj


@st.composite
def cloud_events(draw: st.DrawFn, namespace: str) -> tuple[str, dict[str, str], bytes]:
    """Half of them what a source would send about some object, half hostile."""
    target = draw(st.sampled_from(TARGETS))
    plausible = draw(st.booleans())
    kinds = TARGET_KINDS[target]
    if plausible:
        actions = [RESOURCE_PREFIX + a for a in ("add", "update", "delete")]
        kind_of_event = draw(st.sampled_from(actions if kinds else [PING]))
    else:
        kind_of_event = draw(
            st.sampled_from([PING, RESOURCE_PREFIX + "add", RESOURCE_PREFIX + "patch", "x.y"])
            | awkward.filter(bool)
        )
    attributes: dict[str, Any] = {
        "type": kind_of_event,
        "source": "fuzz" if plausible else draw(awkward.filter(bool)),
        "id": draw(st.uuids().map(str) | awkward.filter(bool)),
    }
    if draw(st.booleans()):
        attributes["datacontenttype"] = draw(
            st.sampled_from(["application/json", "text/plain", "application/octet-stream"])
        )
    for extension in ("kind", "name", "namespace", "subject"):
        if draw(st.booleans()):
            attributes[extension] = draw(names)
    data = draw(kubernetes_objects(namespace, kinds, plausible))
    event = CloudEvent(attributes, data)
    headers, body = to_binary(event)
    if draw(st.booleans()) or not all(_header_safe(str(v)) for v in headers.values()):
        # Attributes HTTP cannot carry as headers travel in a structured event's JSON.
        headers, body = to_structured(event)
    return target, {k: str(v) for k, v in headers.items()}, body


def _header_safe(value: str) -> bool:
    return all(" " <= c <= "~" for c in value)


def test_fuzzed_cloudevents_are_answered_2xx_or_4xx_never_5xx(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.ca_issuer()
    env.issue("web", issuerRef={"name": "ca", "kind": "Issuer"})
    tally: Counter[str] = Counter()

    @fuzz_settings(CASES)
    @given(case=cloud_events(env.namespace))
    def case(case: tuple[str, dict[str, str], bytes]) -> None:
        target, headers, body = case
        tally["cases"] += 1
        answer = sink(target).post(body, headers)
        if answer.status >= 500:
            tally["5xx"] += 1
        else:
            tally[f"{answer.status // 100}xx"] += 1
        assert answer.status < 500, (target, headers, body[:300], answer)

    case()
    # The objects that exist were reconciled many times over: none broke, none is stuck.
    for resource, name in ((CERTIFICATES, "web"), (ISSUERS, "ca"), (ISSUERS, "ca-root")):
        found = condition(env.get(resource, name), "Ready")
        assert found["status"] == "True", (name, found)
    with capsys.disabled():
        sys.stdout.write(f"\n{summary('cloudevent fuzz', tally)}\n")
    assert tally["cases"] >= CASES
    assert tally["5xx"] == 0
