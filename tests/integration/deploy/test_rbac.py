"""Least privilege, checked against what the functions really do.

The integration suite and the ACME pipeline tests (Pebble, BIND9: the only place the
ACME paths run) are run once more with the api_calls plugin, which records the API
calls each function makes, attributed by the thread that delivered the event and
cross-checked against the local API's request log. Each function's ClusterRole in
infra/rbac must allow every one of those calls and grant nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import pytest

from events.routes import WATCHED
from tests.conftest import BACKENDS_ENV, IN_CI, REPO, require_binary
from tests.integration.deploy.api_calls import OUT_ENV, ApiCall, Recording
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
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    # The ACME paths run only against real Pebble and BIND9: without them the roles
    # cannot be checked (a skip on a laptop, a failure in CI).
    for binary in ("pebble", "named"):
        require_binary(binary)
    out = tmp_path_factory.mktemp("rbac") / "calls.json"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}  # the local API's log
    env[BACKENDS_ENV] = "embedded"  # cross-checked against its request log
    env[OUT_ENV] = str(out)
    here = Path(__file__).parent.relative_to(REPO)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/integration",
            "tests/e2e/acme_pipeline",
            "-p",
            "tests.integration.deploy.api_calls",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ignore=tests/integration/localapi",
            f"--ignore-glob={here}/test_*.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.exists(), result.stdout[-3000:] + result.stderr[-2000:]
    if result.returncode != 0:
        # A failing test stops short of calls it would have made; say so next to any
        # difference below rather than fail for another suite's reasons.
        summary = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
        warnings.warn(f"recorded run had failures: {summary}", stacklevel=1)
    recorded: Recording = json.loads(out.read_text())
    assert recorded["unserved"] == [], "calls classified wrongly: the API never saw them"
    return recorded


def _needed(calls: Iterable[ApiCall]) -> set[Grant]:
    return {(c["group"], c["resource"], c["verb"]) for c in calls}


@pytest.fixture(scope="module")
def roles() -> dict[str, set[Grant]]:
    return granted_by_service_account()


def _target_of(function: str) -> str:
    module = function.replace("-", "_")
    return f"functions.{module}:{module}"


def test_every_function_has_its_own_service_account_and_role(
    roles: dict[str, set[Grant]],
) -> None:
    assert set(roles) == {f"certainly-{f}" for f in FUNCTIONS}
    for granted in roles.values():
        assert all("*" not in grant for grant in granted), "no wildcards"


# Functions whose handlers share the issuance and ACME reconcilers (shared/issuance,
# shared/acmeflow): which of them performs a given step of a concurrent ACME flow
# (the event's function or the tick's sweep finishing it) depends on timing, so a
# grant counts as used when any of them made that call in the recorded run.
SHARED_RECONCILERS = frozenset(
    {"on-certificate-created", "on-issuer-changed", "on-expiry-tick", "on-challenge-ready"}
)


def _unverified(function: str) -> None:
    """No recorded delivery to a function: its role cannot be checked (a failure in CI)."""
    message = f"the recorded suites deliver nothing to {function}: role unverified"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_role_allows_every_call_the_function_makes(
    recording: Recording, roles: dict[str, set[Grant]], function: str
) -> None:
    target = _target_of(function)
    if not recording["deliveries"].get(target):
        _unverified(function)
    needed = _needed(recording["calls"].get(target, []))
    forbidden = sorted(needed - roles[f"certainly-{function}"])
    assert forbidden == [], f"calls RBAC would forbid: {forbidden}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_role_grants_nothing_the_function_never_uses(
    recording: Recording, roles: dict[str, set[Grant]], function: str
) -> None:
    peers = SHARED_RECONCILERS if function in SHARED_RECONCILERS else {function}
    used = set().union(*(_needed(recording["calls"].get(_target_of(f), [])) for f in peers))
    if not recording["deliveries"].get(_target_of(function)):
        _unverified(function)
    unused = sorted(roles[f"certainly-{function}"] - used)
    assert unused == [], f"grants never used: {unused}"


def test_watcher_role_lists_and_watches_exactly_the_watched_kinds() -> None:
    (role,) = [
        o
        for o in render("rbac/watcher")
        if o["kind"] == "ClusterRole" and o["metadata"]["name"] == "certainly:watcher"
    ]
    expected = {(r.group, r.plural, verb) for r, _ in WATCHED for verb in ("list", "watch")}
    assert grants(role) == expected


def test_recording_attributes_calls_to_the_function_that_made_them(
    recording: Recording,
) -> None:
    # The plugin itself must be able to tell functions apart, or the checks above
    # would pass vacuously: the tick lists Orders, a Certificate event never does.
    tick = _needed(recording["calls"]["functions.on_expiry_tick:on_expiry_tick"])
    created = _needed(recording["calls"]["functions.on_certificate_created:on_certificate_created"])
    assert ("acme.cert-manager.io", "orders", "list") in tick
    assert ("acme.cert-manager.io", "orders", "list") not in created
