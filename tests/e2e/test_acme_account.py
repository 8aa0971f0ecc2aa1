"""Account register-or-find against a real Pebble."""

from __future__ import annotations

import pytest
from acme import client as acme_client
from urllib3.exceptions import InsecureRequestWarning

from shared.acme.account import AccountKey, ensure_account, generate_account_key
from shared.acme.client import forget_directories, make_client
from shared.acme.errors import PermanentAcmeError
from tests.e2e.servers import Pebble

pytestmark = pytest.mark.e2e


def _client(pebble: Pebble, key: AccountKey) -> acme_client.ClientV2:
    return make_client(
        directory_url=pebble.directory_url, account_key=key, ca_bundle_pem=pebble.ca_bundle_pem
    )


def test_the_same_key_finds_the_account_it_registered(pebble: Pebble) -> None:
    key = generate_account_key()
    registered = ensure_account(client=_client(pebble, key), email="ops@example.test", eab=None)
    forget_directories()  # as a cold process would
    found = ensure_account(client=_client(pebble, key), email="ops@example.test", eab=None)
    assert found == registered
    assert registered.email == "ops@example.test"


def test_another_key_registers_another_account(pebble: Pebble) -> None:
    first = ensure_account(client=_client(pebble, generate_account_key()), email="", eab=None)
    second = ensure_account(client=_client(pebble, generate_account_key()), email="", eab=None)
    assert first.uri != second.uri


def test_a_changed_email_updates_the_found_account(pebble: Pebble) -> None:
    key = generate_account_key()
    before = ensure_account(client=_client(pebble, key), email="old@example.test", eab=None)
    after = ensure_account(client=_client(pebble, key), email="new@example.test", eab=None)
    assert after.uri == before.uri
    assert after.email == "new@example.test"
    again = ensure_account(client=_client(pebble, key), email="new@example.test", eab=None)
    assert again == after


def test_an_untrusted_ca_certificate_is_a_permanent_tls_error(pebble: Pebble) -> None:
    forget_directories()
    with pytest.raises(PermanentAcmeError) as raised:
        make_client(directory_url=pebble.directory_url, account_key=generate_account_key())
    assert raised.value.problem_type == "tls"


def test_skip_tls_verify_talks_to_a_ca_without_its_bundle(pebble: Pebble) -> None:
    # urllib3 warns on every unverified request; the issuer opted in, the warning stays.
    with pytest.warns(InsecureRequestWarning):
        client = make_client(
            directory_url=pebble.directory_url,
            account_key=generate_account_key(),
            skip_tls_verify=True,
        )
        account = ensure_account(client=client, email="", eab=None)
    assert account.uri.startswith("https://")
