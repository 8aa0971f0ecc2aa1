"""Hypothesis strategies for Certificate specs: mostly plausible, often wrong, sometimes
absurd (wrong types, non-ASCII, oversized), as users and attackers write them.

RSA keys a CA could sign are left out on purpose: generating one takes 50 ms to seconds,
which the fuzz's CI budget cannot pay a thousand times; invalid RSA sizes are in.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shared.certificates.spec import KNOWN_USAGES

# Text that trips encoders: non-ASCII, control characters, separators RFC 4514 escapes.
awkward = st.text(
    alphabet=st.one_of(
        st.sampled_from('abcxyz019-.*_ =,+\\"<>;#@:/%ü€\x00\t\n'),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=80,
)
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
dns_name = st.one_of(
    st.builds(".".join, st.lists(label, min_size=1, max_size=4)),
    st.builds(lambda name: f"*.{name}", label.map(lambda x: f"{x}.example.test")),
    st.sampled_from(["bücher.example.com", "", "-bad-.example", "a" * 300, "EXAMPLE.COM"]),
    awkward,
)
ip = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["10.0.0.300", "fe80::1%eth0", "01.2.3.4", "::ffff:1.2.3.4", "1.2.3"]),
    awkward,
)
email = st.one_of(
    st.emails().map(str),
    st.sampled_from(["nobody", "a@", "@b", "Ops <ops@example.com>", "jürgen@example.com"]),
    awkward,
)
uri = st.one_of(
    st.builds(lambda x: f"spiffe://cluster.local/ns/{x}", label),
    st.sampled_from(["no-scheme", "https://bücher.example/", "urn:x:y", ":"]),
    awkward,
)
duration = st.one_of(
    st.builds(lambda h: f"{h}h", st.integers(min_value=-5, max_value=3_000_000)),
    st.builds(lambda m: f"{m}m", st.integers(min_value=0, max_value=10_000)),
    st.sampled_from(["2160h", "1h30m", "90m", "0", "1e5h", "٣h", "2562048h", "-1h", ""]),
    awkward,
)
private_key = st.fixed_dictionaries(
    {},
    optional={
        "algorithm": st.sampled_from(["ECDSA", "Ed25519", "RSA", "rsa", "DSA", ""]),
        "size": st.sampled_from([0, 1024, 9000, 256, 384, 521, 512, -1, 2**40]),
        "encoding": st.sampled_from(["PKCS1", "PKCS8", "DER"]),
        "rotationPolicy": st.sampled_from(["Always", "Never", "Sometimes"]),
    },
)
CHEAP_KEY: dict[str, Any] = {"algorithm": "ECDSA", "size": 256}


def affordable(key: dict[str, Any]) -> dict[str, Any]:
    """An RSA key that would be generated becomes ECDSA (see the module docstring)."""
    if key.get("algorithm", "RSA") not in ("", "RSA"):
        return key
    size = key.get("size")
    if isinstance(size, int) and size != 0 and not 2048 <= size <= 8192:
        return key  # refused before any key is made
    return {**key, **CHEAP_KEY}


subject = st.fixed_dictionaries(
    {},
    optional={
        "organizations": st.lists(awkward, max_size=2),
        "countries": st.lists(
            st.one_of(st.sampled_from(["DE", "US", "USA", ""]), awkward), max_size=2
        ),
        "organizationalUnits": st.lists(awkward, max_size=2),
        "serialNumber": awkward,
    },
)
name_items = st.fixed_dictionaries(
    {},
    optional={
        "dnsDomains": st.lists(dns_name, max_size=2),
        "ipRanges": st.lists(
            st.one_of(
                st.sampled_from(["10.0.0.0/8", "10.0.0.1/8", "::/0", "10.0.0.0/33"]), awkward
            ),
            max_size=2,
        ),
        "emailAddresses": st.lists(email, max_size=1),
        "uriDomains": st.lists(dns_name, max_size=1),
    },
)
password = st.one_of(st.just(""), st.text(min_size=1, max_size=12))
keystore = st.fixed_dictionaries(
    {"create": st.booleans()},
    optional={
        "password": password,
        "passwordSecretRef": st.fixed_dictionaries({"name": st.sampled_from(["", "pw"])}),
        "profile": st.sampled_from(["LegacyRC2", "LegacyDES", "Modern2023", "AES"]),
        "alias": awkward,
    },
)
wrong_type = st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.none())

spec_fields = {
    "commonName": st.one_of(label, awkward, st.just("c" * 70), st.just("ü" * 33)),
    "dnsNames": st.lists(dns_name, max_size=3),
    "ipAddresses": st.lists(ip, max_size=2),
    "emailAddresses": st.lists(email, max_size=2),
    "uris": st.lists(uri, max_size=2),
    "duration": duration,
    "renewBefore": duration,
    "renewBeforePercentage": st.integers(min_value=-10, max_value=200),
    "privateKey": private_key.map(affordable),
    "usages": st.lists(st.one_of(st.sampled_from(sorted(KNOWN_USAGES)), awkward), max_size=3),
    "isCA": st.booleans(),
    "subject": subject,
    "literalSubject": st.one_of(
        st.sampled_from(["CN=lit", "CN=a,O=b,C=DE", "C=USA", "XX=1"]), awkward
    ),
    "issuerRef": st.one_of(
        st.just({"name": "ca", "kind": "Issuer"}),
        st.fixed_dictionaries(
            {"name": st.sampled_from(["ca", "", "missing"])},
            optional={
                "kind": st.sampled_from(["Issuer", "ClusterIssuer", "AWSPCAIssuer", ""]),
                "group": st.sampled_from(["cert-manager.io", "", "awspca.cert-manager.io"]),
            },
        ),
    ),
    "revisionHistoryLimit": st.integers(min_value=-2, max_value=5),
    "encodeUsagesInRequest": st.booleans(),
    "signatureAlgorithm": st.sampled_from(["SHA256WithRSA", "ECDSAWithSHA384", "PureEd25519"]),
    "otherNames": st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "oid": st.sampled_from(["1.3.6.1.4.1.311.20.2.3", "1.40", "upn", "1.2.٣", ""]),
                "utf8Value": st.one_of(st.just(""), awkward),
            },
        ),
        max_size=2,
    ),
    "nameConstraints": st.fixed_dictionaries(
        {}, optional={"critical": st.booleans(), "permitted": name_items, "excluded": name_items}
    ),
    "additionalOutputFormats": st.lists(
        st.fixed_dictionaries({"type": st.sampled_from(["DER", "CombinedPEM", "PFX"])}),
        max_size=3,
    ),
    "keystores": st.fixed_dictionaries({}, optional={"pkcs12": keystore, "jks": keystore}),
    "secretTemplate": st.fixed_dictionaries(
        {},
        optional={
            "labels": st.dictionaries(
                st.one_of(label, awkward), st.one_of(label, awkward), max_size=2
            ),
            "annotations": st.dictionaries(
                st.one_of(label, st.just("cert-manager.io/allow-direct-injection"), awkward),
                awkward,
                max_size=2,
            ),
        },
    ),
}


@st.composite
def certificate_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec with a few of its fields set, now and then one of them to a wrong type."""
    chosen = draw(st.lists(st.sampled_from(sorted(spec_fields)), max_size=6, unique=True))
    spec: dict[str, Any] = {"issuerRef": {"name": "ca", "kind": "Issuer"}, "privateKey": CHEAP_KEY}
    for key in chosen:
        spec[key] = draw(spec_fields[key])
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        spec[draw(st.sampled_from(sorted(spec_fields)))] = draw(wrong_type)
    if spec.get("privateKey") is None:
        spec["privateKey"] = CHEAP_KEY  # null would mean the default, a 2048-bit RSA key
    return spec


# What a careful user writes: every value valid on its own (combinations may still clash).
plausible_fields = {
    "commonName": label,
    "dnsNames": st.lists(
        st.builds(".".join, st.lists(label, min_size=1, max_size=3)), min_size=1, max_size=3
    ),
    "ipAddresses": st.lists(st.ip_addresses().map(str), max_size=2),
    "emailAddresses": st.lists(
        st.builds(lambda user, host: f"{user}@{host}.example.test", label, label), max_size=2
    ),
    "uris": st.lists(st.builds(lambda x: f"spiffe://cluster.local/ns/{x}", label), max_size=2),
    "duration": st.builds(lambda h: f"{h}h", st.integers(min_value=1, max_value=100_000)),
    "renewBeforePercentage": st.integers(min_value=1, max_value=99),
    "privateKey": st.fixed_dictionaries(
        {"algorithm": st.sampled_from(["ECDSA", "Ed25519"])},
        optional={
            "encoding": st.sampled_from(["PKCS1", "PKCS8"]),
            "rotationPolicy": st.sampled_from(["Always", "Never"]),
        },
    ),
    "usages": st.lists(st.sampled_from(sorted(KNOWN_USAGES)), max_size=3, unique=True),
    "isCA": st.booleans(),
    "subject": st.fixed_dictionaries(
        {},
        optional={
            "organizations": st.lists(label, max_size=2),
            "countries": st.lists(st.sampled_from(["DE", "US", "FR"]), max_size=2),
            "serialNumber": label,
        },
    ),
    "revisionHistoryLimit": st.integers(min_value=1, max_value=5),
    "encodeUsagesInRequest": st.booleans(),
    "additionalOutputFormats": st.lists(
        st.fixed_dictionaries({"type": st.sampled_from(["DER", "CombinedPEM"])}),
        max_size=2,
        unique_by=lambda f: f["type"],
    ),
    "keystores": st.fixed_dictionaries(
        {},
        optional={
            "pkcs12": st.fixed_dictionaries(
                {"create": st.booleans(), "password": st.text(min_size=1, max_size=12)}
            ),
            "jks": st.fixed_dictionaries(
                {"create": st.booleans(), "password": st.text(min_size=6, max_size=12)}
            ),
        },
    ),
    "secretTemplate": st.fixed_dictionaries(
        {},
        optional={
            "labels": st.dictionaries(label, label, max_size=2),
            "annotations": st.dictionaries(label, st.text(max_size=20), max_size=2),
        },
    ),
}


@st.composite
def plausible_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec a careful user writes: at least one name, every field valid on its own."""
    chosen = draw(st.lists(st.sampled_from(sorted(plausible_fields)), max_size=6, unique=True))
    spec: dict[str, Any] = {
        "issuerRef": {"name": "ca", "kind": "Issuer"},
        "privateKey": CHEAP_KEY,
        "dnsNames": ["plausible.example.test"],
    }
    for key in chosen:
        spec[key] = draw(plausible_fields[key])
    return spec


specs = st.one_of(plausible_specs(), certificate_specs())
