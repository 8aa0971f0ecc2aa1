"""Label and annotation rules as the API server applies them."""

from __future__ import annotations

import pytest

from shared.kube.metadata_rules import (
    annotation_problems,
    label_problems,
    label_value_problems,
    qualified_name_problems,
)


@pytest.mark.parametrize(
    "key",
    ["app", "app.kubernetes.io/name", "a", "A_b.c-D", "example.com/" + "n" * 63, "x/Y"],
)
def test_valid_keys_pass(key: str) -> None:
    assert qualified_name_problems(key) == []


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("bad key!", "name part must consist of"),
        ("-lead", "name part must consist of"),
        ("trail.", "name part must consist of"),
        ("", "name part must be non-empty"),
        ("example.com/", "name part must be non-empty"),
        ("/name", "prefix part must be non-empty"),
        ("Example.com/name", "prefix part a lowercase RFC 1123 subdomain"),
        ("n" * 64, "no more than 63 characters"),
        ("p" * 254 + "/n", "no more than 253 characters"),
    ],
)
def test_invalid_keys_say_why(key: str, words: str) -> None:
    problems = qualified_name_problems(key)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize("value", ["", "v", "My_value-1.2", "v" * 63])
def test_valid_label_values_pass(value: str) -> None:
    assert label_value_problems(value) == []


@pytest.mark.parametrize("value", ["not ok", "-x", "x-", "v" * 64, "ü"])
def test_invalid_label_values_fail(value: str) -> None:
    assert label_value_problems(value) != []


def test_annotation_keys_are_checked_case_insensitively_and_values_freely() -> None:
    assert annotation_problems({"Example.COM/Owner": "any value at all!"}) == []
    assert annotation_problems({"bad key": "v"}) != []


def test_annotations_may_not_exceed_256_kib_together() -> None:
    assert annotation_problems({"a": "x" * (256 * 1024 - 1)}) == []
    assert annotation_problems({"a": "x" * (256 * 1024)}) == [
        "Too long: must have at most 262144 bytes"
    ]


def test_label_problems_quote_the_offending_key_and_value() -> None:
    assert label_problems({"bad key!": "ok"})[0].startswith('Invalid value: "bad key!": ')
    assert label_problems({"ok": "bad value!"})[0].startswith('Invalid value: "bad value!": ')
