"""on-expiry-tick: the scheduled sweep (renewals, backoffs, stragglers) and metrics.

Accepts a PingSource CloudEvent (binary or structured) or a plain POST from a cron
connector (OpenFaaS posts a bare body with X-Connector headers); answers with the
sweep report as JSON. GET /metrics answers a Prometheus scrape with cert-manager's
Certificate metrics, computed from a fresh LIST (unless CERTAINLY_METRICS=false).
"""

from __future__ import annotations

import json

import flask
import functions_framework

from shared import runtime
from shared.metrics import METRICS_PATH, scrape
from shared.ticks import TickRejected, handle_tick


@functions_framework.http
def on_expiry_tick(request: flask.Request) -> flask.Response:
    if request.method == "GET" and request.path == METRICS_PATH:
        answer = scrape(runtime.current(), accept=request.headers.get("Accept"))
        return flask.Response(answer.body, status=answer.status, content_type=answer.content_type)
    try:
        report = handle_tick(
            method=request.method, headers=dict(request.headers), body=request.get_data()
        )
    except TickRejected as error:
        return flask.Response(
            json.dumps({"error": str(error)}), status=error.status, mimetype="application/json"
        )
    return flask.Response(json.dumps(report), status=200, mimetype="application/json")
