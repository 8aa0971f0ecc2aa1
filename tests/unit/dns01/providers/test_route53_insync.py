"""route53 waits for a change to reach INSYNC, polling with a deadline, never longer."""

from __future__ import annotations

from typing import Any

import pytest

from shared.dns01.errors import DNSUpdateError
from shared.dns01.route53 import Route53Provider


class Changes:
    """Stands in for a Route53 client's GetChange: PENDING for `pending` polls."""

    def __init__(self, pending: int) -> None:
        self.pending = pending
        self.polls = 0

    def get_change(self, *, Id: str) -> dict[str, Any]:
        self.polls += 1
        status = "PENDING" if self.polls <= self.pending else "INSYNC"
        return {"ChangeInfo": {"Id": Id, "Status": status}}


def test_a_change_already_insync_needs_no_poll() -> None:
    changes, sleeps = Changes(pending=0), list[float]()
    provider = Route53Provider(sleep=sleeps.append)
    provider.wait_insync(changes, {"Id": "/change/C1", "Status": "INSYNC"}, what="adding")
    assert (changes.polls, sleeps) == (0, [])


def test_a_pending_change_is_polled_until_insync() -> None:
    changes, sleeps = Changes(pending=2), list[float]()
    provider = Route53Provider(sleep=sleeps.append, poll_interval=0.5)
    provider.wait_insync(changes, {"Id": "/change/C1", "Status": "PENDING"}, what="adding")
    assert (changes.polls, sleeps) == (3, [0.5, 0.5, 0.5])


def test_a_change_that_never_syncs_fails_at_the_deadline() -> None:
    changes = Changes(pending=10**6)
    provider = Route53Provider(sleep=lambda seconds: None, insync_timeout=0.0)
    with pytest.raises(DNSUpdateError, match="change /change/C1 not INSYNC"):
        provider.wait_insync(changes, {"Id": "/change/C1", "Status": "PENDING"}, what="adding")
