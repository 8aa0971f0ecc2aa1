from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from shared.certificates.secret import (
    FAO_LABEL,
    MANAGED_DATA_KEYS,
    build_secret_data,
    join_csv,
    secret_annotations,
    secret_labels,
)
from shared.certificates.spec import (
    IssuerRef,
    JKSKeystore,
    Keystores,
    PKCS12Keystore,
    SecretTemplate,
    Subject,
)
from shared.pki.keys import encode_private_key, public_keys_equal
from shared.pki.signing import encode_certificate
from shared.pki.x509 import load_certificate_chain
from tests.unit.pki.factory import NOW, issue, key, self_signed_ca, spec

CA = self_signed_ca()
KEY_PEM = encode_private_key(key("ECDSA"))


def _chain_pem() -> bytes:
    return encode_certificate(issue(spec(), key("ECDSA"), ca=CA))


CA_PEM = encode_certificate(CA[0])


def test_plain_secret_has_tls_pair_and_ca() -> None:
    chain = _chain_pem()
    data = build_secret_data(
        spec=spec(), key_pem=KEY_PEM, chain_pem=chain, ca_pem=CA_PEM, keystore_passwords={}
    )
    assert data == {"tls.crt": chain, "tls.key": KEY_PEM, "ca.crt": CA_PEM}


@pytest.mark.parametrize("ca_pem", [None, b""])
def test_ca_crt_is_left_out_when_unknown(ca_pem: bytes | None) -> None:
    data = build_secret_data(
        spec=spec(), key_pem=KEY_PEM, chain_pem=_chain_pem(), ca_pem=ca_pem, keystore_passwords={}
    )
    assert set(data) == {"tls.crt", "tls.key"}


def test_additional_output_formats() -> None:
    chain = _chain_pem()
    data = build_secret_data(
        spec=spec(additional_output_formats=("DER", "CombinedPEM")),
        key_pem=KEY_PEM,
        chain_pem=chain,
        ca_pem=None,
        keystore_passwords={},
    )
    der_key = serialization.load_der_private_key(data["key.der"], password=None)
    assert public_keys_equal(der_key.public_key(), key("ECDSA").public_key())  # type: ignore[arg-type]
    assert data["tls-combined.pem"] == KEY_PEM + chain


def test_pkcs12_keystore_and_truststore_with_resolved_password() -> None:
    store = PKCS12Keystore(create=True, password="unused-literal", profile="LegacyDES")
    data = build_secret_data(
        spec=spec(keystores=Keystores(pkcs12=store)),
        key_pem=KEY_PEM,
        chain_pem=_chain_pem(),
        ca_pem=CA_PEM,
        keystore_passwords={"pkcs12": b"from-secret"},
    )
    loaded = pkcs12.load_pkcs12(data["keystore.p12"], b"from-secret")
    assert loaded.cert is not None
    assert loaded.cert.certificate == load_certificate_chain(data["tls.crt"])[0]
    assert [c.certificate for c in loaded.additional_certs] == [CA[0]]
    trust = pkcs12.load_pkcs12(data["truststore.p12"], b"from-secret")
    assert [c.certificate for c in trust.additional_certs] == [CA[0]]


def test_truststore_needs_a_ca() -> None:
    data = build_secret_data(
        spec=spec(keystores=Keystores(pkcs12=PKCS12Keystore(create=True, password="p"))),
        key_pem=KEY_PEM,
        chain_pem=_chain_pem(),
        ca_pem=None,
        keystore_passwords={"pkcs12": b"p"},
    )
    assert "keystore.p12" in data
    assert "truststore.p12" not in data


def test_jks_keystores() -> None:
    data = build_secret_data(
        spec=spec(keystores=Keystores(jks=JKSKeystore(create=True, password="p"))),
        key_pem=KEY_PEM,
        chain_pem=_chain_pem(),
        ca_pem=CA_PEM,
        keystore_passwords={"jks": b"changeit"},
        now=NOW,
    )
    assert data["keystore.jks"][:4] == b"\xfe\xed\xfe\xed"
    assert data["truststore.jks"][:4] == b"\xfe\xed\xfe\xed"


def test_keystore_not_created_when_create_is_false() -> None:
    data = build_secret_data(
        spec=spec(keystores=Keystores(pkcs12=PKCS12Keystore(create=False, password="p"))),
        key_pem=KEY_PEM,
        chain_pem=_chain_pem(),
        ca_pem=CA_PEM,
        keystore_passwords={},
    )
    assert set(data) == {"tls.crt", "tls.key", "ca.crt"}


def test_missing_keystore_password_names_the_keystore() -> None:
    with pytest.raises(KeyError, match="pkcs12"):
        build_secret_data(
            spec=spec(keystores=Keystores(pkcs12=PKCS12Keystore(create=True, password="p"))),
            key_pem=KEY_PEM,
            chain_pem=_chain_pem(),
            ca_pem=None,
            keystore_passwords={},
        )


def test_every_written_key_is_a_managed_key() -> None:
    data = build_secret_data(
        spec=spec(
            additional_output_formats=("DER", "CombinedPEM"),
            keystores=Keystores(
                pkcs12=PKCS12Keystore(create=True, password="p"),
                jks=JKSKeystore(create=True, password="p"),
            ),
        ),
        key_pem=KEY_PEM,
        chain_pem=_chain_pem(),
        ca_pem=CA_PEM,
        keystore_passwords={"pkcs12": b"p", "jks": b"p"},
        now=NOW,
    )
    assert set(data) == MANAGED_DATA_KEYS


def test_annotations_describe_the_issued_certificate_and_issuer() -> None:
    cert_spec = spec(
        issuer_ref=IssuerRef("root", "ClusterIssuer"),
        ip_addresses=("10.0.0.1", "::1"),
        uris=("spiffe://td/web",),
        secret_template=SecretTemplate(annotations={"team": "web"}),
    )
    leaf = issue(cert_spec, key("ECDSA"), ca=CA)
    assert secret_annotations(spec=cert_spec, leaf=leaf) == {
        "team": "web",
        "cert-manager.io/certificate-name": "web",
        "cert-manager.io/issuer-name": "root",
        "cert-manager.io/issuer-kind": "ClusterIssuer",
        "cert-manager.io/issuer-group": "cert-manager.io",
        "cert-manager.io/common-name": "web.example.com",
        "cert-manager.io/alt-names": "web.example.com,www.example.com",
        "cert-manager.io/ip-sans": "10.0.0.1,::1",
        "cert-manager.io/uri-sans": "spiffe://td/web",
    }


def test_subject_and_email_annotations_only_when_present() -> None:
    cert_spec = spec(
        email_addresses=("a@example.com", "b@example.com"),
        subject=Subject(
            organizations=("Acme, Inc.", "Acme Two"),
            organizational_units=("Web",),
            countries=("GB",),
            provinces=("England",),
            localities=("London",),
            street_addresses=('1 "High" St',),
            postal_codes=("N1",),
            serial_number="42",
        ),
    )
    annotations = secret_annotations(spec=cert_spec, leaf=issue(cert_spec, key("ECDSA"), ca=CA))
    assert annotations["cert-manager.io/email-sans"] == "a@example.com,b@example.com"
    assert annotations["cert-manager.io/subject-organizations"] == '"Acme, Inc.",Acme Two'
    assert annotations["cert-manager.io/subject-organizationalunits"] == "Web"
    assert annotations["cert-manager.io/subject-countries"] == "GB"
    assert annotations["cert-manager.io/subject-provinces"] == "England"
    assert annotations["cert-manager.io/subject-localities"] == "London"
    assert annotations["cert-manager.io/subject-streetaddresses"] == '"1 ""High"" St"'
    assert annotations["cert-manager.io/subject-postalcodes"] == "N1"
    assert annotations["cert-manager.io/subject-serialnumber"] == "42"
    plain = secret_annotations(spec=spec(), leaf=issue(spec(), key("ECDSA"), ca=CA))
    assert not any(k.startswith("cert-manager.io/subject-") for k in plain)
    assert "cert-manager.io/email-sans" not in plain


def test_names_always_annotated_even_when_empty() -> None:
    cert_spec = spec(common_name="", dns_names=(), ip_addresses=("10.0.0.1",))
    annotations = secret_annotations(spec=cert_spec, leaf=issue(cert_spec, key("ECDSA"), ca=CA))
    assert annotations["cert-manager.io/common-name"] == ""
    assert annotations["cert-manager.io/alt-names"] == ""
    assert annotations["cert-manager.io/uri-sans"] == ""
    assert annotations["cert-manager.io/ip-sans"] == "10.0.0.1"


def test_labels_are_template_plus_fao() -> None:
    cert_spec = spec(secret_template=SecretTemplate(labels={"app": "web"}))
    assert secret_labels(cert_spec) == {"app": "web", FAO_LABEL: "true"}
    assert secret_labels(replace(cert_spec, secret_template=SecretTemplate())) == {
        "controller.cert-manager.io/fao": "true"
    }


@pytest.mark.parametrize(
    ("values", "joined"),
    [
        (["a", "b"], "a,b"),
        (["a,b"], '"a,b"'),
        (['say "hi"'], '"say ""hi"""'),
        ([" lead"], '" lead"'),
        (["line\nbreak"], '"line\nbreak"'),
        ([""], ""),
        ([r"\."], '"\\."'),
    ],
)
def test_join_csv_quotes_like_go_encoding_csv(values: list[str], joined: str) -> None:
    assert join_csv(values) == joined


def test_unchanged_keystores_are_kept_byte_for_byte() -> None:
    cert_spec = spec(
        keystores=Keystores(
            pkcs12=PKCS12Keystore(create=True, password="p"),
            jks=JKSKeystore(create=True, password="p"),
        )
    )
    chain = _chain_pem()

    def build(
        passwords: dict[str, bytes], previous: dict[str, bytes] | None = None
    ) -> dict[str, bytes]:
        return build_secret_data(
            spec=cert_spec,
            key_pem=KEY_PEM,
            chain_pem=chain,
            ca_pem=CA_PEM,
            keystore_passwords=passwords,
            now=NOW,
            previous=previous,
        )

    same = {"pkcs12": b"p", "jks": b"p"}
    first = build(same)
    assert build(same)["keystore.p12"] != first["keystore.p12"]  # salted: never reproducible
    assert build(same, previous=first) == first
    rotated = build({"pkcs12": b"new", "jks": b"p"}, previous=first)
    assert rotated["keystore.p12"] != first["keystore.p12"]
    assert rotated["truststore.p12"] != first["truststore.p12"]
    assert rotated["keystore.jks"] == first["keystore.jks"]
    assert pkcs12.load_pkcs12(rotated["keystore.p12"], b"new").key is not None


def test_keystore_is_rebuilt_for_a_new_certificate() -> None:
    store = Keystores(pkcs12=PKCS12Keystore(create=True, password="p"))
    first = build_secret_data(
        spec=spec(keystores=store),
        key_pem=KEY_PEM,
        chain_pem=_chain_pem(),
        ca_pem=CA_PEM,
        keystore_passwords={"pkcs12": b"p"},
    )
    renewed_chain = _chain_pem()
    second = build_secret_data(
        spec=spec(keystores=store),
        key_pem=KEY_PEM,
        chain_pem=renewed_chain,
        ca_pem=CA_PEM,
        keystore_passwords={"pkcs12": b"p"},
        previous=first,
    )
    loaded = pkcs12.load_pkcs12(second["keystore.p12"], b"p")
    assert loaded.cert is not None
    assert loaded.cert.certificate == load_certificate_chain(renewed_chain)[0]
    assert second["truststore.p12"] == first["truststore.p12"]
