"""The part of CEL our CRDs' x-kubernetes-validations use, evaluated as kube-apiserver does.

cert-manager's and trust-manager's rules only count which fields are set, for example
`(has(self.name)?1:0)+(has(self.selector)?1:0) == 1` or `has(self.jks)||has(self.pkcs12)`.
This covers that: integer and boolean literals, `has(self.a.b)`, `self.a`, `! - + == != <
<= > >= && || ?:` and parentheses. A rule outside it is not enforced (kube-apiserver would
enforce it), so the CRD tests check that every rule in infra/crds parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

_TOKEN: Final = re.compile(r"\s*(\d+|[A-Za-z_]\w*|&&|\|\||==|!=|<=|>=|[-+!<>?:().])")

Expr = Callable[[Any], Any]


class Unsupported(ValueError):
    """The rule uses CEL beyond this subset."""


def supported(rule: str) -> bool:
    try:
        compile_rule(rule)
    except Unsupported:
        return False
    return True


def failures(validations: list[Mapping[str, Any]], value: Any) -> list[str]:
    """Messages of the rules `value` breaks; rules outside the subset are skipped."""
    broken: list[str] = []
    for item in validations:
        rule = str(item.get("rule", ""))
        if not supported(rule):
            continue
        try:
            holds = bool(compile_rule(rule)(value))
        except (Unsupported, TypeError):
            continue  # an evaluation error: beyond what our rules need
        if not holds:
            broken.append(str(item.get("message") or f"failed rule: {rule}"))
    return broken


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None:
            raise Unsupported(f"unexpected {text[at:]!r}")
        out.append(match.group(1))
        at = match.end()
    return out


@cache
def compile_rule(rule: str) -> Expr:
    parser = _Parser(_tokens(rule))
    expr = parser.conditional()
    if parser.peek() is not None:
        raise Unsupported(f"unexpected {parser.peek()!r}")
    return expr


_BINARY: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "==": lambda a, b: a == b and isinstance(a, bool) == isinstance(b, bool),
    "!=": lambda a, b: not (a == b and isinstance(a, bool) == isinstance(b, bool)),
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
}
# Lowest binding first; each level's operands are the next level.
_LEVELS: Final = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"))


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        lexeme = self.peek()
        if lexeme is None or (expected is not None and lexeme != expected):
            raise Unsupported(f"expected {expected or 'more'}, found {lexeme!r}")
        self.at += 1
        return lexeme

    def conditional(self) -> Expr:
        test = self.binary(0)
        if self.peek() != "?":
            return test
        self.take("?")
        then = self.conditional()
        self.take(":")
        other = self.conditional()
        return lambda v: then(v) if test(v) else other(v)

    def binary(self, level: int) -> Expr:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _LEVELS[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = self._combine(op, left, right)
        return left

    @staticmethod
    def _combine(op: str, left: Expr, right: Expr) -> Expr:
        if op == "||":
            return lambda v: bool(left(v)) or bool(right(v))
        if op == "&&":
            return lambda v: bool(left(v)) and bool(right(v))
        apply = _BINARY[op]
        return lambda v: apply(left(v), right(v))

    def unary(self) -> Expr:
        if self.peek() == "!":
            self.take()
            inner = self.unary()
            return lambda v: not inner(v)
        if self.peek() == "-":
            self.take()
            negated = self.unary()
            return lambda v: -negated(v)
        return self.primary()

    def primary(self) -> Expr:
        lexeme = self.take()
        if lexeme.isdigit():
            number = int(lexeme)
            return lambda _: number
        if lexeme in ("true", "false"):
            flag = lexeme == "true"
            return lambda _: flag
        if lexeme == "(":
            inner = self.conditional()
            self.take(")")
            return inner
        if lexeme == "has":
            self.take("(")
            path = self.selector()
            self.take(")")
            if not path:
                raise Unsupported("has() needs a field")
            return lambda v: _lookup(v, path[:-1], path[-1], presence=True)
        if lexeme == "self":
            self.at -= 1
            path = self.selector()
            return lambda v: _lookup(v, path[:-1], path[-1], presence=False) if path else v
        raise Unsupported(f"unsupported {lexeme!r}")

    def selector(self) -> list[str]:
        self.take("self")
        path: list[str] = []
        while self.peek() == ".":
            self.take(".")
            name = self.take()
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise Unsupported(f"bad field {name!r}")
            path.append(name)
        return path


def _lookup(value: Any, parents: list[str], name: str, *, presence: bool) -> Any:
    for key in parents:
        if not isinstance(value, Mapping) or key not in value:
            raise Unsupported(f"no such key {key!r}")  # CEL: an evaluation error
        value = value[key]
    if presence:
        return isinstance(value, Mapping) and name in value
    if not isinstance(value, Mapping) or name not in value:
        raise Unsupported(f"no such key {name!r}")
    return value[name]
