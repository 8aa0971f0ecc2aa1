"""moto's Route53 in server mode, started in-process on a free port, with the test zone
(public, plus a private twin that zone discovery must skip)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.e2e.servers import LOOPBACK, ZONE, free_port


@dataclass(frozen=True)
class Moto:
    url: str
    client: Any  # a boto3 route53 client, for the test's own look

    def zone_id(self, name: str, *, private: bool = False) -> str:
        for zone in self.client.list_hosted_zones()["HostedZones"]:
            if zone["Name"] == name and zone["Config"]["PrivateZone"] == private:
                return str(zone["Id"]).removeprefix("/hostedzone/")
        raise LookupError(name)

    def txt(self, name: str) -> set[str]:
        """Values moto holds at `name`, as the fake DNS serves them."""
        listing = self.client.list_resource_record_sets(
            HostedZoneId=self.zone_id(f"{ZONE}."),
            StartRecordName=name,
            StartRecordType="TXT",
            MaxItems="1",
        )
        return {
            record["Value"].strip('"')
            for rrset in listing["ResourceRecordSets"]
            if rrset["Name"].rstrip(".") == name.rstrip(".") and rrset["Type"] == "TXT"
            for record in rrset["ResourceRecords"]
        }


def start_moto() -> tuple[ThreadedMotoServer, Moto]:
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client(
        "route53",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    # The private twin first, so discovery that ignored privacy would pick it.
    client.create_hosted_zone(
        Name=f"{ZONE}.",
        CallerReference="private",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"},
    )
    client.create_hosted_zone(Name=f"{ZONE}.", CallerReference="public")
    return server, Moto(url=url, client=client)
