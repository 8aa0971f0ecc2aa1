"""on-expiry-tick: the scheduled sweep (renewals, backoffs, stragglers) and metrics.

Accepts a PingSource CloudEvent (binary or structured) or a plain POST from a cron
connector (OpenFaaS posts a bare body with X-Connector headers); answers with the
sweep report as JSON.
"""

from __future__ import annotations

import json

import flask
import functions_framework

from shared.ticks import TickRejected, handle_tick


@functions_framework.http
def on_expiry_tick(request: flask.Request) -> flask.Response:
    try:
        report = handle_tick(
            method=request.method, headers=dict(request.headers), body=request.get_data()
        )
    except TickRejected as error:
        return flask.Response(
            json.dumps({"error": str(error)}), status=error.status, mimetype="application/json"
        )
    return flask.Response(json.dumps(report), status=200, mimetype="application/json")
