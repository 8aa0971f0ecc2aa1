"""`certainly local up` and `certainly run` take the local ACME solver flags."""

from __future__ import annotations

import pytest

from events.cli import build_parser, run_options


@pytest.mark.parametrize("command", [["run"], ["local", "up"]])
def test_solver_flags_reach_the_run_options(command: list[str]) -> None:
    args = build_parser().parse_args(
        [
            *command,
            "--http01-solver-address",
            "127.0.0.1:5002",
            "--dns01-recursive-nameservers",
            "127.0.0.1:5353, 10.0.0.2:53",
        ]
    )
    options = run_options(args, None)
    assert options.http01_solver_address == "127.0.0.1:5002"
    assert options.dns01_recursive_nameservers == ("127.0.0.1:5353", "10.0.0.2:53")


def test_without_flags_http01_uses_solver_pods() -> None:
    options = run_options(build_parser().parse_args(["run"]), None)
    assert options.http01_solver_address is None
    assert options.dns01_recursive_nameservers == ()
