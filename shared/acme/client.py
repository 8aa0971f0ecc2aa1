"""An `acme.client.ClientV2` per invocation, with the CA's directory cached per process.

A serverless instance handles many invocations; fetching the directory once per
(server, account key, trust) saves a round trip on every warm call. The network
object (nonces, HTTP session) is built fresh each time, so concurrent
invocations never share signing state.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Final

import requests
from acme import client as acme_client
from acme import errors as acme_errors
from acme import messages
from josepy import errors as josepy_errors
from josepy.interfaces import JSONDeSerializable

from shared.acme.account import AccountKey, account_jwk, signing_algorithm, thumbprint
from shared.acme.errors import (
    CONFLICT_PROBLEM_ATTRIBUTE,
    HTTP_CONTEXT_ATTRIBUTE,
    AcmeError,
    HTTPContext,
    PermanentAcmeError,
    TransientAcmeError,
    translated,
)


def _version() -> str:
    try:
        return importlib.metadata.version("certainly")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "0+unknown"


USER_AGENT: Final = f"certainly/{_version()}"
NETWORK_TIMEOUT_SECONDS: Final = 30
# Each round of the library's post() already retries a badNonce once; Pebble
# rejects 10% of nonces in our tests and Let's Encrypt some in production.
BAD_NONCE_ROUNDS: Final = 3
# What every step we take needs from a directory (RFC 8555 7.1.1).
DIRECTORY_FIELDS: Final = ("newNonce", "newAccount", "newOrder")

_DirectoryKey = tuple[str, str, str, bool]
_directories: dict[_DirectoryKey, messages.Directory] = {}
_lock = threading.Lock()


class AcmeNetwork(acme_client.ClientNetwork):
    """The library's network layer, plus the HTTP facts our error mapping needs."""

    @classmethod
    def _check_response(
        cls, response: requests.Response, content_type: str | None = None
    ) -> requests.Response:
        context = HTTPContext(
            status=response.status_code, retry_after=response.headers.get("Retry-After")
        )
        try:
            return super()._check_response(response, content_type=content_type)
        except messages.Error as error:
            setattr(error, HTTP_CONTEXT_ATTRIBUTE, context)
            raise
        except acme_errors.ConflictError as conflict:
            # The library keeps only the Location of a 409; the CA's problem document
            # (e.g. ARI's alreadyReplaced) says why, so it rides along.
            problem = _problem(response)
            if problem is not None:
                setattr(problem, HTTP_CONTEXT_ATTRIBUTE, context)
                setattr(conflict, CONFLICT_PROBLEM_ATTRIBUTE, problem)
            raise

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        # A rejected nonce means the server did not act on the request: resending is safe.
        for round_ in range(1, BAD_NONCE_ROUNDS + 1):
            try:
                return super().post(*args, **kwargs)
            except messages.Error as error:
                if error.code != "badNonce" or round_ == BAD_NONCE_ROUNDS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _problem(response: requests.Response) -> messages.Error | None:
    try:
        problem = messages.Error.from_json(response.json())
    except (ValueError, TypeError, josepy_errors.DeserializationError):
        return None
    return problem if isinstance(problem, messages.Error) else None


def make_client(
    *,
    directory_url: str,
    account_key: AccountKey,
    ca_bundle_pem: bytes | None = None,
    skip_tls_verify: bool = False,
    account_uri: str | None = None,
) -> acme_client.ClientV2:
    """A client for `directory_url` signing with `account_key`.

    `ca_bundle_pem` replaces the system trust for the CA's HTTPS endpoint;
    `skip_tls_verify` disables verification (the issuer's skipTLSVerify).
    With `account_uri` (stored from an earlier `ensure_account`) requests are
    signed with that kid straight away.
    """
    verify: bool | str = True
    if skip_tls_verify:
        verify = False
    elif ca_bundle_pem:
        verify = _ca_bundle_file(ca_bundle_pem)
    net = AcmeNetwork(
        key=account_jwk(account_key),
        alg=signing_algorithm(account_key),
        verify_ssl=verify,  # type: ignore[arg-type]  # requests accepts a CA file path here
        user_agent=USER_AGENT,
        timeout=NETWORK_TIMEOUT_SECONDS,
    )
    if account_uri:
        net.account = messages.RegistrationResource(uri=account_uri, body=messages.Registration())
    cache_key: _DirectoryKey = (
        directory_url,
        thumbprint(account_key),
        hashlib.sha256(ca_bundle_pem or b"").hexdigest(),
        skip_tls_verify,
    )
    with _lock:
        directory = _directories.get(cache_key)
    if directory is None:
        directory = fetch_directory(directory_url, net)
        with _lock:
            _directories[cache_key] = directory
    return acme_client.ClientV2(directory, net)


def fetch_directory(url: str, net: acme_client.ClientNetwork) -> messages.Directory:
    """The CA's directory (RFC 8555 7.1.1), or a PermanentAcmeError naming the URL and
    what is wrong with what it answered: a page that is no directory is a setting to fix."""
    try:
        with translated():
            response = net.get(url)
    except AcmeError as error:
        if isinstance(error, TransientAcmeError):
            raise
        raise PermanentAcmeError(
            problem_type=error.problem_type,  # e.g. "tls": callers tell causes apart by it
            detail=f"fetching the ACME directory {url} failed: {error.detail}",
            status=error.status,
        ) from error
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PermanentAcmeError(
            problem_type="directory",
            detail=f"{url} did not answer with an ACME directory (a JSON object); "
            "spec.acme.server must be the CA's directory URL",
        )
    missing = [name for name in DIRECTORY_FIELDS if not isinstance(body.get(name), str)]
    if missing:
        raise PermanentAcmeError(
            problem_type="directory",
            detail=f"the ACME directory at {url} has no "
            + ", ".join(f'"{name}"' for name in missing)
            + " URL; spec.acme.server must be the CA's directory URL",
        )
    try:
        return messages.Directory.from_json(body)
    except josepy_errors.DeserializationError as error:
        raise PermanentAcmeError(
            problem_type="directory", detail=f"the ACME directory at {url} is malformed: {error}"
        ) from None


def forget_directories() -> None:
    """Drop cached directories (a CA changed its endpoints, or between tests)."""
    with _lock:
        _directories.clear()


def post(
    client: acme_client.ClientV2, url: str, payload: JSONDeSerializable | None
) -> requests.Response:
    """A signed POST (payload None: POST-as-GET), with the library's nonce handling."""
    with translated():
        return client.net.post(url, payload, new_nonce_url=client.directory["newNonce"])


class JSONPayload(JSONDeSerializable):
    """A plain JSON object as a JWS payload, for requests the library has no message for."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def to_partial_json(self) -> dict[str, Any]:
        return self.body

    @classmethod
    def from_json(cls, jobj: Any) -> JSONPayload:
        return cls(dict(jobj))


def _ca_bundle_file(pem: bytes) -> str:
    """`requests` wants a path: one file per distinct bundle, written once, atomically."""
    digest = hashlib.sha256(pem).hexdigest()[:32]
    path = Path(tempfile.gettempdir()) / f"certainly-ca-{digest}.pem"
    if not path.exists():
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".certainly-ca-")
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.replace(partial, path)
    return str(path)
