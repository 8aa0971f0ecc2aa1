"""The example manifests from cert-manager's documentation, and what a cluster says to each.

tests/fixtures/docs-manifests holds them unchanged; examples that a real cluster with
cert-manager's CRDs rejects too (docs placeholders, elided required fields) have their
exact errors pinned in EXPECTED.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DOCS_DIR = Path(__file__).resolve().parent / "fixtures" / "docs-manifests"

# A line holding only "..." is the docs' way of eliding the rest of a stanza.
ELISION = re.compile(r"^\s*\.\.\.\s*$", re.MULTILINE)
# Issuer and ClusterIssuer carry an x-kubernetes-validations rule (on spec.venafi): after a
# Required, NotSupported, TooLong, TooMany or TypeInvalid error kube-apiserver skips such
# rules and says so.
RULES_SKIPPED = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object "
    "was invalid; correct the existing errors to complete validation"
)
ELIDED_ACME = [
    "spec.acme.privateKeySecretRef: Required value",
    "spec.acme.server: Required value",
    RULES_SKIPPED,
]


def placeholder(field: str, text: str) -> str:
    return f'{field}: Invalid value: "{text}": {field} in body must be of type byte: "{text}"'


VAULT_CA_PLACEHOLDER = placeholder("spec.vault.caBundle", "<base64 encoded caBundle PEM file>")

# Errors a real cluster with cert-manager's CRDs reports too, beyond "..." elisions.
EXPECTED: dict[tuple[str, int], list[str]] = {
    # The "reuse an account" example sets no ACME server.
    ("configuration-acme.yaml", 2): ["spec.acme.server: Required value", RULES_SKIPPED],
    # The preferredChain example shows no account key Secret.
    ("configuration-acme.yaml", 3): [
        "spec.acme.privateKeySecretRef: Required value",
        RULES_SKIPPED,
    ],
    # Private ACME server: placeholder caBundle, then "..." elides the account key.
    ("configuration-acme.yaml", 8): [
        "spec.acme.privateKeySecretRef: Required value",
        placeholder("spec.acme.caBundle", "<base64 encoded CA Bundle in PEM format>"),
        RULES_SKIPPED,
    ],
    # The Gateway API example shows only the solver.
    ("configuration-acme-http01.yaml", 3): ELIDED_ACME,
    # The Certificate shown to explain the HTTPRoute has no secretName.
    ("configuration-acme-http01.yaml", 4): ["spec.secretName: Required value"],
    ("configuration-vault.yaml", 1): [VAULT_CA_PLACEHOLDER],
    ("configuration-vault.yaml", 2): [VAULT_CA_PLACEHOLDER],
    ("configuration-vault.yaml", 4): [VAULT_CA_PLACEHOLDER],
    ("configuration-vault.yaml", 5): [VAULT_CA_PLACEHOLDER],
}

# Pre-v1 examples still on the docs site; cert-manager v1 does not serve them either.
NOT_SERVED = {("configuration-acme-dns01-acme-dns.yaml", 0)}


@dataclass(frozen=True)
class DocsExample:
    file: str
    index: int
    raw: str
    manifest: dict[str, Any]

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.index)

    @property
    def expected_errors(self) -> list[str]:
        """What kube-apiserver with cert-manager's CRDs says; [] when it accepts it."""
        elided = ELISION.search(self.raw) is not None
        fallback = ELIDED_ACME if elided and "acme:" in self.raw else []
        return sorted(EXPECTED.get(self.key, fallback))

    def __str__(self) -> str:
        name = self.manifest.get("metadata", {}).get("name", "")
        return f"{self.file}#{self.index}-{self.manifest['kind']}-{name}"


def docs_examples() -> Iterator[DocsExample]:
    for path in sorted(DOCS_DIR.glob("*.yaml")):
        text = path.read_text()
        raws = re.split(r"^---$", text, flags=re.MULTILINE)
        manifests = list(yaml.safe_load_all(ELISION.sub("", text)))
        assert len(raws) == len(manifests), path.name
        for index, (raw, manifest) in enumerate(zip(raws, manifests, strict=True)):
            yield DocsExample(path.name, index, raw, manifest)
