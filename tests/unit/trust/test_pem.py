"""The bundle's content: parsed, deduplicated, in a stable order, invalid input refused."""

from __future__ import annotations

import re

import pytest
from cryptography import x509

from shared.trust.pem import InvalidPEM, assemble
from shared.trust.sources import label_selector
from tests.integration.trust.certs import ca_pem


def test_duplicates_are_kept_once_and_the_order_does_not_depend_on_the_sources() -> None:
    a, b, c = ca_pem("a"), ca_pem("b"), ca_pem("c")
    one = assemble([("x", a + b), ("y", "# comment\n" + c + "\n" + a)])
    other = assemble([("y", c), ("x", b + a + b)])
    assert one == other
    assert len(x509.load_pem_x509_certificates(one.encode())) == 3
    assert one.endswith("-----END CERTIFICATE-----\n")


@pytest.mark.parametrize(
    "text",
    ["", "hello", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"],
)
def test_a_source_without_a_valid_certificate_is_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidPEM, match="^" + re.escape('ConfigMap ns/x at key "ca.crt": ')):
        assemble([("inLine source", ca_pem("ok")), ('ConfigMap ns/x at key "ca.crt"', text)])


def test_label_selectors_are_written_as_the_api_server_reads_them() -> None:
    assert label_selector(None) is None
    assert label_selector({}) is None
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["x", "y"]},
            {"key": "gone", "operator": "DoesNotExist"},
        ],
    }
    assert label_selector(selector) == "a=1,b=2,env in (x,y),!gone"
