"""/metrics: apiserver_request_total counts every request, beyond what the log keeps."""

from __future__ import annotations

from events.localapi.requestlog import RequestLog, RequestRecord


def record(verb: str, resource: str, code: int, subresource: str = "") -> RequestRecord:
    return RequestRecord(
        verb=verb,
        group="cert-manager.io",
        version="v1",
        resource=resource,
        subresource=subresource,
        namespace="default",
        name="web",
        code=code,
        user_agent="test",
    )


def test_totals_count_by_verb_resource_and_code_past_the_log_capacity() -> None:
    log = RequestLog(capacity=2)
    for _ in range(3):
        log.append(record("update", "certificates", 200, "status"))
    log.append(record("get", "certificates", 404))
    assert len(log.snapshot()) == 2
    lines = log.exposition().splitlines()
    assert lines[:2] == [
        "# HELP apiserver_request_total Counter of apiserver requests broken out for each "
        "verb, group, version, resource, subresource and HTTP response code.",
        "# TYPE apiserver_request_total counter",
    ]
    assert (
        'apiserver_request_total{code="200",group="cert-manager.io",resource="certificates",'
        'subresource="status",verb="UPDATE",version="v1"} 3'
    ) in lines
    assert (
        'apiserver_request_total{code="404",group="cert-manager.io",resource="certificates",'
        'subresource="",verb="GET",version="v1"} 1'
    ) in lines
