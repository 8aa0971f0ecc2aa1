"""ARI (RFC 9773) against a local directory that offers renewalInfo, and one that does not."""

from __future__ import annotations

import datetime

import pytest
from acme import client as acme_client

from shared.acme import renewal_info
from shared.acme.account import AccountKey
from shared.acme.client import make_client
from shared.acme.errors import PermanentAcmeError
from tests.unit.acme.certs import certificate
from tests.unit.acme.stub_ca import Reply, StubCA

# The worked example of RFC 9773 section 4.1.
RFC_KEY_IDENTIFIER = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
RFC_SERIAL = 0x87654321
RFC_CERT_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)


@pytest.fixture
def rfc_cert() -> bytes:
    return certificate(
        subject="a.example.com",
        issuer="Example CA",
        serial=RFC_SERIAL,
        key_identifier=RFC_KEY_IDENTIFIER,
    )


def test_cert_id_matches_the_rfc_example(rfc_cert: bytes) -> None:
    assert renewal_info.cert_id(rfc_cert) == RFC_CERT_ID


@pytest.mark.parametrize(
    ("serial", "encoded"),
    [(0x7F, "fw"), (0x80, "AIA"), (0x0102, "AQI")],
)
def test_cert_id_keeps_the_serials_der_sign_octet(serial: int, encoded: str) -> None:
    pem = certificate(subject="s", issuer="i", serial=serial, key_identifier=b"\x01")
    assert renewal_info.cert_id(pem).split(".")[1] == encoded


def test_cert_id_needs_an_authority_key_identifier() -> None:
    with pytest.raises(PermanentAcmeError, match="authority key identifier"):
        renewal_info.cert_id(certificate(subject="s", issuer="i"))


def test_renewal_window_is_read_from_the_ca_with_its_retry_after(
    stub_ca: StubCA, stub_client: acme_client.ClientV2, rfc_cert: bytes
) -> None:
    stub_ca.script(
        "GET",
        f"/renewal-info/{RFC_CERT_ID}",
        Reply(
            body={
                "suggestedWindow": {"start": "2026-03-10T00:00:00Z", "end": "2026-03-12T00:00:00Z"},
                "explanationURL": "https://ca.example/incident",
            },
            headers={"Retry-After": "21600"},
        ),
    )
    window = renewal_info.renewal_window(client=stub_client, cert_pem=rfc_cert, clock=lambda: NOW)
    assert window == renewal_info.RenewalWindow(
        start=datetime.datetime(2026, 3, 10, tzinfo=datetime.UTC),
        end=datetime.datetime(2026, 3, 12, tzinfo=datetime.UTC),
        retry_after=datetime.timedelta(hours=6),
        explanation_url="https://ca.example/incident",
    )
    assert window.pick(fraction=0.5) == datetime.datetime(2026, 3, 11, tzinfo=datetime.UTC)
    assert renewal_info.replaces(client=stub_client, cert_pem=rfc_cert) == RFC_CERT_ID


def test_a_malformed_window_is_a_permanent_error(
    stub_ca: StubCA, stub_client: acme_client.ClientV2, rfc_cert: bytes
) -> None:
    stub_ca.script("GET", f"/renewal-info/{RFC_CERT_ID}", Reply(body={"suggestedWindow": {}}))
    with pytest.raises(PermanentAcmeError, match="suggestedWindow"):
        renewal_info.renewal_window(client=stub_client, cert_pem=rfc_cert)


def test_without_renewal_info_there_is_no_window_and_no_replaces(
    account_key: AccountKey, rfc_cert: bytes
) -> None:
    ca = StubCA(renewal_info=False)
    ca.start()
    try:
        client = make_client(directory_url=ca.directory_url, account_key=account_key)
        assert renewal_info.renewal_window(client=client, cert_pem=rfc_cert) is None
        assert renewal_info.replaces(client=client, cert_pem=rfc_cert) is None
        assert ca.requests_to(f"/renewal-info/{RFC_CERT_ID}") == []
    finally:
        ca.stop()
