"""The shape of infra/rbac: one ServiceAccount and one least-privilege role per function.

Whether each role allows exactly what its function does is decided by kube-apiserver's
own authorizer, in test_rbac_real.py.
"""

from __future__ import annotations

import pytest

from events.routes import WATCHED
from tests.integration.deploy.manifests import render
from tests.integration.deploy.rbac_grants import Grant, granted_by_service_account, grants

pytestmark = pytest.mark.integration

# The functions infra/rbac has a ServiceAccount and ClusterRole for.
FUNCTIONS = (
    "on-certificate-created",
    "on-issuer-changed",
    "on-expiry-tick",
    "on-challenge-ready",
    "on-ingress-changed",
    "on-bundle-changed",
)


@pytest.fixture(scope="module")
def roles() -> dict[str, set[Grant]]:
    return granted_by_service_account()


def test_every_function_has_its_own_service_account_and_role(
    roles: dict[str, set[Grant]],
) -> None:
    assert set(roles) == {f"certainly-{f}" for f in FUNCTIONS}
    for granted in roles.values():
        assert all("*" not in grant for grant in granted), "no wildcards"


def test_watcher_role_lists_and_watches_exactly_the_watched_kinds() -> None:
    (role,) = [
        o
        for o in render("rbac/watcher")
        if o["kind"] == "ClusterRole" and o["metadata"]["name"] == "certainly:watcher"
    ]
    expected = {(r.group, r.plural, verb) for r, _ in WATCHED for verb in ("list", "watch")}
    assert grants(role) == expected
