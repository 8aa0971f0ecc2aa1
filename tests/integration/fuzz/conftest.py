"""The fuzz drives the real functions in-process against the embedded API, as the pipeline
tests do, with hypothesis choosing the input from a fixed seed (derandomized)."""

from __future__ import annotations

from tests.integration.pipeline.conftest import env

__all__ = ["env"]
