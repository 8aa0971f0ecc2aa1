"""The contract every DNS-01 provider meets (cert-manager's Present / CleanUp)."""

from __future__ import annotations

from typing import Final, Protocol, runtime_checkable

CHALLENGE_LABEL: Final = "_acme-challenge"


def challenge_record_name(domain: str) -> str:
    """The absolute TXT name the CA queries for `domain` (a wildcard's base domain)."""
    return f"{CHALLENGE_LABEL}.{domain.removeprefix('*.').rstrip('.')}."


class DNS01Provider(Protocol):
    """Writes and removes one TXT value; both idempotent.

    `fqdn` and `zone` are absolute ("_acme-challenge.example.com.", "example.com.").
    `present` twice is harmless; `cleanup` of an absent record is harmless and
    removes only `value`, never other TXT values at the same name (a wildcard
    and its base domain share one name, with one value each).
    """

    def present(self, *, fqdn: str, zone: str, value: str) -> None: ...

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None: ...


@runtime_checkable
class DomainAware(Protocol):
    """A provider that is also told the domain being validated, not only where to write.

    cert-manager's webhook contract sends the Challenge's dnsName beside the resolved
    FQDN: under cnameStrategy Follow the two name different domains.
    """

    def for_domain(self, dns_name: str) -> DNS01Provider: ...
