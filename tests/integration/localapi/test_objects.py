"""Object semantics: metadata, concurrency, validation, status subresource, patches, errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.integration.localapi.conftest import CERTS, Local, certificate

pytestmark = pytest.mark.integration


def secret(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}


def test_kubernetes_client_crud_round_trip(core: k8s.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_secret(
        namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="s"), string_data={"k": "v"})
    )
    assert created.data == {"k": base64.b64encode(b"v").decode()}
    assert created.type == "Opaque"
    assert created.metadata.uid and created.metadata.creation_timestamp
    created.data["k2"] = base64.b64encode(b"v2").decode()
    replaced = core.replace_namespaced_secret("s", namespace, created)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert core.read_namespaced_secret("s", namespace).data.keys() == {"k", "k2"}
    core.delete_namespaced_secret("s", namespace)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_secret("s", namespace)
    assert missing.value.status == 404


def test_resource_versions_increase_cluster_wide(local: Local, namespace: str) -> None:
    versions = []
    for plural, body in (
        ("secrets", secret("a")),
        ("configmaps", {"metadata": {"name": "b"}, "data": {}}),
        ("secrets", secret("c")),
    ):
        response = local.http.post(local.url(f"/api/v1/namespaces/{namespace}/{plural}"), json=body)
        versions.append(int(response.json()["metadata"]["resourceVersion"]))
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_stale_update_is_a_conflict_worded_as_kube(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    created = local.http.post(url, json=certificate("c", namespace)).json()
    first = dict(created, spec={**created["spec"], "secretName": "one"})
    assert local.http.put(f"{url}/c", json=first).status_code == 200
    stale = dict(created, spec={**created["spec"], "secretName": "two"})
    response = local.http.put(f"{url}/c", json=stale)
    assert response.status_code == 409
    status = response.json()
    assert status["kind"] == "Status" and status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on certificates.cert-manager.io "c": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_update_without_resource_version_is_unconditional(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    created = local.http.post(url, json=certificate("u", namespace)).json()
    del created["metadata"]["resourceVersion"]
    created["spec"]["secretName"] = "blind"
    response = local.http.put(f"{url}/u", json=created)
    assert response.status_code == 200
    assert response.json()["spec"]["secretName"] == "blind"


def test_create_of_existing_name_is_already_exists(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    assert local.http.post(url, json=certificate("dup", namespace)).status_code == 201
    response = local.http.post(url, json=certificate("dup", namespace))
    assert response.status_code == 409
    assert response.json()["reason"] == "AlreadyExists"
    assert response.json()["message"] == 'certificates.cert-manager.io "dup" already exists'


def test_create_in_missing_namespace_is_not_found(local: Local) -> None:
    response = local.http.post(local.url("/api/v1/namespaces/nowhere/secrets"), json=secret("x"))
    assert response.status_code == 404
    assert response.json()["message"] == 'namespaces "nowhere" not found'
    assert response.json()["reason"] == "NotFound"


def test_schema_violation_is_invalid_with_field_causes(local: Local, namespace: str) -> None:
    body = certificate("bad", namespace, privateKey={"algorithm": "FOO"})
    response = local.http.post(local.url(CERTS.format(ns=namespace)), json=body)
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(
        'Certificate.cert-manager.io "bad" is invalid: spec.privateKey.algorithm: '
        'Unsupported value: "FOO"'
    )
    assert status["details"]["kind"] == "Certificate"
    assert status["details"]["group"] == "cert-manager.io"
    assert status["details"]["causes"][0]["field"] == "spec.privateKey.algorithm"
    assert status["details"]["causes"][0]["reason"] == "FieldValueNotSupported"


def test_unknown_fields_are_pruned_and_defaults_applied(local: Local, namespace: str) -> None:
    body = certificate("pruned", namespace, notAField=True)
    response = local.http.post(
        local.url(CERTS.format(ns=namespace)) + "?fieldValidation=Ignore", json=body
    )
    assert response.status_code == 201
    assert "notAField" not in response.json()["spec"]
    warned = local.http.post(
        local.url(CERTS.format(ns=namespace)), json=certificate("warned", namespace, oops=1)
    )
    assert warned.status_code == 201
    assert 'unknown field \\"spec.oops\\"' in warned.headers["Warning"]


def test_generation_moves_with_spec_only(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    created = local.http.post(url, json=certificate("g", namespace)).json()
    assert created["metadata"]["generation"] == 1
    merge = {"Content-Type": "application/merge-patch+json"}
    labelled = local.http.patch(
        f"{url}/g", data='{"metadata":{"labels":{"a":"b"}}}', headers=merge
    ).json()
    assert labelled["metadata"]["generation"] == 1
    changed = local.http.patch(f"{url}/g", data='{"spec":{"secretName":"x"}}', headers=merge)
    assert changed.json()["metadata"]["generation"] == 2


def test_secrets_carry_no_generation(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    created = local.http.post(url, json=secret("plain", stringData={"a": "b"})).json()
    assert "generation" not in created["metadata"]
    assert "stringData" not in created


def test_tls_secret_requires_its_keys(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    response = local.http.post(url, json=secret("tls", type="kubernetes.io/tls", data={}))
    assert response.status_code == 422
    fields = [c["field"] for c in response.json()["details"]["causes"]]
    assert fields == ["data[tls.crt]", "data[tls.key]"]


def test_status_subresource_rules(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    body = certificate("st", namespace)
    body["status"] = {"revision": 7}
    created = local.http.post(url, json=body).json()
    assert "status" not in created  # status is dropped on create

    main = dict(created, status={"revision": 1})
    after_main = local.http.put(f"{url}/st", json=main).json()
    assert "status" not in after_main  # the main endpoint ignores status

    via_status = dict(after_main, status={"revision": 2})
    via_status["spec"] = {**after_main["spec"], "secretName": "ignored"}
    via_status["metadata"] = {**after_main["metadata"], "labels": {"ignored": "yes"}}
    after_status = local.http.put(f"{url}/st/status", json=via_status).json()
    assert after_status["status"] == {"revision": 2}
    assert after_status["spec"]["secretName"] == "st-tls"
    assert "labels" not in after_status["metadata"]
    assert after_status["metadata"]["generation"] == 1


def test_unchanged_update_writes_nothing(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    created = local.http.post(url, json=certificate("same", namespace)).json()
    again = local.http.put(f"{url}/same", json=created).json()
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_strategic_merge_patch_is_for_builtins_only(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    local.http.post(url, json=certificate("smp", namespace))
    smp = {"Content-Type": "application/strategic-merge-patch+json"}
    response = local.http.patch(f"{url}/smp", data='{"spec":{"secretName":"x"}}', headers=smp)
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"

    cms = local.url(f"/api/v1/namespaces/{namespace}/configmaps")
    local.http.post(cms, json={"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}})
    patched = local.http.patch(f"{cms}/cm", data='{"data":{"a":null,"c":"3"}}', headers=smp)
    assert patched.json()["data"] == {"b": "2", "c": "3"}


def test_generate_name_makes_a_unique_name(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    names = {
        local.http.post(url, json={"metadata": {"generateName": "gen-"}}).json()["metadata"]["name"]
        for _ in range(3)
    }
    assert len(names) == 3 and all(n.startswith("gen-") and len(n) == 9 for n in names)


def test_dry_run_persists_nothing(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    response = local.http.post(url + "?dryRun=All", json=secret("dry"))
    assert response.status_code == 201
    assert local.http.get(f"{url}/dry").status_code == 404


def test_bad_token_or_none_is_unauthorized(local: Local) -> None:
    import requests

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.get(local.url("/api/v1/namespaces"), headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["reason"] == "Unauthorized"
    assert requests.get(local.url("/version"), timeout=5).status_code == 200
    assert local.http.get(local.url("/api/v1/namespaces")).status_code == 200


def test_list_pages_with_continue_tokens(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/configmaps")
    for i in range(7):
        local.http.post(url, json={"metadata": {"name": f"cm-{i}"}})
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        params = {"limit": "3", **({"continue": token} if token else {})}
        page = local.http.get(url, params=params).json()
        pages += 1
        seen += [item["metadata"]["name"] for item in page["items"]]
        token = page["metadata"].get("continue", "")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == 7 - len(seen)
    assert pages == 3
    assert seen == [f"cm-{i}" for i in range(7)]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", ["a", "b"]),
        ("tier==web,env=prod", ["a"]),
        ("tier!=web", ["c", "d"]),
        ("env in (prod,qa)", ["a", "c"]),
        ("env notin (prod)", ["b", "c", "d"]),
        ("env", ["a", "b", "c"]),
        ("!env", ["d"]),
    ],
)
def test_label_selectors(local: Local, namespace: str, selector: str, expected: list[str]) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/configmaps")
    labels = {
        "a": {"tier": "web", "env": "prod"},
        "b": {"tier": "web", "env": "dev"},
        "c": {"tier": "db", "env": "qa"},
        "d": {"tier": "db"},
    }
    for name, value in labels.items():
        local.http.post(url, json={"metadata": {"name": name, "labels": value}})
    items = local.http.get(url, params={"labelSelector": selector}).json()["items"]
    assert [i["metadata"]["name"] for i in items] == expected


def test_field_selectors(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    local.http.post(url, json=secret("one", type="Opaque"))
    local.http.post(url, json=secret("two", type="example.com/custom"))
    by_name = local.http.get(url, params={"fieldSelector": "metadata.name=two"}).json()
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["two"]
    by_type = local.http.get(url, params={"fieldSelector": "type!=Opaque"}).json()
    assert [i["metadata"]["name"] for i in by_type["items"]] == ["two"]
    bad = local.http.get(url, params={"fieldSelector": "spec.nope=1"})
    assert bad.status_code == 400


def test_table_response_has_printer_columns(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    body = certificate("tab", namespace)
    local.http.post(url, json=body)
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]}}
    local.http.patch(
        f"{url}/tab/status", json=ready, headers={"Content-Type": "application/merge-patch+json"}
    )
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = local.http.get(url, headers={"Accept": accept}).json()
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:3] == ["Name", "Ready", "Secret"]
    wide = {c["name"]: c["priority"] for c in table["columnDefinitions"]}
    assert wide["Issuer"] == 1 and wide["Ready"] == 0
    cells = dict(zip(names, table["rows"][0]["cells"], strict=True))
    assert cells["Name"] == "tab" and cells["Ready"] == "True" and cells["Secret"] == "tab-tls"
    assert cells["Age"].endswith("s")
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_server_side_apply_needs_a_field_manager(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    apply = {"Content-Type": "application/apply-patch+yaml"}
    body = (
        "apiVersion: cert-manager.io/v1\nkind: Certificate\n"
        "spec: {secretName: s, dnsNames: [a.example], issuerRef: {name: i}}\n"
    )
    missing = local.http.patch(f"{url}/ssa", data=body, headers=apply)
    assert missing.status_code == 422
    created = local.http.patch(
        f"{url}/ssa", params={"fieldManager": "me"}, data=body, headers=apply
    )
    assert created.status_code == 201, created.text
    managers = [e["manager"] for e in created.json()["metadata"]["managedFields"]]
    assert managers == ["me"]


def test_invalid_label_value_is_rejected_as_kube_does(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/configmaps")
    bad = {"metadata": {"name": "lbl", "labels": {"app": "not ok!"}}}
    response = local.http.post(url, json=bad)
    assert response.status_code == 422
    cause = response.json()["details"]["causes"][0]
    assert cause["field"] == "metadata.labels"
    assert cause["message"].startswith('Invalid value: "not ok!": a valid label must be')
    bad_key = {"metadata": {"name": "lbl", "annotations": {"Bad_Prefix.com/x": "1"}}}
    assert local.http.post(url, json=bad_key).status_code == 422
    bad_data = {"metadata": {"name": "lbl"}, "data": {"no spaces": "x"}}
    response = local.http.post(url, json=bad_data)
    assert response.json()["details"]["causes"][0]["field"] == "data[no spaces]"


def test_unknown_builtin_fields_follow_field_validation(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    typo = secret("typo", strngData={"a": "b"})
    strict = local.http.post(url, params={"fieldValidation": "Strict"}, json=typo)
    assert strict.status_code == 400
    assert strict.json()["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: '
        'strict decoding error: unknown field "strngData"'
    )
    warned = local.http.post(url, json=typo)
    assert warned.status_code == 201
    assert "strngData" not in warned.json()
    assert 'unknown field \\"strngData\\"' in warned.headers["Warning"]


def test_body_of_another_kind_is_a_bad_request(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    wrong_kind = local.http.post(url, json={"kind": "ConfigMap", "metadata": {"name": "k"}})
    assert wrong_kind.status_code == 400
    wrong_group = {"apiVersion": "cert-manager.io/v1", "kind": "Secret", "metadata": {"name": "k"}}
    assert local.http.post(url, json=wrong_group).status_code == 400
    mismatched_ns = {"metadata": {"name": "k", "namespace": "elsewhere"}}
    response = local.http.post(url, json=mismatched_ns)
    assert response.status_code == 400
    assert "does not match the namespace" in response.json()["message"]


def test_events_are_one_store_seen_through_both_event_apis(local: Local, namespace: str) -> None:
    new_api = local.url(f"/apis/events.k8s.io/v1/namespaces/{namespace}/events")
    body = {
        "metadata": {"name": "e1"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "certainly",
        "reportingInstance": "certainly-1",
        "action": "Issue",
        "reason": "Issued",
        "note": "Certificate issued",
        "type": "Normal",
        "regarding": {"kind": "Certificate", "name": "c", "namespace": namespace},
    }
    created = local.http.post(new_api, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["apiVersion"] == "events.k8s.io/v1"
    assert created.json()["note"] == "Certificate issued"
    core = local.http.get(local.url(f"/api/v1/namespaces/{namespace}/events/e1")).json()
    assert core["message"] == "Certificate issued"
    assert core["involvedObject"]["name"] == "c"
    assert core["reportingComponent"] == "certainly"
    selected = local.http.get(
        local.url(f"/api/v1/namespaces/{namespace}/events"),
        params={"fieldSelector": "involvedObject.name=c,reason=Issued"},
    ).json()
    assert [e["metadata"]["name"] for e in selected["items"]] == ["e1"]
    listed = local.http.get(new_api).json()["items"]
    assert [e["regarding"]["name"] for e in listed] == ["c"]


def test_pages_show_the_list_as_it_was_at_the_first_page(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/configmaps")
    for name in ("a", "b", "c", "d"):
        local.http.post(url, json={"metadata": {"name": name}})
    first = local.http.get(url, params={"limit": "2"}).json()
    local.http.delete(f"{url}/d")
    local.http.post(url, json={"metadata": {"name": "e"}})
    rest = local.http.get(url, params={"limit": "5", "continue": first["metadata"]["continue"]})
    assert [i["metadata"]["name"] for i in rest.json()["items"]] == ["c", "d"]
    assert rest.json()["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert "continue" not in rest.json()["metadata"]


def test_names_are_validated_as_kube_does(local: Local, namespace: str) -> None:
    bad = local.http.post(
        local.url(f"/api/v1/namespaces/{namespace}/secrets"), json=secret("Not_A_Name")
    )
    assert bad.status_code == 422
    assert bad.json()["message"].startswith(
        'Secret "Not_A_Name" is invalid: metadata.name: Invalid value: "Not_A_Name": '
        "a lowercase RFC 1123 subdomain must consist of"
    )
    dotted = local.http.post(local.url("/api/v1/namespaces"), json={"metadata": {"name": "a.b"}})
    assert dotted.status_code == 422
    assert "a lowercase RFC 1123 label" in dotted.json()["message"]


def test_timestamps_a_go_client_cannot_parse_are_rejected(local: Local, namespace: str) -> None:
    url = local.url(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases")
    no_micros = {"metadata": {"name": "l"}, "spec": {"renewTime": "2026-01-01T00:00:00Z"}}
    response = local.http.post(url, json=no_micros)
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-01-01T00:00:00Z"'
    )
    micros = {"metadata": {"name": "l"}, "spec": {"renewTime": "2026-01-01T00:00:00.000000Z"}}
    assert local.http.post(url, json=micros).status_code == 201


def test_event_namespace_must_match_its_object(local: Local, namespace: str) -> None:
    url = local.url(f"/api/v1/namespaces/{namespace}/events")
    body: dict[str, Any] = {
        "metadata": {"name": "ev"},
        "involvedObject": {"kind": "Certificate", "name": "c", "namespace": "elsewhere"},
        "reason": "Issued",
        "message": "m",
        "type": "Normal",
    }
    response = local.http.post(url, json=body)
    assert response.status_code == 422
    assert response.json()["details"]["causes"][0]["field"] == "involvedObject.namespace"
    body["involvedObject"]["namespace"] = namespace
    assert local.http.post(url, json=body).status_code == 201
