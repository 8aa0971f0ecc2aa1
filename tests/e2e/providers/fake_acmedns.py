"""acme-dns's /update endpoint: per-registration auth, the two newest values kept."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tests.e2e.providers.httpfake import Reply, Request

TXT_LENGTH = 43  # acme-dns accepts only DNS-01 digests (base64url SHA-256)


@dataclass
class Registration:
    username: str
    password: str
    subdomain: str
    fulldomain: str
    values: deque[str] = field(default_factory=lambda: deque(maxlen=2))


class FakeAcmeDNS:
    def __init__(self, *, auth_domain: str) -> None:
        self.auth_domain = auth_domain.rstrip(".")
        self.registrations: dict[str, Registration] = {}

    def register(self, subdomain: str) -> Registration:
        registration = Registration(
            username=f"user-{subdomain}",
            password=f"pass-{subdomain}-secret",
            subdomain=subdomain,
            fulldomain=f"{subdomain}.{self.auth_domain}",
        )
        self.registrations[registration.username] = registration
        return registration

    def txt(self, name: str) -> set[str]:
        bare = name.rstrip(".")
        return {
            value
            for registration in self.registrations.values()
            if registration.fulldomain == bare
            for value in registration.values
        }

    def route(self, request: Request) -> Reply:
        if (request.method, request.path) != ("POST", "/update"):
            return 404, {"error": "not_found"}
        registration = self.registrations.get(request.headers.get("x-api-user", ""))
        if registration is None or request.headers.get("x-api-key") != registration.password:
            return 401, {"error": "forbidden"}
        body = request.body if isinstance(request.body, dict) else {}
        if body.get("subdomain") != registration.subdomain:
            return 401, {"error": "forbidden"}
        txt = body.get("txt")
        if not isinstance(txt, str) or len(txt) != TXT_LENGTH:
            return 400, {"error": "bad_txt"}
        registration.values.append(txt)
        return 200, {"txt": txt}
