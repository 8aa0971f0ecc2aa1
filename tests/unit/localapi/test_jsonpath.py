"""The JSONPath subset of CRD printer columns."""

from __future__ import annotations

import pytest

from events.localapi.jsonpath import JSONPathError, evaluate

CERT = {
    "spec": {"secretName": "tls", "dnsNames": ["a.example", "b.example"]},
    "status": {
        "conditions": [
            {"type": "Issuing", "status": "False"},
            {"type": "Ready", "status": "True", "message": "up to date"},
        ],
        "revision": 3,
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.secretName", ["tls"]),
        ("{.spec.secretName}", ["tls"]),
        (".spec.dnsNames[1]", ["b.example"]),
        (".spec.dnsNames[-1]", ["b.example"]),
        (".spec.dnsNames[*]", ["a.example", "b.example"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
        ('.status.conditions[?(@.type == "Ready")].message', ["up to date"]),
        (".status.conditions[?(@.type!='Ready')].type", ["Issuing"]),
        (".status.conditions[?(@.message)].type", ["Ready"]),
        (".status.revision", [3]),
        (".status['revision']", [3]),
        (".status.missing", []),
        (".spec.secretName.deeper", []),
    ],
)
def test_evaluate(path: str, expected: list[object]) -> None:
    assert evaluate(path, CERT) == expected


def test_unsupported_syntax_is_an_error() -> None:
    with pytest.raises(JSONPathError):
        evaluate(".spec[?(@.a > 1)]", CERT)
