from __future__ import annotations

from datetime import timedelta

import pytest

from shared.certificates.spec import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2160h", timedelta(hours=2160)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("90m", timedelta(minutes=90)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("1h0m0s", timedelta(hours=1)),
        ("45s", timedelta(seconds=45)),
        ("300ms", timedelta(milliseconds=300)),
        ("1500us", timedelta(microseconds=1500)),
        ("1500µs", timedelta(microseconds=1500)),
        ("2000ns", timedelta(microseconds=2)),
        (".5h", timedelta(minutes=30)),
        ("0", timedelta(0)),
        ("-1h", timedelta(hours=-1)),
        ("+2m", timedelta(minutes=2)),
        ("1h1h", timedelta(hours=2)),
    ],
)
def test_parse_duration_accepts_go_grammar(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "1", "1d", "1 h", "1hx", "-", "1.h.5", "10y"])
def test_parse_duration_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=2160), "2160h0m0s"),
        (timedelta(hours=1, minutes=30), "1h30m0s"),
        (timedelta(minutes=5), "5m0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=1, milliseconds=500), "1.5s"),
        (timedelta(milliseconds=250), "250ms"),
        (timedelta(microseconds=1500), "1.5ms"),
        (timedelta(microseconds=7), "7µs"),
        (timedelta(0), "0s"),
        (timedelta(hours=-1), "-1h0m0s"),
    ],
)
def test_format_duration_matches_go_string(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize("text", ["2160h", "1h30m", "90m", "1.25s", "3ms"])
def test_format_then_parse_round_trips(text: str) -> None:
    value = parse_duration(text)
    assert parse_duration(format_duration(value)) == value
