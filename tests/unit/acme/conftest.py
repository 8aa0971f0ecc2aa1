from __future__ import annotations

from collections.abc import Iterator

import pytest
from acme import client as acme_client
from cryptography.hazmat.primitives.asymmetric import ec

from shared.acme.account import AccountKey
from shared.acme.client import forget_directories, make_client
from tests.unit.acme.stub_ca import StubCA


@pytest.fixture
def stub_ca() -> Iterator[StubCA]:
    forget_directories()
    ca = StubCA()
    ca.start()
    try:
        yield ca
    finally:
        ca.stop()
        forget_directories()


@pytest.fixture(scope="session")
def account_key() -> AccountKey:
    # EC keeps unit tests fast; RSA is exercised by the e2e tier.
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def stub_client(stub_ca: StubCA, account_key: AccountKey) -> acme_client.ClientV2:
    return make_client(
        directory_url=stub_ca.directory_url,
        account_key=account_key,
        account_uri=f"{stub_ca.url}/account/1",
    )
