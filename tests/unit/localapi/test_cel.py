"""The CEL subset our CRDs' rules are written in, evaluated as CEL does."""

from __future__ import annotations

from typing import Any

import pytest

from events.localapi.cel import failures, supported

EXACTLY_ONE = "(has(self.name)?1:0)+(has(self.selector)?1:0) == 1"


@pytest.mark.parametrize(
    ("rule", "value", "holds"),
    [
        (EXACTLY_ONE, {"name": "a"}, True),
        (EXACTLY_ONE, {"name": "a", "selector": {}}, False),
        (EXACTLY_ONE, {}, False),
        ("has(self.jks)||has(self.pkcs12)", {"pkcs12": {}}, True),
        ("has(self.jks)||has(self.pkcs12)", {}, False),
        ("has(self.a) && !has(self.b)", {"a": 1}, True),
        ("self.size >= 2048 && self.size <= 8192", {"size": 4096}, True),
        ("self.size - 1 != 4095", {"size": 4096}, False),
        ("true ? 1 : 2 == 2", {}, True),  # ?: binds loosest: true ? 1 : (2 == 2)
        ("(1 == 1) == true", {}, True),
        ("1 == true", {}, False),  # no int/bool equality in CEL
    ],
)
def test_rule_holds_as_in_cel(rule: str, value: dict[str, Any], holds: bool) -> None:
    assert supported(rule)
    assert failures([{"rule": rule, "message": "broken"}], value) == ([] if holds else ["broken"])


def test_a_rule_without_message_reports_the_rule() -> None:
    assert failures([{"rule": "has(self.a)"}], {}) == ["failed rule: has(self.a)"]


@pytest.mark.parametrize(
    "rule",
    ["self.all(x, x > 0)", "size(self) > 1", "self.name.startsWith('a')", "has(self)", "1 +"],
)
def test_rules_beyond_the_subset_are_not_enforced(rule: str) -> None:
    assert not supported(rule)
    assert failures([{"rule": rule, "message": "m"}], {"name": "b"}) == []


def test_a_missing_field_read_directly_is_skipped_not_a_crash() -> None:
    # In CEL an evaluation error; kube reports it, we leave it to kube.
    assert failures([{"rule": "self.size > 1", "message": "m"}], {}) == []
