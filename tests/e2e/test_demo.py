"""`make demo` passes: the internal-CA recipe and the Pebble Ingress recipe, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, require_binary

pytestmark = pytest.mark.e2e


def test_demo_issues_every_certificate_and_verifies_every_chain(tmp_path: Path) -> None:
    require_binary("pebble")
    require_binary("kubectl")
    result = subprocess.run(
        [sys.executable, "-m", "events.demo", "--kubeconfig", str(tmp_path / "kubeconfig")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert out.count(" OK") >= 4  # openssl verify of each internal-CA chain
    assert "issued by CN=Pebble Intermediate" in out
    assert "certainly local up stopped" in out
