"""Throwaway self-signed CA certificates for Bundle sources."""

from __future__ import annotations

from tests.helpers import throwaway_ca


def ca_pem(name: str) -> str:
    return throwaway_ca(name, days=1)[0].decode()
