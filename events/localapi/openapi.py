"""Structural OpenAPI v3 schemas applied to custom resources, as kube-apiserver applies them.

Three passes, in the order the apiserver runs them on a write:

- `prune`: drop fields the schema does not declare (unless
  `x-kubernetes-preserve-unknown-fields`), keeping apiVersion/kind/metadata at the
  resource root and in `x-kubernetes-embedded-resource` objects;
- `apply_defaults`: fill `default`s inside objects that exist, and drop non-nullable
  nulls that have no default;
- `validate`: the value validations, reported as Kubernetes field errors with the
  apiserver's wording, so `kubectl apply` of a bad manifest prints what a real cluster
  prints (`spec.duration: Invalid value: "integer": spec.duration in body must be of
  type string: "integer"`).

Metadata is the server's business: the schema may only constrain `metadata.name` and
`metadata.generateName`, and unknown metadata fields are dropped as ObjectMeta decoding
drops them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import functools
import ipaddress
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from events.localapi import cel
from events.localapi.validation import OBJECT_META_FIELDS

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class FieldError:
    """One Kubernetes StatusCause: the field, its reason, and the apiserver's message."""

    field: str
    reason: str
    message: str


# ObjectMeta's fields (validation.OBJECT_META_FIELDS): everything else under metadata
# is dropped on decode.
_METADATA_SCHEMA_FIELDS: Final = ("name", "generateName")
_RESOURCE_FIELDS: Final = ("apiVersion", "kind", "metadata")


# --- value rendering, as Go's field.Error prints values --------------------------------


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _render(value: Any) -> str:
    """How field.Error.ErrorBody renders a bad value (%q strings, %v scalars)."""
    if value is None:
        return '"null"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _quote(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _index(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _name(path: str) -> str:
    # kube-openapi names the root "body" in "in body" messages.
    return path or "body"


# --- validation ------------------------------------------------------------------------


def _invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, "FieldValueInvalid", f"Invalid value: {_render(value)}: {detail}")


def _type_invalid(path: str, expected: str, value: Any) -> FieldError:
    actual = _type_name(value)
    detail = f"{_name(path)} in body must be of type {expected}: {_quote(actual)}"
    return FieldError(path, "FieldValueTypeInvalid", f"Invalid value: {_quote(actual)}: {detail}")


def _not_supported(path: str, value: Any, allowed: list[Any]) -> FieldError:
    names = ", ".join(
        _quote(v) if isinstance(v, str) else _quote(json.dumps(v, separators=(",", ":")))
        for v in allowed
    )
    return FieldError(
        path,
        "FieldValueNotSupported",
        f"Unsupported value: {_render(value)}: supported values: {names}",
    )


def _type_matches(expected: str, value: Any) -> bool:
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


# Errors after which kube-apiserver does not run x-kubernetes-validations rules at all.
_BLOCKING: Final = frozenset(
    {
        "FieldValueNotSupported",
        "FieldValueRequired",
        "FieldValueTooLong",
        "FieldValueTooMany",
        "FieldValueTypeInvalid",
    }
)
_RULES_SKIPPED: Final = FieldError(
    "<nil>",
    "FieldValueInvalid",
    "Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation",
)


def validate(schema: Schema, obj: Any) -> list[FieldError]:
    """Every field error the apiserver would report for `obj` under `schema`.

    As in kube-apiserver, the schema's x-kubernetes-validations rules run in a second
    pass, and only when the first found nothing that makes them unsafe to evaluate.
    """
    errors: list[FieldError] = []
    _validate(schema, obj, "", errors, resource_root=True)
    if _has_rules(schema):
        if any(e.reason in _BLOCKING for e in errors):
            errors.append(_RULES_SKIPPED)
        else:
            _validate_rules(schema, obj, "", errors)
    return errors


def _has_rules(schema: Schema) -> bool:
    if schema.get("x-kubernetes-validations"):
        return True
    children = [*(schema.get("properties") or {}).values()]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            children.append(schema[key])
    return any(_has_rules(child) for child in children)


def _validate_rules(schema: Schema, value: Any, path: str, errors: list[FieldError]) -> None:
    """x-kubernetes-validations, parent before children (the order kube reports them in)."""
    for message in cel.failures(schema.get("x-kubernetes-validations") or [], value):
        errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {message}"))
    if isinstance(value, dict):
        properties: Mapping[str, Schema] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _validate_rules(properties[key], item, _child(path, key), errors)
            elif isinstance(additional, Mapping):
                _validate_rules(additional, item, _child(path, key), errors)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            _validate_rules(schema["items"], item, _index(path, i), errors)


def _validate(
    schema: Schema, value: Any, path: str, errors: list[FieldError], *, resource_root: bool
) -> None:
    int_or_string = bool(schema.get("x-kubernetes-int-or-string"))
    expected = schema.get("type")
    if value is None:
        if schema.get("nullable"):
            return
        if int_or_string:
            errors.append(_type_invalid(path, "integer,string", value))
            return
        if isinstance(expected, str):
            errors.append(_type_invalid(path, expected, value))
            return
    if int_or_string:
        if not (_type_matches("integer", value) or isinstance(value, str)):
            errors.append(_type_invalid(path, "integer,string", value))
            return
    elif isinstance(expected, str) and not _type_matches(expected, value):
        errors.append(_type_invalid(path, expected, value))
        return

    # _json_equal, not `in`: `True in [1]` holds in Python, not in JSON.
    if "enum" in schema and not any(_json_equal(value, v) for v in schema["enum"]):
        errors.append(_not_supported(path, value, list(schema["enum"])))

    if isinstance(value, str):
        _validate_string(schema, value, path, errors)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(schema, value, path, errors)
    elif isinstance(value, list):
        _validate_array(schema, value, path, errors)
    elif isinstance(value, dict):
        _validate_object(schema, value, path, errors, resource_root=resource_root)

    _validate_composition(schema, value, path, errors)


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def _validate_string(schema: Schema, value: str, path: str, errors: list[FieldError]) -> None:
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and len(value) > max_length:
        unit = "byte" if max_length == 1 else "bytes"
        errors.append(
            FieldError(
                path, "FieldValueTooLong", f"Too long: may not be more than {max_length} {unit}"
            )
        )
    min_length = schema.get("minLength")
    if isinstance(min_length, int) and len(value) < min_length:
        errors.append(
            _invalid(
                path, value, f"{_name(path)} in body should be at least {min_length} chars long"
            )
        )
    pattern = schema.get("pattern")
    compiled = _pattern(pattern) if isinstance(pattern, str) else None
    if compiled is not None and compiled.search(value) is None:
        errors.append(_invalid(path, value, f"{_name(path)} in body should match '{pattern}'"))
    fmt = schema.get("format")
    if isinstance(fmt, str) and not _format_ok(fmt, value):
        errors.append(
            _invalid(path, value, f"{_name(path)} in body must be of type {fmt}: {_quote(value)}")
        )


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled ECMA/RE2-style pattern; one Python cannot compile is not enforced."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


_DATE_TIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_HOSTNAME: Final = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*"
)


def _format_ok(fmt: str, value: str) -> bool:
    """The string formats kube-apiserver checks; unknown formats are annotations only."""
    try:
        if fmt == "byte":
            base64.b64decode(value, validate=True)
        elif fmt == "date-time":
            if _DATE_TIME.fullmatch(value) is None:
                return False
            datetime.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        elif fmt == "date":
            datetime.date.fromisoformat(value)
        elif fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "ipv4":
            ipaddress.IPv4Address(value)
        elif fmt == "ipv6":
            ipaddress.IPv6Address(value)
        elif fmt == "cidr":
            ipaddress.ip_network(value, strict=False)
        elif fmt == "hostname":
            return _HOSTNAME.fullmatch(value) is not None
    except (ValueError, binascii.Error):
        return False
    return True


def _validate_number(schema: Schema, value: float, path: str, errors: list[FieldError]) -> None:
    name = _name(path)
    maximum = schema.get("maximum")
    if isinstance(maximum, int | float):
        if schema.get("exclusiveMaximum") and value >= maximum:
            errors.append(
                _invalid(path, value, f"{name} in body should be less than {_number(maximum)}")
            )
        elif value > maximum:
            errors.append(
                _invalid(
                    path,
                    value,
                    f"{name} in body should be less than or equal to {_number(maximum)}",
                )
            )
    minimum = schema.get("minimum")
    if isinstance(minimum, int | float):
        if schema.get("exclusiveMinimum") and value <= minimum:
            errors.append(
                _invalid(path, value, f"{name} in body should be greater than {_number(minimum)}")
            )
        elif value < minimum:
            errors.append(
                _invalid(
                    path,
                    value,
                    f"{name} in body should be greater than or equal to {_number(minimum)}",
                )
            )
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        quotient = value / multiple
        if not math.isclose(quotient, round(quotient)):
            errors.append(
                _invalid(path, value, f"{name} in body should be a multiple of {_number(multiple)}")
            )


def _validate_array(schema: Schema, value: list[Any], path: str, errors: list[FieldError]) -> None:
    max_items = schema.get("maxItems")
    if isinstance(max_items, int) and len(value) > max_items:
        unit = "item" if max_items == 1 else "items"
        errors.append(
            FieldError(
                path,
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {max_items} {unit}",
            )
        )
    min_items = schema.get("minItems")
    if isinstance(min_items, int) and len(value) < min_items:
        errors.append(
            _invalid(path, "", f"{_name(path)} in body should have at least {min_items} items")
        )
    if schema.get("uniqueItems") and _has_duplicates(value):
        errors.append(_invalid(path, "", f"{_name(path)} in body shouldn't contain duplicates"))
    items = schema.get("items")
    if isinstance(items, Mapping):
        for i, item in enumerate(value):
            _validate(items, item, _index(path, i), errors, resource_root=False)
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        seen: list[Any] = []
        for i, item in enumerate(value):
            if any(_json_equal(item, other) for other in seen):
                errors.append(
                    FieldError(
                        _index(path, i), "FieldValueDuplicate", f"Duplicate value: {_render(item)}"
                    )
                )
            else:
                seen.append(item)
    elif list_type == "map":
        keys = list(schema.get("x-kubernetes-list-map-keys") or [])
        seen_keys: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            identity = {key: item.get(key) for key in keys}
            if identity in seen_keys:
                rendered = json.dumps(identity, separators=(",", ":"))
                errors.append(
                    FieldError(
                        _index(path, i),
                        "FieldValueDuplicate",
                        f"Duplicate value: map[string]interface {{}}{rendered}",
                    )
                )
            else:
                seen_keys.append(identity)


def _has_duplicates(items: list[Any]) -> bool:
    canonical = [json.dumps(item, sort_keys=True) for item in items]
    return len(set(canonical)) != len(canonical)


def _validate_object(
    schema: Schema,
    value: dict[str, Any],
    path: str,
    errors: list[FieldError],
    *,
    resource_root: bool,
) -> None:
    properties: Mapping[str, Schema] = schema.get("properties") or {}
    embedded = resource_root or bool(schema.get("x-kubernetes-embedded-resource"))
    for key in schema.get("required") or ():
        # A resource always has metadata (the server checks it, not the schema), and the
        # caller validates the object without it: cert-manager's Order and Challenge
        # schemas list metadata as required at the root.
        if key not in value and not (resource_root and key == "metadata"):
            errors.append(FieldError(_child(path, key), "FieldValueRequired", "Required value"))
    max_props = schema.get("maxProperties")
    if isinstance(max_props, int) and len(value) > max_props:
        unit = "item" if max_props == 1 else "items"
        errors.append(
            FieldError(
                path,
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {max_props} {unit}",
            )
        )
    min_props = schema.get("minProperties")
    if isinstance(min_props, int) and len(value) < min_props:
        errors.append(
            _invalid(path, "", f"{_name(path)} in body should have at least {min_props} properties")
        )
    if embedded and not resource_root:
        _validate_embedded_type(value, path, errors)
    additional = schema.get("additionalProperties")
    for key, item in value.items():
        child = _child(path, key)
        if embedded and key == "metadata":
            _validate_metadata(properties.get("metadata"), item, child, errors)
            continue
        if embedded and key in ("apiVersion", "kind") and key not in properties:
            continue  # the server checks the root's; _validate_embedded_type an embedded one's
        if key in properties:
            _validate(properties[key], item, child, errors, resource_root=False)
        elif isinstance(additional, Mapping):
            _validate(additional, item, child, errors, resource_root=False)
        elif additional is False and not schema.get("x-kubernetes-preserve-unknown-fields"):
            errors.append(
                FieldError(
                    child,
                    "FieldValueForbidden",
                    f"Forbidden: {child} in body is a forbidden property",
                )
            )


def _validate_embedded_type(value: dict[str, Any], path: str, errors: list[FieldError]) -> None:
    """An x-kubernetes-embedded-resource must say what it is, as a whole object would."""
    for key in ("apiVersion", "kind"):
        child = _child(path, key)
        if key not in value:
            errors.append(FieldError(child, "FieldValueRequired", "Required value"))
        elif not isinstance(value[key], str):
            errors.append(_invalid(child, value[key], "must be a string"))
        elif not value[key]:
            errors.append(_invalid(child, "", "must not be empty"))


def _validate_metadata(
    schema: Schema | None, value: Any, path: str, errors: list[FieldError]
) -> None:
    if not isinstance(value, dict):
        errors.append(_type_invalid(path, "object", value))
        return
    if schema is None:
        return
    properties: Mapping[str, Schema] = schema.get("properties") or {}
    for key in _METADATA_SCHEMA_FIELDS:
        if key in properties and key in value:
            _validate(properties[key], value[key], _child(path, key), errors, resource_root=False)


def _validate_composition(schema: Schema, value: Any, path: str, errors: list[FieldError]) -> None:
    """allOf / anyOf / oneOf / not: value validations layered on the structural schema.

    kube-openapi quotes the path in these messages, unlike the "in body" ones.
    """
    quoted = _quote(_name(path))
    for sub in schema.get("allOf") or ():
        _validate(sub, value, path, errors, resource_root=False)
    any_of = schema.get("anyOf")
    if any_of and not any(not _errors_of(sub, value, path) for sub in any_of):
        errors.append(_invalid(path, "", f"{quoted} must validate at least one schema (anyOf)"))
    one_of = schema.get("oneOf")
    if one_of:
        passing = sum(1 for sub in one_of if not _errors_of(sub, value, path))
        if passing != 1:
            found = "none valid" if passing == 0 else f"{passing} valid alternatives"
            errors.append(
                _invalid(
                    path,
                    "",
                    f"{quoted} must validate one and only one schema (oneOf). Found {found}",
                )
            )
    negated = schema.get("not")
    if isinstance(negated, Mapping) and not _errors_of(negated, value, path):
        errors.append(_invalid(path, "", f"{quoted} must not validate the schema (not)"))


def _errors_of(schema: Schema, value: Any, path: str) -> list[FieldError]:
    found: list[FieldError] = []
    _validate(schema, value, path, found, resource_root=False)
    return found


# --- defaulting ------------------------------------------------------------------------


def apply_defaults(schema: Schema, obj: Any) -> None:
    """Fill `default`s in place, inside the objects and array items that exist."""
    _default(schema, obj)


def _default(schema: Schema, value: Any) -> None:
    if isinstance(value, dict):
        properties: Mapping[str, Schema] = schema.get("properties") or {}
        for key, sub in properties.items():
            if key in value and value[key] is None and not sub.get("nullable"):
                # A non-nullable null is a missing field: defaulted, else dropped.
                if "default" in sub:
                    value[key] = copy.deepcopy(sub["default"])
                else:
                    del value[key]
            elif key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                _default(sub, value[key])
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            for key in list(value):
                if key not in properties:
                    _default(additional, value[key])
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                if item is None and not items.get("nullable") and "default" in items:
                    value[i] = copy.deepcopy(items["default"])
                _default(items, value[i])


# --- pruning ---------------------------------------------------------------------------


def prune(schema: Schema, obj: Any) -> None:
    """Drop, in place, every field the schema does not declare (structural pruning)."""
    _prune(schema, obj, resource_root=True)


def _prune(schema: Schema, value: Any, *, resource_root: bool) -> None:
    if isinstance(value, dict):
        properties: Mapping[str, Schema] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or additional is True
        embedded = resource_root or bool(schema.get("x-kubernetes-embedded-resource"))
        for key in list(value):
            item = value[key]
            if embedded and key == "metadata":
                if isinstance(item, dict):
                    for meta_key in list(item):
                        if meta_key not in OBJECT_META_FIELDS:
                            del item[meta_key]
                continue
            if embedded and key in _RESOURCE_FIELDS:
                continue
            if key in properties:
                _prune(properties[key], item, resource_root=False)
            elif isinstance(additional, Mapping):
                _prune(additional, item, resource_root=False)
            elif not preserve:
                del value[key]
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for item in value:
                _prune(items, item, resource_root=False)
