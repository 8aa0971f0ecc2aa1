"""The fuzz drives the real functions in-process against the embedded API, as the pipeline
tests do, with hypothesis choosing the input from a fixed seed (derandomized)."""

from __future__ import annotations

import pytest

from tests.conftest import Cluster
from tests.integration.pipeline.conftest import env


@pytest.fixture(scope="session")
def cluster(embedded_cluster: Cluster) -> Cluster:
    """The fuzz is about the functions, not the API: it runs once, on the embedded API."""
    return embedded_cluster


__all__ = ["cluster", "env"]
