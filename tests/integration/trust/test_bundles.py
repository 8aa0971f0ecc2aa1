"""trust-manager's Bundle through its function and the tick: sources in, targets out."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable

import pytest
from cryptography import x509

from events.localapi.requestlog import WRITE_VERBS
from events.sinks import Delivery
from shared.kube.objects import meta
from shared.kube.resources import BUNDLES, CONFIGMAPS, NAMESPACES, SECRETS
from tests.integration.sweep.cost import requests_during
from tests.integration.trust.certs import ca_pem
from tests.integration.trust.conftest import TRUST_NAMESPACE, Trust

pytestmark = pytest.mark.integration

LABEL = "trust.cert-manager.io/bundle"


def certificates(pem: str) -> set[bytes]:
    return {c.tbs_certificate_bytes for c in x509.load_pem_x509_certificates(pem.encode())}


def secret_text(secret: dict[str, object] | None, key: str) -> str:
    assert secret is not None
    data = secret["data"]
    assert isinstance(data, dict)
    return base64.b64decode(data[key]).decode()


def writes_during(trust: Trust, call: Callable[[], Delivery]) -> list[str]:
    """`verb resource namespace` of each successful write during `call`, cluster-wide."""

    def deliver() -> None:
        assert call().ok

    return [
        f"{r.verb} {r.resource} {r.namespace}"
        for r in requests_during(trust.cluster, trust.kube, deliver)
        if r.verb in WRITE_VERBS and 200 <= r.code < 300
    ]


def test_sources_are_combined_into_targets_in_selected_namespaces_only(trust: Trust) -> None:
    a, b, c = ca_pem("a"), ca_pem("b"), ca_pem("c")
    trust.config_map(f"{trust.name}-cm", {"ca.crt": a + b})
    trust.secret(f"{trust.name}-s", {"ca.crt": b, "tls.key": "not read"})
    selected, other = trust.namespace(selected=True), trust.namespace(selected=False)
    bundle = trust.bundle(
        [
            {"configMap": {"name": f"{trust.name}-cm", "key": "ca.crt"}},
            {"secret": {"name": f"{trust.name}-s", "key": "ca.crt"}},
            {"inLine": f"# our CA\n{c}\n{a}"},
        ],
        configMap={"key": "trust.pem"},
        secret={"key": "ca.crt"},
    )

    assert trust.deliver(action="add").ok

    config_map = trust.target(CONFIGMAPS, selected)
    assert config_map is not None
    pem = config_map["data"]["trust.pem"]
    assert pem.count("BEGIN CERTIFICATE") == 3  # b and a were given twice: kept once
    assert certificates(pem) == certificates(a + b + c)
    assert secret_text(trust.target(SECRETS, selected), "ca.crt") == pem
    for target in (config_map, trust.target(SECRETS, selected)):
        assert target is not None
        assert meta(target)["labels"][LABEL] == trust.name
        (owner,) = meta(target)["ownerReferences"]
        assert (owner["kind"], owner["uid"], owner["controller"]) == (
            "Bundle",
            meta(bundle)["uid"],
            True,
        )
    assert trust.target(CONFIGMAPS, other) is None and trust.target(SECRETS, other) is None
    synced = trust.synced()
    assert (synced["status"], synced["reason"]) == ("True", "Synced")
    assert synced["message"] == (
        "Successfully synced Bundle to namespaces that match this label selector: "
        f"{trust.label}=yes"
    )
    assert synced["observedGeneration"] == meta(bundle)["generation"]
    assert ("Normal", "Synced", synced["message"]) in trust.events()

    # Again, with nothing changed: the order is stable, so nothing is written.
    assert writes_during(trust, trust.deliver) == []
    assert writes_during(trust, trust.tick) == []


def test_a_changed_source_and_a_new_namespace_are_picked_up_by_the_tick(trust: Trust) -> None:
    first, second = ca_pem("first"), ca_pem("second")
    trust.config_map(f"{trust.name}-cm", {"ca.crt": first})
    old = trust.namespace(selected=True)
    trust.bundle(
        [{"configMap": {"name": f"{trust.name}-cm", "key": "ca.crt"}}],
        configMap={"key": "ca.crt"},
        secret={"key": "ca.crt"},
    )
    assert trust.deliver(action="add").ok

    trust.config_map(f"{trust.name}-cm", {"ca.crt": first + second})  # no event for this
    new = trust.namespace(selected=True)
    writes = writes_during(trust, trust.tick)

    for namespace in (old, new):
        config_map = trust.target(CONFIGMAPS, namespace)
        assert config_map is not None
        assert certificates(config_map["data"]["ca.crt"]) == certificates(first + second)
        assert secret_text(trust.target(SECRETS, namespace), "ca.crt").count("BEGIN") == 2
    assert sorted(writes) == sorted(
        [
            f"update configmaps {old}",
            f"create configmaps {new}",
            f"update secrets {old}",
            f"create secrets {new}",
        ]
    )
    assert writes_during(trust, trust.tick) == []


def test_targets_in_namespaces_no_longer_selected_are_deleted_by_the_tick(trust: Trust) -> None:
    leaving, staying = trust.namespace(selected=True), trust.namespace(selected=True)
    trust.bundle([{"inLine": ca_pem("ca")}], configMap={"key": "ca.crt"}, secret={"key": "ca.crt"})
    assert trust.deliver(action="add").ok
    assert trust.target(CONFIGMAPS, leaving) is not None

    relabel(trust, leaving, selected=False)  # no Bundle event for this
    assert trust.tick().ok

    assert trust.target(CONFIGMAPS, leaving) is None and trust.target(SECRETS, leaving) is None
    assert trust.target(CONFIGMAPS, staying) is not None
    assert trust.target(SECRETS, staying) is not None


def test_spec_changes_update_and_remove_targets_through_the_function(trust: Trust) -> None:
    namespace = trust.namespace(selected=True)
    trust.bundle([{"inLine": ca_pem("old")}], configMap={"key": "ca.crt"}, secret={"key": "ca.crt"})
    assert trust.deliver(action="add").ok

    new = ca_pem("new")
    bundle = trust.get()
    bundle["spec"]["sources"] = [{"inLine": new}]
    trust.kube.replace(BUNDLES, bundle)
    assert trust.deliver().ok
    config_map = trust.target(CONFIGMAPS, namespace)
    assert config_map is not None and config_map["data"]["ca.crt"] == new
    assert secret_text(trust.target(SECRETS, namespace), "ca.crt") == new
    assert trust.synced()["observedGeneration"] == meta(trust.get())["generation"]

    bundle = trust.get()
    del bundle["spec"]["target"]["secret"]  # the Secret targets go, the ConfigMaps stay
    trust.kube.replace(BUNDLES, bundle)
    assert trust.deliver().ok
    assert trust.target(SECRETS, namespace) is None
    assert trust.target(CONFIGMAPS, namespace) is not None

    relabel(trust, namespace, selected=False)
    assert trust.deliver().ok
    assert trust.target(CONFIGMAPS, namespace) is None


def relabel(trust: Trust, namespace: str, *, selected: bool) -> None:
    obj = trust.kube.get(NAMESPACES, None, namespace)
    obj["metadata"]["labels"][trust.label] = "yes" if selected else "no"
    trust.kube.replace(NAMESPACES, obj)


def test_a_missing_source_leaves_targets_alone_and_says_why(trust: Trust) -> None:
    pem = ca_pem("ca")
    trust.config_map(f"{trust.name}-cm", {"ca.crt": pem})
    namespace = trust.namespace(selected=True)
    trust.bundle(
        [{"configMap": {"name": f"{trust.name}-cm", "key": "ca.crt"}}],
        configMap={"key": "ca.crt"},
    )
    assert trust.deliver(action="add").ok
    trust.kube.delete(CONFIGMAPS, TRUST_NAMESPACE, f"{trust.name}-cm")

    assert trust.tick().ok

    synced = trust.synced()
    message = (
        "Bundle source was not found: failed to retrieve bundle from source: "
        f'configmaps "{trust.name}-cm" not found'
    )
    assert (synced["status"], synced["reason"], synced["message"]) == (
        "False",
        "SourceNotFound",
        message,
    )
    assert ("Warning", "SourceNotFound", message) in trust.events()
    config_map = trust.target(CONFIGMAPS, namespace)
    assert config_map is not None and config_map["data"]["ca.crt"] == pem  # untouched
    assert writes_during(trust, trust.deliver) == []  # reported once, not every time


def test_a_missing_key_and_default_cas_are_sources_not_found(trust: Trust) -> None:
    trust.config_map(f"{trust.name}-cm", {"other": ca_pem("ca")})
    trust.bundle(
        [{"configMap": {"name": f"{trust.name}-cm", "key": "ca.crt"}}], configMap={"key": "k"}
    )
    assert trust.deliver(action="add").ok
    synced = trust.synced()
    assert (synced["status"], synced["reason"]) == ("False", "SourceNotFound")
    assert synced["message"] == (
        "Bundle source was not found: failed to retrieve bundle from source: "
        f'no data found in ConfigMap {TRUST_NAMESPACE}/{trust.name}-cm at key "ca.crt"'
    )

    bundle = trust.get()
    bundle["spec"]["sources"] = [{"useDefaultCAs": True}]
    trust.kube.replace(BUNDLES, bundle)
    assert trust.deliver().ok
    synced = trust.synced()
    assert (synced["status"], synced["reason"]) == ("False", "SourceNotFound")
    assert synced["message"] == (
        "Bundle source was not found: failed to retrieve bundle from source: no default "
        "package was specified when trust-manager was started; default CAs not available"
    )
    assert synced["observedGeneration"] == meta(trust.get())["generation"]


def test_an_invalid_pem_source_is_refused(trust: Trust) -> None:
    trust.secret(f"{trust.name}-s", {"ca.crt": "-----BEGIN CERTIFICATE-----\nnot base64\n"})
    namespace = trust.namespace(selected=True)
    trust.bundle([{"secret": {"name": f"{trust.name}-s", "key": "ca.crt"}}], secret={"key": "k"})

    assert trust.deliver(action="add").ok

    synced = trust.synced()
    assert (synced["status"], synced["reason"]) == ("False", "SourceBuildError")
    assert f'Secret {TRUST_NAMESPACE}/{trust.name}-s at key "ca.crt"' in synced["message"]
    assert any(e[:2] == ("Warning", "SourceBuildError") for e in trust.events())
    assert trust.target(SECRETS, namespace) is None


def test_kubectl_get_bundle_shows_synced(trust: Trust) -> None:
    trust.namespace(selected=True)
    trust.bundle([{"inLine": ca_pem("ca")}], configMap={"key": "ca.crt"})
    assert trust.deliver(action="add").ok

    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(trust.cluster.kubeconfig), "get", "bundle", trust.name],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    header, row = out[0].split(), out[1].split()
    assert header[:6] == ["NAME", "CONFIGMAP", "TARGET", "SECRET", "TARGET", "SYNCED"]
    assert row[:4] == [trust.name, "ca.crt", "True", "Synced"]


def test_sources_by_label_selector_with_all_their_keys(trust: Trust) -> None:
    a, b = ca_pem("a"), ca_pem("b")
    trust.config_map(f"{trust.name}-1", {"one.pem": a, "two.pem": b}, labels={trust.label: "src"})
    trust.config_map(f"{trust.name}-2", {"bad": "not a certificate"})  # not selected
    namespace = trust.namespace(selected=True)
    trust.bundle(
        [
            {
                "configMap": {
                    "selector": {"matchLabels": {trust.label: "src"}},
                    "includeAllKeys": True,
                }
            }
        ],
        configMap={"key": "ca.crt"},
    )

    assert trust.deliver(action="add").ok

    config_map = trust.target(CONFIGMAPS, namespace)
    assert config_map is not None
    assert certificates(config_map["data"]["ca.crt"]) == certificates(a + b)


def test_a_target_the_api_refuses_is_reported_and_stops_the_sync(trust: Trust) -> None:
    namespace = trust.namespace(selected=True)
    trust.kube.create(
        CONFIGMAPS,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": trust.name, "namespace": namespace},
            "immutable": True,
            "data": {"ca.crt": "someone else's"},
        },
    )
    trust.bundle([{"inLine": ca_pem("ca")}], configMap={"key": "ca.crt"}, secret={"key": "ca.crt"})

    assert trust.deliver(action="add").ok

    synced = trust.synced()
    assert (synced["status"], synced["reason"]) == ("False", "SyncConfigMapTargetFailed")
    assert synced["message"].startswith(f'Failed to sync bundle to namespace "{namespace}": ')
    assert ("Warning", "SyncConfigMapTargetFailed", synced["message"]) in trust.events()
    assert trust.target(SECRETS, namespace) is None  # stopped at the first refusal
    assert writes_during(trust, trust.deliver) == []  # the same refusal is not re-reported
