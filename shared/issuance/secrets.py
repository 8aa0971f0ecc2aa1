"""The Secret a Certificate is stored in: what it should hold, and writing it safely.

A Secret is only ever replaced by a complete, consistent one (key, chain and CA of
one issuance) under a resourceVersion precondition; data keys we do not manage are
kept, so a failure or a concurrent writer can never leave it half-written.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Final

from shared.certificates.secret import build_secret_data, secret_annotations, secret_labels
from shared.certificates.spec import TEMPLATE_KEYS_ANNOTATION as TEMPLATE_KEYS
from shared.certificates.spec import CertificateSpec
from shared.kube.errors import NotFound
from shared.kube.objects import encode_data, meta
from shared.kube.resources import SECRETS
from shared.pki.x509 import load_certificate_chain
from shared.runtime import Context

TLS_TYPE: Final = "kubernetes.io/tls"
# Data keys we write for some spec; stale ones go when the spec stops asking for them.
MANAGED_KEYS: Final = frozenset(
    {
        "tls.crt",
        "tls.key",
        "ca.crt",
        "key.der",
        "tls-combined.pem",
        "keystore.p12",
        "truststore.p12",
        "keystore.jks",
        "truststore.jks",
    }
)

DERIVED_ANNOTATIONS: Final = frozenset(
    {
        "cert-manager.io/certificate-name",
        "cert-manager.io/issuer-name",
        "cert-manager.io/issuer-kind",
        "cert-manager.io/issuer-group",
        "cert-manager.io/common-name",
        "cert-manager.io/alt-names",
        "cert-manager.io/ip-sans",
        "cert-manager.io/uri-sans",
        "cert-manager.io/email-sans",
    }
)

Obj = dict[str, Any]


class KeystorePasswordMissing(Exception):
    """A keystore's password Secret is missing or lacks its key; the message says which."""


def keystore_passwords(ctx: Context, spec: CertificateSpec) -> dict[str, bytes]:
    passwords: dict[str, bytes] = {}
    for kind, store in (("pkcs12", spec.keystores.pkcs12), ("jks", spec.keystores.jks)):
        if store is None or not store.create:
            continue
        if store.password is not None:
            passwords[kind] = store.password.encode()
            continue
        ref = store.password_secret_ref
        if ref is None:
            raise KeystorePasswordMissing(f"keystores.{kind} has no password or passwordSecretRef")
        try:
            secret = ctx.kube.get(SECRETS, spec.namespace, ref.name)
        except NotFound:
            raise KeystorePasswordMissing(
                f'keystores.{kind}.passwordSecretRef: secrets "{ref.name}" not found'
            ) from None
        value = (secret.get("data") or {}).get(ref.key)
        if value is None:
            raise KeystorePasswordMissing(
                f'keystores.{kind}.passwordSecretRef: secret "{ref.name}" has no key {ref.key!r}'
            )
        password = base64.b64decode(value)
        if kind == "pkcs12" and b"\x00" in password:
            # OpenSSL takes the password as a C string: it could write the file but never
            # read it back (the check on every later sync would fail).
            raise KeystorePasswordMissing(
                f'keystores.pkcs12.passwordSecretRef: the password in secret "{ref.name}" key '
                f"{ref.key!r} contains a NUL character, which a PKCS#12 password cannot hold"
            )
        passwords[kind] = password
    return passwords


def desired_secret(
    ctx: Context,
    spec: CertificateSpec,
    *,
    existing: Mapping[str, Any] | None,
    key_pem: bytes,
    chain_pem: bytes,
    ca_pem: bytes | None,
) -> Obj:
    leaf = load_certificate_chain(chain_pem)[0]
    previous = {k: base64.b64decode(v) for k, v in ((existing or {}).get("data") or {}).items()}
    data = build_secret_data(
        spec=spec,
        key_pem=key_pem,
        chain_pem=chain_pem,
        ca_pem=ca_pem,
        keystore_passwords=keystore_passwords(ctx, spec),
        now=ctx.clock.now(),
        previous=previous,  # salted keystores are kept when still right: no rewrite loop
    )
    old = meta(existing or {})
    kept = {k: v for k, v in ((existing or {}).get("data") or {}).items() if k not in MANAGED_KEYS}
    metadata: Obj = {
        "name": spec.secret_name,
        "namespace": spec.namespace,
        **template_metadata(
            spec,
            old_labels=old.get("labels") or {},
            old_annotations=old.get("annotations") or {},
            ours_labels=secret_labels(spec),
            ours_annotations=secret_annotations(spec=spec, leaf=leaf),
        ),
    }
    for field in ("resourceVersion", "uid", "ownerReferences", "finalizers"):
        if field in old:
            metadata[field] = old[field]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": (existing or {}).get("type") or TLS_TYPE,
        "data": {**kept, **encode_data(data)},
    }


def template_metadata(
    spec: CertificateSpec,
    *,
    old_labels: Mapping[str, str],
    old_annotations: Mapping[str, str],
    ours_labels: Mapping[str, str],
    ours_annotations: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """The Secret's labels and annotations: what other actors set, then ours.

    cert-manager owns its template entries through server-side apply, so an entry
    removed from secretTemplate leaves the Secret. We get the same effect by recording
    the template's keys in TEMPLATE_KEYS: a key recorded last time and not in the
    template now is removed; keys anyone else set are kept. cert-manager's own
    annotations are rewritten from the certificate, so a stale one (email-sans after
    the emails went) goes too.
    """
    previous = _recorded_template_keys(old_annotations)
    template = spec.secret_template
    dropped_labels = previous["labels"] - set(template.labels)
    dropped_annotations = previous["annotations"] - set(template.annotations)
    labels = {k: v for k, v in old_labels.items() if k not in dropped_labels}
    annotations = {
        k: v
        for k, v in old_annotations.items()
        if k not in dropped_annotations and k != TEMPLATE_KEYS and not _derived_annotation(k)
    }
    labels.update(ours_labels)
    annotations.update(ours_annotations)
    if template.labels or template.annotations:
        recorded = {"annotations": sorted(template.annotations), "labels": sorted(template.labels)}
        annotations[TEMPLATE_KEYS] = json.dumps(recorded, separators=(",", ":"))
    return {"labels": labels, "annotations": annotations}


def _recorded_template_keys(annotations: Mapping[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"labels": set(), "annotations": set()}
    try:
        recorded = json.loads(annotations.get(TEMPLATE_KEYS) or "{}")
    except ValueError:
        return found  # mangled by someone: forget nothing we cannot name
    if not isinstance(recorded, dict):
        return found
    for kind in found:
        keys = recorded.get(kind)
        if isinstance(keys, list):
            found[kind] = {k for k in keys if isinstance(k, str)}
    return found


def _derived_annotation(key: str) -> bool:
    """cert-manager's annotations computed from the certificate (issuer and names)."""
    return key in DERIVED_ANNOTATIONS or key.startswith("cert-manager.io/subject-")


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    ma, mb = meta(a), meta(b)
    return (
        a.get("data") == b.get("data")
        and (ma.get("labels") or {}) == (mb.get("labels") or {})
        and (ma.get("annotations") or {}) == (mb.get("annotations") or {})
    )


def store(ctx: Context, existing: Mapping[str, Any] | None, desired: Obj) -> Obj:
    """Create, or replace under the existing resourceVersion; no write if nothing changed."""
    if existing is None:
        return ctx.kube.create(SECRETS, desired)
    if same_content(existing, desired):
        return dict(existing)
    return ctx.kube.replace(SECRETS, desired)
