"""A record of every request the local API served, for tests that count API writes."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Final

WRITE_VERBS: Final = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True, slots=True)  # slots: a third of the memory
class RequestRecord:
    verb: str  # Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection
    group: str  # "" for the core group
    version: str
    resource: str  # plural, e.g. "secrets", "certificates"
    subresource: str  # "" or "status"
    namespace: str  # "" for cluster-scoped
    name: str  # "" for collections; the URL path for non-resource requests (discovery)
    code: int  # HTTP status code
    user_agent: str


class RequestLog:
    """Append-only (bounded) log; appended from the server's loop thread, read from any.

    deque.append and list(deque) are atomic under the GIL, so readers in test
    threads need no lock.
    """

    # The newest requests only: enough for a test or a burst's write count, and the
    # memory stays flat however long the API serves (the totals count everything).
    def __init__(self, *, capacity: int = 50_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=capacity)
        # Every request ever served, by kube-apiserver's apiserver_request_total labels;
        # unlike the records, never trimmed.
        self.totals: Counter[tuple[str, str, str, str, str, str]] = Counter()

    def append(self, record: RequestRecord) -> None:
        self._records.append(record)
        self.totals[
            (
                record.verb.upper(),
                record.group,
                record.version,
                record.resource,
                record.subresource,
                str(record.code),
            )
        ] += 1

    def exposition(self) -> str:
        """apiserver_request_total in Prometheus text format, as kube-apiserver's /metrics."""
        lines = [
            "# HELP apiserver_request_total Counter of apiserver requests broken out for each "
            "verb, group, version, resource, subresource and HTTP response code.",
            "# TYPE apiserver_request_total counter",
        ]
        for (verb, group, version, resource, sub, code), count in sorted(self.totals.items()):
            lines.append(
                f'apiserver_request_total{{code="{code}",group="{group}",resource="{resource}",'
                f'subresource="{sub}",verb="{verb}",version="{version}"}} {count}'
            )
        return "\n".join(lines) + "\n"

    def snapshot(self) -> list[RequestRecord]:
        return list(self._records)

    def clear(self) -> None:
        self._records.clear()

    def writes(self) -> list[RequestRecord]:
        """Successful mutating requests: what 'fewer API writes' is measured in."""
        return [r for r in self.snapshot() if r.verb in WRITE_VERBS and 200 <= r.code < 300]


# The lead's code imports default_crd_dir alongside RequestLog; it lives in crds.
from events.localapi.crds import default_crd_dir  # noqa: E402

__all__ = ["WRITE_VERBS", "RequestLog", "RequestRecord", "default_crd_dir"]
