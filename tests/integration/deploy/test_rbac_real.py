"""infra/rbac under kube-apiserver's own RBAC authorizer.

The issuance, sweep, issuer, ingress and trust suites and the ACME pipeline (Pebble,
BIND9) run once more on the rig's real control plane with infra/rbac applied, every
function acting as its own ServiceAccount (tests/rig/impersonate.py). The real
authorizer must refuse nothing, every verb a role grants must show up in the audit log
as used, and `kubectl auth can-i --as` must say the same as the roles.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from events.localapi.requestlog import RequestRecord
from tests.conftest import BACKENDS_ENV, REPO, Cluster, require_binary
from tests.integration.deploy.rbac_grants import Grant, granted_by_service_account
from tests.rig.audit import AuditLog, AuditRecord
from tests.rig.impersonate import IMPERSONATED_SUITES, NAMESPACE, OUT_ENV

# The suites' own run happens inside the first test's fixture: minutes, not seconds.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

PYTEST_OPTIONS = ("-p", "tests.rig.impersonate", "-p", "no:cacheprovider", "-q", "-x")
PREFIX = f"system:serviceaccount:{NAMESPACE}:"

# Functions that share the issuance and ACME reconcilers: which of them makes a given call
# of a concurrent flow depends on timing, so a grant counts as used when any of them used
# it (as in test_rbac.py).
SHARED = frozenset(
    f"certainly-{f}"
    for f in ("on-certificate-created", "on-issuer-changed", "on-expiry-tick", "on-challenge-ready")
)


def _grant(record: RequestRecord) -> Grant:
    resource = record.resource + (f"/{record.subresource}" if record.subresource else "")
    return (record.group, resource, record.verb)


@pytest.fixture(scope="module")
def acted(tmp_path_factory: pytest.TempPathFactory) -> list[AuditRecord]:
    """Every request a function made as its ServiceAccount, from the real audit log."""
    for binary in ("pebble", "named"):
        require_binary(binary)
    out = tmp_path_factory.mktemp("rbac-real") / "audit.log"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env[BACKENDS_ENV] = "real"
    env[OUT_ENV] = str(out)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *IMPERSONATED_SUITES, *PYTEST_OPTIONS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    failures = [
        line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR", "E  "))
    ]
    assert result.returncode == 0, "\n".join(failures[:80]) + result.stderr[-2000:]
    records = AuditLog(Path(out)).snapshot()
    return [r for r in records if isinstance(r, AuditRecord) and r.username.startswith(PREFIX)]


def test_the_real_authorizer_refuses_no_call_a_function_makes(acted: list[AuditRecord]) -> None:
    # The authorizer's own refusals; a 403 from admission (NamespaceLifecycle refusing an
    # Event in a namespace being deleted) is not one.
    refused = sorted({(r.username, *_grant(r)) for r in acted if r.decision == "forbid"})
    assert acted, "no function acted as its ServiceAccount"
    assert refused == []


def test_every_granted_verb_is_used_as_the_audit_log_shows(acted: list[AuditRecord]) -> None:
    used: dict[str, set[Grant]] = defaultdict(set)
    for record in acted:
        used[record.username.removeprefix(PREFIX)].add(_grant(record))
    unused = {}
    for account, granted in granted_by_service_account().items():
        peers = SHARED if account in SHARED else {account}
        seen = set().union(*(used[p] for p in peers))
        if granted - seen:
            unused[account] = sorted(granted - seen)
    assert unused == {}


def test_the_audit_log_tells_the_functions_apart(acted: list[AuditRecord]) -> None:
    # The checks above would pass vacuously if every call looked like every function's:
    # the tick lists Orders, a Certificate event never does.
    lists_orders = {
        r.username.removeprefix(PREFIX)
        for r in acted
        if (r.group, r.resource, r.verb) == ("acme.cert-manager.io", "orders", "list")
    }
    assert "certainly-on-expiry-tick" in lists_orders
    assert "certainly-on-certificate-created" not in lists_orders


def _can_i(cluster: Cluster, account: str, verb: str, resource: str) -> str:
    assert cluster.plane is not None
    name, _, subresource = resource.partition("/")
    args = ["auth", "can-i", verb, name, f"--as={PREFIX}{account}"]
    if subresource:
        args.append(f"--subresource={subresource}")
    answer = subprocess.run(
        [
            sys.executable.rpartition("/")[0] + "/kubectl",
            f"--kubeconfig={cluster.plane.kubeconfig}",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return answer.stdout.strip()


def test_kubectl_auth_can_i_agrees_with_the_roles(real_cluster: Cluster) -> None:
    assert real_cluster.plane is not None
    real_cluster.plane.kubectl("apply", "-n", NAMESPACE, "-k", str(REPO / "infra" / "rbac"))
    for account, granted in granted_by_service_account().items():
        for group, resource, verb in sorted(granted):
            qualified = f"{resource.partition('/')[0]}.{group}" if group else resource
            suffix = f"/{resource.partition('/')[2]}" if "/" in resource else ""
            assert _can_i(real_cluster, account, verb, qualified + suffix) == "yes", (
                account,
                verb,
                resource,
            )
        assert (
            _can_i(real_cluster, account, "create", "clusterrolebindings.rbac.authorization.k8s.io")
            == "no"
        )
        assert _can_i(real_cluster, account, "delete", "nodes") == "no"
