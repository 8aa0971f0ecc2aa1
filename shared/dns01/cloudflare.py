"""Cloudflare's v4 API: cert-manager's `cloudflare` solver.

Cloudflare keeps each TXT value as its own record, so present adds one record
unless it exists, and cleanup deletes exactly the records holding our value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import requests

from shared.dns01 import credentials as creds
from shared.dns01.credentials import SecretReader
from shared.dns01.errors import DNSUpdateError, ProviderConfigError

PROVIDER: Final = "cloudflare"
API_URL: Final = "https://api.cloudflare.com/client/v4"
TTL: Final = 120  # Cloudflare's minimum for non-Enterprise zones
TIMEOUT_SECONDS: Final = 10.0


@dataclass(frozen=True)
class CloudflareProvider:
    api_token: str = field(default="", repr=False)
    email: str = ""
    api_key: str = field(default="", repr=False)  # the legacy global key, used with email
    api_url: str = API_URL

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        zone_id = self._zone_id(fqdn, zone)
        name = _bare(fqdn)
        if any(record["content"] == value for record in self._records(zone_id, name)):
            return
        self._request(
            "POST",
            f"/zones/{zone_id}/dns_records",
            what=f"adding TXT at {fqdn}",
            json={"type": "TXT", "name": name, "content": value, "ttl": TTL},
        )

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        zone_id = self._zone_id(fqdn, zone)
        for record in self._records(zone_id, _bare(fqdn)):
            if record["content"] == value:
                self._request(
                    "DELETE",
                    f"/zones/{zone_id}/dns_records/{record['id']}",
                    what=f"removing TXT at {fqdn}",
                    missing_ok=True,
                )

    def _zone_id(self, fqdn: str, zone: str) -> str:
        """The zone named `zone`, else the closest enclosing zone of `fqdn` the account holds."""
        labels = _bare(fqdn).split(".")
        candidates = [_bare(zone)] if zone else []
        candidates += [".".join(labels[i:]) for i in range(len(labels)) if ".".join(labels[i:])]
        for candidate in dict.fromkeys(candidates):
            found = self._request(
                "GET", "/zones", what=f"looking up zone {candidate}", params={"name": candidate}
            )
            if isinstance(found, list) and found:
                return str(found[0]["id"])
        raise DNSUpdateError(f"no Cloudflare zone this token can see holds {fqdn}")

    def _records(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        found = self._request(
            "GET",
            f"/zones/{zone_id}/dns_records",
            what=f"reading TXT at {name}",
            params={"type": "TXT", "name": name, "per_page": "100"},
        )
        records = found if isinstance(found, list) else []
        return [
            {"id": str(r["id"]), "content": str(r.get("content", "")).strip('"')}
            for r in records
            if isinstance(r, Mapping) and "id" in r
        ]

    def _headers(self) -> dict[str, str]:
        if self.api_token:
            return {"Authorization": f"Bearer {self.api_token}"}
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.api_key}

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        try:
            response = requests.request(
                method,
                self.api_url.rstrip("/") + path,
                headers=self._headers(),
                params=params,
                json=json,
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise DNSUpdateError(f"{what}: {type(error).__name__}") from None
        if missing_ok and response.status_code == 404:
            return None
        try:
            envelope = response.json()
        except ValueError:
            envelope = {}
        if response.ok and isinstance(envelope, Mapping) and envelope.get("success"):
            return envelope.get("result")
        raise DNSUpdateError(f"{what}: HTTP {response.status_code}{_errors(envelope)}")


def _errors(envelope: object) -> str:
    if not isinstance(envelope, Mapping):
        return ""
    parts = [
        f"{e.get('code', '?')} {e.get('message', '')}".strip()
        for e in envelope.get("errors") or []
        if isinstance(e, Mapping)
    ]
    return f": {'; '.join(parts)}" if parts else ""


def _bare(name: str) -> str:
    return name.rstrip(".").lower()


def from_spec(spec: Mapping[str, Any], read_secret: SecretReader) -> CloudflareProvider:
    token_ref = creds.secret_ref(spec, "apiTokenSecretRef", provider=PROVIDER)
    key_ref = creds.secret_ref(spec, "apiKeySecretRef", provider=PROVIDER)
    email = creds.optional_str(spec, "email", provider=PROVIDER)
    if token_ref and key_ref:
        raise ProviderConfigError(
            "cloudflare: apiTokenSecretRef and apiKeySecretRef are mutually exclusive"
        )
    if token_ref:
        token = creds.read_text(
            read_secret, token_ref, provider=PROVIDER, field="apiTokenSecretRef"
        )
        return CloudflareProvider(api_token=token, email=email)
    if key_ref:
        if not email:
            raise ProviderConfigError("cloudflare: email is required with apiKeySecretRef")
        key = creds.read_text(read_secret, key_ref, provider=PROVIDER, field="apiKeySecretRef")
        return CloudflareProvider(email=email, api_key=key)
    raise ProviderConfigError("cloudflare: set apiTokenSecretRef, or email and apiKeySecretRef")
