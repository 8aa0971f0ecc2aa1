"""acme-dns (joohoi/acme-dns): cert-manager's `acmeDNS` solver.

The user registers once per domain with acme-dns and points
`_acme-challenge.<domain>` at the registration's `fulldomain` with a CNAME; the
registration JSON (domain -> account) lives in `accountSecretRef`. acme-dns
keeps the two newest values per account (enough for a wildcard and its apex)
and offers no delete, so cleanup is a no-op, as in cert-manager.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import requests

from shared.dns01 import credentials as creds
from shared.dns01.base import CHALLENGE_LABEL
from shared.dns01.credentials import SecretReader
from shared.dns01.errors import DNSUpdateError, ProviderConfigError

PROVIDER: Final = "acmeDNS"
TIMEOUT_SECONDS: Final = 10.0


@dataclass(frozen=True)
class Account:
    username: str
    password: str = field(repr=False)
    subdomain: str
    fulldomain: str


@dataclass(frozen=True)
class AcmeDNSProvider:
    host: str  # the acme-dns API base URL, e.g. https://auth.example.org
    accounts: Mapping[str, Account] = field(repr=False)  # domain -> registration

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        account = self._account(fqdn)
        try:
            response = requests.post(
                self.host.rstrip("/") + "/update",
                headers={"X-Api-User": account.username, "X-Api-Key": account.password},
                json={"subdomain": account.subdomain, "txt": value},
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise DNSUpdateError(
                f"updating acme-dns at {self.host}: {type(error).__name__}"
            ) from None
        if response.status_code != 200:
            raise DNSUpdateError(
                f"updating acme-dns at {self.host} for {fqdn}: HTTP {response.status_code}"
                f"{_error(response)}"
            )

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        """acme-dns has no delete; its two-value rotation retires old values."""

    def _account(self, fqdn: str) -> Account:
        name = fqdn.rstrip(".").lower()
        domain = name.removeprefix(f"{CHALLENGE_LABEL}.")
        for key in (domain, f"*.{domain}"):
            if key in self.accounts:
                return self.accounts[key]
        # Called with the CNAME target (cnameStrategy: Follow): match the registration itself.
        for account in self.accounts.values():
            if account.fulldomain.rstrip(".").lower() == name:
                return account
        raise ProviderConfigError(
            f"acmeDNS: accountSecretRef has no registration for {domain}"
            f" (known: {', '.join(sorted(self.accounts)) or 'none'})"
        )


def _error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return f": {body['error']}" if isinstance(body, Mapping) and "error" in body else ""


def parse_accounts(raw: str) -> dict[str, Account]:
    """The registration JSON as acme-dns-client and cert-manager store it."""
    where = "acmeDNS.accountSecretRef"
    try:
        document = json.loads(raw)
    except ValueError:
        raise ProviderConfigError(f"{where} is not JSON") from None
    if not isinstance(document, Mapping):
        raise ProviderConfigError(f"{where} must map domains to registrations")
    accounts: dict[str, Account] = {}
    for domain, entry in document.items():
        fields = ("username", "password", "subdomain", "fulldomain")
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(f), str) and entry.get(f) for f in fields
        ):
            raise ProviderConfigError(
                f"{where}: the registration for {domain!r} needs {', '.join(fields)}"
            )
        accounts[str(domain).rstrip(".").lower()] = Account(
            username=entry["username"],
            password=entry["password"],
            subdomain=entry["subdomain"],
            fulldomain=entry["fulldomain"],
        )
    return accounts


def from_spec(spec: Mapping[str, Any], read_secret: SecretReader) -> AcmeDNSProvider:
    host = creds.required_str(spec, "host", provider=PROVIDER)
    ref = creds.secret_ref(spec, "accountSecretRef", provider=PROVIDER)
    if ref is None:
        raise ProviderConfigError("acmeDNS.accountSecretRef is required")
    raw = creds.read_text(read_secret, ref, provider=PROVIDER, field="accountSecretRef")
    return AcmeDNSProvider(host=host, accounts=parse_accounts(raw))
