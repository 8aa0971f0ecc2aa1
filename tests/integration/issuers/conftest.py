"""The pipeline's environment: the real functions, driven event by event (or not at all)."""

from __future__ import annotations

from tests.integration.pipeline.conftest import env

__all__ = ["env"]
