"""The parts of the Cloud DNS v1 REST API (and Google's token endpoint) that the
google-cloud-dns client calls: managedZones.list, resourceRecordSets.list,
changes.create/get, and the service-account JWT exchange."""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.providers.httpfake import Reply, Request

TOKEN_PATH = "/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class FakeCloudDNS:
    def __init__(
        self, *, project: str, zones: dict[str, str], private: frozenset[str] = frozenset()
    ) -> None:
        self.project = project
        self.zones = zones  # managed zone name -> DNS name ("example.test.")
        self.private = private  # names of zones with visibility "private"
        self.rrsets: dict[tuple[str, str, str], dict[str, Any]] = {}  # (zone, name, type)
        self.tokens: set[str] = set()
        self._ids = itertools.count(1)

    def txt(self, name: str) -> set[str]:
        return {
            data.strip('"')
            for (_, rr_name, rr_type), rrset in self.rrsets.items()
            if rr_name == name and rr_type == "TXT"
            for data in rrset["rrdatas"]
        }

    def route(self, request: Request) -> Reply:
        if request.path == TOKEN_PATH and request.method == "POST":
            body = str(request.body or "")
            if JWT_GRANT.replace(":", "%3A") not in body or "assertion=" not in body:
                return 400, {"error": "invalid_grant"}
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return _error(401, "Request had invalid authentication credentials.")
        prefix = f"/dns/v1/projects/{self.project}/managedZones"
        if not request.path.startswith(prefix):
            return _error(404, "Not Found")
        parts = request.path.removeprefix(prefix).strip("/").split("/")
        if parts == [""]:
            zones = [
                {
                    "name": n,
                    "dnsName": d,
                    "kind": "dns#managedZone",
                    "visibility": "private" if n in self.private else "public",
                }
                for n, d in self.zones.items()
            ]
            return 200, {"managedZones": zones}
        zone = parts[0]
        if zone not in self.zones:
            return _error(
                404, f"The 'parameters.managedZone' resource named '{zone}' does not exist."
            )
        if parts[1:] == ["rrsets"] and request.method == "GET":
            found = [
                rrset
                for (z, name, kind), rrset in self.rrsets.items()
                if z == zone
                and name == request.query.get("name", name)
                and kind == request.query.get("type", kind)
            ]
            return 200, {"rrsets": found}
        if parts[1:] == ["changes"] and request.method == "POST":
            return self._apply(zone, request.body)
        if len(parts) == 3 and parts[1] == "changes" and request.method == "GET":
            return 200, {"id": parts[2], "status": "done", "kind": "dns#change"}
        return _error(404, "Not Found")

    def _apply(self, zone: str, body: dict[str, Any]) -> Reply:
        deletions = body.get("deletions", [])
        additions = body.get("additions", [])
        for rrset in deletions:
            current = self.rrsets.get((zone, rrset["name"], rrset["type"]))
            if current is None or current["rrdatas"] != rrset["rrdatas"]:
                return _error(412, "Precondition not met for 'entity.change.deletions[0]'")
        deleted = {(rrset["name"], rrset["type"]) for rrset in deletions}
        for rrset in additions:
            key = (zone, rrset["name"], rrset["type"])
            if key in self.rrsets and (rrset["name"], rrset["type"]) not in deleted:
                return _error(409, "The resource 'entity.change.additions[0]' already exists")
        for rrset in deletions:
            del self.rrsets[(zone, rrset["name"], rrset["type"])]
        for rrset in additions:
            self.rrsets[(zone, rrset["name"], rrset["type"])] = {
                "kind": "dns#resourceRecordSet",
                "name": rrset["name"],
                "type": rrset["type"],
                "ttl": int(rrset["ttl"]),
                "rrdatas": list(rrset["rrdatas"]),
            }
        # "pending" first, as Cloud DNS answers: the client must wait for "done".
        return 200, {
            "id": str(next(self._ids)),
            "status": "pending",
            "kind": "dns#change",
            "additions": additions,
            "deletions": deletions,
        }


def _error(code: int, message: str) -> Reply:
    return code, {"error": {"code": code, "message": message, "errors": [{"message": message}]}}


def service_account_json(project: str, *, token_uri: str) -> bytes:
    """A service account JSON key (fresh RSA key) whose token exchange goes to `token_uri`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": project,
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": f"dns01@{project}.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": token_uri,
        }
    ).encode()
