"""The `certainly` CLI's environment settings: defaults for its flags, checked at start."""

from __future__ import annotations

import logging

import pytest

from events.cli import TICK_INTERVAL_ENV, build_parser, interval, main, run_options
from events.runner import Runner
from shared.config import DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, METRICS_ENV, Config
from shared.logs import LOG_LEVEL_ENV, level_from
from tests.conftest import Cluster

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("text", "seconds"), [("1m", 60.0), ("1m30s", 90.0), ("500ms", 0.5), ("45", 45.0)]
)
def test_a_tick_interval_is_a_go_duration_or_bare_seconds(text: str, seconds: float) -> None:
    assert interval(text) == seconds


@pytest.mark.parametrize("text", ["soon", "0s", "-1m", "", "nan", "inf"])
def test_a_tick_interval_that_is_not_a_positive_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        interval(text)


def test_the_tick_interval_defaults_to_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TICK_INTERVAL_ENV, raising=False)
    assert build_parser().parse_args(["run"]).tick_interval == 60.0


def test_the_environment_sets_the_tick_interval_and_the_flag_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TICK_INTERVAL_ENV, "5m")
    assert build_parser().parse_args(["run"]).tick_interval == 300.0
    assert build_parser().parse_args(["local", "up"]).tick_interval == 300.0
    assert build_parser().parse_args(["run", "--tick-interval", "10s"]).tick_interval == 10.0


@pytest.mark.parametrize(
    ("text", "enabled"), [("", True), ("true", True), ("ON", True), ("0", False), ("no", False)]
)
def test_metrics_are_on_unless_switched_off(
    monkeypatch: pytest.MonkeyPatch, text: str, enabled: bool
) -> None:
    monkeypatch.setenv(METRICS_ENV, text)
    assert Config.from_environment().metrics is enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [(METRICS_ENV, "maybe"), (LOG_LEVEL_ENV, "LOUD"), (TICK_INTERVAL_ENV, "soon")],
)
def test_an_unreadable_setting_stops_the_command_at_start_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--kubeconfig", "/nonexistent/kubeconfig"])
    assert stopped.value.code == 2
    assert name in capsys.readouterr().err


def test_the_log_level_comes_from_the_environment_and_the_flag_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(LOG_LEVEL_ENV, raising=False)
    assert level_from(None) == logging.INFO
    monkeypatch.setenv(LOG_LEVEL_ENV, "debug")
    assert level_from(None) == logging.DEBUG
    assert level_from("WARNING") == logging.WARNING


@pytest.mark.parametrize(
    ("environment", "argv", "only"),
    [
        (None, [], False),  # cert-manager's default: each authoritative nameserver too
        (None, ["--dns01-recursive-nameservers-only"], True),
        ("true", [], True),
    ],
)
def test_recursive_nameservers_only_comes_from_the_flag_else_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    cluster: Cluster,
    environment: str | None,
    argv: list[str],
    only: bool,
) -> None:
    if environment is None:
        monkeypatch.delenv(DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, raising=False)
    else:
        monkeypatch.setenv(DNS01_RECURSIVE_NAMESERVERS_ONLY_ENV, environment)
    args = build_parser().parse_args(["run", *argv])
    runner = Runner(run_options(args, cluster.kubeconfig))
    try:
        assert runner.context.config.dns01_recursive_nameservers_only is only
    finally:
        runner.close()
