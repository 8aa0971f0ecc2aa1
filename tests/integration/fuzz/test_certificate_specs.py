"""Fuzzed Certificate specs through on-certificate-created: every case ends issued,
refused by the API (4xx) or Ready=False with a reason at its generation; never a 5xx,
never an InternalError (an exception validation did not foresee), and a redelivery or a
tick afterwards writes nothing (no crash loop)."""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from typing import Any

import pytest
from hypothesis import given

from shared import runtime
from shared.kube.errors import ApiError
from shared.kube.resources import CERTIFICATES
from shared.sweep import sweep
from tests.integration.fuzz.budget import fuzz_settings, summary
from tests.integration.fuzz.strategies import specs
from tests.integration.pipeline.conftest import Env, condition

pytestmark = pytest.mark.integration

CASES = 700


def test_fuzzed_certificate_specs_end_issued_refused_or_not_ready_never_5xx_or_looping(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.ca_issuer()
    tally: Counter[str] = Counter()
    names = itertools.count()

    @fuzz_settings(CASES)
    @given(spec=specs)
    def case(spec: dict[str, Any]) -> None:
        name = f"fuzz-{next(names)}"
        spec.setdefault("secretName", f"{name}-tls")
        tally["cases"] += 1
        body = {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": name, "namespace": env.namespace},
            "spec": spec,
        }
        try:
            env.kube.create(CERTIFICATES, body)
        except ApiError as error:
            tally["5xx" if error.status >= 500 else "refused by the API (4xx)"] += 1
            assert error.status < 500, error
            return
        delivery = env.deliver(CERTIFICATES, name)
        if delivery.status >= 500:
            tally["5xx"] += 1
        assert delivery.status < 500, (delivery, spec)
        if not delivery.ok:
            tally[f"answered {delivery.status}"] += 1
            return
        cert = env.get(CERTIFICATES, name)
        ready = condition(cert, "Ready")
        assert ready.get("status") in ("True", "False"), (cert.get("status"), spec)
        assert ready.get("reason"), ready
        assert ready.get("observedGeneration") == cert["metadata"]["generation"], ready
        assert ready["reason"] != "InternalError", (ready["message"], spec)
        tally["issued" if ready["status"] == "True" else f"Ready=False {ready['reason']}"] += 1
        writes = env.writes()
        again = env.deliver(CERTIFICATES, name)
        assert again.ok, (again, spec, cert.get("status"))
        assert env.writes() == writes, ("a redelivery wrote", spec)

    case()
    writes = env.writes()
    report = sweep(runtime.current())  # what a tick runs; its report, unabridged
    assert report.failed == []
    assert env.writes() == writes
    with capsys.disabled():
        sys.stdout.write(f"\n{summary('certificate spec fuzz', tally)}\n")
    assert tally["cases"] >= CASES
    assert tally["5xx"] == 0
