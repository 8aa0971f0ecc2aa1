"""Our CRDs: structural, cert-manager's names and columns, and they accept cert-manager's docs.

Every example manifest copied from cert-manager's documentation
(tests/fixtures/docs-manifests) goes through prune -> defaults -> validate as
kube-apiserver would run it. Examples that a real cluster with cert-manager's CRDs
rejects too (docs placeholders, elided required fields) have their exact errors pinned.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from events.localapi.openapi import apply_defaults, prune, validate
from tests.docs_examples import (
    DOCS_DIR,
    NOT_SERVED,
    DocsExample,
    docs_examples,
)

REPO = Path(__file__).resolve().parents[3]
CRD_DIR = REPO / "infra" / "crds"


def load_crds() -> dict[str, dict[str, Any]]:
    crds: dict[str, dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        if crd.get("kind") == "CustomResourceDefinition":  # not kustomization.yaml
            crds[crd["spec"]["names"]["kind"]] = crd
    return crds


CRDS = load_crds()
# kube-apiserver's note that a CRD's x-kubernetes-validations rules were not run.
RULES_SKIPPED = ("<nil>", "FieldValueInvalid")


def version(kind: str) -> dict[str, Any]:
    versions: list[dict[str, Any]] = CRDS[kind]["spec"]["versions"]
    assert len(versions) == 1
    return versions[0]


def schema(kind: str) -> dict[str, Any]:
    result: dict[str, Any] = version(kind)["schema"]["openAPIV3Schema"]
    return result


def served() -> dict[tuple[str, str], str]:
    """(apiVersion, kind) -> kind, for every version our CRDs serve."""
    out: dict[tuple[str, str], str] = {}
    for kind, crd in CRDS.items():
        for v in crd["spec"]["versions"]:
            if v["served"]:
                out[(f"{crd['spec']['group']}/{v['name']}", kind)] = kind
    return out


OUR_GROUPS = {crd["spec"]["group"] for crd in CRDS.values()}
EXAMPLES = [
    example
    for example in docs_examples()
    if example.manifest["apiVersion"].split("/")[0] in OUR_GROUPS
]


def test_every_docs_file_names_its_source_and_holds_our_kinds() -> None:
    files = sorted(DOCS_DIR.glob("*.yaml"))
    assert len(files) >= 15
    for path in files:
        assert path.read_text().startswith("# Source: https://cert-manager.io/docs/"), path.name
    kinds = {example.manifest["kind"] for example in EXAMPLES}
    assert kinds == {"Certificate", "CertificateRequest", "Issuer", "ClusterIssuer", "Bundle"}


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_docs_example_is_accepted_as_cert_manager_accepts_it(example: DocsExample) -> None:
    key = (example.manifest["apiVersion"], example.manifest["kind"])
    if example.key in NOT_SERVED:
        assert key not in served()
        return
    kind = served()[key]
    obj = example.manifest
    prune(schema(kind), obj)
    apply_defaults(schema(kind), obj)
    errors = sorted(f"{e.field}: {e.message}" for e in validate(schema(kind), obj))
    assert errors == example.expected_errors


# --- bad input is refused, naming the field --------------------------------------------


def certificate(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"secretName": "web-tls", "issuerRef": {"name": "ca"}, **spec},
    }


def errors_for(kind: str, obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    prune(schema(kind), obj)
    apply_defaults(schema(kind), obj)
    return [(e.field, e.reason, e.message) for e in validate(schema(kind), obj)]


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        (
            {"duration": 2160},
            "spec.duration",
            "FieldValueTypeInvalid",
            'Invalid value: "integer": spec.duration in body must be of type string: "integer"',
        ),
        (
            {"dnsNames": "example.com"},
            "spec.dnsNames",
            "FieldValueTypeInvalid",
            'Invalid value: "string": spec.dnsNames in body must be of type array: "string"',
        ),
        (
            {"isCA": "yes"},
            "spec.isCA",
            "FieldValueTypeInvalid",
            'Invalid value: "string": spec.isCA in body must be of type boolean: "string"',
        ),
        (
            {"privateKey": {"algorithm": "DSA"}},
            "spec.privateKey.algorithm",
            "FieldValueNotSupported",
            'Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519"',
        ),
        (
            {"privateKey": {"encoding": "PEM"}},
            "spec.privateKey.encoding",
            "FieldValueNotSupported",
            'Unsupported value: "PEM": supported values: "PKCS1", "PKCS8"',
        ),
        (
            {"privateKey": {"rotationPolicy": "Sometimes"}},
            "spec.privateKey.rotationPolicy",
            "FieldValueNotSupported",
            'Unsupported value: "Sometimes": supported values: "Never", "Always"',
        ),
        (
            {"privateKey": {"size": "2048"}},
            "spec.privateKey.size",
            "FieldValueTypeInvalid",
            'Invalid value: "string": spec.privateKey.size in body must be of type integer: '
            '"string"',
        ),
        (
            {"signatureAlgorithm": "MD5WithRSA"},
            "spec.signatureAlgorithm",
            "FieldValueNotSupported",
            'Unsupported value: "MD5WithRSA": supported values: "SHA256WithRSA", '
            '"SHA384WithRSA", "SHA512WithRSA", "ECDSAWithSHA256", "ECDSAWithSHA384", '
            '"ECDSAWithSHA512", "PureEd25519"',
        ),
        (
            {"additionalOutputFormats": [{"type": "PFX"}]},
            "spec.additionalOutputFormats[0].type",
            "FieldValueNotSupported",
            'Unsupported value: "PFX": supported values: "DER", "CombinedPEM"',
        ),
        (
            {"keystores": {"pkcs12": {"create": True, "profile": "Modern2000"}}},
            "spec.keystores.pkcs12.profile",
            "FieldValueNotSupported",
            'Unsupported value: "Modern2000": supported values: "LegacyRC2", "LegacyDES", '
            '"Modern2023", "Modern2026"',
        ),
        (
            {"keystores": {"jks": {"passwordSecretRef": {"name": "p"}}}},
            "spec.keystores.jks.create",
            "FieldValueRequired",
            "Required value",
        ),
    ],
)
def test_certificate_rejects_bad_fields_by_name(
    spec: dict[str, Any], field: str, reason: str, message: str
) -> None:
    assert errors_for("Certificate", certificate(**spec)) == [(field, reason, message)]


def test_certificate_usages_are_cert_manager_key_usages() -> None:
    ok = certificate(usages=["digital signature", "key encipherment", "server auth", "s/mime"])
    assert errors_for("Certificate", ok) == []
    (error,) = errors_for("Certificate", certificate(usages=["server auth", "web"]))
    assert error[:2] == ("spec.usages[1]", "FieldValueNotSupported")
    assert error[2].startswith('Unsupported value: "web": supported values: "signing", ')


def test_certificate_requires_secret_name_and_issuer_ref() -> None:
    obj = certificate()
    del obj["spec"]["secretName"]
    del obj["spec"]["issuerRef"]
    assert errors_for("Certificate", obj) == [
        ("spec.issuerRef", "FieldValueRequired", "Required value"),
        ("spec.secretName", "FieldValueRequired", "Required value"),
    ]


def test_certificate_status_is_typed() -> None:
    obj = certificate()
    obj["status"] = {
        "conditions": [{"type": "Ready", "status": "Maybe"}],
        "notAfter": "next week",
        "revision": "2",
    }
    fields = [(field, reason) for field, reason, _ in errors_for("Certificate", obj)]
    assert fields == [
        ("status.conditions[0].status", "FieldValueNotSupported"),
        ("status.notAfter", "FieldValueInvalid"),
        ("status.revision", "FieldValueTypeInvalid"),
    ]


def test_certificate_request_request_must_be_base64() -> None:
    obj = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "CertificateRequest",
        "metadata": {"name": "cr"},
        "spec": {"issuerRef": {"name": "ca"}, "request": "-----BEGIN CERTIFICATE REQUEST-----"},
    }
    ((field, reason, message),) = errors_for("CertificateRequest", obj)
    assert (field, reason) == ("spec.request", "FieldValueInvalid")
    assert message.endswith(
        'spec.request in body must be of type byte: "-----BEGIN CERTIFICATE REQUEST-----"'
    )


@pytest.mark.parametrize("kind", ["Issuer", "ClusterIssuer"])
@pytest.mark.parametrize(
    ("solver", "field", "reason"),
    [
        (
            {"dns01": {"cnameStrategy": "Sometimes"}},
            "dns01.cnameStrategy",
            "FieldValueNotSupported",
        ),
        (
            {"dns01": {"rfc2136": {"nameserver": 53}}},
            "dns01.rfc2136.nameserver",
            "FieldValueTypeInvalid",
        ),
        (
            {"dns01": {"route53": {"region": ["eu"]}}},
            "dns01.route53.region",
            "FieldValueTypeInvalid",
        ),
        (
            {"dns01": {"webhook": {"groupName": "g"}}},
            "dns01.webhook.solverName",
            "FieldValueRequired",
        ),
        (
            {
                "dns01": {
                    "azureDNS": {
                        "subscriptionID": "s",
                        "resourceGroupName": "r",
                        "environment": "Mars",
                    }
                }
            },
            "dns01.azureDNS.environment",
            "FieldValueNotSupported",
        ),
        ({"http01": {"ingress": {"class": 1}}}, "http01.ingress.class", "FieldValueTypeInvalid"),
        ({"selector": {"dnsZones": "example.com"}}, "selector.dnsZones", "FieldValueTypeInvalid"),
    ],
)
def test_issuer_rejects_bad_solver_fields_by_name(
    kind: str, solver: dict[str, Any], field: str, reason: str
) -> None:
    obj = {
        "apiVersion": "cert-manager.io/v1",
        "kind": kind,
        "metadata": {"name": "acme"},
        "spec": {
            "acme": {
                "server": "https://acme.example/directory",
                "privateKeySecretRef": {"name": "account"},
                "solvers": [solver],
            }
        },
    }
    errors = errors_for(kind, obj)
    # Each is an error after which kube-apiserver skips the CRD's CEL rules, and says so.
    assert [(f, r) for f, r, _ in errors] == [
        (f"spec.acme.solvers[0].{field}", reason),
        RULES_SKIPPED,
    ]


def test_issuer_keeps_free_form_solver_templates_and_webhook_config() -> None:
    solver = {
        "http01": {"ingress": {"podTemplate": {"spec": {"nodeSelector": {"a": "b"}}}}},
        "dns01": {"webhook": {"groupName": "g", "solverName": "s", "config": {"any": [1]}}},
    }
    obj: dict[str, Any] = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "acme"},
        "spec": {
            "acme": {"server": "s", "privateKeySecretRef": {"name": "k"}, "solvers": [solver]}
        },
    }
    assert errors_for("Issuer", obj) == []
    assert obj["spec"]["acme"]["solvers"][0] == solver


@pytest.mark.parametrize(
    ("kind", "api_version", "obj", "field", "reason"),
    [
        (
            "Order",
            "acme.cert-manager.io/v1",
            {"spec": {"issuerRef": {"name": "a"}, "request": "aGk="}, "status": {"state": "done"}},
            "status.state",
            "FieldValueNotSupported",
        ),
        (
            "Challenge",
            "acme.cert-manager.io/v1",
            {
                "spec": {
                    "url": "u",
                    "authorizationURL": "a",
                    "dnsName": "d",
                    "issuerRef": {"name": "a"},
                    "key": "k",
                    "solver": {},
                    "token": "t",
                    "type": "TLS-ALPN-01",
                }
            },
            "spec.type",
            "FieldValueNotSupported",
        ),
        (
            "Bundle",
            "trust.cert-manager.io/v1alpha1",
            {"spec": {"sources": [], "target": {"configMap": {"key": "ca.crt"}}}},
            "spec.sources",
            "FieldValueInvalid",
        ),
        (
            "Bundle",
            "trust.cert-manager.io/v1alpha1",
            {"spec": {"sources": [{"useDefaultCAs": "yes"}], "target": {}}},
            "spec.sources[0].useDefaultCAs",
            "FieldValueTypeInvalid",
        ),
    ],
)
def test_other_kinds_reject_bad_fields_by_name(
    kind: str, api_version: str, obj: dict[str, Any], field: str, reason: str
) -> None:
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **obj}
    skipped = [RULES_SKIPPED] if kind == "Bundle" and reason != "FieldValueInvalid" else []
    assert [(f, r) for f, r, _ in errors_for(kind, manifest)] == [(field, reason), *skipped]


def test_bundle_defaults_additional_format_passwords_as_trust_manager() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": {"name": "b"},
        "spec": {
            "sources": [{"useDefaultCAs": True}],
            "target": {
                "configMap": {"key": "ca.crt"},  # a target besides the formats is required
                "additionalFormats": {"jks": {"key": "a.jks"}, "pkcs12": {"key": "a.p12"}},
            },
        },
    }
    assert errors_for("Bundle", obj) == []
    formats = obj["spec"]["target"]["additionalFormats"]
    assert formats == {
        "jks": {"key": "a.jks", "password": "changeit"},
        "pkcs12": {"key": "a.p12", "password": ""},
    }


# --- structure, names, columns ---------------------------------------------------------


def int_or_string_pattern(node: Mapping[str, Any]) -> bool:
    """The one anyOf kube's structural rules allow: int-or-string (a resource quantity)."""
    return bool(node.get("x-kubernetes-int-or-string")) and node.get("anyOf") == [
        {"type": "integer"},
        {"type": "string"},
    ]


def structural_problems(node: Mapping[str, Any], path: str) -> Iterator[str]:
    """Where a schema breaks kube's structural rules (types everywhere, no free-form gaps)."""
    free_form = node.get("x-kubernetes-preserve-unknown-fields") or node.get(
        "x-kubernetes-int-or-string"
    )
    if "type" not in node and not free_form:
        yield f"{path}: no type"
    kind = node.get("type")
    if "properties" in node and kind != "object":
        yield f"{path}: properties on a non-object"
    if "items" in node and kind != "array":
        yield f"{path}: items on a non-array"
    if kind == "array" and "items" not in node:
        yield f"{path}: array without items"
    if "properties" in node and isinstance(node.get("additionalProperties"), Mapping):
        yield f"{path}: both properties and additionalProperties"
    for keyword in ("allOf", "anyOf", "oneOf", "not"):
        if keyword in node and not (keyword == "anyOf" and int_or_string_pattern(node)):
            yield f"{path}: {keyword} (we keep schemas free of value-only branches)"
    for key, child in (node.get("properties") or {}).items():
        yield from structural_problems(child, f"{path}.{key}")
    if isinstance(node.get("items"), Mapping):
        yield from structural_problems(node["items"], f"{path}[*]")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from structural_problems(node["additionalProperties"], f"{path}{{*}}")


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_crd_schema_is_structural(kind: str) -> None:
    root = schema(kind)
    assert list(structural_problems(root, kind)) == []
    assert root["type"] == "object"
    # At the root kube allows metadata to be a plain object (name/generateName at most;
    # not even a description).
    assert root["properties"]["metadata"] == {"type": "object"}
    assert root["properties"]["apiVersion"]["type"] == "string"
    assert root["properties"]["kind"]["type"] == "string"


def test_structural_check_catches_untyped_nodes() -> None:
    bad = {"type": "object", "properties": {"a": {"properties": {"b": {"type": "string"}}}}}
    assert list(structural_problems(bad, "x")) == [
        "x.a: no type",
        "x.a: properties on a non-object",
    ]


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_crd_is_a_well_formed_v1_definition(kind: str) -> None:
    crd = CRDS[kind]
    names = crd["spec"]["names"]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{names['plural']}.{crd['spec']['group']}"
    assert names["listKind"] == f"{kind}List"
    assert names["singular"] == kind.lower()
    assert version(kind)["served"] is True
    assert version(kind)["storage"] is True
    assert version(kind)["subresources"] == {"status": {}}


AGE = (".metadata.creationTimestamp", "date")
READY = '.status.conditions[?(@.type == "Ready")]'
EXPECTED_NAMES: dict[str, tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = {
    # kind: (group, version, scope, shortNames, categories)
    "Certificate": ("cert-manager.io", "v1", "Namespaced", ("cert", "certs"), ("cert-manager",)),
    "CertificateRequest": ("cert-manager.io", "v1", "Namespaced", ("cr", "crs"), ("cert-manager",)),
    "Issuer": ("cert-manager.io", "v1", "Namespaced", ("iss",), ("cert-manager",)),
    "ClusterIssuer": ("cert-manager.io", "v1", "Cluster", ("ciss",), ("cert-manager",)),
    "Order": (
        "acme.cert-manager.io",
        "v1",
        "Namespaced",
        (),
        ("cert-manager", "cert-manager-acme"),
    ),
    "Challenge": (
        "acme.cert-manager.io",
        "v1",
        "Namespaced",
        (),
        ("cert-manager", "cert-manager-acme"),
    ),
    "Bundle": ("trust.cert-manager.io", "v1alpha1", "Cluster", (), ()),
}
# (name, jsonPath, type, priority) in order, as cert-manager / trust-manager print them.
EXPECTED_COLUMNS: dict[str, list[tuple[str, str, str, int]]] = {
    "Certificate": [
        ("Ready", f"{READY}.status", "string", 0),
        ("Secret", ".spec.secretName", "string", 0),
        ("Issuer", ".spec.issuerRef.name", "string", 1),
        ("Status", f"{READY}.message", "string", 1),
        # not in cert-manager's CRD: the expiry is what people look for in -o wide
        ("Expiration", ".status.notAfter", "string", 1),
        ("Age", *AGE, 0),
    ],
    "CertificateRequest": [
        ("Approved", '.status.conditions[?(@.type == "Approved")].status', "string", 0),
        ("Denied", '.status.conditions[?(@.type == "Denied")].status', "string", 0),
        ("Ready", f"{READY}.status", "string", 0),
        ("Issuer", ".spec.issuerRef.name", "string", 0),
        ("Requester", ".spec.username", "string", 0),
        ("Status", f"{READY}.message", "string", 1),
        ("Age", *AGE, 0),
    ],
    "Issuer": [
        ("Ready", f"{READY}.status", "string", 0),
        ("Status", f"{READY}.message", "string", 1),
        ("Age", *AGE, 0),
    ],
    "ClusterIssuer": [
        ("Ready", f"{READY}.status", "string", 0),
        ("Status", f"{READY}.message", "string", 1),
        ("Age", *AGE, 0),
    ],
    "Order": [
        ("State", ".status.state", "string", 0),
        ("Issuer", ".spec.issuerRef.name", "string", 1),
        ("Reason", ".status.reason", "string", 1),
        ("Age", *AGE, 0),
    ],
    "Challenge": [
        ("State", ".status.state", "string", 0),
        ("Domain", ".spec.dnsName", "string", 0),
        ("Reason", ".status.reason", "string", 1),
        ("Age", *AGE, 0),
    ],
    "Bundle": [
        ("ConfigMap Target", ".spec.target.configMap.key", "string", 0),
        ("Secret Target", ".spec.target.secret.key", "string", 0),
        ("Synced", '.status.conditions[?(@.type == "Synced")].status', "string", 0),
        ("Reason", '.status.conditions[?(@.type == "Synced")].reason', "string", 0),
        ("Age", *AGE, 0),
    ],
}


def test_we_define_exactly_the_expected_kinds() -> None:
    assert set(CRDS) == set(EXPECTED_NAMES) == set(EXPECTED_COLUMNS)


@pytest.mark.parametrize("kind", sorted(EXPECTED_NAMES))
def test_names_scope_short_names_and_categories(kind: str) -> None:
    group, version_name, scope, short_names, categories = EXPECTED_NAMES[kind]
    crd = CRDS[kind]
    assert crd["spec"]["group"] == group
    assert version(kind)["name"] == version_name
    assert crd["spec"]["scope"] == scope
    assert tuple(crd["spec"]["names"].get("shortNames", ())) == short_names
    assert tuple(crd["spec"]["names"].get("categories", ())) == categories


@pytest.mark.parametrize("kind", sorted(EXPECTED_COLUMNS))
def test_printer_columns_match_cert_manager(kind: str) -> None:
    columns = [
        (c["name"], c["jsonPath"], c["type"], c.get("priority", 0))
        for c in version(kind)["additionalPrinterColumns"]
    ]
    assert columns == EXPECTED_COLUMNS[kind]


def test_issuer_and_cluster_issuer_share_one_spec() -> None:
    issuer = schema("Issuer")["properties"]
    cluster_issuer = schema("ClusterIssuer")["properties"]
    assert issuer == cluster_issuer


def test_challenge_solver_is_the_issuer_solver() -> None:
    solvers = schema("Issuer")["properties"]["spec"]["properties"]["acme"]["properties"]["solvers"]
    solver = dict(schema("Challenge")["properties"]["spec"]["properties"]["solver"])
    del solver["description"]  # says it is the chosen one; an issuer's list items say nothing
    assert solver == solvers["items"]


def test_acme_states_are_cert_manager_states() -> None:
    states = ["valid", "ready", "pending", "processing", "invalid", "expired", "errored"]
    assert schema("Order")["properties"]["status"]["properties"]["state"]["enum"] == states
    assert schema("Challenge")["properties"]["status"]["properties"]["state"]["enum"] == states


@pytest.mark.parametrize("kind", ["Order", "Challenge"])
def test_metadata_required_at_the_root_is_the_servers_business(kind: str) -> None:
    # cert-manager's ACME schemas require metadata at the root; the API server validates
    # the body without it (metadata is checked on its own), as kube-apiserver does.
    assert "metadata" in schema(kind)["required"]
    body = {"apiVersion": "acme.cert-manager.io/v1", "kind": kind}
    assert [e.field for e in validate(schema(kind), body)] == ["spec"]


@pytest.mark.parametrize(
    ("target", "sources", "errors"),
    [
        (
            {},
            [{"configMap": {"name": "a", "selector": {}, "key": "k"}, "inLine": "x"}],
            [
                ("spec.sources[0]", "exactly one of the fields in [configMap secret inLine "),
                ("spec.sources[0].configMap", "exactly one of the fields in [name selector] "),
                ("spec.target", "at least one of the fields in [configMap secret] must be set"),
            ],
        ),
        (
            {"secret": {"key": "k"}, "additionalFormats": {}},
            [{"inLine": "x"}],
            [("spec.target.additionalFormats", "at least one of the fields in [jks pkcs12] ")],
        ),
    ],
)
def test_bundle_rules_are_checked_parent_first_as_kube_apiserver_reports_them(
    target: dict[str, Any], sources: list[dict[str, Any]], errors: list[tuple[str, str]]
) -> None:
    # The messages and order the real kube-apiserver 1.37 gives for these Bundles.
    obj = {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": {"name": "b"},
        "spec": {"sources": sources, "target": target},
    }
    found = errors_for("Bundle", obj)
    assert [(f, r) for f, r, _ in found] == [(f, "FieldValueInvalid") for f, _ in errors]
    for (_, _, message), (_, start) in zip(found, errors, strict=True):
        assert message.startswith(f"Invalid value: {start}")


def test_every_rule_in_our_crds_is_one_the_embedded_api_evaluates() -> None:
    from events.localapi.cel import supported
    from tests.unit.crds.fields import walk

    rules = [
        rule["rule"]
        for crd in CRDS.values()
        for version in crd["spec"]["versions"]
        for _, node in walk(version["schema"]["openAPIV3Schema"])
        for rule in node.get("x-kubernetes-validations", [])
    ]
    assert len(rules) >= 7
    assert [rule for rule in rules if not supported(rule)] == []
