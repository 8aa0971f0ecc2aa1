"""Prometheus metrics with cert-manager's names, computed from Certificate status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.kube.objects import get_condition, name_of, namespace_of, parse_time

_HELP = {
    "certmanager_certificate_expiration_timestamp_seconds": (
        "The date after which the certificate expires. Expressed as a Unix Epoch Time."
    ),
    "certmanager_certificate_renewal_timestamp_seconds": (
        "The number of seconds before expiration time the certificate should renew."
    ),
    "certmanager_certificate_ready_status": "The ready status of the certificate.",
}


def _labels(values: Mapping[str, str]) -> str:
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in values.items()
    )
    return "{" + body + "}"


def certificate_metrics(certificates: Iterable[Mapping[str, Any]], *, now: datetime) -> str:
    del now  # the values are absolute timestamps
    lines: dict[str, list[str]] = {name: [] for name in _HELP}
    for cert in certificates:
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        base = {
            "name": name_of(cert),
            "namespace": namespace_of(cert),
            "issuer_name": str(ref.get("name") or ""),
            "issuer_kind": str(ref.get("kind") or "Issuer"),
            "issuer_group": str(ref.get("group") or "cert-manager.io"),
        }
        status = cert.get("status") or {}
        for metric, field in (
            ("certmanager_certificate_expiration_timestamp_seconds", "notAfter"),
            ("certmanager_certificate_renewal_timestamp_seconds", "renewalTime"),
        ):
            moment = parse_time(status.get(field))
            if moment is not None:
                lines[metric].append(f"{metric}{_labels(base)} {int(moment.timestamp())}")
        ready = (get_condition(status, "Ready") or {}).get("status", "Unknown")
        for value in ("True", "False", "Unknown"):
            metric = "certmanager_certificate_ready_status"
            labelled = _labels({**base, "condition": value})
            lines[metric].append(f"{metric}{labelled} {1 if ready == value else 0}")
    out: list[str] = []
    for metric, samples in lines.items():
        out += [f"# HELP {metric} {_HELP[metric]}", f"# TYPE {metric} gauge", *samples]
    return "\n".join(out) + "\n"
