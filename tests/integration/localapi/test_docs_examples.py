"""cert-manager's documentation examples through real kubectl: applied unchanged, or refused
with the same fields a cluster running cert-manager's CRDs names."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.docs_examples import NOT_SERVED, DocsExample, docs_examples
from tests.integration.localapi.conftest import Kubectl
from tests.integration.localapi.test_kubectl import kubectl, ns  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration

CLUSTER_SCOPED = {"ClusterIssuer", "Bundle"}
# Typos in the docs that kubectl's default strict field validation refuses on a real
# cluster too: the unknown field, as kube-apiserver names it.
STRICT_REFUSALS = {
    # `cloudDNS` indented beside `dns01` instead of under it.
    ("configuration-acme.yaml", 7): "spec.acme.solvers[2].cloudDNS",
    # cert-manager's field is `emailAddresses`.
    ("usage-certificate.yaml", 1): "spec.nameConstraints.permitted.emailAddress",
}
EXAMPLES = [
    e
    for e in docs_examples()
    if e.manifest["apiVersion"].split("/")[0].endswith("cert-manager.io")
    and e.key not in NOT_SERVED
]


def placed(example: DocsExample, number: int, namespace: str) -> dict[str, Any]:
    """The example as written, moved into the test's namespace under a unique name."""
    obj = copy.deepcopy(example.manifest)
    meta = obj.setdefault("metadata", {})
    meta["name"] = f"docs-{number}-{namespace}"  # the docs' names repeat and elide
    if obj["kind"] in CLUSTER_SCOPED:
        meta.pop("namespace", None)
    else:
        meta["namespace"] = namespace
    return obj


def pruned(sent: Any, stored: Any, path: str = "spec") -> list[str]:
    """Paths of what was sent but is not stored (the server dropped or changed it)."""
    if isinstance(sent, dict) and isinstance(stored, dict):
        return [
            lost
            for key, value in sent.items()
            for lost in (
                pruned(value, stored[key], f"{path}.{key}") if key in stored else [f"{path}.{key}"]
            )
        ]
    if isinstance(sent, list) and isinstance(stored, list) and len(sent) == len(stored):
        return [
            lost
            for i, (a, b) in enumerate(zip(sent, stored, strict=True))
            for lost in pruned(a, b, f"{path}[{i}]")
        ]
    return [] if sent == stored else [path]


def test_accepted_examples_apply_unchanged_in_one_kubectl_apply(kubectl: Kubectl, ns: str) -> None:  # noqa: F811
    accepted = [
        (n, e)
        for n, e in enumerate(EXAMPLES)
        if not e.expected_errors and e.key not in STRICT_REFUSALS
    ]
    assert len(accepted) >= 25
    objs = [placed(e, n, ns) for n, e in accepted]
    try:
        out = kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump_all(objs)).stdout
        assert out.count(" created") == len(objs), out
        for obj in objs:
            kind, name = obj["kind"].lower(), obj["metadata"]["name"]
            where = [] if obj["kind"] in CLUSTER_SCOPED else ["-n", ns]
            stored = kubectl.json("get", f"{kind}.{obj['apiVersion'].split('/')[0]}", name, *where)
            assert pruned(obj["spec"], stored["spec"]) == [], name
    finally:
        cluster_scoped = [o for o in objs if o["kind"] in CLUSTER_SCOPED]
        if cluster_scoped:
            kubectl.run(
                "delete", "-f", "-", "--wait=false", stdin=yaml.safe_dump_all(cluster_scoped)
            )


@pytest.mark.parametrize(
    "number",
    [n for n, e in enumerate(EXAMPLES) if e.expected_errors],
    ids=lambda n: str(EXAMPLES[n]),
)
def test_refused_examples_name_the_same_fields(kubectl: Kubectl, ns: str, number: int) -> None:  # noqa: F811
    example = EXAMPLES[number]
    # Unknown fields pruned rather than refused, as the schema-level test does.
    result = kubectl.run(
        "apply",
        "--validate=false",
        "-f",
        "-",
        stdin=yaml.safe_dump(placed(example, number, ns)),
        check=False,
    )
    assert result.returncode != 0
    assert "is invalid" in result.stderr, result.stderr
    for error in example.expected_errors:
        field = error.split(":", 1)[0]
        assert field in result.stderr, (field, result.stderr)


@pytest.mark.parametrize("key", sorted(STRICT_REFUSALS), ids=lambda key: f"{key[0]}#{key[1]}")
def test_strict_validation_names_the_docs_typo(
    kubectl: Kubectl,  # noqa: F811
    ns: str,  # noqa: F811
    key: tuple[str, int],
) -> None:
    (number,) = [n for n, e in enumerate(EXAMPLES) if e.key == key]
    obj = placed(EXAMPLES[number], number, ns)
    result = kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(obj), check=False)
    assert result.returncode != 0
    assert f'strict decoding error: unknown field "{STRICT_REFUSALS[key]}"' in result.stderr


@pytest.mark.parametrize(
    ("file", "needle"),
    [
        # cert-manager v1.21's solver option spec.acme.solvers[].waitInsteadOfSelfCheck.
        ("configuration-acme-wait-instead-of-self-check.yaml", "waitInsteadOfSelfCheck: 30s"),
        # trust-manager's spec.target.configMap.metadata.
        ("trust-manager.yaml", "argocd.argoproj.io/sync-wave"),
    ],
)
def test_examples_with_newer_fields_pass_strict_decoding_and_keep_them(
    kubectl: Kubectl,  # noqa: F811
    ns: str,  # noqa: F811
    file: str,
    needle: str,
) -> None:
    (number,) = [n for n, e in enumerate(EXAMPLES) if e.file == file and needle in e.raw]
    obj = placed(EXAMPLES[number], number, ns)
    try:
        out = kubectl.run("apply", "--validate=strict", "-f", "-", stdin=yaml.safe_dump(obj))
        assert " created" in out.stdout
        group = obj["apiVersion"].split("/")[0]
        stored = kubectl.json("get", f"{obj['kind'].lower()}.{group}", obj["metadata"]["name"])
        assert pruned(obj["spec"], stored["spec"]) == []
        assert needle.partition(":")[0] in yaml.safe_dump(stored["spec"])
    finally:
        kubectl.run("delete", "-f", "-", "--wait=false", stdin=yaml.safe_dump(obj), check=False)
