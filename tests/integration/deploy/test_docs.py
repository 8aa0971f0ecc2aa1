"""The deploy guide documents every setting the code reads from its environment."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

GUIDE = REPO / "infra" / "README.md"
# Set by the platform, not by an operator.
NOT_SETTINGS = {"KUBERNETES_SERVICE_HOST", "CI"}
# A name read from the environment: os.environ.get("X") / os.environ["X"], or one of
# our CERTAINLY_* constants.
READ = re.compile(r"""os\.environ(?:\.get\(|\[)\s*"([A-Z0-9_]+)"|"(CERTAINLY_[A-Z0-9_]+)\"""")


def _settings() -> set[str]:
    names: set[str] = set()
    for package in ("functions", "shared", "events"):
        for path in (REPO / package).rglob("*.py"):
            if "localapi" in path.parts:
                continue  # the emulator's own knobs are for tests
            for match in READ.finditer(path.read_text()):
                names.add(match.group(1) or match.group(2))
    return names - NOT_SETTINGS


def test_every_environment_variable_the_code_reads_is_in_the_configuration_table() -> None:
    settings = _settings()
    assert {"FUNCTION_TARGET", "PORT", "CERTAINLY_CLUSTER_RESOURCE_NAMESPACE"} <= settings
    table = GUIDE.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert sorted(n for n in settings if f"`{n}`" not in table) == []
