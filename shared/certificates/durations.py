"""Go `time.Duration` text, as cert-manager's CRDs carry it ("2160h", "1h30m", "90m")."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Final

# Go's units, in nanoseconds; timedelta resolves to microseconds, so sub-µs parts round.
_UNIT_NANOS: Final[dict[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
MAX_NANOS: Final = 2**63 - 1  # a Go time.Duration is an int64 of nanoseconds (about 292 years)
_TERM = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> timedelta:
    """Parse Go's `time.ParseDuration` grammar; raises ValueError with the offending text."""
    rest = text
    sign = 1
    if rest[:1] in {"+", "-"}:
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return timedelta(0)
    if not rest:
        raise ValueError(f"invalid duration {text!r}")
    nanos = Decimal(0)
    pos = 0
    while pos < len(rest):
        match = _TERM.match(rest, pos)
        if match is None:
            raise ValueError(f"invalid duration {text!r}")
        number, unit = match.groups()
        nanos += Decimal(number) * _UNIT_NANOS[unit]
        pos = match.end()
    if nanos > MAX_NANOS:
        raise ValueError(f"invalid duration {text!r}: longer than Go's time.Duration holds")
    micros = int((nanos / 1000).to_integral_value())
    return sign * timedelta(microseconds=micros)


def format_duration(td: timedelta) -> str:
    """Go's `Duration.String()`: "2160h0m0s", "1h30m0s", "1.5s", "250ms", "0s"."""
    micros = (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds
    if micros == 0:
        return "0s"
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    if micros < 1_000_000:
        if micros < 1_000:
            return f"{sign}{micros}µs"
        return f"{sign}{_decimal(micros, 1_000)}ms"
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds = _decimal(micros, 1_000_000)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{frac:0{digits}d}".rstrip("0")
