"""infra/openfaas/stack.yml carries only settings something reads; its README counts right."""

from __future__ import annotations

import re
from typing import Any, Final

import pytest
import yaml

from tests.conftest import REPO

STACK: Final = REPO / "infra" / "openfaas" / "stack.yml"
# Environment variables of-watchdog reads: there is no watchdog in the image.
WATCHDOG_SETTINGS: Final = frozenset(
    {
        "exec_timeout",
        "read_timeout",
        "write_timeout",
        "healthcheck_interval",
        "upstream_url",
        "mode",
        "fprocess",
        "max_inflight",
        "prefix_logs",
        "buffer_http",
    }
)


def _functions() -> dict[str, Any]:
    stack: dict[str, Any] = yaml.safe_load(STACK.read_text())
    functions: dict[str, Any] = stack["functions"]
    return functions


def _sources() -> str:
    return "\n".join(
        path.read_text()
        for package in ("shared", "events", "functions")
        for path in (REPO / package).rglob("*.py")
    )


def test_no_function_sets_an_of_watchdog_setting() -> None:
    for name, function in _functions().items():
        found = WATCHDOG_SETTINGS & set(function.get("environment") or {})
        assert not found, f"{name}: {sorted(found)} are of-watchdog settings"


@pytest.mark.parametrize("name", sorted(_functions()))
def test_every_environment_variable_of_a_function_is_read_by_certainly(name: str) -> None:
    sources = _sources()
    for variable in _functions()[name].get("environment") or {}:
        if variable == "FUNCTION_TARGET":  # read by functions-framework and `certainly serve`
            continue
        assert f'"{variable}"' in sources, f"{name}: nothing reads {variable}"


def test_the_readme_names_as_many_functions_as_the_stack_deploys() -> None:
    words = {"five": 5, "six": 6, "seven": 7, "eight": 8}
    readme = (REPO / "infra" / "README.md").read_text()
    (said,) = re.findall(r"certainly needs (\w+)\)", readme)
    assert words[said] == len(_functions())
