"""The ACME issuer's account: key Secret created or reused, registration recorded on status,
and the Ready reasons cert-manager users know."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared import runtime
from shared.acme.account import account_key_to_pem, generate_account_key
from shared.issuers.resolve import reconcile_issuer
from shared.kube.resources import CLUSTER_ISSUERS
from tests.e2e.acme_pipeline.conftest import SECRETS, Pipeline, condition, http01_solvers

pytestmark = pytest.mark.e2e


def check(ctx: runtime.Context, pipeline: Pipeline, name: str) -> dict[str, Any]:
    reconcile_issuer(ctx, kind="ClusterIssuer", namespace="", name=name)
    return pipeline.get(CLUSTER_ISSUERS, name)


def test_existing_account_key_is_reused_not_replaced(
    pipeline: Pipeline, ctx: runtime.Context
) -> None:
    pem = account_key_to_pem(generate_account_key())
    issuer = pipeline.cluster_issuer("reuse", solvers=http01_solvers())["metadata"]["name"]
    pipeline.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{issuer}-account", "namespace": pipeline.resource_namespace},
            "data": {"tls.key": base64.b64encode(pem).decode()},
        }
    )
    first = check(ctx, pipeline, issuer)
    assert condition(first, "Ready")["reason"] == "ACMEAccountRegistered"
    secret = pipeline.get(SECRETS, f"{issuer}-account", pipeline.resource_namespace)
    assert base64.b64decode(secret["data"]["tls.key"]) == pem
    # A second look finds the same account for the same key: nothing changes.
    again = check(ctx, pipeline, issuer)
    assert again["status"]["acme"]["uri"] == first["status"]["acme"]["uri"]
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_missing_key_with_generation_disabled_is_not_ready(
    pipeline: Pipeline, ctx: runtime.Context
) -> None:
    issuer = pipeline.cluster_issuer(
        "nogen", solvers=http01_solvers(), disableAccountKeyGeneration=True
    )["metadata"]["name"]
    ready = condition(check(ctx, pipeline, issuer), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ErrRegisterACMEAccount")
    assert "disableAccountKeyGeneration" in ready["message"]
    assert pipeline.find(SECRETS, f"{issuer}-account", pipeline.resource_namespace) is None


def test_invalid_config_is_reported_as_such(pipeline: Pipeline, ctx: runtime.Context) -> None:
    issuer = pipeline.cluster_issuer("bad", solvers=http01_solvers(), server="ftp://nowhere")[
        "metadata"
    ]["name"]
    ready = condition(check(ctx, pipeline, issuer), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidConfig")


def test_untrusted_server_certificate_fails_registration(
    pipeline: Pipeline, ctx: runtime.Context
) -> None:
    issuer = pipeline.cluster_issuer("notrust", solvers=http01_solvers(), caBundle=None)
    ready = condition(check(ctx, pipeline, issuer["metadata"]["name"]), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ErrRegisterACMEAccount")
    assert "TLS" in ready["message"]
    key = pipeline.get(
        SECRETS, f"{issuer['metadata']['name']}-account", pipeline.resource_namespace
    )
    assert "BEGIN" not in ready["message"] and key["data"]["tls.key"] not in ready["message"]
