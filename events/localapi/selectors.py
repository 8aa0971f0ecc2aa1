"""Label and field selectors, parsed as kube-apiserver parses `?labelSelector=` / `?fieldSelector=`.

Both parsers return a predicate so the server can filter lists and watch streams
without re-parsing; syntax errors raise `SelectorError` with the apiserver's wording
so the 400 a client sees reads the same as a real cluster's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

LabelPredicate = Callable[[Mapping[str, str]], bool]
FieldPredicate = Callable[[Mapping[str, Any]], bool]


class SelectorError(ValueError):
    """A selector the apiserver would answer 400 Bad Request to."""


# --- label selectors -------------------------------------------------------------------

_NAME: Final = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PREFIX: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_VALUE: Final = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_TOKEN: Final = re.compile(r"\s*(==|!=|=|\(|\)|,|!|<|>|[^\s=!(),<>]+)")


@dataclass(frozen=True)
class _Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        # gt / lt compare integers; a non-integer label simply does not match.
        try:
            actual, bound = int(value or ""), int(self.values[0])
        except ValueError:
            return False
        return actual > bound if self.operator == "gt" else actual < bound


def _check_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX.fullmatch(prefix)):
        raise SelectorError(
            f"unable to parse requirement: invalid label key {key!r}: prefix part must be "
            "a lowercase RFC 1123 subdomain"
        )
    if not name or len(name) > 63 or not _NAME.fullmatch(name):
        raise SelectorError(
            f"unable to parse requirement: invalid label key {key!r}: name part must consist "
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.fullmatch(value):
        raise SelectorError(
            f"unable to parse requirement: invalid label value: {value!r}: a valid label must "
            "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character"
        )


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            break  # only trailing whitespace is left
        out.append(match.group(1))
        pos = match.end()
    return out


class _LabelParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise SelectorError("found '', expected: identifier")
        self.pos += 1
        return tok

    def requirements(self) -> list[_Requirement]:
        out: list[_Requirement] = []
        if self.peek() is None:
            return out
        while True:
            out.append(self.requirement())
            tok = self.peek()
            if tok is None:
                return out
            if tok != ",":
                raise SelectorError(f"found '{tok}', expected: ',' or 'end of string'")
            self.pos += 1

    def requirement(self) -> _Requirement:
        tok = self.take()
        if tok == "!":
            key = self.identifier()
            return _Requirement(key, "!")
        self.pos -= 1
        key = self.identifier()
        operator = self.peek()
        if operator is None or operator == ",":
            return _Requirement(key, "exists")
        self.pos += 1
        if operator in ("=", "==", "!="):
            value = self.value()
            return _Requirement(key, "!=" if operator == "!=" else "=", (value,))
        if operator in ("<", ">"):
            bound = self.value()
            if not bound.lstrip("-").isdigit():
                raise SelectorError(
                    f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must "
                    f"be an integer: {bound!r}"
                )
            return _Requirement(key, "gt" if operator == ">" else "lt", (bound,))
        if operator in ("in", "notin"):
            return _Requirement(key, operator, self.value_set())
        raise SelectorError(
            f"found '{operator}', expected: in, notin, =, ==, !=, gt, lt, ',' or 'end of string'"
        )

    def identifier(self) -> str:
        tok = self.take()
        if tok in ("=", "==", "!=", "(", ")", ",", "!", "<", ">"):
            raise SelectorError(f"found '{tok}', expected: identifier")
        _check_key(tok)
        return tok

    def value(self) -> str:
        tok = self.peek()
        if tok is None or tok == ",":
            value = ""  # `key=` selects the empty value, as kube allows
        elif tok in ("=", "==", "!=", "(", ")", "!", "<", ">"):
            raise SelectorError(f"found '{tok}', expected: identifier")
        else:
            value = self.take()
        _check_value(value)
        return value

    def value_set(self) -> tuple[str, ...]:
        opening = self.peek()
        if opening != "(":
            raise SelectorError(f"found '{opening or ''}', expected: '('")
        self.pos += 1
        values: list[str] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise SelectorError("found '', expected: ',', or ')'")
            if tok == ")":
                self.pos += 1
                break
            if tok == ",":
                values.append("")  # `in (a,,b)` names the empty value
                self.pos += 1
                continue
            value = self.take()
            _check_value(value)
            values.append(value)
            following = self.peek()
            if following == ",":
                self.pos += 1
                if self.peek() == ")":
                    values.append("")
            elif following != ")":
                raise SelectorError(f"found '{following or ''}', expected: ',', or ')'")
        if not values:
            raise SelectorError(
                "unable to parse requirement: for 'in', 'notin' operators, values set can't "
                "be empty"
            )
        return tuple(values)


@dataclass(frozen=True)
class LabelSelector:
    """A predicate over an object's labels; an empty selector matches everything."""

    requirements: tuple[_Requirement, ...]

    def __call__(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    @property
    def equality(self) -> tuple[str, str] | None:
        """A (key, value) every selected object carries, for the store's label index."""
        for requirement in self.requirements:
            if requirement.operator in ("=", "in") and len(requirement.values) == 1:
                return requirement.key, requirement.values[0]
        return None


def parse_label_selector(text: str) -> LabelSelector:
    return LabelSelector(tuple(_LabelParser(text).requirements()))


# --- field selectors -------------------------------------------------------------------

_COMMON_FIELDS: Final = ("metadata.name", "metadata.namespace")
# The extra field labels kube-apiserver registers per kind (beyond metadata.*).
_KIND_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "Secret": ("type",),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Namespace": ("status.phase",),
}
_FIELD_OPERATORS: Final = ("!=", "==", "=")


@dataclass(frozen=True)
class _FieldTerm:
    field: str
    equal: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (_field_value(obj, self.field) == self.value) == self.equal


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    if path == "source":  # Event's `source` label is source.component
        path = "source.component"
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=!":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped {char} in value")
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: unterminated escape sequence")
    return "".join(out)


def _parse_term(term: str) -> _FieldTerm:
    # Find the first unescaped operator; `!=` before `==` before `=` as kube does.
    index = 0
    while index < len(term):
        if term[index] == "\\":
            index += 2
            continue
        for operator in _FIELD_OPERATORS:
            if term.startswith(operator, index):
                field, value = term[:index], term[index + len(operator) :]
                return _FieldTerm(field.strip(), operator != "!=", _unescape(value))
        index += 1
    raise SelectorError(f"invalid selector: '{term}'; can't understand '{term}'")


def parse_field_selector(text: str, *, kind: str) -> FieldPredicate:
    """A predicate over whole objects of `kind`, refusing fields the kind does not index."""
    supported = (*_COMMON_FIELDS, *_KIND_FIELDS.get(kind, ()))
    terms: list[_FieldTerm] = []
    if text.strip():
        for raw in _split_unescaped(text, ","):
            term = _parse_term(raw)
            if term.field not in supported:
                raise SelectorError(f"field label not supported: {term.field}")
            terms.append(term)

    def matches(obj: Mapping[str, Any]) -> bool:
        return all(term.matches(obj) for term in terms)

    return matches
