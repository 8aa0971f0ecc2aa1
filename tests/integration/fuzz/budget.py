"""Hypothesis settings every fuzz here shares: reproducible, no deadline per case, and a
case count sized to the CI budget (about a minute for all of them together)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Final

from hypothesis import HealthCheck, settings

# CERTAINLY_FUZZ_SCALE=10 runs ten times as many cases, for a longer hunt by hand (with
# pytest's --timeout=0: the suite's 300 s per test is sized for the default).
SCALE: Final = float(os.environ.get("CERTAINLY_FUZZ_SCALE", "1"))


def fuzz_settings(cases: int) -> settings:
    return settings(
        max_examples=max(1, int(cases * SCALE)),
        derandomize=True,  # the same cases on every run: CI failures reproduce
        database=None,
        deadline=None,  # speed is not the property; the CI budget is the whole test's
        suppress_health_check=list(HealthCheck),  # one API and namespace for every case
        print_blob=True,
    )


def summary(title: str, tally: Counter[str]) -> str:
    parts = ", ".join(f"{key}: {count}" for key, count in sorted(tally.items()))
    return f"{title}: {parts}"
