"""trust-manager's target metadata (labels and annotations for the targets) is accepted
and kept on the Bundle; certainly still syncs the bundle, and does not apply it yet."""

from __future__ import annotations

import pytest

from shared.kube.resources import CONFIGMAPS
from tests.integration.trust.certs import ca_pem
from tests.integration.trust.conftest import Trust

pytestmark = pytest.mark.integration


def test_a_bundle_with_target_metadata_is_synced(trust: Trust) -> None:
    metadata = {
        "annotations": {"argocd.argoproj.io/sync-wave": "1"},
        "labels": {"app.kubernetes.io/component": "trust-bundle"},
    }
    selected = trust.namespace(selected=True)
    trust.bundle([{"inLine": ca_pem("a")}], configMap={"key": "ca.pem", "metadata": metadata})
    assert trust.get()["spec"]["target"]["configMap"]["metadata"] == metadata

    assert trust.deliver(action="add").ok

    assert trust.synced()["status"] == "True"
    target = trust.target(CONFIGMAPS, selected)
    assert target is not None
    assert target["data"]["ca.pem"].count("BEGIN CERTIFICATE") == 1
