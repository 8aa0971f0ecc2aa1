"""AWS Route53 through boto3: cert-manager's `route53` solver.

A TXT name holds one record set whose values Route53 replaces as a whole, so
present/cleanup read the set, change it by one value and write it back as a
compare-and-swap (see `_change`), retrying when another writer moved first.
Each change is waited on until INSYNC.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import botocore.config
import botocore.exceptions
import botocore.session

from shared.dns01 import credentials as creds
from shared.dns01.credentials import SecretReader
from shared.dns01.errors import DNSUpdateError, ProviderConfigError

PROVIDER: Final = "route53"
TTL: Final = 10  # cert-manager's value: short, so a retried challenge is seen quickly
# Route53 is global, but signing (and STS for `role`) needs a region: the spec's, else
# the SDK's own (AWS_REGION, config file), else this one.
DEFAULT_REGION: Final = "us-east-1"
ROLE_SESSION_NAME: Final = "cert-manager"
INSYNC_TIMEOUT_SECONDS: Final = 120.0
INSYNC_POLL_SECONDS: Final = 2.0
CHANGE_ATTEMPTS: Final = 5


@dataclass(frozen=True)
class Route53Provider:
    region: str = ""
    hosted_zone_id: str = ""  # empty: discovered by walking up the record name
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    role: str = ""
    endpoint_url: str | None = None  # None: botocore's own resolution (AWS_ENDPOINT_URL_*)
    insync_timeout: float = INSYNC_TIMEOUT_SECONDS
    poll_interval: float = INSYNC_POLL_SECONDS
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        self._change(fqdn=fqdn, zone=zone, value=value, add=True)

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        self._change(fqdn=fqdn, zone=zone, value=value, add=False)

    # -- record sets -----------------------------------------------------------------

    def _change(self, *, fqdn: str, zone: str, value: str, add: bool) -> None:
        name = _absolute(fqdn)
        action = "adding" if add else "removing"
        client = self._client()
        zone_id = self._zone_id(client, name, zone=zone)
        for _ in range(CHANGE_ATTEMPTS):
            current = _txt_set(client, zone_id, name)
            records = current.records if current else ()
            if (value in _values_of(current)) == add:
                return  # already as wanted: present/cleanup are idempotent
            # Other values stay byte for byte as Route53 holds them (quoting, splitting).
            wanted = (
                (*records, _quote(value))
                if add
                else tuple(r for r in records if _unquote(r) != value)
            )
            # DELETE of the set as read + CREATE of the new one, in one atomic batch: Route53
            # refuses it if the set changed since we read it, so concurrent writers (a
            # wildcard and its apex share the name) never overwrite each other's value.
            changes: list[dict[str, Any]] = []
            if current is not None:
                changes.append({"Action": "DELETE", "ResourceRecordSet": current.as_aws()})
            if wanted:
                changes.append({"Action": "CREATE", "ResourceRecordSet": _record_set(name, wanted)})
            try:
                response = _call(
                    client.change_resource_record_sets,
                    f"{action} TXT at {name}",
                    HostedZoneId=zone_id,
                    ChangeBatch={"Changes": changes},
                )
            except _SetChanged:
                continue  # re-read and retry
            self.wait_insync(client, response["ChangeInfo"], what=f"{action} TXT at {name}")
            # Read back: cheap, and it also catches servers laxer than Route53 itself.
            if (value in _values_of(_txt_set(client, zone_id, name))) == add:
                return
        raise DNSUpdateError(
            f"{action} TXT at {name}: the record set kept changing; gave up after"
            f" {CHANGE_ATTEMPTS} attempts"
        )

    def wait_insync(self, client: Any, info: Mapping[str, Any], *, what: str) -> None:
        """Poll GetChange until the change `info` (as a change call returned it) is INSYNC."""
        deadline = time.monotonic() + self.insync_timeout
        while info["Status"] != "INSYNC":
            if time.monotonic() >= deadline:
                raise DNSUpdateError(
                    f"{what}: change {info['Id']} not INSYNC after {self.insync_timeout:.0f}s"
                )
            self.sleep(self.poll_interval)
            info = _call(client.get_change, what, Id=info["Id"])["ChangeInfo"]

    def _zone_id(self, client: Any, name: str, *, zone: str) -> str:
        """hostedZoneID, else the public hosted zone named `zone` (found through DNS by the
        caller), else the closest public hosted zone walking up from `name`."""
        if self.hosted_zone_id:
            return self.hosted_zone_id.removeprefix("/hostedzone/")
        labels = name.rstrip(".").split(".")
        walk = [".".join(labels[start:]) + "." for start in range(len(labels))]
        for candidate in dict.fromkeys(([_absolute(zone)] if zone else []) + walk):
            listing = _call(
                client.list_hosted_zones_by_name,
                f"looking up the hosted zone for {name}",
                DNSName=candidate,
                MaxItems="10",
            )
            for hosted in listing.get("HostedZones", []):
                if hosted["Name"] == candidate and not hosted.get("Config", {}).get("PrivateZone"):
                    return str(hosted["Id"]).removeprefix("/hostedzone/")
        raise DNSUpdateError(f"no public Route53 hosted zone holds {name}; set hostedZoneID")

    # -- session ---------------------------------------------------------------------

    def _client(self) -> Any:
        keys: dict[str, str | None] = {
            "aws_access_key_id": self.access_key_id or None,
            "aws_secret_access_key": self.secret_access_key or None,
        }
        if self.role:
            sts = _new_client("sts", region=self.region, endpoint_url=self.endpoint_url, **keys)
            assumed = _call(
                sts.assume_role,
                f"assuming role {self.role}",
                RoleArn=self.role,
                RoleSessionName=ROLE_SESSION_NAME,
            )["Credentials"]
            keys = {
                "aws_access_key_id": assumed["AccessKeyId"],
                "aws_secret_access_key": assumed["SecretAccessKey"],
                "aws_session_token": assumed["SessionToken"],
            }
        return _new_client("route53", region=self.region, endpoint_url=self.endpoint_url, **keys)


# One botocore session per process: it caches the service models (loading them costs
# more than the API calls); clients get their keys explicitly, so the session itself
# holds no credentials. Without keys, a client uses the ambient chain.
_SESSION_LOCK: Final = threading.Lock()
_SESSION: list[botocore.session.Session] = []
_CONFIG: Final = botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"})


def _new_client(service: str, *, region: str, endpoint_url: str | None, **keys: str | None) -> Any:
    with _SESSION_LOCK:
        if not _SESSION:
            _SESSION.append(botocore.session.get_session())
        return _SESSION[0].create_client(
            service,
            region_name=region or _SESSION[0].get_config_variable("region") or DEFAULT_REGION,
            endpoint_url=endpoint_url,
            config=_CONFIG,
            **keys,
        )


@dataclass(frozen=True)
class _TxtSet:
    """A TXT record set as Route53 holds it: `records` are the raw (quoted) values."""

    ttl: int
    records: tuple[str, ...]
    name: str

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(_unquote(r) for r in self.records)

    def as_aws(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Type": "TXT",
            "TTL": self.ttl,
            "ResourceRecords": [{"Value": r} for r in self.records],
        }


def _txt_set(client: Any, zone_id: str, name: str) -> _TxtSet | None:
    listing = _call(
        client.list_resource_record_sets,
        f"reading TXT at {name}",
        HostedZoneId=zone_id,
        StartRecordName=name,
        StartRecordType="TXT",
        MaxItems="1",
    )
    for record_set in listing.get("ResourceRecordSets", []):
        if _absolute(record_set["Name"]) == name and record_set["Type"] == "TXT":
            return _TxtSet(
                ttl=int(record_set.get("TTL", TTL)),
                records=tuple(r["Value"] for r in record_set.get("ResourceRecords", [])),
                name=record_set["Name"],
            )
    return None


def _values_of(txt_set: _TxtSet | None) -> tuple[str, ...]:
    return txt_set.values if txt_set else ()


def _record_set(name: str, records: tuple[str, ...]) -> dict[str, Any]:
    return _TxtSet(ttl=TTL, records=records, name=name).as_aws()


class _SetChanged(DNSUpdateError):
    """The batch's DELETE/CREATE no longer matched: another writer moved first."""


def _call(method: Callable[..., Any], what: str, **kwargs: Any) -> Any:
    """One AWS call; its failure becomes our error with AWS's code and message."""
    try:
        return method(**kwargs)
    except botocore.exceptions.NoCredentialsError:
        raise ProviderConfigError(
            f"{what}: no AWS credentials (set accessKeyID/secretAccessKeySecretRef,"
            " or use a ClusterIssuer with ambient credentials)"
        ) from None
    except botocore.exceptions.ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        message = details.get("Message", "")
        failure = _SetChanged if code == "InvalidChangeBatch" else DNSUpdateError
        raise failure(f"{what}: {code}: {message}".rstrip(": ")) from None
    except botocore.exceptions.BotoCoreError as error:
        raise DNSUpdateError(f"{what}: {type(error).__name__}") from None


def _absolute(name: str) -> str:
    # Route53 returns names with a trailing dot and escapes "*" as \052.
    return name.replace("\\052", "*").rstrip(".").lower() + "."


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(value: str) -> str:
    text = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return text.replace('\\"', '"').replace("\\\\", "\\")


def from_spec(spec: Mapping[str, Any], read_secret: SecretReader) -> Route53Provider:
    """The provider a `route53` solver block configures, with its secrets read by reference."""
    opt = creds.optional_str
    access_key_id = opt(spec, "accessKeyID", provider=PROVIDER)
    key_id_ref = creds.secret_ref(spec, "accessKeyIDSecretRef", provider=PROVIDER)
    secret_ref = creds.secret_ref(spec, "secretAccessKeySecretRef", provider=PROVIDER)
    if access_key_id and key_id_ref:
        raise ProviderConfigError("route53: set accessKeyID or accessKeyIDSecretRef, not both")
    if key_id_ref:
        access_key_id = creds.read_text(
            read_secret, key_id_ref, provider=PROVIDER, field="accessKeyIDSecretRef"
        )
    secret_access_key = ""
    if secret_ref:
        secret_access_key = creds.read_text(
            read_secret, secret_ref, provider=PROVIDER, field="secretAccessKeySecretRef"
        )
    if bool(access_key_id) != bool(secret_access_key):
        raise ProviderConfigError(
            "route53: an access key ID needs secretAccessKeySecretRef and vice versa"
        )
    if not access_key_id and not creds.ambient_allowed(read_secret):
        raise ProviderConfigError(
            "route53: no credentials configured and ambient credentials are only used for"
            " ClusterIssuers; set accessKeyID (or accessKeyIDSecretRef) and"
            " secretAccessKeySecretRef"
        )
    return Route53Provider(
        region=opt(spec, "region", provider=PROVIDER),
        hosted_zone_id=opt(spec, "hostedZoneID", provider=PROVIDER),
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        role=opt(spec, "role", provider=PROVIDER),
    )
