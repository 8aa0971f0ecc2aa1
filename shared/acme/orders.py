"""ACME order workflow as single steps on serializable state (RFC 8555 section 7.4).

Each step does one exchange with the CA and returns a frozen snapshot that
round-trips through `to_dict`/`from_dict`, so a function can persist it on the
Order/Challenge status and a later invocation, in another process, can carry
on. Steps are safe to repeat: reads are reads; accepting a challenge and
finalizing an order that already moved on return the current state.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NotRequired, TypedDict

from acme import challenges
from acme import client as acme_client
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from josepy.b64 import b64decode
from josepy.jwk import JWK
from requests.utils import parse_header_links

from shared.acme.chains import select_chain, topmost_issuer_common_name
from shared.acme.client import JSONPayload, post
from shared.acme.errors import PermanentAcmeError

# RFC 8555 statuses. cert-manager's Order adds "errored", which is ours, not the CA's.
PENDING: Final = "pending"
READY: Final = "ready"
PROCESSING: Final = "processing"
VALID: Final = "valid"
INVALID: Final = "invalid"

PEM_CHAIN_CONTENT_TYPE: Final = "application/pem-certificate-chain"


# --- state ------------------------------------------------------------------------------------


class ProblemDict(TypedDict):
    type: str
    detail: str


@dataclass(frozen=True)
class Problem:
    """A CA problem document, reduced to what a condition message needs."""

    type: str
    detail: str

    def to_dict(self) -> ProblemDict:
        return {"type": self.type, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: ProblemDict) -> Problem:
        return cls(type=data["type"], detail=data["detail"])

    @classmethod
    def from_json(cls, jobj: Mapping[str, Any]) -> Problem:
        problem_type = str(jobj.get("type", "about:blank"))
        return cls(
            type=problem_type.removeprefix("urn:ietf:params:acme:error:"),
            detail=str(jobj.get("detail", "")),
        )


class ChallengeDict(TypedDict):
    type: str
    url: str
    token: str
    status: str
    error: NotRequired[ProblemDict]


@dataclass(frozen=True)
class ChallengeState:
    type: str  # "http-01", "dns-01", ...
    url: str
    token: str  # base64url, as the CA sent it
    status: str
    error: Problem | None = None

    def to_dict(self) -> ChallengeDict:
        data: ChallengeDict = {
            "type": self.type,
            "url": self.url,
            "token": self.token,
            "status": self.status,
        }
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: ChallengeDict) -> ChallengeState:
        error = data.get("error")
        return cls(
            type=data["type"],
            url=data["url"],
            token=data["token"],
            status=data["status"],
            error=Problem.from_dict(error) if error is not None else None,
        )

    @classmethod
    def from_json(cls, jobj: Mapping[str, Any]) -> ChallengeState:
        error = jobj.get("error")
        return cls(
            type=str(jobj["type"]),
            url=str(jobj["url"]),
            token=str(jobj.get("token", "")),
            status=str(jobj.get("status", PENDING)),
            error=Problem.from_json(error) if isinstance(error, Mapping) else None,
        )


class AuthorizationDict(TypedDict):
    url: str
    identifier: str
    wildcard: bool
    status: str
    expires: str | None
    challenges: list[ChallengeDict]


@dataclass(frozen=True)
class AuthorizationState:
    url: str
    identifier: str  # without "*.": a wildcard's authorization is for its base domain
    wildcard: bool
    status: str
    expires: datetime.datetime | None
    challenges: tuple[ChallengeState, ...]

    def challenge(self, challenge_type: str) -> ChallengeState | None:
        return next((c for c in self.challenges if c.type == challenge_type), None)

    def to_dict(self) -> AuthorizationDict:
        return {
            "url": self.url,
            "identifier": self.identifier,
            "wildcard": self.wildcard,
            "status": self.status,
            "expires": _time_to_str(self.expires),
            "challenges": [c.to_dict() for c in self.challenges],
        }

    @classmethod
    def from_dict(cls, data: AuthorizationDict) -> AuthorizationState:
        return cls(
            url=data["url"],
            identifier=data["identifier"],
            wildcard=data["wildcard"],
            status=data["status"],
            expires=_time_from_str(data["expires"]),
            challenges=tuple(ChallengeState.from_dict(c) for c in data["challenges"]),
        )

    @classmethod
    def from_json(cls, url: str, jobj: Mapping[str, Any]) -> AuthorizationState:
        return cls(
            url=url,
            identifier=str(jobj["identifier"]["value"]),
            wildcard=bool(jobj.get("wildcard", False)),
            status=str(jobj["status"]),
            expires=_time_from_str(jobj.get("expires")),
            challenges=tuple(ChallengeState.from_json(c) for c in jobj.get("challenges", [])),
        )


class OrderDict(TypedDict):
    url: str
    status: str
    identifiers: list[str]
    authorizations: list[str]
    finalize: str
    certificate: str | None
    expires: str | None
    error: NotRequired[ProblemDict]


@dataclass(frozen=True)
class OrderState:
    url: str
    status: str
    identifiers: tuple[str, ...]
    authorizations: tuple[str, ...]
    finalize: str
    certificate: str | None
    expires: datetime.datetime | None
    error: Problem | None = None

    def to_dict(self) -> OrderDict:
        data: OrderDict = {
            "url": self.url,
            "status": self.status,
            "identifiers": list(self.identifiers),
            "authorizations": list(self.authorizations),
            "finalize": self.finalize,
            "certificate": self.certificate,
            "expires": _time_to_str(self.expires),
        }
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: OrderDict) -> OrderState:
        error = data.get("error")
        return cls(
            url=data["url"],
            status=data["status"],
            identifiers=tuple(data["identifiers"]),
            authorizations=tuple(data["authorizations"]),
            finalize=data["finalize"],
            certificate=data["certificate"],
            expires=_time_from_str(data["expires"]),
            error=Problem.from_dict(error) if error is not None else None,
        )

    @classmethod
    def from_json(cls, url: str, jobj: Mapping[str, Any]) -> OrderState:
        error = jobj.get("error")
        return cls(
            url=url,
            status=str(jobj["status"]),
            identifiers=tuple(str(i["value"]) for i in jobj.get("identifiers", [])),
            authorizations=tuple(str(a) for a in jobj.get("authorizations", [])),
            finalize=str(jobj["finalize"]),
            certificate=str(jobj["certificate"]) if jobj.get("certificate") else None,
            expires=_time_from_str(jobj.get("expires")),
            error=Problem.from_json(error) if isinstance(error, Mapping) else None,
        )


def _time_to_str(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time_from_str(value: object) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    # Python 3.11 parses RFC 3339 "Z" and fractional seconds.
    parsed = datetime.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


# --- steps ------------------------------------------------------------------------------------


def new_order(
    *,
    client: acme_client.ClientV2,
    identifiers: list[str],
    profile: str | None = None,
    replaces: str | None = None,
) -> OrderState:
    """Create an order. Not idempotent by nature: store the returned url before using it."""
    body: dict[str, Any] = {"identifiers": [_identifier(name) for name in identifiers]}
    if profile:
        body["profile"] = profile
    if replaces:
        body["replaces"] = replaces  # RFC 9773 section 5
    response = post(client, client.directory["newOrder"], JSONPayload(body))
    url = response.headers.get("Location")
    if not url:
        raise PermanentAcmeError(problem_type="malformed", detail="new order had no Location")
    return OrderState.from_json(url, response.json())


def get_order(*, client: acme_client.ClientV2, url: str) -> OrderState:
    return OrderState.from_json(url, post(client, url, None).json())


def get_authorization(*, client: acme_client.ClientV2, url: str) -> AuthorizationState:
    return AuthorizationState.from_json(url, post(client, url, None).json())


def get_challenge(*, client: acme_client.ClientV2, url: str) -> ChallengeState:
    return ChallengeState.from_json(post(client, url, None).json())


def key_authorization(*, client: acme_client.ClientV2, token: str) -> str:
    """The HTTP-01 response body for `token` under the client's account key."""
    return challenges.HTTP01(token=b64decode(token)).key_authorization(_key(client))


def dns01_value(*, client: acme_client.ClientV2, token: str) -> str:
    """The TXT value for `token`: base64url(SHA-256(key authorization))."""
    return challenges.DNS01(token=b64decode(token)).validation(_key(client))


def accept_challenge(*, client: acme_client.ClientV2, url: str) -> ChallengeState:
    """Tell the CA the challenge is ready to validate; repeatable.

    A CA may refuse to re-accept a challenge that already left "pending"
    (Pebble does, with "malformed"): then the current state is the answer.
    """
    try:
        response = post(client, url, JSONPayload({}))
    except PermanentAcmeError:
        current = get_challenge(client=client, url=url)
        if current.status != PENDING:
            return current
        raise
    return ChallengeState.from_json(response.json())


def finalize(*, client: acme_client.ClientV2, order_url: str, csr_pem: bytes) -> OrderState:
    """Submit the CSR once the order is ready; repeatable.

    An order already processing, valid or invalid is returned as it is, so a
    retry after a crash never resubmits. A pending order is the CA's to refuse
    (orderNotReady).
    """
    order = get_order(client=client, url=order_url)
    if order.status in {PROCESSING, VALID, INVALID}:
        return order
    csr = x509.load_pem_x509_csr(csr_pem)
    der = csr.public_bytes(serialization.Encoding.DER)
    response = post(client, order.finalize, JSONPayload({"csr": _b64url(der)}))
    return OrderState.from_json(order_url, response.json())


def download_certificate(
    *, client: acme_client.ClientV2, url: str, preferred_chain: str | None = None
) -> bytes:
    """The PEM chain (leaf first) at `url`, or the alternate matching `preferred_chain`."""
    response = post(client, url, None)
    default = response.content
    if not preferred_chain or topmost_issuer_common_name(default) == preferred_chain:
        return default
    alternates = [
        post(client, link["url"], None).content
        for link in parse_header_links(response.headers.get("Link", ""))
        if link.get("rel") == "alternate" and link.get("url")
    ]
    return select_chain(default, alternates, preferred=preferred_chain)


def raise_if_invalid(state: OrderState | AuthorizationState | ChallengeState) -> None:
    """PermanentAcmeError carrying the CA's problem when `state` is invalid; else nothing.

    An invalid authorization reports the problem of its failed challenge.
    """
    if state.status != INVALID:
        return
    problem: Problem | None
    if isinstance(state, AuthorizationState):
        problem = next((c.error for c in state.challenges if c.error is not None), None)
        what = f"authorization for {state.identifier}"
    else:
        problem = state.error
        what = "order" if isinstance(state, OrderState) else f"{state.type} challenge"
    if problem is None:
        problem = Problem(type="unknown", detail=f"{what} is invalid; the CA gave no reason")
    raise PermanentAcmeError(problem_type=problem.type, detail=problem.detail)


def _identifier(name: str) -> dict[str, str]:
    try:
        return {"type": "ip", "value": str(ipaddress.ip_address(name))}
    except ValueError:
        return {"type": "dns", "value": name}


def _key(client: acme_client.ClientV2) -> JWK:
    key: JWK | None = client.net.key
    if key is None:  # pragma: no cover - make_client always sets one
        raise PermanentAcmeError(problem_type="client", detail="client has no account key")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
