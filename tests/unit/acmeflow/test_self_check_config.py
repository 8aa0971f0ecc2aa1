"""cert-manager's --dns01-recursive-nameservers-only, as an environment variable (off by default)."""

from __future__ import annotations

import pytest

from shared.config import DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, Config


def test_recursive_only_is_off_unless_the_environment_says_true(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, raising=False)
    assert Config.from_environment().dns01_recursive_nameservers_only is False
    monkeypatch.setenv(DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, "true")
    assert Config.from_environment().dns01_recursive_nameservers_only is True
    monkeypatch.setenv(DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, "false")
    assert Config.from_environment().dns01_recursive_nameservers_only is False
