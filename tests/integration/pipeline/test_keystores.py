"""Keystores (PKCS#12, JKS) made with the password from their Secret, or a clear reason why not."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import pkcs12

from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, SECRETS
from shared.pki.keys import load_private_key, public_keys_equal
from tests.conftest import require_binary
from tests.integration.pipeline.conftest import Env, condition, ready

PASSWORD = b"correct horse"
PASSWORD_SECRET = "p12-password"  # a Secret's name


def password_secret(env: Env, name: str = PASSWORD_SECRET) -> None:
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "data": {"pw": base64.b64encode(PASSWORD).decode()},
        }
    )


def keystores(secret: str = PASSWORD_SECRET) -> dict[str, Any]:
    return {
        "pkcs12": {
            "create": True,
            "profile": "Modern2023",
            "passwordSecretRef": {"name": secret, "key": "pw"},
        }
    }


def assert_keystore_opens_with_the_password(env: Env, secret_name: str) -> None:
    data = env.get(SECRETS, secret_name)["data"]
    key, leaf, _ = pkcs12.load_key_and_certificates(
        base64.b64decode(data["keystore.p12"]), PASSWORD
    )
    stored_key = load_private_key(base64.b64decode(data["tls.key"]))
    assert key is not None and leaf is not None
    assert public_keys_equal(key.public_key(), stored_key.public_key())  # type: ignore[arg-type]
    assert public_keys_equal(leaf.public_key(), stored_key.public_key())


def test_keystore_is_encrypted_with_the_password_from_its_secret(env: Env) -> None:
    env.ca_issuer()
    password_secret(env)
    env.issue("jks", issuerRef={"name": "ca", "kind": "Issuer"}, keystores=keystores())
    assert_keystore_opens_with_the_password(env, "jks-tls")
    assert "truststore.p12" in env.get(SECRETS, "jks-tls")["data"]  # the CA is known


def test_missing_password_secret_at_issuance_is_a_condition_then_recovers(env: Env) -> None:
    env.ca_issuer()
    env.certificate("early", issuerRef={"name": "ca", "kind": "Issuer"}, keystores=keystores())
    for _ in range(2):  # a repeated event neither fails nor repeats the Event
        assert env.deliver(CERTIFICATES, "early").ok
    ready_ = condition(env.get(CERTIFICATES, "early"), "Ready")
    assert (ready_["status"], ready_["reason"]) == ("False", "KeystorePasswordMissing")
    assert 'secrets "p12-password" not found' in ready_["message"]
    warnings = [e["reason"] for e in env.events("early") if e["type"] == "Warning"]
    assert warnings == ["KeystorePasswordMissing"]
    assert env.find(SECRETS, "early-tls") is None
    # the password arrives: the signed request is used, nothing is signed twice
    password_secret(env)
    assert env.deliver(CERTIFICATES, "early").ok
    cert = env.get(CERTIFICATES, "early")
    assert ready(cert) and cert["status"]["revision"] == 1
    assert env.request_names("early") == ["early-1"]
    assert env.get(CERTIFICATE_REQUESTS, "early-1")["status"]["certificate"]
    assert_keystore_opens_with_the_password(env, "early-tls")


def test_keystore_added_without_its_password_keeps_the_old_secret(env: Env) -> None:
    env.ca_issuer()
    cert = env.issue("later", issuerRef={"name": "ca", "kind": "Issuer"})
    before = env.get(SECRETS, "later-tls")
    cert["spec"]["keystores"] = keystores()
    env.kube.replace(CERTIFICATES, cert)
    for _ in range(2):
        assert env.deliver(CERTIFICATES, "later").ok
    ready_ = condition(env.get(CERTIFICATES, "later"), "Ready")
    assert (ready_["status"], ready_["reason"]) == ("False", "KeystorePasswordMissing")
    assert 'secrets "p12-password" not found' in ready_["message"]
    warnings = [e["reason"] for e in env.events("later") if e["type"] == "Warning"]
    assert warnings == ["KeystorePasswordMissing"]
    after = env.get(SECRETS, "later-tls")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    # with the password the keystore is added to the same certificate, not re-issued
    password_secret(env)
    assert env.deliver(CERTIFICATES, "later").ok
    cert = env.get(CERTIFICATES, "later")
    assert ready(cert) and cert["status"]["revision"] == 1
    assert env.get(SECRETS, "later-tls")["data"]["tls.crt"] == before["data"]["tls.crt"]
    assert_keystore_opens_with_the_password(env, "later-tls")


def test_password_secret_without_the_key_is_named(env: Env) -> None:
    env.ca_issuer()
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "p12-password"},
            "data": {"other": "eA=="},
        }
    )
    env.certificate("nokey", issuerRef={"name": "ca", "kind": "Issuer"}, keystores=keystores())
    assert env.deliver(CERTIFICATES, "nokey").ok
    ready_ = condition(env.get(CERTIFICATES, "nokey"), "Ready")
    assert ready_["reason"] == "KeystorePasswordMissing"
    assert "has no key 'pw'" in ready_["message"]
    assert PASSWORD.decode() not in ready_["message"]


def test_jks_keystore_opens_in_keytool_with_the_password_from_its_secret(
    env: Env, tmp_path: Path
) -> None:
    keytool = require_binary("keytool")  # a failure in CI, as every real tool
    env.ca_issuer()
    password_secret(env)
    env.issue(
        "java",
        issuerRef={"name": "ca", "kind": "Issuer"},
        keystores={
            "jks": {"create": True, "passwordSecretRef": {"name": PASSWORD_SECRET, "key": "pw"}}
        },
    )
    store = tmp_path / "keystore.jks"
    store.write_bytes(base64.b64decode(env.get(SECRETS, "java-tls")["data"]["keystore.jks"]))

    def listing(password: bytes) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                keytool,
                "-list",
                "-storetype",
                "JKS",
                "-keystore",
                str(store),
                "-storepass:env",
                "PW",
            ],
            env={**os.environ, "PW": password.decode()},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    opened = listing(PASSWORD)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert "certificate, " in opened.stdout and "PrivateKeyEntry" in opened.stdout
    assert listing(b"wrong password").returncode != 0
