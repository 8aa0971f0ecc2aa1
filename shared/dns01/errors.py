"""DNS-01 failures a condition message can explain (no secrets in any message)."""

from __future__ import annotations


class DNS01Error(Exception):
    """Base for everything the DNS-01 layer raises."""


class DNSLookupError(DNS01Error):
    """No nameserver gave a usable answer."""


class DNSUpdateError(DNS01Error):
    """The provider refused or failed to change the record."""


class ProviderConfigError(DNS01Error):
    """The solver configuration names no usable provider or is incomplete."""
