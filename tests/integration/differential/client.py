"""Raw HTTP to a Kubernetes API from a kubeconfig, and answers reduced to what must match.

The differential tests send the same requests to the embedded API and to the rig's real
kube-apiserver and compare what comes back: the status code, a Status's reason, details and
causes, and the shape of an object or list (which keys are there), not messages or
generated values (uids, timestamps, resourceVersions).
"""

from __future__ import annotations

import base64
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def session_from_kubeconfig(path: Path) -> tuple[str, requests.Session]:
    """(server URL, a session authenticated as the kubeconfig's current user)."""
    config = yaml.safe_load(path.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c for c in config["clusters"] if c["name"] == context["context"]["cluster"])
    user = next(u for u in config["users"] if u["name"] == context["context"]["user"])["user"]
    folder = Path(tempfile.mkdtemp(prefix="differential-"))
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override the cluster's CA
    ca = folder / "ca.crt"
    ca.write_bytes(base64.b64decode(cluster["cluster"]["certificate-authority-data"]))
    session.verify = str(ca)
    if "token" in user:
        session.headers["Authorization"] = f"Bearer {user['token']}"
    else:
        cert, key = folder / "client.crt", folder / "client.key"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        key.chmod(0o600)
        session.cert = (str(cert), str(key))
    session.headers["User-Agent"] = "certainly/differential"
    return cluster["cluster"]["server"], session


@dataclass
class Answer:
    code: int
    body: Any
    content_type: str

    @property
    def status(self) -> dict[str, Any]:
        return (
            self.body if isinstance(self.body, dict) and self.body.get("kind") == "Status" else {}
        )


@dataclass
class Api:
    """One API server, spoken to in raw HTTP."""

    name: str
    server: str
    session: requests.Session
    log: list[tuple[str, str, Answer]] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = JSON,
        accept: str = JSON,
        params: dict[str, str] | None = None,
    ) -> Answer:
        data = None
        if body is not None:
            data = body if isinstance(body, bytes | str) else json.dumps(body)
        response = self.session.request(
            method,
            self.server + path,
            data=data,
            params=params,
            headers={"Content-Type": content_type, "Accept": accept},
            timeout=30,
        )
        kind = response.headers.get("Content-Type", "")
        parsed: Any
        try:
            parsed = response.json() if kind.startswith(JSON) else response.content
        except ValueError:
            parsed = response.content
        answer = Answer(code=response.status_code, body=parsed, content_type=kind.split(";")[0])
        self.log.append((method, path, answer))
        return answer


def shape(answer: Answer) -> dict[str, Any]:
    """What must be the same from both servers for one answer."""
    out: dict[str, Any] = {"code": answer.code}
    body = answer.body
    if not isinstance(body, dict):
        out["content_type"] = answer.content_type
        return out
    out["kind"] = body.get("kind")
    if body.get("kind") == "Status":
        details = body.get("details") or {}
        out["reason"] = body.get("reason", "")
        out["status"] = body.get("status")
        out["details"] = {k: details[k] for k in ("name", "group", "kind") if k in details}
        out["causes"] = sorted(
            (c.get("reason", ""), c.get("field", "")) for c in details.get("causes") or []
        )
        return out
    out["keys"] = sorted(body)
    out["metadata_keys"] = sorted(
        k
        for k, v in (body.get("metadata") or {}).items()
        # managedFields is the server's bookkeeping; an empty value reads as an absent one.
        if k != "managedFields" and v not in ("", None)
    )
    if "items" in body:
        out["items"] = len(body["items"] or [])
    return out
