"""What one sweep did, and the guard that keeps one bad object from stopping it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared import logs

log = logging.getLogger(__name__)


@dataclass
class Report:
    certificates: int = 0
    reconciled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    issuers_checked: int = 0
    ingresses: list[str] = field(default_factory=list)  # out of step, shim run
    requests_signed: list[str] = field(default_factory=list)  # standalone requests

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificates": self.certificates,
            "reconciled": self.reconciled,
            "failed": self.failed,
            "issuersChecked": self.issuers_checked,
            "ingressesReconciled": self.ingresses,
            "requestsSigned": self.requests_signed,
        }


def guarded(report: Report, ref: str, call: Callable[[], object]) -> bool:
    """Run one object's reconcile with its log lines stamped with it; False if it failed."""
    with logs.bound(obj=ref):
        try:
            call()
        except Exception:  # one bad object must not stop the sweep of the others
            log.exception("sweep could not reconcile %s", ref)
            report.failed.append(ref)
            return False
    return True
