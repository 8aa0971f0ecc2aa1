"""The structural schema engine: validation wording, defaulting and pruning as kube does them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from events.localapi.openapi import FieldError, apply_defaults, prune, validate

STRING: dict[str, Any] = {"type": "string"}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": {
            "type": "object",
            "properties": {"name": {"type": "string", "maxLength": 10}},
        },
        "spec": {
            "type": "object",
            "required": ["issuerRef"],
            "properties": {
                "duration": STRING,
                "dnsNames": {"type": "array", "items": STRING},
                "isCA": {"type": "boolean"},
                "issuerRef": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": STRING, "kind": {"type": "string", "default": "Issuer"}},
                },
                "privateKey": {
                    "type": "object",
                    "properties": {
                        "algorithm": {"type": "string", "enum": ["RSA", "ECDSA", "Ed25519"]},
                        "size": {"type": "integer", "minimum": 256, "maximum": 8192},
                        "rotationPolicy": {"type": "string", "default": "Always"},
                    },
                },
                "labels": {"type": "object", "additionalProperties": STRING},
                "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "port": {"x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
                "embedded": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object", "properties": {"x": STRING}}},
                },
            },
        },
    },
}


def certificate(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web"},
        "spec": {"issuerRef": {"name": "ca"}, **spec},
    }


def only(errors: list[FieldError]) -> FieldError:
    assert len(errors) == 1, errors
    return errors[0]


# --- validate --------------------------------------------------------------------------


def test_a_valid_object_has_no_errors() -> None:
    obj = certificate(dnsNames=["a.example"], privateKey={"algorithm": "RSA", "size": 2048})
    assert validate(SCHEMA, obj) == []


def test_wrong_type_is_named_and_worded_as_kube_apiserver_does() -> None:
    error = only(validate(SCHEMA, certificate(duration=3)))
    assert error == FieldError(
        "spec.duration",
        "FieldValueTypeInvalid",
        'Invalid value: "integer": spec.duration in body must be of type string: "integer"',
    )


def test_list_items_are_named_with_their_index() -> None:
    error = only(validate(SCHEMA, certificate(dnsNames=["ok", True])))
    assert error.field == "spec.dnsNames[1]"
    assert error.message.endswith('must be of type string: "boolean"')


def test_unknown_enum_value_lists_the_supported_values() -> None:
    error = only(validate(SCHEMA, certificate(privateKey={"algorithm": "FOO"})))
    assert error == FieldError(
        "spec.privateKey.algorithm",
        "FieldValueNotSupported",
        'Unsupported value: "FOO": supported values: "RSA", "ECDSA", "Ed25519"',
    )


def test_missing_required_field_is_a_required_value_error() -> None:
    obj = certificate()
    del obj["spec"]["issuerRef"]
    assert only(validate(SCHEMA, obj)) == FieldError(
        "spec.issuerRef", "FieldValueRequired", "Required value"
    )


def test_null_is_rejected_unless_nullable() -> None:
    assert validate(SCHEMA, certificate(note=None)) == []
    error = only(validate(SCHEMA, certificate(duration=None)))
    assert error.message == (
        'Invalid value: "null": spec.duration in body must be of type string: "null"'
    )


def test_boolean_is_not_an_integer_and_integral_float_is() -> None:
    assert validate(SCHEMA, certificate(privateKey={"size": 2048.0})) == []
    error = only(validate(SCHEMA, certificate(privateKey={"size": True})))
    assert error.reason == "FieldValueTypeInvalid"


def test_minimum_and_maximum_use_kube_openapi_wording() -> None:
    low = only(validate(SCHEMA, certificate(privateKey={"size": 1})))
    assert low == FieldError(
        "spec.privateKey.size",
        "FieldValueInvalid",
        "Invalid value: 1: spec.privateKey.size in body should be greater than or equal to 256",
    )
    high = only(validate(SCHEMA, certificate(privateKey={"size": 9000})))
    assert high.message.endswith("should be less than or equal to 8192")


def test_int_or_string_accepts_both_and_nothing_else() -> None:
    assert validate(SCHEMA, certificate(port=80)) == []
    assert validate(SCHEMA, certificate(port="http")) == []
    assert only(validate(SCHEMA, certificate(port=[80]))) == FieldError(
        "spec.port",
        "FieldValueTypeInvalid",
        'Invalid value: "array": spec.port in body must be of type integer,string: "array"',
    )


def test_a_pattern_python_cannot_compile_is_not_enforced() -> None:
    schema = {"type": "string", "pattern": "(?<name"}
    assert validate(schema, "anything") == []


def test_additional_properties_schema_validates_every_value() -> None:
    error = only(validate(SCHEMA, certificate(labels={"a": "b", "c": 1})))
    assert error.field == "spec.labels.c"


def test_preserved_subtree_accepts_anything() -> None:
    assert validate(SCHEMA, certificate(template={"spec": {"any": [1, {"x": None}]}})) == []


def test_metadata_is_validated_only_for_name_constraints() -> None:
    obj = certificate()
    obj["metadata"] = {"name": "much-too-long-name", "labels": {"x": "y"}, "junk": 1}
    error = only(validate(SCHEMA, obj))
    assert error == FieldError(
        "metadata.name", "FieldValueTooLong", "Too long: may not be more than 10 bytes"
    )


def test_string_constraints() -> None:
    schema = {
        "type": "object",
        "properties": {
            "short": {"type": "string", "minLength": 2},
            "code": {"type": "string", "pattern": "^[a-z]+$"},
            "blob": {"type": "string", "format": "byte"},
            "when": {"type": "string", "format": "date-time"},
        },
    }
    errors = validate(
        schema, {"short": "a", "code": "A1", "blob": "not base64!", "when": "yesterday"}
    )
    assert [e.message for e in errors] == [
        'Invalid value: "a": short in body should be at least 2 chars long',
        "Invalid value: \"A1\": code in body should match '^[a-z]+$'",
        'Invalid value: "not base64!": blob in body must be of type byte: "not base64!"',
        'Invalid value: "yesterday": when in body must be of type date-time: "yesterday"',
    ]
    assert (
        validate(
            schema, {"short": "ab", "code": "ab", "blob": "aGk=", "when": "2024-01-02T03:04:05Z"}
        )
        == []
    )


def test_array_constraints_and_list_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "few": {"type": "array", "items": STRING, "maxItems": 1},
            "some": {"type": "array", "items": STRING, "minItems": 1},
            "unique": {"type": "array", "items": STRING, "uniqueItems": True},
            "set": {"type": "array", "items": STRING, "x-kubernetes-list-type": "set"},
            "map": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": {"type": "object", "properties": {"type": STRING}},
            },
        },
    }
    errors = validate(
        schema,
        {
            "few": ["a", "b"],
            "some": [],
            "unique": ["a", "a"],
            "set": ["x", "x"],
            "map": [{"type": "Ready"}, {"type": "Ready"}],
        },
    )
    assert [(e.field, e.reason, e.message) for e in errors] == [
        ("few", "FieldValueTooMany", "Too many: 2: must have at most 1 item"),
        (
            "some",
            "FieldValueInvalid",
            'Invalid value: "": some in body should have at least 1 items',
        ),
        (
            "unique",
            "FieldValueInvalid",
            'Invalid value: "": unique in body shouldn\'t contain duplicates',
        ),
        ("set[1]", "FieldValueDuplicate", 'Duplicate value: "x"'),
        (
            "map[1]",
            "FieldValueDuplicate",
            'Duplicate value: map[string]interface {}{"type":"Ready"}',
        ),
    ]


def test_composition_keywords_validate_values() -> None:
    one_of: dict[str, Any] = {
        "type": "object",
        "properties": {"a": STRING, "b": STRING},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
    }
    assert validate(one_of, {"a": "x"}) == []
    both = only(validate(one_of, {"a": "x", "b": "y"}))
    assert both.message == (
        'Invalid value: "": "body" must validate one and only one schema (oneOf). '
        "Found 2 valid alternatives"
    )
    neither = only(validate({"type": "object", "properties": {"o": one_of}}, {"o": {}}))
    assert neither.field == "o"
    assert neither.message.endswith(
        '"o" must validate one and only one schema (oneOf). Found none valid'
    )
    any_of = {"type": "string", "anyOf": [{"pattern": "^a"}, {"pattern": "^b"}]}
    assert validate(any_of, "bee") == []
    assert only(validate(any_of, "cee")).message.endswith(
        '"body" must validate at least one schema (anyOf)'
    )
    negated = {"type": "string", "not": {"enum": ["forbidden"]}}
    assert validate(negated, "fine") == []
    assert only(validate(negated, "forbidden")).message.endswith(
        '"body" must not validate the schema (not)'
    )
    all_of = {"type": "integer", "allOf": [{"minimum": 1}, {"maximum": 3}]}
    assert validate(all_of, 2) == []
    assert len(validate(all_of, 5)) == 1


def test_enum_distinguishes_booleans_from_numbers() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}}
    assert validate(schema, {"n": 1}) == []
    assert only(validate(schema, {"n": 3})).message == (
        'Unsupported value: 3: supported values: "1", "2"'
    )


def test_embedded_resources_must_name_their_api_version_and_kind() -> None:
    assert validate(SCHEMA, certificate(embedded={"apiVersion": "v1", "kind": "Pod"})) == []
    errors = validate(SCHEMA, certificate(embedded={"apiVersion": 1}))
    assert [(e.field, e.reason, e.message) for e in errors] == [
        ("spec.embedded.apiVersion", "FieldValueInvalid", "Invalid value: 1: must be a string"),
        ("spec.embedded.kind", "FieldValueRequired", "Required value"),
    ]
    empty = only(validate(SCHEMA, certificate(embedded={"apiVersion": "v1", "kind": ""})))
    assert empty.message == 'Invalid value: "": must not be empty'


def test_validation_works_without_metadata() -> None:
    # The server validates metadata itself and may hand us the object without it.
    obj = certificate()
    del obj["metadata"]
    assert validate(SCHEMA, obj) == []


# --- apply_defaults --------------------------------------------------------------------


def test_defaults_fill_missing_fields_inside_existing_objects_only() -> None:
    obj = certificate()
    apply_defaults(SCHEMA, obj)
    assert obj["spec"]["issuerRef"] == {"name": "ca", "kind": "Issuer"}
    assert "privateKey" not in obj["spec"]  # no object is invented to hold a default

    obj = certificate(privateKey={})
    apply_defaults(SCHEMA, obj)
    assert obj["spec"]["privateKey"] == {"rotationPolicy": "Always"}


def test_defaults_do_not_overwrite_values() -> None:
    obj = certificate(privateKey={"rotationPolicy": "Never"})
    apply_defaults(SCHEMA, obj)
    assert obj["spec"]["privateKey"]["rotationPolicy"] == "Never"


def test_non_nullable_null_takes_the_default_or_is_dropped() -> None:
    obj = certificate(privateKey={"rotationPolicy": None, "size": None}, note=None)
    apply_defaults(SCHEMA, obj)
    assert obj["spec"]["privateKey"] == {"rotationPolicy": "Always"}
    assert obj["spec"]["note"] is None  # nullable: kept


def test_defaults_reach_array_items_and_map_values() -> None:
    item = {"type": "object", "properties": {"kind": {"type": "string", "default": "x"}}}
    schema = {
        "type": "object",
        "properties": {
            "list": {"type": "array", "items": item},
            "map": {"type": "object", "additionalProperties": item},
        },
    }
    obj: dict[str, Any] = {"list": [{}, {"kind": "y"}], "map": {"a": {}}}
    apply_defaults(schema, obj)
    assert obj == {"list": [{"kind": "x"}, {"kind": "y"}], "map": {"a": {"kind": "x"}}}


def test_default_values_are_copies() -> None:
    schema = {"type": "object", "properties": {"l": {"type": "array", "default": []}}}
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    apply_defaults(schema, first)
    apply_defaults(schema, second)
    first["l"].append(1)
    assert second == {"l": []}


# --- prune -----------------------------------------------------------------------------


def test_unknown_fields_are_pruned_everywhere_but_preserved_subtrees() -> None:
    obj = certificate(
        unknown=1,
        issuerRef={"name": "ca", "extra": True},
        template={"free": {"form": 1}},
        labels={"any-key": "kept"},
    )
    obj["status"] = {"whatever": 1}
    prune(SCHEMA, obj)
    assert obj["spec"] == {
        "issuerRef": {"name": "ca"},
        "template": {"free": {"form": 1}},
        "labels": {"any-key": "kept"},
    }
    assert "status" not in obj


def test_root_keeps_api_version_kind_and_known_metadata() -> None:
    obj = certificate()
    obj["metadata"] = {"name": "web", "labels": {"a": "b"}, "bogus": 1}
    schema = {"type": "object", "properties": {"spec": {"type": "object"}}}
    prune(schema, obj)
    assert obj["apiVersion"] == "cert-manager.io/v1"
    assert obj["kind"] == "Certificate"
    assert obj["metadata"] == {"name": "web", "labels": {"a": "b"}}


def test_embedded_resources_keep_their_type_and_metadata() -> None:
    embedded = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "nonsense": 1},
        "spec": {"x": "1", "y": "2"},
        "other": 1,
    }
    obj = certificate(embedded=embedded)
    prune(SCHEMA, obj)
    assert obj["spec"]["embedded"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"x": "1"},
    }


def test_pruning_walks_array_items() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {"a": STRING}}}
        },
    }
    obj: dict[str, Any] = {"items": [{"a": "1", "b": "2"}, {"c": 3}]}
    prune(schema, obj)
    assert obj == {"items": [{"a": "1"}, {}]}


@pytest.mark.parametrize("function", [prune, apply_defaults, validate])
def test_engine_never_changes_the_schema(function: Any) -> None:
    schema = copy.deepcopy(SCHEMA)
    function(schema, certificate(privateKey={}, extra=1))
    assert schema == SCHEMA
