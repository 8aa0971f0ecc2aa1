"""The issuers' environment: the real functions driven event by event, and a stub ACME CA."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.acme.client import forget_directories
from tests.integration.pipeline.conftest import env
from tests.unit.acme.stub_ca import StubCA


@pytest.fixture
def stub_ca() -> Iterator[StubCA]:
    """A scripted ACME server on loopback; the client's directory cache forgotten around it."""
    forget_directories()
    ca = StubCA()
    ca.start()
    try:
        yield ca
    finally:
        ca.stop()
        forget_directories()


__all__ = ["env", "stub_ca"]
