"""The JSONPath subset CRD printer columns use (`.a.b`, `[0]`, `[*]`, `[?(@.k=="v")]`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Step = Callable[[list[Any]], list[Any]]

_TOKEN = re.compile(
    r"""\.\.?(?P<field>[A-Za-z0-9_\-$/]+)   # .field
      | \[\s*'(?P<quoted>[^']*)'\s*\]       # ['field']
      | \[\s*"(?P<dquoted>[^"]*)"\s*\]      # ["field"]
      | \[\s*(?P<index>-?\d+)\s*\]          # [0]
      | \[\s*\*\s*\]|\.\*                   # [*] or .*
      | \[\s*\?\(\s*@\.(?P<fkey>[A-Za-z0-9_.\-]+)\s*(?P<op>==|!=)\s*
            (?:"(?P<fstr>[^"]*)"|'(?P<fsq>[^']*)'|(?P<fnum>-?[\d.]+|true|false))\s*\)\s*\]
      | \[\s*\?\(\s*@\.(?P<exists>[A-Za-z0-9_.\-]+)\s*\)\s*\]
    """,
    re.VERBOSE,
)


class JSONPathError(ValueError):
    pass


def _field(name: str) -> Step:
    return lambda nodes: [n[name] for n in nodes if isinstance(n, dict) and name in n]


def _index(i: int) -> Step:
    def step(nodes: list[Any]) -> list[Any]:
        out = []
        for n in nodes:
            if isinstance(n, list) and -len(n) <= i < len(n):
                out.append(n[i])
        return out

    return step


def _all(nodes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for n in nodes:
        if isinstance(n, list):
            out.extend(n)
        elif isinstance(n, dict):
            out.extend(n.values())
    return out


def _lookup(node: Any, dotted: str) -> tuple[bool, Any]:
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _literal(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    return float(text) if "." in text else int(text)


def _filter(key: str, op: str, value: Any) -> Step:
    def matches(item: Any) -> bool:
        found, got = _lookup(item, key)
        if not found:
            return False
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            equal = isinstance(got, (int, float)) and got == value
        else:
            equal = got == value
        return equal if op == "==" else not equal

    return lambda nodes: [item for item in _all(nodes) if matches(item)]


def _exists(key: str) -> Step:
    return lambda nodes: [item for item in _all(nodes) if _lookup(item, key)[0]]


@lru_cache(maxsize=256)
def compile_path(path: str) -> tuple[Step, ...]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    text = text.removeprefix("$")
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise JSONPathError(f"unrecognized JSONPath {path!r} at {text[pos:]!r}")
        pos = m.end()
        if m["field"] is not None:
            steps.append(_field(m["field"]))
        elif m["quoted"] is not None or m["dquoted"] is not None:
            steps.append(_field(m["quoted"] if m["quoted"] is not None else m["dquoted"]))
        elif m["index"] is not None:
            steps.append(_index(int(m["index"])))
        elif m["fkey"] is not None:
            if m["fstr"] is not None:
                value: Any = m["fstr"]
            elif m["fsq"] is not None:
                value = m["fsq"]
            else:
                value = _literal(m["fnum"])
            steps.append(_filter(m["fkey"], m["op"], value))
        elif m["exists"] is not None:
            steps.append(_exists(m["exists"]))
        else:
            steps.append(_all)
    return tuple(steps)


def evaluate(path: str, obj: Any) -> list[Any]:
    """All values path selects in obj ([] when nothing matches)."""
    nodes = [obj]
    for step in compile_path(path):
        nodes = step(nodes)
        if not nodes:
            break
    return nodes
