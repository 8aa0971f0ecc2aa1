"""LocalAPI itself: CRD installation, discovery, persistence, the request log."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from events.localapi.crds import default_crd_dir
from events.localapi.journal import replay
from events.localapi.server import LocalAPI
from tests.integration.localapi.conftest import CERTS, Local, certificate, eventually, start_local

pytestmark = pytest.mark.integration


@contextmanager
def running(state: Path) -> Iterator[tuple[LocalAPI, requests.Session]]:
    """A LocalAPI keeping its objects in `state`, and a session carrying its token."""
    api = LocalAPI(state_file=state)
    api.start()
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {api.token}"
        yield api, session
    finally:
        api.stop()


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """A LocalAPI that starts with no CRDs at all."""
    empty = tmp_path_factory.mktemp("no-crds")
    yield from start_local(tmp_path_factory.mktemp("bare"), crd_dir=empty)


def test_applying_crds_starts_serving_them_to_kubectl(bare: Local) -> None:
    missing = bare.kubectl.run("get", "certificates", check=False)
    assert missing.returncode != 0
    assert 'the server doesn\'t have a resource type "certificates"' in missing.stderr

    bare.kubectl.run("apply", "-k", str(default_crd_dir()))
    groups = bare.http.get(bare.url("/apis")).json()["groups"]
    assert {"cert-manager.io", "acme.cert-manager.io", "trust.cert-manager.io"} <= {
        g["name"] for g in groups
    }
    resources = bare.http.get(bare.url("/apis/cert-manager.io/v1")).json()["resources"]
    certs = next(r for r in resources if r["name"] == "certificates")
    assert certs["shortNames"] == ["cert", "certs"] and certs["kind"] == "Certificate"
    assert any(r["name"] == "certificates/status" for r in resources)
    crd = bare.kubectl.json("get", "crd", "certificates.cert-manager.io")
    established = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert established["Established"] == "True"

    assert "No resources found" in bare.kubectl.run("get", "certificates").stderr
    bare.kubectl.run("apply", "-f", "-", stdin=json.dumps(certificate("c", "default")))
    assert bare.kubectl.run("get", "certs", "-o", "name").stdout.split() == [
        "certificate.cert-manager.io/c"
    ]


def test_deleting_a_crd_stops_serving_it_and_drops_its_objects(bare: Local) -> None:
    bare.kubectl.run("apply", "-f", str(default_crd_dir() / "trust.cert-manager.io_bundles.yaml"))
    bundles = bare.url("/apis/trust.cert-manager.io/v1alpha1/bundles")
    body = {
        "metadata": {"name": "b"},
        "spec": {
            "sources": [{"useDefaultCAs": True}],
            "target": {"configMap": {"key": "root-certs.pem"}},
        },
    }
    created = bare.http.post(bundles, json=body)
    assert created.status_code == 201, created.text
    bare.kubectl.run("delete", "crd", "bundles.trust.cert-manager.io")
    assert bare.http.get(bundles).status_code == 404
    groups = {g["name"] for g in bare.http.get(bare.url("/apis")).json()["groups"]}
    assert "trust.cert-manager.io" not in groups


def test_crds_in_crd_dir_are_installed_at_start(local: Local) -> None:
    listed = local.http.get(local.url("/apis/apiextensions.k8s.io/v1/customresourcedefinitions"))
    names = {item["metadata"]["name"] for item in listed.json()["items"]}
    assert {
        "certificates.cert-manager.io",
        "certificaterequests.cert-manager.io",
        "issuers.cert-manager.io",
        "clusterissuers.cert-manager.io",
        "orders.acme.cert-manager.io",
        "challenges.acme.cert-manager.io",
        "bundles.trust.cert-manager.io",
    } <= names


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running(state) as (first, session):
        url = first.url + CERTS.format(ns="default")
        created = session.post(url, json=certificate("kept", "default")).json()
        secret_url = first.url + "/api/v1/namespaces/default/secrets"
        session.post(secret_url, json={"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".state.json.*"))  # no temp file left behind
    saved = json.loads(state.read_text())
    rv_at_stop = saved["resourceVersion"]

    with running(state) as (second, session):
        again = session.get(second.url + CERTS.format(ns="default") + "/kept").json()
        assert again["metadata"]["uid"] == created["metadata"]["uid"]
        assert session.get(second.url + "/api/v1/namespaces/default/secrets/s").ok
        newer = session.post(
            second.url + "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "n"}}
        ).json()
        assert int(newer["metadata"]["resourceVersion"]) > rv_at_stop


def test_request_log_records_verbs_and_counts_writes(local: Local, namespace: str) -> None:
    local.api.requests.clear()
    url = local.url(f"/api/v1/namespaces/{namespace}/configmaps")
    local.http.post(url, json={"metadata": {"name": "a"}})
    local.http.post(url, json={"metadata": {"name": "a"}})  # 409: not a write
    local.http.get(f"{url}/a")
    local.http.get(url)
    local.http.patch(
        f"{url}/a",
        data='{"data":{"k":"v"}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    local.http.delete(f"{url}/a")
    mine = [r for r in local.api.requests.snapshot() if r.namespace == namespace]
    assert [(r.verb, r.code) for r in mine] == [
        ("create", 201),
        ("create", 409),
        ("get", 200),
        ("list", 200),
        ("patch", 200),
        ("delete", 200),
    ]
    assert mine[0].resource == "configmaps" and mine[0].group == "" and mine[0].version == "v1"
    assert mine[2].name == "a" and mine[0].user_agent.startswith("python-requests")
    writes = [(r.verb, r.name) for r in local.api.requests.writes() if r.namespace == namespace]
    assert writes == [("create", ""), ("patch", "a"), ("delete", "a")]


def test_status_writes_are_logged_with_their_subresource(local: Local, namespace: str) -> None:
    url = local.url(CERTS.format(ns=namespace))
    local.http.post(url, json=certificate("s", namespace))
    local.api.requests.clear()
    local.http.patch(
        f"{url}/s/status",
        data='{"status":{"revision":1}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    (record,) = local.api.requests.writes()
    assert (record.resource, record.subresource, record.group) == (
        "certificates",
        "status",
        "cert-manager.io",
    )


def test_token_is_not_in_the_repr(local: Local) -> None:
    assert local.api.token not in repr(local.api)


def test_watch_from_before_a_restart_is_410_gone(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running(state) as (first, session):
        url = first.url + "/api/v1/namespaces/default/configmaps"
        old = session.post(url, json={"metadata": {"name": "a"}}).json()["metadata"]
        session.post(url, json={"metadata": {"name": "b"}})  # an event the next run cannot replay
    with running(state) as (second, session):
        url = second.url + "/api/v1/namespaces/default/configmaps"
        params = {"watch": "1", "resourceVersion": old["resourceVersion"]}
        with session.get(url, params=params, stream=True, timeout=10) as stream:
            first_line = next(line for line in stream.iter_lines() if line)
        event = json.loads(first_line)
        assert event["type"] == "ERROR" and event["object"]["code"] == 410


def test_put_of_a_missing_lease_creates_it(local: Local, namespace: str) -> None:
    url = local.url(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/leader")
    body = {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "me"}}
    created = local.http.put(url, json=body)
    assert created.status_code == 201
    secret = local.url(f"/api/v1/namespaces/{namespace}/secrets/nope")
    assert local.http.put(secret, json={"metadata": {"name": "nope"}}).status_code == 404


def test_deletions_pending_at_stop_finish_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running(state) as (first, session):
        certs = first.url + CERTS.format(ns="default")
        owner = session.post(certs, json=certificate("owner", "default")).json()
        ref = {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "name": "owner",
            "uid": owner["metadata"]["uid"],
        }
        secrets = first.url + "/api/v1/namespaces/default/secrets"
        session.post(secrets, json={"metadata": {"name": "dep", "ownerReferences": [ref]}})
    # Drop the owner behind the garbage collector's back: the state a crash leaves.
    data = json.loads(state.read_text())
    data["objects"] = [
        o for o in data["objects"] if o["object"]["metadata"].get("uid") != owner["metadata"]["uid"]
    ]
    state.write_text(json.dumps(data))

    with running(state) as (second, session):
        url = second.url + "/api/v1/namespaces/default/secrets/dep"
        eventually(lambda: session.get(url).status_code == 404, what="orphaned dependent collected")


def test_a_bad_crd_in_crd_dir_fails_start_loudly(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: wrong.example.com}\n"
        "spec: {group: example.com, names: {plural: things, kind: Thing}, scope: Namespaced,\n"
        "       versions: [{name: v1, served: true, storage: true}]}\n"
    )
    api = LocalAPI(crd_dir=tmp_path)
    with pytest.raises(RuntimeError, match="failed to start"):
        api.start()
    api.stop()


def test_every_served_crd_version_sees_the_same_objects(bare: Local) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": version == "v1",
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
                for version in ("v1alpha1", "v1")
            ],
        },
    }
    created = bare.http.post(
        bare.url("/apis/apiextensions.k8s.io/v1/customresourcedefinitions"), json=crd
    )
    assert created.status_code == 201, created.text
    group = bare.http.get(bare.url("/apis/example.com")).json()
    assert group["preferredVersion"]["version"] == "v1"
    body = {"apiVersion": "example.com/v1alpha1", "kind": "Gadget", "metadata": {"name": "g"}}
    old = bare.url("/apis/example.com/v1alpha1/namespaces/default/gadgets")
    assert bare.http.post(old, json=body).status_code == 201
    new = bare.http.get(bare.url("/apis/example.com/v1/namespaces/default/gadgets/g")).json()
    assert new["apiVersion"] == "example.com/v1"
    listed = bare.http.get(bare.url("/apis/example.com/v1/namespaces/default/gadgets")).json()
    assert [item["apiVersion"] for item in listed["items"]] == ["example.com/v1"]


def test_aggregated_discovery_is_served_when_asked_for(local: Local) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    response = local.http.get(local.url("/apis"), headers={"Accept": accept})
    assert response.headers["Content-Type"] == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    groups = {item["metadata"]["name"]: item for item in response.json()["items"]}
    (version,) = groups["cert-manager.io"]["versions"]
    certs = next(r for r in version["resources"] if r["resource"] == "certificates")
    assert certs["responseKind"] == {
        "group": "cert-manager.io",
        "version": "v1",
        "kind": "Certificate",
    }
    assert certs["scope"] == "Namespaced" and certs["shortNames"] == ["cert", "certs"]
    assert certs["subresources"][0]["subresource"] == "status"
    core = local.http.get(local.url("/api"), headers={"Accept": accept}).json()
    resources = {r["resource"] for r in core["items"][0]["versions"][0]["resources"]}
    assert {"secrets", "configmaps", "namespaces", "events"} <= resources
    legacy = local.http.get(local.url("/apis")).json()
    assert legacy["kind"] == "APIGroupList"


def test_continue_token_from_before_a_restart_is_410_expired(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running(state) as (first, session):
        url = first.url + "/api/v1/namespaces/default/configmaps"
        for name in ("a", "b", "c"):
            session.post(url, json={"metadata": {"name": name}})
        token = session.get(url, params={"limit": "1"}).json()["metadata"]["continue"]
        session.post(url, json={"metadata": {"name": "d"}})
    with running(state) as (second, session):
        url = second.url + "/api/v1/namespaces/default/configmaps"
        response = session.get(url, params={"limit": "1", "continue": token})
        assert response.status_code == 410
        assert response.json()["reason"] == "Expired"


def test_an_answered_write_is_on_disk_before_the_answer(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running(state) as (api, session):
        url = api.url + "/api/v1/namespaces/default/configmaps"
        assert session.post(url, json={"metadata": {"name": "early"}}).status_code == 201
        # No waiting: the journal was fsynced before the 201 went out.
        saved = replay(state)
        assert saved is not None
        names = {o["object"]["metadata"]["name"] for o in saved["objects"]}
        assert "early" in names
        for journal in tmp_path.glob("state.json.journal.*"):
            assert stat.S_IMODE(journal.stat().st_mode) == 0o600


def test_one_port_serves_plain_http_and_tls(local: Local, tmp_path: Path) -> None:
    import socket
    from urllib.parse import urlsplit

    assert urlsplit(local.api.url).port == urlsplit(local.api.tls_url).port
    ca = tmp_path / "ca.crt"
    ca.write_bytes(local.api.ca_pem)
    headers = {"Authorization": f"Bearer {local.api.token}"}
    secure = requests.get(
        local.api.tls_url + "/api/v1/namespaces", headers=headers, verify=str(ca), timeout=10
    )
    assert secure.status_code == 200
    # A client that connects and leaves, or speaks nonsense TLS, harms nobody else.
    host, port = urlsplit(local.api.url).hostname, urlsplit(local.api.url).port
    assert host is not None and port is not None
    with socket.create_connection((host, port)):
        pass
    with socket.create_connection((host, port)) as bad:
        bad.sendall(b"\x16\x03\x01\x00\x05hello")
    assert local.http.get(local.url("/api/v1/namespaces")).status_code == 200
    assert requests.get(local.api.tls_url + "/version", verify=str(ca), timeout=10).ok
