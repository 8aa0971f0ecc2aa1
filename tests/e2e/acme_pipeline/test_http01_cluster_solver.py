"""HTTP-01 in a cluster: the solver Pod, Service and Ingress cert-manager would create,
shaped by the solver's config, and removed once the Challenge is final."""

from __future__ import annotations

from typing import Any

import pytest

from shared.acmeflow import polling
from shared.acmeflow.http01_solver import PODS, SERVICES
from shared.kube.client import Obj
from shared.kube.resources import CHALLENGES, CLUSTER_ISSUERS, INGRESSES
from tests.e2e.acme_pipeline.conftest import Pipeline
from tests.e2e.flows import unique_name
from tests.helpers import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def short_self_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing answers for the domain here: give up on the self-check quickly."""
    monkeypatch.setattr(polling, "default_poller", polling.Poller(budget=0.3))


def presented_challenge(pipeline: Pipeline, solver: dict[str, Any]) -> Obj:
    issuer = pipeline.cluster_issuer("incluster", solvers=[{"http01": {"ingress": solver}}])
    name = issuer["metadata"]["name"]
    pipeline.start(local_http01=False)
    pipeline.wait_ready(CLUSTER_ISSUERS, name)
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "web"},
            "spec": {
                "secretName": "web-tls",
                "dnsNames": [unique_name("web")],
                "issuerRef": {"name": name, "kind": "ClusterIssuer"},
            },
        }
    )

    def presented() -> Obj | None:
        for challenge in pipeline.items(CHALLENGES):
            status = challenge.get("status") or {}
            if status.get("presented") and "propagation" in str(status.get("reason")):
                return challenge
        return None

    return eventually(presented, timeout=30, what="challenge presented, self-check waiting")


def reject(pipeline: Pipeline, challenge: Obj) -> None:
    """Record the CA's verdict as the reconciler would, then let it clean up."""
    current = pipeline.get(CHALLENGES, challenge["metadata"]["name"])
    status = {**current["status"], "state": "invalid", "reason": "rejected by the test"}
    pipeline.kube.replace_status(CHALLENGES, {**current, "status": status})
    eventually(
        lambda: not pipeline.get(CHALLENGES, challenge["metadata"]["name"])["status"]["presented"],
        timeout=30,
        what="challenge cleaned up",
    )


def owned_by(obj: Obj, challenge: Obj) -> bool:
    return any(o["uid"] == challenge["metadata"]["uid"] for o in obj["metadata"]["ownerReferences"])


def test_solver_pod_service_and_ingress_follow_the_solver_config_and_go_afterwards(
    pipeline: Pipeline,
) -> None:
    challenge = presented_challenge(
        pipeline,
        {
            "ingressClassName": "nginx",
            "serviceType": "ClusterIP",
            "podTemplate": {"spec": {"nodeSelector": {"pool": "acme"}}},
            "ingressTemplate": {"metadata": {"annotations": {"team": "web"}}},
        },
    )
    spec = challenge["spec"]
    (pod,) = pipeline.items(PODS)
    args = pod["spec"]["containers"][0]["args"]
    assert f"--domain={spec['dnsName']}" in args and f"--token={spec['token']}" in args
    assert f"--key={spec['key']}" in args
    assert pod["spec"]["nodeSelector"] == {"pool": "acme"}
    (service,) = pipeline.items(SERVICES)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (ingress,) = pipeline.items(INGRESSES)
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"]["team"] == "web"
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert rule["host"] == spec["dnsName"]
    assert path["path"] == f"/.well-known/acme-challenge/{spec['token']}"
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    assert all(owned_by(o, challenge) for o in (pod, service, ingress))

    reject(pipeline, challenge)
    assert pipeline.items(PODS) == []
    assert pipeline.items(SERVICES) == []
    assert pipeline.items(INGRESSES) == []


def test_named_ingress_is_edited_in_place_and_restored(pipeline: Pipeline) -> None:
    pipeline.create(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "site"},
            "spec": {
                "ingressClassName": "nginx",
                "rules": [{"host": "site.example.test", "http": {"paths": [_root_path()]}}],
            },
        }
    )
    challenge = presented_challenge(pipeline, {"name": "site"})
    (ingress,) = pipeline.items(INGRESSES)
    hosts = {r["host"]: r["http"]["paths"] for r in ingress["spec"]["rules"]}
    assert hosts["site.example.test"] == [_root_path()]
    (path,) = hosts[challenge["spec"]["dnsName"]]
    assert path["path"].endswith(challenge["spec"]["token"])

    reject(pipeline, challenge)
    (ingress,) = pipeline.items(INGRESSES)
    assert ingress["spec"]["rules"] == [
        {"host": "site.example.test", "http": {"paths": [_root_path()]}}
    ]


def _root_path() -> dict[str, Any]:
    return {
        "path": "/",
        "pathType": "Prefix",
        "backend": {"service": {"name": "site", "port": {"number": 80}}},
    }
