"""pytest plugin: each function talks to the real apiserver as its own ServiceAccount.

With `-p tests.rig.impersonate` and the real backend, infra/rbac is applied to the rig's
control plane, and while an event is delivered to a function every API call the function
makes carries `Impersonate-User: system:serviceaccount:<namespace>:certainly-<function>`,
so kube-apiserver's RBAC authorizer decides each call against that function's ClusterRole,
exactly as in a cluster. The audit log then says who was refused what (a 403) and which
granted verbs were used; tests/integration/deploy/test_rbac_real.py reads it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from kubernetes import client as k8s

from events.sinks import Delivery, InProcessSink
from tests.conftest import REPO, Cluster

OUT_ENV = "CERTAINLY_RBAC_AUDIT_OUT"  # where a copy of the audit log is written
# The suites whose functions act as their ServiceAccounts on the real API, run by
# RBAC_TEST in a pytest of their own (their [real] variants are not run twice).
IMPERSONATED_SUITES = (
    "tests/integration/pipeline/",
    "tests/integration/sweep/",
    "tests/integration/issuers/",
    "tests/integration/ingress/",
    "tests/integration/trust/",
    "tests/e2e/acme_pipeline/",
)
RBAC_TEST = "tests/integration/deploy/test_rbac_real.py"
IMPERSONATE = "Impersonate-User"
NAMESPACE = "default"  # where infra/rbac's ServiceAccounts live when applied as they are


def service_account(target: str) -> str:
    """functions.on_certificate_created:on_certificate_created -> its ServiceAccount."""
    function = target.rpartition(":")[2].replace("_", "-")
    return f"system:serviceaccount:{NAMESPACE}:certainly-{function}"


@pytest.fixture(scope="session", autouse=True)
def _functions_act_as_their_service_accounts(cluster: Cluster) -> Iterator[None]:
    if cluster.plane is None:
        raise pytest.UsageError("tests.rig.impersonate needs CERTAINLY_TEST_BACKENDS=real")
    cluster.plane.kubectl("apply", "-n", NAMESPACE, "-k", str(REPO / "infra" / "rbac"))
    acting = threading.local()  # deliveries run concurrently: whose call is per thread
    original_deliver = InProcessSink.deliver
    original_call = k8s.ApiClient.call_api

    def deliver(self: InProcessSink, event: CloudEvent) -> Delivery:
        outer = getattr(acting, "account", None)
        acting.account = service_account(self.name)
        try:
            return original_deliver(self, event)
        finally:
            acting.account = outer

    def call_api(self: k8s.ApiClient, *args: Any, **kwargs: Any) -> Any:
        account = getattr(acting, "account", None)
        if account is not None:
            kwargs["header_params"] = {**(kwargs.get("header_params") or {}), IMPERSONATE: account}
        return original_call(self, *args, **kwargs)

    InProcessSink.deliver = deliver  # type: ignore[method-assign]
    k8s.ApiClient.call_api = call_api
    try:
        yield
    finally:
        InProcessSink.deliver = original_deliver  # type: ignore[method-assign]
        k8s.ApiClient.call_api = original_call
        out = os.environ.get(OUT_ENV)
        if out:  # copied while the control plane still runs: its folder goes with it
            shutil.copyfile(cluster.plane.audit_log, out)
