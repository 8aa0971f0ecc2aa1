"""A CSR is decoded and its signature checked once, however often issuance meets it."""

from __future__ import annotations

import pytest
from cryptography import x509

from shared.pki import csr as csr_module
from shared.pki.csr import InvalidCSR, build_csr, load_csr
from tests.unit.pki.factory import key, spec


def test_the_same_csr_is_decoded_once_and_shared() -> None:
    pem = build_csr(spec=spec(), key=key("ECDSA"))
    first = load_csr(pem)
    before = load_csr.cache_info()
    again = load_csr(bytes(pem))  # equal bytes, another object
    assert again is first
    assert load_csr.cache_info().hits == before.hits + 1


def test_a_bad_csr_is_refused_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    pem = build_csr(spec=spec(), key=key("ECDSA"))
    tampered = pem.replace(pem[80:84], b"AAAA")
    calls = 0
    real = x509.load_pem_x509_csr

    def counted(data: bytes) -> x509.CertificateSigningRequest:
        nonlocal calls
        calls += 1
        return real(data)

    monkeypatch.setattr(x509, "load_pem_x509_csr", counted)
    for _ in range(2):
        with pytest.raises(InvalidCSR):
            load_csr(tampered)
    assert calls == 2


def test_remembered_csrs_are_bounded() -> None:
    assert load_csr.cache_info().maxsize == csr_module.LOADED_CSRS
