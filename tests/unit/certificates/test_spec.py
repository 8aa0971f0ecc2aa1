from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.certificates.spec import (
    DEFAULT_USAGES,
    CertificateSpec,
    InvalidSpec,
    IssuerRef,
    JKSKeystore,
    NameConstraintItems,
    NameConstraints,
    OtherName,
    PKCS12Keystore,
    PrivateKeySpec,
    SecretKeyRef,
    Subject,
    parse_certificate,
)
from tests.unit.pki.factory import certificate_object, parsed


def _invalid(**spec_fields: Any) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as caught:
        parsed(**spec_fields)
    return caught.value


def test_minimal_certificate_gets_cert_manager_defaults() -> None:
    spec = parsed()
    assert spec == CertificateSpec(
        namespace="default",
        name="web",
        secret_name="web-tls",
        issuer_ref=IssuerRef(name="ca-issuer", kind="Issuer", group="cert-manager.io"),
        dns_names=("web.example.com",),
    )
    assert spec.duration == timedelta(hours=2160)
    assert spec.renew_before is None
    assert spec.renew_before_percentage is None
    assert spec.usages == DEFAULT_USAGES == ("digital signature", "key encipherment")
    assert spec.private_key == PrivateKeySpec(
        algorithm="RSA", size=None, encoding="PKCS1", rotation_policy="Always"
    )
    assert spec.revision_history_limit == 1
    assert spec.encode_usages_in_request is True
    assert not spec.is_ca


def test_every_field_is_parsed() -> None:
    spec = parsed(
        commonName="web.example.com",
        dnsNames=["web.example.com", "www.example.com"],
        ipAddresses=["10.0.0.1"],
        uris=["spiffe://td/web"],
        emailAddresses=["ops@example.com"],
        subject={
            "organizations": ["Acme"],
            "countries": ["GB"],
            "organizationalUnits": ["Web"],
            "localities": ["London"],
            "provinces": ["England"],
            "streetAddresses": ["1 High St"],
            "postalCodes": ["N1"],
            "serialNumber": "42",
        },
        duration="720h",
        renewBefore="240h",
        isCA=True,
        usages=["server auth", "client auth"],
        privateKey={
            "algorithm": "ECDSA",
            "size": 384,
            "encoding": "PKCS8",
            "rotationPolicy": "Never",
        },
        secretTemplate={"labels": {"team": "web"}, "annotations": {"owner": "ops"}},
        revisionHistoryLimit=3,
        additionalOutputFormats=[{"type": "DER"}, {"type": "CombinedPEM"}],
        keystores={
            "pkcs12": {
                "create": True,
                "passwordSecretRef": {"name": "ks", "key": "pw"},
                "profile": "Modern2023",
            },
            "jks": {"create": True, "password": "changeit", "alias": "web"},
        },
        encodeUsagesInRequest=False,
        issuerRef={"name": "root", "kind": "ClusterIssuer", "group": "cert-manager.io"},
    )
    assert spec.common_name == "web.example.com"
    assert spec.ip_addresses == ("10.0.0.1",)
    assert spec.uris == ("spiffe://td/web",)
    assert spec.email_addresses == ("ops@example.com",)
    assert spec.subject == Subject(
        organizations=("Acme",),
        countries=("GB",),
        organizational_units=("Web",),
        localities=("London",),
        provinces=("England",),
        street_addresses=("1 High St",),
        postal_codes=("N1",),
        serial_number="42",
    )
    assert spec.duration == timedelta(hours=720)
    assert spec.renew_before == timedelta(hours=240)
    assert spec.is_ca
    assert spec.usages == ("server auth", "client auth")
    assert spec.private_key == PrivateKeySpec("ECDSA", 384, "PKCS8", "Never")
    assert dict(spec.secret_template.labels) == {"team": "web"}
    assert dict(spec.secret_template.annotations) == {"owner": "ops"}
    assert spec.revision_history_limit == 3
    assert spec.additional_output_formats == ("DER", "CombinedPEM")
    assert spec.keystores.pkcs12 == PKCS12Keystore(
        create=True, password_secret_ref=SecretKeyRef("ks", "pw"), profile="Modern2023"
    )
    assert spec.keystores.jks == JKSKeystore(create=True, password="changeit", alias="web")
    assert not spec.encode_usages_in_request
    assert spec.issuer_ref == IssuerRef("root", "ClusterIssuer", "cert-manager.io")


def test_keystore_defaults_and_password_stays_out_of_repr() -> None:
    spec = parsed(
        keystores={
            "pkcs12": {"create": True, "password": "hunter2"},
            "jks": {"create": False, "passwordSecretRef": {"name": "ks"}},
        }
    )
    assert spec.keystores.pkcs12 is not None
    assert spec.keystores.pkcs12.profile == "LegacyRC2"
    assert spec.keystores.jks is not None
    assert spec.keystores.jks.alias == "certificate"
    assert spec.keystores.jks.password_secret_ref == SecretKeyRef("ks", "password")
    assert "hunter2" not in repr(spec)


def test_external_issuer_group_may_use_any_kind() -> None:
    spec = parsed(
        issuerRef={"name": "x", "kind": "AWSPCAIssuer", "group": "awspca.cert-manager.io"}
    )
    assert spec.issuer_ref == IssuerRef("x", "AWSPCAIssuer", "awspca.cert-manager.io")


def test_ed25519_ignores_size() -> None:
    assert parsed(privateKey={"algorithm": "Ed25519", "size": 256}).private_key.size is None


def test_missing_namespace_defaults_to_default() -> None:
    obj = certificate_object()
    del obj["metadata"]["namespace"]
    assert parse_certificate(obj).namespace == "default"


def test_renew_before_percentage_is_accepted() -> None:
    assert parsed(renewBeforePercentage=25).renew_before_percentage == 25


@pytest.mark.parametrize(
    ("fields", "path", "text"),
    [
        ({"duration": "30m"}, "spec.duration", "certificate duration must be greater than 1h0m0s"),
        ({"duration": "2 days"}, "spec.duration", "must be a duration"),
        (
            {"duration": "2h", "renewBefore": "2h"},
            "spec.renewBefore",
            "certificate duration 2h0m0s must be greater than renewBefore 2h0m0s",
        ),
        (
            {"duration": "2h", "renewBefore": "3h"},
            "spec.renewBefore",
            "must be greater than renewBefore 3h0m0s",
        ),
        ({"renewBefore": "1m"}, "spec.renewBefore", "must be greater than 5m0s"),
        (
            {"renewBefore": "1h", "renewBeforePercentage": 10},
            "spec.renewBeforePercentage",
            "mutually exclusive",
        ),
        # The webhook checks duration * (100 - pct) / 100: its arithmetic, not renewal's.
        ({"renewBeforePercentage": 0}, "spec.renewBeforePercentage", "less than duration"),
        ({"renewBeforePercentage": -5}, "spec.renewBeforePercentage", "less than duration"),
        ({"renewBeforePercentage": 100}, "spec.renewBeforePercentage", "greater than 5m0s"),
        ({"renewBeforePercentage": 150}, "spec.renewBeforePercentage", "greater than 5m0s"),
        # Found by the fuzz: a timedelta overflowed where the webhook's float64 does not.
        (
            {"duration": "2562047h", "renewBeforePercentage": -10},
            "spec.renewBeforePercentage",
            "less than duration",
        ),
        (
            {"duration": "1h", "renewBeforePercentage": 99},
            "spec.renewBeforePercentage",
            "greater than 5m0s",
        ),
        ({"dnsNames": None}, "spec", "at least one of commonName"),
        ({"dnsNames": None, "literalSubject": "O=Acme"}, "spec", "at least one of commonName"),
        (
            {"issuerRef": {"name": "x", "kind": "Foo"}},
            "spec.issuerRef.kind",
            "Issuer or ClusterIssuer",
        ),
        ({"issuerRef": {"kind": "Issuer"}}, "spec.issuerRef.name", "Required value"),
        ({"secretName": None}, "spec.secretName", "Required value"),
        (
            {"privateKey": {"algorithm": "RSA", "size": 1024}},
            "spec.privateKey.size",
            "2048 and 8192",
        ),
        ({"privateKey": {"algorithm": "ECDSA", "size": 512}}, "spec.privateKey.size", '"521"'),
        (
            {"privateKey": {"algorithm": "DSA"}},
            "spec.privateKey.algorithm",
            "rsa, ecdsa or ed25519",
        ),
        ({"privateKey": {"encoding": "DER"}}, "spec.privateKey.encoding", "PKCS8"),
        (
            {"privateKey": {"rotationPolicy": "Sometimes"}},
            "spec.privateKey.rotationPolicy",
            "Never",
        ),
        ({"usages": ["server auth", "fly"]}, "spec.usages[1]", '"fly": unknown keyusage'),
        ({"ipAddresses": ["10.0.0.300"]}, "spec.ipAddresses[0]", "invalid IP address"),
        ({"emailAddresses": ["nobody"]}, "spec.emailAddresses[0]", "invalid email address"),
        ({"uris": ["no-scheme"]}, "spec.uris[0]", "invalid URI"),
        (
            {"commonName": "a", "literalSubject": "CN=a"},
            "spec.commonName",
            "no `commonName` may be provided",
        ),
        (
            {"subject": {"serialNumber": "1"}, "literalSubject": "CN=a"},
            "spec.subject",
            "no `Subject` properties",
        ),
        ({"literalSubject": "CN=a,XX=b"}, "spec.literalSubject", "RFC 4514"),
        ({"dnsNames": None, "literalSubject": "O=CN\\=x"}, "spec", "at least one of commonName"),
        ({"revisionHistoryLimit": 0}, "spec.revisionHistoryLimit", "must not be less than 1"),
        (
            {"additionalOutputFormats": [{"type": "PFX"}]},
            "spec.additionalOutputFormats[0].type",
            "CombinedPEM",
        ),
        (
            {"additionalOutputFormats": [{"type": "DER"}, {"type": "DER"}]},
            "spec.additionalOutputFormats[1].type",
            "Duplicate",
        ),
        (
            {"keystores": {"pkcs12": {"create": True}}},
            "spec.keystores.pkcs12",
            "must set exactly one of passwordSecretRef and password must for PKCS#12 keystores",
        ),
        (
            {
                "keystores": {
                    "jks": {"create": True, "password": "a", "passwordSecretRef": {"name": "b"}}
                }
            },
            "spec.keystores.jks",
            "exactly one of passwordSecretRef and password must be provided for JKS keystores",
        ),
        # Found by the fuzz: OpenSSL wrote such a keystore and then panicked reading it.
        (
            {"keystores": {"pkcs12": {"create": True, "password": "a\x00b"}}},
            "spec.keystores.pkcs12.password",
            "must not contain a NUL character",
        ),
        (
            {"keystores": {"jks": {"create": True, "password": ""}}},
            "spec.keystores.jks.password",
            "literal password cannot be empty if set on JKS keystores",
        ),
        (
            {"commonName": "c" * 65},
            "spec.commonName",
            "Too long: may not be more than 64 bytes",
        ),
        # Go counts bytes: 33 two-byte characters are too long for a CommonName.
        ({"commonName": "ü" * 33}, "spec.commonName", "may not be more than 64 bytes"),
        (
            {"dnsNames": ["bücher.example.com"]},
            "spec.dnsNames[0]",
            'x509: "bücher.example.com" cannot be encoded as an IA5String; use its A-label '
            '"xn--bcher-kva.example.com"',
        ),
        ({"uris": ["spiffe://bücher/x"]}, "spec.uris[0]", "cannot be encoded as an IA5String"),
        ({"emailAddresses": ["jürgen@example.com"]}, "spec.emailAddresses[0]", "IA5String"),
        (
            {"emailAddresses": ["Ops <ops@example.com>"]},
            "spec.emailAddresses[0]",
            "only contains the email address itself",
        ),
        ({"emailAddresses": ["a b@example.com"]}, "spec.emailAddresses[0]", "invalid email"),
        ({"ipAddresses": ["fe80::1%eth0"]}, "spec.ipAddresses[0]", "invalid IP address"),
        ({"secretName": "Web_TLS"}, "spec.secretName", "a lowercase RFC 1123 subdomain"),
        ({"secretName": "a" * 254}, "spec.secretName", "no more than 253 characters"),
        ({"duration": "2562048h"}, "spec.duration", "must be a duration"),
        ({"subject": {"countries": ["USA"]}}, "spec.subject.countries[0]", "two-letter"),
        ({"subject": {"countries": ["0;"]}}, "spec.subject.countries[0]", "two-letter"),
        (
            {"otherNames": [{"oid": "1.2.٣", "utf8Value": "x"}]},
            "spec.otherNames[0].oid",
            "invalid oid syntax",
        ),
        (
            {"otherNames": [{"oid": "1.3.6.1.4.1.311.20.2.3", "utf8Value": ""}]},
            "spec.otherNames[0].utf8Value",
            "must be set to a valid non-empty UTF8 string",
        ),
        (
            {"privateKey": {"algorithm": "ECDSA"}, "signatureAlgorithm": "SHA256WithRSA"},
            "spec.signatureAlgorithm",
            "for key algorithm ECDSA the allowed signature algorithms are "
            "[ECDSAWithSHA256 ECDSAWithSHA384 ECDSAWithSHA512]",
        ),
        (
            {"issuerRef": {"name": "x", "kind": "AWSPCAClusterIssuer"}},
            "spec.issuerRef.kind",
            "(did you forget to set spec.issuerRef.group?)",
        ),
        (
            {
                "isCA": True,
                "nameConstraints": {"permitted": {"dnsDomains": ["bücher.example"]}},
            },
            "spec.nameConstraints.permitted.dnsDomains[0]",
            "IA5String",
        ),
        (
            {"keystores": {"pkcs12": {"create": True, "password": "a", "profile": "AES"}}},
            "spec.keystores.pkcs12.profile",
            "Modern2023",
        ),
        (
            {"secretTemplate": {"annotations": {"cert-manager.io/common-name": "x"}}},
            "spec.secretTemplate.annotations",
            "not allowed",
        ),
        (
            {"secretTemplate": {"annotations": {"certainly.io/secret-template-keys": "[]"}}},
            "spec.secretTemplate.annotations",
            "reserved",
        ),
        (
            {"secretTemplate": {"labels": {"bad key!": "x"}}},
            "spec.secretTemplate.labels",
            "name part must consist of",
        ),
        ({"dnsNames": "web.example.com"}, "spec.dnsNames", "a list of strings"),
        ({"isCA": "yes"}, "spec.isCA", "a boolean"),
        ({"renewBeforePercentage": "10"}, "spec.renewBeforePercentage", "an integer"),
    ],
)
def test_invalid_spec_names_the_field_and_what_to_change(
    fields: dict[str, Any], path: str, text: str
) -> None:
    error = _invalid(**fields)
    assert error.reason == "InvalidSpec"
    matching = [e for e in error.errors if e.path == path]
    assert matching, f"no error for {path}: {error.message}"
    assert any(text in e.detail for e in matching), error.message
    assert path in error.message


def test_all_errors_are_reported_together() -> None:
    error = _invalid(duration="10m", privateKey={"algorithm": "DSA"}, secretName=None)
    assert {e.path for e in error.errors} >= {
        "spec.duration",
        "spec.privateKey.algorithm",
        "spec.secretName",
    }
    assert str(error) == error.message


def test_keystore_password_never_appears_in_errors() -> None:
    error = _invalid(
        keystores={
            "pkcs12": {"create": True, "password": "hunter2", "passwordSecretRef": {"name": "s"}}
        }
    )
    assert "hunter2" not in error.message


def test_literal_subject_with_cn_satisfies_the_name_requirement() -> None:
    assert parsed(dnsNames=None, literalSubject="CN=app,O=Acme").literal_subject == "CN=app,O=Acme"


def test_other_names_and_name_constraints_are_parsed() -> None:
    spec = parsed(
        isCA=True,
        otherNames=[{"oid": "1.3.6.1.4.1.311.20.2.3", "utf8Value": "upn@example.com"}],
        nameConstraints={
            "critical": True,
            "permitted": {"dnsDomains": ["example.com"], "ipRanges": ["10.0.0.0/8"]},
            "excluded": {"emailAddresses": ["bad@example.com"], "uriDomains": [".evil.example"]},
        },
    )
    assert spec.other_names == (OtherName("1.3.6.1.4.1.311.20.2.3", "upn@example.com"),)
    assert spec.name_constraints == NameConstraints(
        critical=True,
        permitted=NameConstraintItems(dns_domains=("example.com",), ip_ranges=("10.0.0.0/8",)),
        excluded=NameConstraintItems(
            email_addresses=("bad@example.com",), uri_domains=(".evil.example",)
        ),
    )


def test_other_names_alone_satisfy_the_name_requirement() -> None:
    spec = parsed(dnsNames=None, otherNames=[{"oid": "1.2.3.4", "utf8Value": "x"}])
    assert spec.other_names == (OtherName("1.2.3.4", "x"),)


@pytest.mark.parametrize(
    ("fields", "path", "text"),
    [
        ({"otherNames": [{"oid": "upn", "utf8Value": "x"}]}, "spec.otherNames[0].oid", "oid"),
        ({"otherNames": [{"oid": "1.2.3"}]}, "spec.otherNames[0].utf8Value", "Required"),
        (
            {"nameConstraints": {"permitted": {"dnsDomains": ["a.example"]}}},
            "spec.nameConstraints",
            "isCA should be true",
        ),
        ({"isCA": True, "nameConstraints": {}}, "spec.nameConstraints", "permitted or excluded"),
        (
            {"isCA": True, "nameConstraints": {"permitted": {"ipRanges": ["10.0.0.0/33"]}}},
            "spec.nameConstraints.permitted.ipRanges[0]",
            "invalid CIDR",
        ),
    ],
)
def test_invalid_other_names_and_name_constraints(
    fields: dict[str, Any], path: str, text: str
) -> None:
    error = _invalid(**fields)
    assert any(e.path == path and text in e.detail for e in error.errors), error.message
