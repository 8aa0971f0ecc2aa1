"""secretTemplate follows the spec both ways: added, changed and removed entries; others kept."""

from __future__ import annotations

from typing import Any

from shared.kube.resources import CERTIFICATES, SECRETS
from tests.integration.pipeline.conftest import Env


def set_template(env: Env, name: str, template: dict[str, Any]) -> None:
    cert = env.get(CERTIFICATES, name)
    cert["spec"]["secretTemplate"] = template
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, name).ok


def metadata(env: Env, name: str) -> tuple[dict[str, str], dict[str, str]]:
    m = env.get(SECRETS, name)["metadata"]
    return dict(m.get("labels") or {}), dict(m.get("annotations") or {})


def test_template_entries_are_added_changed_and_removed_others_kept(env: Env) -> None:
    env.ca_issuer()
    env.issue(
        "tpl",
        issuerRef={"name": "ca", "kind": "Issuer"},
        secretTemplate={"labels": {"team": "a", "tier": "web"}, "annotations": {"owner": "al"}},
    )
    # another actor labels and annotates the Secret too
    secret = env.get(SECRETS, "tpl-tls")
    secret["metadata"]["labels"]["backup"] = "daily"
    secret["metadata"]["annotations"]["reflector/enabled"] = "true"
    env.kube.replace(SECRETS, secret)
    crt = secret["data"]["tls.crt"]

    set_template(env, "tpl", {"labels": {"team": "b", "new": "x"}, "annotations": {}})
    labels, annotations = metadata(env, "tpl-tls")
    assert labels["team"] == "b" and labels["new"] == "x"  # changed, added
    assert "tier" not in labels and "owner" not in annotations  # removed
    assert labels["backup"] == "daily" and annotations["reflector/enabled"] == "true"
    assert labels["controller.cert-manager.io/fao"] == "true"
    assert annotations["cert-manager.io/certificate-name"] == "tpl"

    set_template(env, "tpl", {})
    labels, annotations = metadata(env, "tpl-tls")
    assert set(labels) == {"backup", "controller.cert-manager.io/fao"}
    assert "reflector/enabled" in annotations
    assert set(annotations) - {"reflector/enabled"} == {
        k for k in annotations if k.startswith("cert-manager.io/")
    }, annotations
    # none of this re-issued the certificate
    assert env.get(SECRETS, "tpl-tls")["data"]["tls.crt"] == crt
    assert env.get(CERTIFICATES, "tpl")["status"]["revision"] == 1


def test_a_label_another_actor_set_is_kept_when_no_template_ever_had_it(env: Env) -> None:
    env.ca_issuer()
    env.issue("plain", issuerRef={"name": "ca", "kind": "Issuer"})
    secret = env.get(SECRETS, "plain-tls")
    secret["metadata"]["labels"]["team"] = "ops"
    env.kube.replace(SECRETS, secret)
    set_template(env, "plain", {"labels": {"tier": "web"}})
    set_template(env, "plain", {})
    labels, _ = metadata(env, "plain-tls")
    assert labels["team"] == "ops" and "tier" not in labels


def test_an_unchanged_template_writes_nothing(env: Env) -> None:
    env.ca_issuer()
    env.issue(
        "still", issuerRef={"name": "ca", "kind": "Issuer"}, secretTemplate={"labels": {"a": "b"}}
    )
    writes = env.writes()
    assert env.deliver(CERTIFICATES, "still").ok
    assert env.deliver(SECRETS, "still-tls").ok
    assert env.writes() == writes


def test_annotations_derived_from_the_certificate_follow_the_new_certificate(env: Env) -> None:
    env.ca_issuer()
    cert = env.issue(
        "mail", issuerRef={"name": "ca", "kind": "Issuer"}, emailAddresses=["a@example.test"]
    )
    _, annotations = metadata(env, "mail-tls")
    assert annotations["cert-manager.io/email-sans"] == "a@example.test"
    del cert["spec"]["emailAddresses"]
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "mail").ok
    assert env.get(CERTIFICATES, "mail")["status"]["revision"] == 2
    _, annotations = metadata(env, "mail-tls")
    assert "cert-manager.io/email-sans" not in annotations  # as cert-manager: only if present
