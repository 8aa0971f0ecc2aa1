"""Helpers for driving whole ACME flows in e2e tests: CSRs, polling, chain checks."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from acme import client as acme_client
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.acme import orders
from shared.acme.account import AccountKey
from shared.acme.client import make_client
from tests.e2e.servers import ZONE, Pebble

if TYPE_CHECKING:
    from tests.e2e.conftest import HTTP01Responder

T = TypeVar("T")

POLL_TIMEOUT = 20.0
POLL_INTERVAL = 0.1


def unique_name(prefix: str = "t") -> str:
    """A fresh name in the test zone, so Pebble's authorization reuse never crosses tests."""
    return f"{prefix}-{secrets.token_hex(4)}.{ZONE}"


def make_csr(names: list[str]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def poll(fetch: Callable[[], T], *, until: Callable[[T], bool], what: str) -> T:
    """fetch() until `until` holds, within POLL_TIMEOUT (the CA moves asynchronously)."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while True:
        value = fetch()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {POLL_TIMEOUT}s")
        time.sleep(POLL_INTERVAL)


def settled(state: orders.OrderState | orders.ChallengeState | orders.AuthorizationState) -> bool:
    return state.status not in {orders.PENDING, orders.PROCESSING}


def client_for(pebble: Pebble, key: AccountKey, account_uri: str) -> acme_client.ClientV2:
    """A client as a fresh invocation builds it: from stored key and account URL."""
    return make_client(
        directory_url=pebble.directory_url,
        account_key=key,
        ca_bundle_pem=pebble.ca_bundle_pem,
        account_uri=account_uri,
    )


def assert_chains_to(pem_chain: bytes, root_pem: bytes, *, name: str) -> None:
    """Each certificate is signed by the next, the last by `root_pem`; the leaf names `name`."""
    chain = x509.load_pem_x509_certificates(pem_chain)
    root = x509.load_pem_x509_certificate(root_pem)
    leaf = chain[0]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert name in sans.get_values_for_type(x509.DNSName)
    for child, parent in zip(chain, [*chain[1:], root], strict=True):
        child.verify_directly_issued_by(parent)


def issue_with_http01(
    client: acme_client.ClientV2, http01: HTTP01Responder, names: list[str]
) -> orders.OrderState:
    """Order, solve every pending authorization over HTTP-01, finalize: the valid order."""
    order = orders.new_order(client=client, identifiers=names)
    for url in order.authorizations:
        authorization = orders.get_authorization(client=client, url=url)
        if authorization.status == orders.VALID:  # Pebble reuses valid authorizations
            continue
        challenge = authorization.challenge("http-01")
        assert challenge is not None
        http01.serve(
            token=challenge.token,
            key_authorization=orders.key_authorization(client=client, token=challenge.token),
        )
        orders.accept_challenge(client=client, url=challenge.url)
    ready = poll(
        lambda: orders.get_order(client=client, url=order.url), until=settled, what="authz"
    )
    orders.raise_if_invalid(ready)
    orders.finalize(client=client, order_url=order.url, csr_pem=make_csr(names))
    done = poll(lambda: orders.get_order(client=client, url=order.url), until=settled, what="order")
    orders.raise_if_invalid(done)
    return done


def common_name(pem: bytes) -> str:
    subject = x509.load_pem_x509_certificate(pem).subject
    return str(subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
