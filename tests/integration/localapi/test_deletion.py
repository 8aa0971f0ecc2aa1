"""Deletion: finalizers, preconditions, garbage collection, namespace termination."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.localapi.conftest import CERTS, Local, certificate, eventually

pytestmark = pytest.mark.integration

MERGE = {"Content-Type": "application/merge-patch+json"}


def cert_url(local: Local, namespace: str, name: str = "") -> str:
    base = local.url(CERTS.format(ns=namespace))
    return f"{base}/{name}" if name else base


def secret_url(local: Local, namespace: str, name: str = "") -> str:
    base = local.url(f"/api/v1/namespaces/{namespace}/secrets")
    return f"{base}/{name}" if name else base


def owned_secret(name: str, owner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ref = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {"metadata": {"name": name, "ownerReferences": [ref], **extra}}


def gone(local: Local, url: str) -> bool:
    return local.http.get(url).status_code == 404


def test_finalizers_hold_the_object_until_removed(local: Local, namespace: str) -> None:
    body = certificate("held", namespace)
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    local.http.post(cert_url(local, namespace), json=body)
    deleted = local.http.delete(cert_url(local, namespace, "held"))
    assert deleted.status_code == 200
    current = local.http.get(cert_url(local, namespace, "held")).json()
    assert current["metadata"]["deletionTimestamp"]
    assert current["metadata"]["generation"] == 2  # marking for deletion bumps it
    assert current["metadata"]["finalizers"] == ["example.com/cleanup"]

    more = local.http.patch(
        cert_url(local, namespace, "held"),
        data=json.dumps({"metadata": {"finalizers": ["example.com/cleanup", "new"]}}),
        headers=MERGE,
    )
    assert more.status_code == 422  # no new finalizers while deleting

    release = local.http.patch(
        cert_url(local, namespace, "held"),
        data=json.dumps({"metadata": {"finalizers": None}}),
        headers=MERGE,
    )
    assert release.status_code == 200
    assert gone(local, cert_url(local, namespace, "held"))


def test_delete_preconditions_are_honoured(local: Local, namespace: str) -> None:
    created = local.http.post(secret_url(local, namespace), json={"metadata": {"name": "p"}}).json()
    wrong_uid = local.http.delete(
        secret_url(local, namespace, "p"), json={"preconditions": {"uid": "not-it"}}
    )
    assert wrong_uid.status_code == 409
    assert "Precondition failed: UID in precondition: not-it" in wrong_uid.json()["message"]
    wrong_rv = local.http.delete(
        secret_url(local, namespace, "p"), json={"preconditions": {"resourceVersion": "1"}}
    )
    assert wrong_rv.status_code == 409
    right = local.http.delete(
        secret_url(local, namespace, "p"),
        json={"preconditions": {"uid": created["metadata"]["uid"]}},
    )
    assert right.status_code == 200
    assert right.json()["status"] == "Success"  # Secrets answer with a Status, as kube does


def test_background_deletion_collects_dependents(local: Local, namespace: str) -> None:
    owner = local.http.post(cert_url(local, namespace), json=certificate("o", namespace)).json()
    local.http.post(secret_url(local, namespace), json=owned_secret("dep", owner))
    assert local.http.delete(cert_url(local, namespace, "o")).status_code == 200
    eventually(lambda: gone(local, secret_url(local, namespace, "dep")), what="dependent gone")


def test_dependent_with_another_live_owner_survives(local: Local, namespace: str) -> None:
    first = local.http.post(cert_url(local, namespace), json=certificate("f", namespace)).json()
    second = local.http.post(cert_url(local, namespace), json=certificate("s", namespace)).json()
    body = owned_secret("shared", first)
    body["metadata"]["ownerReferences"].append(
        {**owned_secret("x", second)["metadata"]["ownerReferences"][0], "controller": False}
    )
    local.http.post(secret_url(local, namespace), json=body)
    local.http.delete(cert_url(local, namespace, "f"))

    def refs() -> list[str] | None:
        secret = local.http.get(secret_url(local, namespace, "shared")).json()
        names = [r["name"] for r in secret["metadata"].get("ownerReferences", [])]
        return names if names == ["s"] else None

    assert eventually(refs, what="dangling reference removed") == ["s"]


def test_foreground_deletion_waits_for_dependents(local: Local, namespace: str) -> None:
    owner = local.http.post(cert_url(local, namespace), json=certificate("fg", namespace)).json()
    local.http.post(
        secret_url(local, namespace),
        json=owned_secret("blocker", owner, finalizers=["example.com/slow"]),
    )
    response = local.http.delete(
        cert_url(local, namespace, "fg"), json={"propagationPolicy": "Foreground"}
    )
    assert response.status_code == 200
    assert "foregroundDeletion" in response.json()["metadata"]["finalizers"]

    def dependent_deleting() -> bool:
        secret = local.http.get(secret_url(local, namespace, "blocker")).json()
        return "deletionTimestamp" in secret["metadata"]

    eventually(dependent_deleting, what="dependent marked for deletion")
    assert local.http.get(cert_url(local, namespace, "fg")).status_code == 200  # still waiting
    local.http.patch(
        secret_url(local, namespace, "blocker"),
        data=json.dumps({"metadata": {"finalizers": None}}),
        headers=MERGE,
    )
    eventually(lambda: gone(local, cert_url(local, namespace, "fg")), what="owner gone")


def test_orphan_deletion_keeps_dependents_without_the_reference(
    local: Local, namespace: str
) -> None:
    owner = local.http.post(cert_url(local, namespace), json=certificate("or", namespace)).json()
    local.http.post(secret_url(local, namespace), json=owned_secret("kept", owner))
    local.http.delete(cert_url(local, namespace, "or"), params={"propagationPolicy": "Orphan"})
    eventually(lambda: gone(local, cert_url(local, namespace, "or")), what="owner gone")
    kept = local.http.get(secret_url(local, namespace, "kept")).json()
    assert "ownerReferences" not in kept["metadata"]


def test_namespace_deletion_terminates_then_empties_and_disappears(local: Local) -> None:
    ns_url = local.url("/api/v1/namespaces")
    local.http.post(ns_url, json={"metadata": {"name": "doomed"}})
    body = certificate("inside", "doomed")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    local.http.post(cert_url(local, "doomed"), json=body)
    local.http.post(secret_url(local, "doomed"), json={"metadata": {"name": "s"}})

    deleted = local.http.delete(f"{ns_url}/doomed")
    assert deleted.status_code == 200
    assert deleted.json()["status"]["phase"] == "Terminating"
    eventually(lambda: gone(local, secret_url(local, "doomed", "s")), what="secret removed")
    assert local.http.get(f"{ns_url}/doomed").json()["status"]["phase"] == "Terminating"

    refused = local.http.post(secret_url(local, "doomed"), json={"metadata": {"name": "late"}})
    assert refused.status_code == 403
    assert "because it is being terminated" in refused.json()["message"]

    local.http.patch(
        cert_url(local, "doomed", "inside"),
        data=json.dumps({"metadata": {"finalizers": None}}),
        headers=MERGE,
    )
    eventually(lambda: gone(local, f"{ns_url}/doomed"), what="namespace gone")


def test_deletecollection_deletes_what_the_selector_matches(local: Local, namespace: str) -> None:
    url = secret_url(local, namespace)
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        local.http.post(url, json={"metadata": {"name": name, "labels": {"tier": tier}}})
    response = local.http.delete(url, params={"labelSelector": "tier=x"})
    assert response.status_code == 200
    left = [i["metadata"]["name"] for i in local.http.get(url).json()["items"]]
    assert left == ["c"]


def test_system_namespaces_cannot_be_deleted(local: Local) -> None:
    response = local.http.delete(local.url("/api/v1/namespaces/kube-system"))
    assert response.status_code == 403
    assert response.json()["message"] == (
        'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    )
