"""infra/ renders with kustomize into objects a cluster would accept, wired as the code expects."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
import yaml

from events.cli import build_parser
from events.routes import ROUTES, WATCHED
from tests.integration.deploy.manifests import (
    BASES,
    INFRA,
    INSTALLS,
    Obj,
    containers,
    errors_of,
    name_of,
    platform_errors,
    render,
)

pytestmark = pytest.mark.integration

CERTAINLY_IMAGE = "ghcr.io/certainly-dev/certainly:0.1.0"
WORKLOADS = ("Deployment", "Service", "Function")


def _by_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def _env(container: Obj) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env") or ()}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Obj]]:
    return {directory: render(directory) for directory in (*INSTALLS, *BASES)}


@pytest.mark.parametrize("directory", [*INSTALLS, *BASES])
def test_every_rendered_object_is_valid_for_its_kind(
    rendered: dict[str, list[Obj]], directory: str
) -> None:
    objects = rendered[directory]
    assert objects, f"infra/{directory} renders nothing"
    problems = {name_of(o): errors_of(o) for o in objects}
    assert {k: v for k, v in problems.items() if v} == {}


PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")  # `make demo` fills these in


def _filled(value: Any) -> Any:
    """Placeholders replaced by base64 text: valid where a string or bytes are."""
    if isinstance(value, dict):
        return {k: _filled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v) for v in value]
    if isinstance(value, str) and PLACEHOLDER.match(value):
        return "cGxhY2Vob2xkZXI="
    return value


def test_examples_are_valid_against_our_crds() -> None:
    examples = sorted((INFRA / "examples").glob("*.yaml"))
    objects = [_filled(d) for path in examples for d in yaml.safe_load_all(path.read_text()) if d]
    assert objects
    assert {name_of(o): e for o in objects if (e := errors_of(o))} == {}


@pytest.mark.parametrize(
    ("obj", "mistake"),
    [
        (
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "a"},
                "automountToken": True,
            },
            "automountToken",
        ),
        (
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": "a"},
                "spec": {"secretName": "a", "issuerRef": {"name": "x"}, "duration": 5},
            },
            "duration",
        ),
        (
            {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Trigger",
                "metadata": {"name": "a"},
                "spec": {"broker": "b", "subscriber": {"ref": {}}, "filter": {"kind": "x"}},
            },
            "filter",
        ),
        (
            {
                "apiVersion": "openfaas.com/v1",
                "kind": "Function",
                "metadata": {"name": "a"},
                "spec": {"name": "a", "image": "i", "readOnlyRootFS": True},
            },
            "readOnlyRootFS",
        ),
        (
            {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "a"}},
            "no schema",
        ),
    ],
    ids=["core", "custom-resource", "knative", "openfaas", "unknown-kind"],
)
def test_validation_rejects_a_mistake(obj: Obj, mistake: str) -> None:
    errors = errors_of(obj)
    assert any(mistake in e for e in errors), errors


@pytest.mark.parametrize("directory", INSTALLS)
def test_service_accounts_and_roles_referenced_exist(
    rendered: dict[str, list[Obj]], directory: str
) -> None:
    objects = rendered[directory]
    accounts = {
        (o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in _by_kind(objects, "ServiceAccount")
    }
    roles = {o["metadata"]["name"] for o in _by_kind(objects, "ClusterRole")}
    namespaced_roles = {
        (o["metadata"].get("namespace"), o["metadata"]["name"]) for o in _by_kind(objects, "Role")
    }
    missing: list[str] = []
    for binding in [*_by_kind(objects, "ClusterRoleBinding"), *_by_kind(objects, "RoleBinding")]:
        ref = binding["roleRef"]
        ns = binding["metadata"].get("namespace")
        if ref["kind"] == "ClusterRole" and ref["name"] not in roles:
            missing.append(f"{name_of(binding)} -> ClusterRole {ref['name']}")
        if ref["kind"] == "Role" and (ns, ref["name"]) not in namespaced_roles:
            missing.append(f"{name_of(binding)} -> Role {ref['name']}")
        for subject in binding["subjects"]:
            if (subject["namespace"], subject["name"]) not in accounts:
                missing.append(f"{name_of(binding)} -> {subject['namespace']}/{subject['name']}")
    for workload in [*_by_kind(objects, "Deployment"), *_by_kind(objects, "Service")]:
        pod = workload["spec"].get("template", {}).get("spec", {})
        account = pod.get("serviceAccountName")
        if account and (workload["metadata"].get("namespace"), account) not in accounts:
            missing.append(f"{name_of(workload)} -> ServiceAccount {account}")
    for function in _by_kind(objects, "Function"):
        account = function["spec"]["annotations"]["com.openfaas.serviceaccount"]
        if (function["metadata"].get("namespace"), account) not in accounts:
            missing.append(f"{name_of(function)} -> ServiceAccount {account}")
    assert missing == []


@pytest.mark.parametrize("directory", INSTALLS)
def test_certainly_runs_from_one_pinned_image_non_root_on_a_read_only_filesystem(
    rendered: dict[str, list[Obj]], directory: str
) -> None:
    checked = 0
    for workload in rendered[directory]:
        if workload["kind"] == "Function":
            assert workload["spec"]["image"] == CERTAINLY_IMAGE
            assert workload["spec"]["readOnlyRootFilesystem"] is True
            checked += 1
        if workload["kind"] not in ("Deployment", "Service"):
            continue
        pod_context = workload["spec"]["template"]["spec"].get("securityContext") or {}
        for container in containers(workload):
            if "certainly" not in container["image"]:
                continue
            context = container.get("securityContext") or {}
            assert container["image"] == CERTAINLY_IMAGE, name_of(workload)
            assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True
            assert context.get("readOnlyRootFilesystem") is True, name_of(workload)
            assert context.get("allowPrivilegeEscalation") is False, name_of(workload)
            assert context.get("capabilities", {}).get("drop") == ["ALL"], name_of(workload)
            # A read-only root still needs a writable /tmp (ACME caBundle files).
            volumes = {
                v["name"]
                for v in workload["spec"]["template"]["spec"].get("volumes") or ()
                if "emptyDir" in v
            }
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or ()}
            assert mounts.get("/tmp") in volumes, name_of(workload)
            checked += 1
    assert checked > 0


def _targets(objects: list[Obj]) -> dict[str, str]:
    """Knative Service name -> the FUNCTION_TARGET it serves."""
    found: dict[str, str] = {}
    for service in _by_kind(objects, "Service"):
        for container in containers(service):
            target = _env(container).get("FUNCTION_TARGET")
            if target:
                found[service["metadata"]["name"]] = target
    return found


def test_every_function_target_names_a_function_of_the_functions_package(
    rendered: dict[str, list[Obj]],
) -> None:
    targets = set(_targets(rendered["knative"]).values())
    assert set(ROUTES.values()) <= targets
    for target in targets:
        module, _, function = target.partition(":")
        assert module.startswith("functions.") and module.endswith(function), target
        if importlib.util.find_spec(module) is None:
            continue  # announced function, not written yet: its manifests are ready for it
        assert callable(getattr(importlib.import_module(module), function)), target


def test_knative_triggers_route_each_kind_to_the_function_events_routes_names(
    rendered: dict[str, list[Obj]],
) -> None:
    objects = rendered["knative"]
    targets = _targets(objects)
    routed: dict[str, str] = {}
    for trigger in _by_kind(objects, "Trigger"):
        filters = trigger["spec"]["filters"]
        (kind,) = [f["exact"]["kind"] for f in filters if "exact" in f]
        # Secrets come from the Reference-mode source: no key in any event.
        mode = "ref" if kind == "Secret" else "resource"
        assert {"prefix": {"type": f"dev.knative.apiserver.{mode}."}} in filters
        subscriber = trigger["spec"]["subscriber"]["ref"]["name"]
        assert kind not in routed, f"two Triggers for {kind}"
        routed[kind] = targets[subscriber]
        delivery = trigger["spec"]["delivery"]
        assert delivery["retry"] > 0 and delivery["backoffPolicy"] == "exponential"
        assert delivery["deadLetterSink"]["ref"]["name"] == "certainly-dead-letter"
    assert {k: routed.get(k) for k in ROUTES} == ROUTES


def _selector_terms(selector: dict[str, Any]) -> set[str]:
    terms = {f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()}
    for expression in selector.get("matchExpressions") or ():
        assert expression["operator"] in ("Exists", "DoesNotExist"), expression
        terms.add(("!" if expression["operator"] == "DoesNotExist" else "") + expression["key"])
    return terms


def test_knative_apiserversource_watches_what_our_watcher_watches(
    rendered: dict[str, list[Obj]],
) -> None:
    watched: dict[tuple[str, str], Any] = {}
    for source in _by_kind(rendered["knative"], "ApiServerSource"):
        spec = source["spec"]
        assert spec["namespaceSelector"] == {}  # every namespace
        assert spec["sink"]["ref"]["kind"] == "Broker"
        kinds = {r["kind"] for r in spec["resources"]}
        # Secrets by reference only (no key in any event); the rest whole, in `data`.
        assert spec["mode"] == ("Reference" if kinds == {"Secret"} else "Resource"), kinds
        watched |= {(r["apiVersion"], r["kind"]): r.get("selector") for r in spec["resources"]}
    for resource, selector in WATCHED:
        assert (resource.api_version, resource.kind) in watched, resource.kind
        expected = set(selector.split(",")) if selector else set()
        assert _selector_terms(watched[(resource.api_version, resource.kind)] or {}) == expected


def test_knative_ticks_go_to_on_expiry_tick(rendered: dict[str, list[Obj]]) -> None:
    objects = rendered["knative"]
    (ping,) = _by_kind(objects, "PingSource")
    target = _targets(objects)[ping["spec"]["sink"]["ref"]["name"]]
    assert target == "functions.on_expiry_tick:on_expiry_tick"


def test_each_knative_function_has_its_own_service_account(
    rendered: dict[str, list[Obj]],
) -> None:
    services = [
        s
        for s in _by_kind(rendered["knative"], "Service")
        if s["metadata"]["name"] in _targets(rendered["knative"])
    ]
    accounts = [s["spec"]["template"]["spec"]["serviceAccountName"] for s in services]
    assert accounts == [f"certainly-{s['metadata']['name']}" for s in services]
    for service in services:
        container = next(containers(service))
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def _stack() -> Obj:
    stack: Obj = yaml.safe_load((INFRA / "openfaas" / "stack.yml").read_text())
    return stack


def test_openfaas_stack_is_valid_and_matches_the_operator_functions(
    rendered: dict[str, list[Obj]],
) -> None:
    stack = _stack()
    assert platform_errors("stack.yml", stack) == []
    functions = {
        f["spec"]["name"]: f["spec"]
        for f in _by_kind(rendered["overlays/openfaas-operator"], "Function")
    }
    assert set(functions) == set(stack["functions"])
    for name, entry in stack["functions"].items():
        assert entry["environment"] == functions[name]["environment"], name
        assert entry["annotations"] == functions[name]["annotations"], name
        assert entry["annotations"]["com.openfaas.serviceaccount"] == f"certainly-{name}"
    tick = stack["functions"]["on-expiry-tick"]
    assert tick["annotations"]["topic"] == "cron-function"
    assert tick["environment"]["FUNCTION_TARGET"] == "functions.on_expiry_tick:on_expiry_tick"


def _args(objects: list[Obj], deployment: str) -> list[str]:
    (workload,) = [
        d for d in _by_kind(objects, "Deployment") if d["metadata"]["name"] == deployment
    ]
    (container,) = containers(workload)
    return list(container["args"])


def test_openfaas_watcher_posts_every_routed_kind_to_its_function_on_the_gateway(
    rendered: dict[str, list[Obj]],
) -> None:
    args = build_parser().parse_args(_args(rendered["openfaas"], "certainly-watcher"))
    assert args.command == "watch"
    urls = dict(item.partition("=")[::2] for item in args.function_url)
    stack = _stack()["functions"]
    by_target = {f["environment"]["FUNCTION_TARGET"]: name for name, f in stack.items()}
    for target in set(ROUTES.values()):
        assert urls[target] == f"http://gateway.openfaas:8080/function/{by_target[target]}"
    assert "functions.on_expiry_tick:on_expiry_tick" not in urls  # the cron-connector ticks


def test_plain_runs_two_leader_elected_replicas_of_certainly_run(
    rendered: dict[str, list[Obj]],
) -> None:
    objects = rendered["plain"]
    args = build_parser().parse_args(_args(objects, "certainly"))
    assert args.command == "run" and args.leader_elect
    (deployment,) = _by_kind(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    (role,) = _by_kind(objects, "Role")
    verbs = {v for rule in role["rules"] for v in rule["verbs"] if "leases" in rule["resources"]}
    assert verbs == {"get", "create", "update"}
    named = [r for r in role["rules"] if {"get", "update"} & set(r["verbs"])]
    assert all(r.get("resourceNames") == [args.lease_name] for r in named)
    assert role["metadata"]["namespace"] == deployment["metadata"]["namespace"]
