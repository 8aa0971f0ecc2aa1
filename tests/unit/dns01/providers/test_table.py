"""The provider table: every cert-manager key we support, each loaded on first use."""

from __future__ import annotations

import subprocess
import sys

from shared.dns01 import acmedns, clouddns, cloudflare, route53, webhook
from shared.dns01.registry import PROVIDERS, ProviderFactory

# Checked by mypy: each module's from_spec is a ProviderFactory.
FACTORIES: dict[str, ProviderFactory] = {
    "acmeDNS": acmedns.from_spec,
    "cloudDNS": clouddns.from_spec,
    "cloudflare": cloudflare.from_spec,
    "route53": route53.from_spec,
    "webhook": webhook.from_spec,
}


def test_the_table_names_providers_as_cert_manager_spells_them() -> None:
    assert set(PROVIDERS) == {*FACTORIES, "rfc2136"}


def test_importing_the_registry_loads_no_cloud_sdk() -> None:
    probe = (
        "import sys, shared.dns01.registry; "
        "print(sorted(m for m in ('boto3', 'botocore', 'google.cloud.dns') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert loaded == "[]"
