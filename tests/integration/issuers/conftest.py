"""The issuers' environment: the real functions driven event by event, and the stub ACME CA
the ACME client's own tests use."""

from __future__ import annotations

from tests.integration.pipeline.conftest import env
from tests.unit.acme.conftest import stub_ca

__all__ = ["env", "stub_ca"]
