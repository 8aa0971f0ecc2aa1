"""A presented DNS-01 Challenge that is deleted (its Certificate went) withdraws its TXT record
before it disappears: the finalizer leaves no orphaned record behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared.dns01 import resolver
from shared.dns01.base import challenge_record_name
from shared.faults import CRASH_ENV, CRASH_EXIT_CODE
from shared.kube.resources import CHALLENGES, CLUSTER_ISSUERS
from tests.conftest import REPO
from tests.e2e.acme_pipeline import pump
from tests.e2e.acme_pipeline.conftest import Pipeline, rfc2136_solver
from tests.e2e.flows import unique_name

pytestmark = pytest.mark.e2e


def test_deleting_a_presented_challenge_removes_its_txt_record_first(pipeline: Pipeline) -> None:
    issuer = pipeline.cluster_issuer("fin", solvers=[rfc2136_solver(pipeline)])["metadata"]["name"]
    kube, bind9 = pipeline.kube, pipeline.bind9
    pump.install(
        kube,
        resource_namespace=pipeline.resource_namespace,
        solver_address="",
        nameservers=bind9.address,
    )
    pump.deliver_all(kube, CLUSTER_ISSUERS, None)
    domain = unique_name("fin")
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "fin"},
            "spec": {
                "secretName": "fin-tls",
                "dnsNames": [domain],
                "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
            },
        }
    )
    # Killed right after presenting: the TXT record is in the zone, the Challenge pending.
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.e2e.acme_pipeline.pump",
            str(pipeline.cluster.kubeconfig),
            pipeline.namespace,
            pipeline.resource_namespace,
            "",
            "fin",
            bind9.address,
        ],
        env={**os.environ, CRASH_ENV: "challenge-presented"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == CRASH_EXIT_CODE, process.stderr[-2000:]
    (challenge,) = pipeline.items(CHALLENGES)
    servers = resolver.parse_nameservers(bind9.nameservers)
    record = challenge_record_name(domain)
    assert resolver.txt_values(record, nameservers=servers) == {challenge["spec"]["key"]}

    kube.delete(CHALLENGES, pipeline.namespace, challenge["metadata"]["name"])
    assert pipeline.items(CHALLENGES), "held by the finalizer until withdrawn"
    pump.deliver_all(kube, CHALLENGES, pipeline.namespace)
    assert resolver.txt_values(record, nameservers=servers) == set()
    assert pipeline.items(CHALLENGES) == []
