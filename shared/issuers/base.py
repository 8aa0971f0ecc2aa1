"""The one interface every issuer type implements, and what signing can come back with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography import x509

from shared.kube.client import Kube
from shared.kube.errors import NotFound
from shared.kube.resources import SECRETS

Obj = dict[str, Any]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str
    message: str
    # Issuer-type status fields recorded next to the condition (ACME: {"acme": {"uri": ...}}).
    status: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SigningRequest:
    request: Mapping[str, Any]  # the CertificateRequest object
    csr: x509.CertificateSigningRequest
    duration: timedelta
    is_ca: bool
    usages: tuple[str, ...]
    now: datetime


@dataclass(frozen=True)
class Issued:
    chain_pem: bytes  # leaf first, then intermediates
    ca_pem: bytes | None


@dataclass(frozen=True)
class Pending:
    reason: str
    message: str


@dataclass(frozen=True)
class Failed:
    reason: str
    message: str


Outcome = Issued | Pending | Failed


@dataclass(frozen=True)
class IssuerScope:
    """An issuer object and the one namespace it may read Secrets from.

    An Issuer reads only its own namespace; a ClusterIssuer only the cluster-resource
    namespace. Issuer code gets Secrets through here and nowhere else.
    """

    kube: Kube
    issuer: Mapping[str, Any]
    secrets_namespace: str
    # Set when the issuer was resolved for signing: re-verifies its readiness and records
    # it. Signing that finds the issuer itself broken calls it, so the issuer stops
    # claiming Ready now rather than at the next tick.
    recheck: Callable[[], object] | None = field(default=None, compare=False, repr=False)

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.issuer.get("spec")
        return spec if isinstance(spec, dict) else {}

    def secret(self, name: str) -> Obj:
        """The Secret, or NotFound with kube's message (`secrets "x" not found`)."""
        return self.kube.get(SECRETS, self.secrets_namespace, name)

    def find_secret(self, name: str) -> Obj | None:
        try:
            return self.secret(name)
        except NotFound:
            return None

    def issuer_broken(self) -> None:
        """Signing failed for a reason that is the issuer's, not the request's."""
        if self.recheck is not None:
            self.recheck()


class IssuerType(Protocol):
    """One per issuer kind (selfSigned, ca, ...): check readiness, and sign."""

    def check(self, scope: IssuerScope) -> Readiness: ...

    def sign(self, scope: IssuerScope, request: SigningRequest) -> Outcome: ...
