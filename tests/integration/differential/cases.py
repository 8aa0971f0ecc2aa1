"""The requests replayed against both APIs, good and bad, one scenario per function.

Each scenario gets an `Api` and a namespace of its own (the same name on both servers) and
returns the reduced answers (`shape`) in order. Scenarios that wait for something (the
garbage collector, namespace deletion) poll with a deadline, since the real control plane
does that work in kube-controller-manager, asynchronously.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.integration.differential.client import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    Answer,
    Api,
    shape,
)

Scenario = Callable[[Api, str], list[dict[str, Any]]]
SCENARIOS: dict[str, Scenario] = {}

CERTS = "/apis/cert-manager.io/v1/namespaces/{ns}/certificates"
ISSUERS = "/apis/cert-manager.io/v1/namespaces/{ns}/issuers"
SECRETS = "/api/v1/namespaces/{ns}/secrets"
CONFIGMAPS = "/api/v1/namespaces/{ns}/configmaps"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
PROTOBUF = "application/vnd.kubernetes.protobuf"


def scenario(function: Scenario) -> Scenario:
    SCENARIOS[function.__name__] = function
    return function


def certificate(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"secretName": f"{name}-tls", "dnsNames": ["a.example.test"]}
    body.update({"issuerRef": {"name": "ca"}, **spec})
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name},
        "spec": body,
    }


def config_map(name: str, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}}


def until(probe: Callable[[], bool], *, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.1)
    return False


def gone(api: Api, path: str) -> bool:
    return until(lambda: api.call("GET", path).code == 404)


@scenario
def create_get_conflict_and_not_found(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    created = api.call("POST", path, certificate("a"))
    again = api.call("POST", path, certificate("a"))
    missing = api.call("GET", f"{path}/nope")
    delete_missing = api.call("DELETE", f"{path}/nope")
    bad_name = api.call("POST", path, certificate("Not_A_Name"))
    return [shape(a) for a in (created, again, missing, delete_missing, bad_name)]


@scenario
def schema_validation_enum_type_and_required(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    bad_enum = certificate("e", privateKey={"algorithm": "DSA"})
    bad_type = certificate("t", dnsNames="a.example.test")
    missing = certificate("m")
    del missing["spec"]["secretName"]
    return [shape(api.call("POST", path, body)) for body in (bad_enum, bad_type, missing)]


@scenario
def unknown_fields_strict_warn_and_ignore(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    out = []
    for index, mode in enumerate(("Strict", "Warn", "Ignore")):
        body = certificate(f"u{index}", bogus=True)
        answer = api.call("POST", path, body, params={"fieldValidation": mode})
        out.append(shape(answer))
        if answer.code == 201:  # the unknown field was pruned, not stored
            stored = api.call("GET", f"{path}/u{index}").body
            out.append({"stored_bogus": "bogus" in stored["spec"]})
    return out


@scenario
def stale_resource_version_is_a_conflict(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CONFIGMAPS.format(ns=ns)
    first = api.call("POST", path, config_map("c")).body
    api.call("PUT", f"{path}/c", {**first, "data": {"k": "1"}})
    stale = api.call("PUT", f"{path}/c", {**first, "data": {"k": "2"}})
    no_version = dict(first)
    no_version["metadata"] = {k: v for k, v in first["metadata"].items() if k != "resourceVersion"}
    unconditional = api.call("PUT", f"{path}/c", {**no_version, "data": {"k": "3"}})
    wrong_name = api.call("PUT", f"{path}/other", {**first, "data": {"k": "4"}})
    return [shape(a) for a in (stale, unconditional, wrong_name)]


@scenario
def patches_merge_json_and_strategic(api: Api, ns: str) -> list[dict[str, Any]]:
    certs, maps = CERTS.format(ns=ns), CONFIGMAPS.format(ns=ns)
    api.call("POST", certs, certificate("p"))
    api.call("POST", maps, config_map("p"))
    merge = api.call("PATCH", f"{certs}/p", {"spec": {"commonName": "x"}}, content_type=MERGE_PATCH)
    json_patch = api.call(
        "PATCH",
        f"{certs}/p",
        [{"op": "replace", "path": "/spec/commonName", "value": "y"}],
        content_type=JSON_PATCH,
    )
    failed_test = api.call(
        "PATCH",
        f"{certs}/p",
        [{"op": "test", "path": "/spec/commonName", "value": "z"}],
        content_type=JSON_PATCH,
    )
    strategic_cr = api.call(
        "PATCH", f"{certs}/p", {"spec": {"commonName": "z"}}, content_type=STRATEGIC_PATCH
    )
    strategic_core = api.call(
        "PATCH", f"{maps}/p", {"data": {"k": "v"}}, content_type=STRATEGIC_PATCH
    )
    missing = api.call("PATCH", f"{certs}/nope", {"spec": {}}, content_type=MERGE_PATCH)
    return [
        shape(a) for a in (merge, json_patch, failed_test, strategic_cr, strategic_core, missing)
    ]


@scenario
def server_side_apply_and_its_conflicts(api: Api, ns: str) -> list[dict[str, Any]]:
    path = f"{CONFIGMAPS.format(ns=ns)}/applied"
    body = {**config_map("applied"), "data": {"owner": "first"}}
    first = api.call("PATCH", path, body, content_type=APPLY_PATCH, params={"fieldManager": "one"})
    body["data"]["owner"] = "second"
    conflict = api.call(
        "PATCH", path, body, content_type=APPLY_PATCH, params={"fieldManager": "two"}
    )
    forced = api.call(
        "PATCH",
        path,
        body,
        content_type=APPLY_PATCH,
        params={"fieldManager": "two", "force": "true"},
    )
    no_manager = api.call("PATCH", path, body, content_type=APPLY_PATCH)
    stored = api.call("GET", path).body
    return [shape(a) for a in (first, conflict, forced, no_manager)] + [
        {"managers": sorted(m["manager"] for m in stored["metadata"].get("managedFields", []))}
    ]


@scenario
def list_paging_with_continue(api: Api, ns: str) -> list[dict[str, Any]]:
    # Certificates, not ConfigMaps: the real controller manager adds kube-root-ca.crt.
    path = CERTS.format(ns=ns)
    for index in range(5):
        api.call("POST", path, certificate(f"page-{index}"))
    out, names, token = [], [], ""
    while True:
        params = {"limit": "2", "labelSelector": ""}
        if token:
            params["continue"] = token
        page = api.call("GET", path, params=params)
        out.append(shape(page))
        out.append({"remaining": page.body["metadata"].get("remainingItemCount")})
        names += [i["metadata"]["name"] for i in page.body["items"]]
        token = page.body["metadata"].get("continue", "")
        if not token:
            break
    bad = api.call("GET", path, params={"limit": "2", "continue": "not-a-token"})
    return [*out, {"names": names}, shape(bad)]


@scenario
def label_and_field_selectors(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    for name, tier in (("s1", "web"), ("s2", "db"), ("s3", "web")):
        body = certificate(name)
        body["metadata"]["labels"] = {"tier": tier}
        api.call("POST", path, body)

    def names(**params: str) -> dict[str, Any]:
        answer = api.call("GET", path, params=params)
        if answer.code != 200:
            return shape(answer)
        return {"names": sorted(i["metadata"]["name"] for i in answer.body["items"])}

    return [
        names(labelSelector="tier=web"),
        names(labelSelector="tier!=web"),
        names(labelSelector="tier in (db,cache)"),
        names(labelSelector="!tier"),
        names(labelSelector="tier=="),
        names(labelSelector="tier in (a"),
        names(fieldSelector="metadata.name=s2"),
        names(fieldSelector="metadata.name!=s2"),
        names(fieldSelector="spec.secretName=s1-tls"),
    ]


@scenario
def status_subresource_splits_spec_and_status(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    created = api.call("POST", path, {**certificate("st"), "status": {"revision": 7}}).body
    out: list[dict[str, Any]] = [{"status_on_create": created.get("status")}]
    changed = {
        **created,
        "spec": {**created["spec"], "commonName": "main"},
        "status": {"revision": 3},
    }
    main = api.call("PUT", f"{path}/st", changed)
    out += [shape(main), {"status_after_main": main.body.get("status")}]
    current = main.body
    changed = {
        **current,
        "spec": {**current["spec"], "commonName": "status"},
        "status": {"revision": 4},
    }
    status = api.call("PUT", f"{path}/st/status", changed)
    out += [
        shape(status),
        {
            "cn_after_status": status.body["spec"].get("commonName"),
            "status": status.body.get("status"),
        },
    ]
    generations = api.call("GET", f"{path}/st").body["metadata"]["generation"]
    return [*out, {"generation": generations}]


@scenario
def finalizers_hold_deletion(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CONFIGMAPS.format(ns=ns)
    api.call("POST", path, config_map("fin", finalizers=["example.com/hold"]))
    deleting = api.call("DELETE", f"{path}/fin")
    held = api.call("GET", f"{path}/fin")
    marked = "deletionTimestamp" in held.body["metadata"]
    added = api.call(
        "PATCH",
        f"{path}/fin",
        {"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}},
        content_type=MERGE_PATCH,
    )
    released = api.call(
        "PATCH", f"{path}/fin", {"metadata": {"finalizers": None}}, content_type=MERGE_PATCH
    )
    return [
        shape(deleting),
        shape(held),
        {"marked": marked},
        shape(added),
        shape(released),
        {"gone": gone(api, f"{path}/fin")},
    ]


def _owned(api: Api, ns: str, owner: str) -> Answer:
    uid = api.call("GET", f"{CONFIGMAPS.format(ns=ns)}/{owner}").body["metadata"]["uid"]
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid}
    return api.call(
        "POST", CONFIGMAPS.format(ns=ns), config_map(f"{owner}-dep", ownerReferences=[reference])
    )


@scenario
def owner_references_background_foreground_orphan(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CONFIGMAPS.format(ns=ns)
    out: list[dict[str, Any]] = []
    for policy in ("Background", "Foreground", "Orphan"):
        owner = policy.lower()
        api.call("POST", path, config_map(owner))
        _owned(api, ns, owner)
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy}
        out.append(shape(api.call("DELETE", f"{path}/{owner}", options)))
        out.append({"owner_gone": gone(api, f"{path}/{owner}")})
        if policy == "Orphan":
            dependent = api.call("GET", f"{path}/{owner}-dep").body
            out.append({"orphan_refs": dependent["metadata"].get("ownerReferences")})
        else:
            out.append({"dependent_gone": gone(api, f"{path}/{owner}-dep")})
    return out


@scenario
def namespace_deletion_empties_and_refuses_new_content(api: Api, ns: str) -> list[dict[str, Any]]:
    doomed = f"{ns}-doomed"
    api.call(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": doomed}},
    )
    api.call(
        "POST", CONFIGMAPS.format(ns=doomed), config_map("held", finalizers=["example.com/hold"])
    )
    deleting = api.call("DELETE", f"/api/v1/namespaces/{doomed}")
    phase = until(
        lambda: (
            api.call("GET", f"/api/v1/namespaces/{doomed}").body["status"].get("phase")
            == "Terminating"
        )
    )
    refused = api.call("POST", CONFIGMAPS.format(ns=doomed), config_map("late"))
    api.call(
        "PATCH",
        f"{CONFIGMAPS.format(ns=doomed)}/held",
        {"metadata": {"finalizers": None}},
        content_type=MERGE_PATCH,
    )
    missing_ns = api.call("POST", CONFIGMAPS.format(ns=f"{ns}-never"), config_map("x"))
    return [
        shape(deleting),
        {"terminating": phase},
        shape(refused),
        {"namespace_gone": gone(api, f"/api/v1/namespaces/{doomed}")},
        shape(missing_ns),
    ]


@scenario
def table_output_for_kubectl(api: Api, ns: str) -> list[dict[str, Any]]:
    api.call("POST", CERTS.format(ns=ns), certificate("tbl"))
    table = api.call("GET", CERTS.format(ns=ns), accept=TABLE).body
    one = api.call("GET", f"{CERTS.format(ns=ns)}/tbl", accept=TABLE).body
    return [
        {
            "kind": table.get("kind"),
            "columns": [c["name"] for c in table.get("columnDefinitions", [])],
            "rows": len(table.get("rows", [])),
            "cells": len(table["rows"][0]["cells"]) if table.get("rows") else 0,
            "one_kind": one.get("kind"),
            "one_rows": len(one.get("rows", [])),
        }
    ]


@scenario
def protobuf_for_core_kinds(api: Api, ns: str) -> list[dict[str, Any]]:
    api.call("POST", CONFIGMAPS.format(ns=ns), config_map("pb"))
    core = api.call("GET", f"{CONFIGMAPS.format(ns=ns)}/pb", accept=f"{PROTOBUF}, application/json")
    return [{"code": core.code, "content_type": core.content_type}]


@scenario
def protobuf_is_not_spoken_for_custom_resources(api: Api, ns: str) -> list[dict[str, Any]]:
    api.call("POST", CERTS.format(ns=ns), certificate("pb"))
    either = api.call("GET", f"{CERTS.format(ns=ns)}/pb", accept=f"{PROTOBUF}, application/json")
    only = api.call("GET", f"{CERTS.format(ns=ns)}/pb", accept=PROTOBUF)
    return [{"code": either.code, "content_type": either.content_type}, {"code": only.code}]


@scenario
def dry_run_and_generate_name(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CONFIGMAPS.format(ns=ns)
    dry = api.call("POST", path, config_map("dry"), params={"dryRun": "All"})
    after = api.call("GET", f"{path}/dry")
    generated = api.call(
        "POST",
        path,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}},
    )
    name = generated.body["metadata"]["name"]
    bad_dry = api.call("POST", path, config_map("dry"), params={"dryRun": "Sometimes"})
    return [
        shape(dry),
        shape(after),
        shape(generated),
        {"prefix": name.startswith("gen-"), "length": len(name)},
        shape(bad_dry),
    ]


@scenario
def watch_from_a_resource_version(api: Api, ns: str) -> list[dict[str, Any]]:
    # Certificates, not ConfigMaps: the real controller manager adds kube-root-ca.crt.
    path = CERTS.format(ns=ns)
    version = api.call("POST", path, certificate("w1")).body["metadata"]["resourceVersion"]
    api.call("POST", path, certificate("w2"))
    answer = api.session.get(
        api.server + path,
        params={"watch": "true", "resourceVersion": version, "timeoutSeconds": "1"},
        timeout=30,
    )
    events = [json.loads(line) for line in answer.text.splitlines() if line]
    return [
        {
            "code": answer.status_code,
            "events": [(e["type"], e["object"]["metadata"]["name"]) for e in events],
        }
    ]


@scenario
def watch_from_a_malformed_resource_version(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    params = {"watch": "true", "resourceVersion": "abc", "timeoutSeconds": "1"}
    return [shape(api.call("GET", path, params=params))]


@scenario
def delete_preconditions(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CONFIGMAPS.format(ns=ns)
    created = api.call("POST", path, config_map("pre")).body
    wrong_uid = api.call(
        "DELETE",
        f"{path}/pre",
        {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-the-uid"}},
    )
    wrong_version = api.call(
        "DELETE",
        f"{path}/pre",
        {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}},
    )
    right = api.call(
        "DELETE",
        f"{path}/pre",
        {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "preconditions": {"uid": created["metadata"]["uid"]},
        },
    )
    return [shape(a) for a in (wrong_uid, wrong_version, right)]


@scenario
def secrets_type_and_data_validation(api: Api, ns: str) -> list[dict[str, Any]]:
    path = SECRETS.format(ns=ns)
    tls_missing_key = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "tls"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": ""},
    }
    bad_base64 = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "b64"},
        "data": {"k": "not base64!"},
    }
    bad_key = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "key"},
        "data": {"a/b": ""},
    }
    created = api.call(
        "POST",
        path,
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ok"}, "type": "Opaque"},
    ).body
    retype = api.call(
        "PUT",
        f"{path}/ok",
        {**created, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}},
    )
    return [shape(api.call("POST", path, b)) for b in (tls_missing_key, bad_base64, bad_key)] + [
        shape(retype)
    ]


@scenario
def ingress_needs_rules_or_a_default_backend(api: Api, ns: str) -> list[dict[str, Any]]:
    path = f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"
    bare: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "bare"},
        "spec": {"tls": [{"hosts": ["a.example.test"], "secretName": "a-tls"}]},
    }
    with_rules = {**bare, "spec": {**bare["spec"], "rules": [{"host": "a.example.test"}]}}
    return [shape(api.call("POST", path, body)) for body in (bare, with_rules)]


@scenario
def watch_from_a_resource_version_too_old_to_replay(api: Api, ns: str) -> list[dict[str, Any]]:
    # "1" is older than any history either server keeps: both must say 410 Expired, in the
    # stream (an ERROR event carrying a Status) or as the answer itself.
    path = CERTS.format(ns=ns)
    api.call("POST", path, certificate("old"))
    answer = api.session.get(
        api.server + path,
        params={"watch": "true", "resourceVersion": "1", "timeoutSeconds": "1"},
        timeout=30,
    )
    if answer.status_code != 200:
        return [{"code": answer.status_code}]
    events = [json.loads(line) for line in answer.text.splitlines() if line]
    return [
        {"type": e["type"], "code": e["object"].get("code"), "reason": e["object"].get("reason")}
        for e in events
        if e["type"] == "ERROR"
    ]


@scenario
def names_that_are_no_path_segment(api: Api, ns: str) -> list[dict[str, Any]]:
    path = CERTS.format(ns=ns)
    # Escaped, as a client sends them ('..', '.', 'a%b'); a raw '..' never reaches a server
    # that cleans paths, and an escaped '/' is decoded differently by each (both stay put).
    return [shape(api.call("GET", f"{path}/{name}")) for name in ("%2E%2E", "%2E", "a%25b")]


@scenario
def crd_validation_rules(api: Api, ns: str) -> list[dict[str, Any]]:
    # x-kubernetes-validations from cert-manager's and trust-manager's schemas: the
    # embedded API evaluates them as kube-apiserver's CEL does, with its causes.
    bundle = {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": {"name": f"{ns}-rules"},
        "spec": {
            "sources": [{"configMap": {"name": "a", "key": "ca.crt"}, "inLine": "x"}],
            "target": {},
        },
    }
    venafi = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "venafi"},
        "spec": {"venafi": {"zone": "z"}},
    }
    return [
        shape(api.call("POST", "/apis/trust.cert-manager.io/v1alpha1/bundles", bundle)),
        shape(api.call("POST", ISSUERS.format(ns=ns), venafi)),
    ]
