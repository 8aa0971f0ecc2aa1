"""ACME accounts: the account key (generate, PEM in and out) and register-or-find."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Final, Literal, TypedDict

from acme import client as acme_client
from acme import errors as acme_errors
from acme import messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from josepy.jwa import ES256, ES384, ES512, RS256, JWASignature
from josepy.jwk import JWK, JWKEC, JWKRSA

from shared.acme.errors import PermanentAcmeError, translated

AccountKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# cert-manager generates RSA 2048 account keys and stores them PKCS#1-encoded.
ACCOUNT_KEY_RSA_BITS: Final = 2048

_EC_ALGORITHMS: Final = {"secp256r1": ES256, "secp384r1": ES384, "secp521r1": ES512}

EABAlgorithm = Literal["HS256", "HS384", "HS512"]


class InvalidAccountKeyError(ValueError):
    """The stored account key cannot be used (the message never includes key material)."""


def generate_account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=ACCOUNT_KEY_RSA_BITS)


def account_key_to_pem(key: AccountKey) -> bytes:
    """PKCS#1 for RSA, SEC1 for EC: the encodings cert-manager writes and reads."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def account_key_from_pem(pem: bytes) -> AccountKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        # `from None`: the parser's message may quote the input.
        raise InvalidAccountKeyError("account key is not an unencrypted PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return key
    raise InvalidAccountKeyError(f"unsupported account key type {type(key).__name__}")


def account_jwk(key: AccountKey) -> JWK:
    if isinstance(key, rsa.RSAPrivateKey):
        return JWKRSA(key=key)
    return JWKEC(key=key)


def signing_algorithm(key: AccountKey) -> JWASignature:
    if isinstance(key, rsa.RSAPrivateKey):
        return RS256
    return _EC_ALGORITHMS[key.curve.name]


def thumbprint(key: AccountKey) -> str:
    """RFC 7638 JWK thumbprint, base64url: a stable, public name for the account key."""
    digest = account_jwk(key).public_key().thumbprint()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class ExternalAccountBinding:
    """EAB credentials (RFC 8555 section 7.3.4); the HMAC key stays out of reprs."""

    key_id: str
    hmac_key: str = field(repr=False)  # base64url, as CAs hand it out
    key_algorithm: EABAlgorithm = "HS256"


class AccountInfoDict(TypedDict):
    uri: str
    email: str


@dataclass(frozen=True)
class AccountInfo:
    uri: str
    email: str  # "" when the account has no mailto contact

    def to_dict(self) -> AccountInfoDict:
        return {"uri": self.uri, "email": self.email}

    @classmethod
    def from_dict(cls, data: AccountInfoDict) -> AccountInfo:
        return cls(uri=data["uri"], email=data["email"])


def ensure_account(
    *, client: acme_client.ClientV2, email: str, eab: ExternalAccountBinding | None = None
) -> AccountInfo:
    """The account for the client's key: found if it exists, else registered.

    Looks up with onlyReturnExisting first so a repeated call never registers a
    second account; updates the contact when the email changed. Leaves the
    client signing with the account's URL (kid) for the steps that follow.
    """
    with translated():
        existing = _find_account(client)
        if existing is None:
            return _register(client, email=email, eab=eab)
        found_email = _email_of(existing.body)
        if found_email != email:
            contact = (f"mailto:{email}",) if email else ()
            existing = client.update_registration(existing, messages.Registration(contact=contact))
            found_email = _email_of(existing.body)
        return AccountInfo(uri=existing.uri, email=found_email)


def _find_account(client: acme_client.ClientV2) -> messages.RegistrationResource | None:
    client.net.account = None  # a lookup is signed with the JWK, never a kid
    try:
        response = client.net.post(
            client.directory["newAccount"],
            messages.NewRegistration(only_return_existing=True),
            new_nonce_url=client.directory["newNonce"],
        )
    except messages.Error as error:
        if error.code == "accountDoesNotExist":
            return None
        raise
    uri = response.headers.get("Location")
    if not uri:
        raise PermanentAcmeError(problem_type="malformed", detail="account lookup had no Location")
    account = messages.RegistrationResource(
        uri=uri, body=messages.Registration.from_json(response.json())
    )
    client.net.account = account
    return account


def _register(
    client: acme_client.ClientV2, *, email: str, eab: ExternalAccountBinding | None
) -> AccountInfo:
    binding = None
    if eab is not None:
        if client.net.key is None:  # pragma: no cover - our clients always carry a key
            raise PermanentAcmeError(problem_type="client", detail="client has no account key")
        try:
            binding = messages.ExternalAccountBinding.from_data(
                account_public_key=client.net.key.public_key(),
                kid=eab.key_id,
                hmac_key=eab.hmac_key,
                directory=client.directory,
                hmac_alg=eab.key_algorithm,
            )
        except (ValueError, TypeError):
            # `from None`: the decoder's message may quote the HMAC key.
            raise PermanentAcmeError(
                problem_type="client",
                detail="externalAccountBinding: the HMAC key is not base64url, "
                "or keyAlgorithm is not HS256, HS384 or HS512",
            ) from None
    registration = messages.NewRegistration.from_data(
        email=email or None,
        terms_of_service_agreed=True,
        external_account_binding=binding,
    )
    try:
        account = client.new_account(registration)
    except acme_errors.ConflictError:
        # Registered concurrently by another invocation with the same key: use that one.
        existing = _find_account(client)
        if existing is None:
            raise
        account = existing
    return AccountInfo(uri=account.uri, email=_email_of(account.body))


def _email_of(registration: messages.Registration) -> str:
    return ",".join(registration.emails)
