"""Prometheus metrics with cert-manager's names, computed from Certificate status.

Stateless: every scrape LISTs the Certificates and derives each sample from the
listed status alone, so any process (a function replica woken by the scrape, either
`certainly run` replica) gives the same answer and nothing is kept between scrapes.
Names, labels and values follow cert-manager's controller (pkg/metrics): a time not
yet in status is exported as 0, and the issuer labels carry `spec.issuerRef` as
written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from shared.clock import Clock
from shared.kube.errors import ApiError
from shared.kube.objects import get_condition, name_of, namespace_of, parse_time
from shared.kube.resources import CERTIFICATES
from shared.runtime import Context

log = logging.getLogger(__name__)

METRICS_PATH: Final = "/metrics"

EXPIRATION: Final = "certmanager_certificate_expiration_timestamp_seconds"
RENEWAL: Final = "certmanager_certificate_renewal_timestamp_seconds"
READY: Final = "certmanager_certificate_ready_status"
CLOCK: Final = "certmanager_clock_time_seconds_gauge"

_CERTIFICATE_LABELS: Final = ("name", "namespace", "issuer_name", "issuer_kind", "issuer_group")
_READY_LABELS: Final = (
    "name",
    "namespace",
    "condition",
    "issuer_name",
    "issuer_kind",
    "issuer_group",
)
_CONDITION_STATUSES: Final = ("True", "False", "Unknown")


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            EXPIRATION,
            "The date after which the certificate expires. Expressed as a Unix Epoch Time.",
            labels=_CERTIFICATE_LABELS,
        ),
        GaugeMetricFamily(
            RENEWAL,
            "The number of seconds before expiration time the certificate should renew.",
            labels=_CERTIFICATE_LABELS,
        ),
        GaugeMetricFamily(READY, "The ready status of the certificate.", labels=_READY_LABELS),
    )


def _clock_family(now: datetime) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        CLOCK,
        "The clock time given in seconds (from 1970/01/01 UTC).",
        value=float(int(now.timestamp())),
    )


def _timestamp(value: Any) -> float:
    """Unix seconds of an RFC 3339 status time; 0 when absent or unreadable (as cert-manager)."""
    try:
        moment = parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return 0.0
    return float(int(moment.timestamp())) if moment is not None else 0.0


def certificate_families(certificates: Iterable[Mapping[str, Any]]) -> list[Metric]:
    """The three per-Certificate gauges, a pure function of the listed objects."""
    expiration, renewal, ready = _families()
    for cert in certificates:
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        issuer = [
            str(ref.get("name") or ""),
            str(ref.get("kind") or ""),
            str(ref.get("group") or ""),
        ]
        who = [name_of(cert), namespace_of(cert)]
        status = cert.get("status") or {}
        expiration.add_metric([*who, *issuer], _timestamp(status.get("notAfter")))
        renewal.add_metric([*who, *issuer], _timestamp(status.get("renewalTime")))
        current = (get_condition(status, "Ready") or {}).get("status") or "Unknown"
        for condition in _CONDITION_STATUSES:
            ready.add_metric([*who, condition, *issuer], 1.0 if current == condition else 0.0)
    return [expiration, renewal, ready]


class CertificateCollector:
    """A prometheus_client collector that LISTs Certificates on every collect()."""

    def __init__(
        self,
        list_certificates: Callable[[], Iterable[Mapping[str, Any]]] | None,
        *,
        clock: Clock,
    ) -> None:
        # None: export only the clock (a standby replica: the leader exports the rest)
        self._list = list_certificates
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        certificates = self._list() if self._list is not None else None
        yield _clock_family(self._clock.now())
        if certificates is not None:
            yield from certificate_families(certificates)


def collector_for(ctx: Context, *, include_certificates: bool = True) -> CertificateCollector:
    def list_certificates() -> list[dict[str, Any]]:
        return ctx.kube.list(CERTIFICATES)[0]

    listing = list_certificates if include_certificates else None
    return CertificateCollector(listing, clock=ctx.clock)


@dataclass(frozen=True)
class Scrape:
    """An HTTP answer to GET /metrics."""

    status: int
    body: bytes
    content_type: str


def scrape(ctx: Context, *, accept: str | None = None, include_certificates: bool = True) -> Scrape:
    """Answer a scrape: the exposition in the format `accept` asks for (text or OpenMetrics).

    404 when metrics are off (CERTAINLY_METRICS=false); 503 when the API cannot be
    listed, so Prometheus records a failed scrape rather than series that vanished.
    """
    if not ctx.config.metrics:
        return Scrape(404, b"metrics are disabled (CERTAINLY_METRICS=false)\n", "text/plain")
    encode, content_type = choose_encoder(accept or "")
    try:
        body = encode(collector_for(ctx, include_certificates=include_certificates))
    except ApiError as error:
        log.warning("metrics scrape could not list Certificates: %s", error)
        return Scrape(503, f"cannot list Certificates: {error.reason}\n".encode(), "text/plain")
    return Scrape(200, body, content_type)


def certificate_metrics(certificates: Iterable[Mapping[str, Any]], *, now: datetime) -> str:
    """The text exposition for these Certificates at `now`, without an API (tests, dumps)."""
    listed = list(certificates)
    collector = CertificateCollector(lambda: listed, clock=_Fixed(now))
    return generate_latest(collector).decode()


@dataclass(frozen=True)
class _Fixed:
    moment: datetime

    def now(self) -> datetime:
        return self.moment
