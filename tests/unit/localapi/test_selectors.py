"""Label and field selectors, with kube-apiserver's syntax and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from events.localapi.selectors import SelectorError, parse_field_selector, parse_label_selector

LABELS = {"app": "web", "tier": "frontend", "version": "3"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=api", False),
        ("app!=api", True),
        ("app!=web", False),
        ("missing!=x", True),
        ("app in (api,web)", True),
        ("app in (api)", False),
        ("app notin (api, db)", True),
        ("app notin (web)", False),
        ("missing notin (web)", True),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!tier", False),
        ("app=web,tier=frontend", True),
        ("app=web, tier=backend", False),
        ("app=web,!missing,tier in (frontend)", True),
        ("version>2", True),
        ("version<3", False),
        ("empty=", False),
    ],
)
def test_label_selector_matches_as_kubernetes_does(selector: str, expected: bool) -> None:
    assert parse_label_selector(selector)(LABELS) is expected


def test_label_selector_errors_name_what_was_found() -> None:
    with pytest.raises(SelectorError, match=r"^found 'web', expected: '\('$"):
        parse_label_selector("app in web")
    with pytest.raises(SelectorError, match=r"^found 'tier', expected: ',' or 'end of string'$"):
        parse_label_selector("app=web tier=x")


def test_empty_value_selects_labels_with_empty_values() -> None:
    assert parse_label_selector("flag=")({"flag": ""})
    assert parse_label_selector("flag in (,yes)")({"flag": ""})


def test_prefixed_keys_are_allowed() -> None:
    match = parse_label_selector("cert-manager.io/certificate-name=web")
    assert match({"cert-manager.io/certificate-name": "web"})


@pytest.mark.parametrize(
    "selector",
    [
        "app=web,",
        "=web",
        "app in web",
        "app in ()",
        "app in (a",
        "app=web tier=x",
        "app=-bad-",
        "Bad_Prefix/name=x",
        "a" * 64 + "=x",
        "version>two",
        "app=(x)",
    ],
)
def test_bad_label_selectors_are_refused(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


SECRET: dict[str, Any] = {
    "metadata": {"name": "web-tls", "namespace": "default"},
    "type": "kubernetes.io/tls",
}
EVENT: dict[str, Any] = {
    "metadata": {"name": "web.1", "namespace": "default"},
    "involvedObject": {"kind": "Certificate", "name": "web", "namespace": "default", "uid": "u1"},
    "reason": "Issuing",
    "type": "Normal",
}


@pytest.mark.parametrize(
    ("selector", "kind", "obj", "expected"),
    [
        ("", "Secret", SECRET, True),
        ("metadata.name=web-tls", "Secret", SECRET, True),
        ("metadata.name==web-tls", "Secret", SECRET, True),
        ("metadata.name!=web-tls", "Secret", SECRET, False),
        ("metadata.namespace=default,type=kubernetes.io/tls", "Secret", SECRET, True),
        ("type=Opaque", "Secret", SECRET, False),
        ("involvedObject.kind=Certificate,involvedObject.name=web", "Event", EVENT, True),
        ("involvedObject.uid=u1,reason=Issuing,type=Normal", "Event", EVENT, True),
        ("involvedObject.namespace=other", "Event", EVENT, False),
        ("metadata.name=web", "Certificate", {"metadata": {"name": "web"}}, True),
        ("metadata.namespace=", "ClusterIssuer", {"metadata": {"name": "ca"}}, True),
    ],
)
def test_field_selector_matches(
    selector: str, kind: str, obj: dict[str, Any], expected: bool
) -> None:
    assert parse_field_selector(selector, kind=kind)(obj) is expected


def test_unsupported_field_is_refused_with_kube_wording() -> None:
    with pytest.raises(SelectorError, match=r"^field label not supported: spec\.secretName$"):
        parse_field_selector("spec.secretName=x", kind="Certificate")
    with pytest.raises(SelectorError, match="field label not supported: type"):
        parse_field_selector("type=kubernetes.io/tls", kind="ConfigMap")


def test_field_selector_values_may_escape_separators() -> None:
    match = parse_field_selector(r"metadata.name=a\,b\=c", kind="ConfigMap")
    assert match({"metadata": {"name": "a,b=c"}})
    assert not match({"metadata": {"name": "a"}})


@pytest.mark.parametrize("selector", ["metadata.name", "metadata.name=a=b", r"metadata.name=a\x"])
def test_malformed_field_selectors_are_refused(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_field_selector(selector, kind="Secret")
