"""route53 writes a record set as a compare-and-swap: a value another writer adds between
our read and our write is never overwritten, the change is retried on the new set.

moto does not enforce Route53's exact-match rule for DELETE, so this runs against a
strict in-memory stand-in for the three calls involved, with Route53's semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from shared.dns01 import route53
from shared.dns01.route53 import Route53Provider

NAME = "_acme-challenge.www.example.com."


class StrictRoute53:
    """CREATE fails if the set exists, DELETE unless it matches exactly, both atomically."""

    def __init__(self, records: tuple[str, ...] = ()) -> None:
        self.sets: dict[str, tuple[str, ...]] = {NAME: records} if records else {}
        self.batches = 0
        self.after_first_read: Callable[[], None] | None = None

    def list_resource_record_sets(self, **query: Any) -> dict[str, Any]:
        listing = [
            {"Name": name, "Type": "TXT", "TTL": 10, "ResourceRecords": [{"Value": v} for v in rrs]}
            for name, rrs in self.sets.items()
            if name == query["StartRecordName"]
        ]
        if self.after_first_read is not None:
            interleave, self.after_first_read = self.after_first_read, None
            interleave()
        return {"ResourceRecordSets": listing}

    def change_resource_record_sets(self, **request: Any) -> dict[str, Any]:
        self.batches += 1
        staged = dict(self.sets)
        for change in request["ChangeBatch"]["Changes"]:
            rrset = change["ResourceRecordSet"]
            values = tuple(r["Value"] for r in rrset["ResourceRecords"])
            if change["Action"] == "DELETE":
                if staged.get(rrset["Name"]) != values:
                    raise _invalid("values provided do not match the current values")
                del staged[rrset["Name"]]
            elif change["Action"] == "CREATE":
                if rrset["Name"] in staged:
                    raise _invalid("it already exists")
                staged[rrset["Name"]] = values
        self.sets = staged
        return {"ChangeInfo": {"Id": f"/change/C{self.batches}", "Status": "INSYNC"}}


def _invalid(message: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": "InvalidChangeBatch", "Message": message}}, "ChangeResourceRecordSets"
    )


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> StrictRoute53:
    fake = StrictRoute53()
    monkeypatch.setattr(route53, "_new_client", lambda service, **kwargs: fake)
    return fake


PROVIDER = Route53Provider(hosted_zone_id="Z1", access_key_id="AKID", secret_access_key="s")


def test_a_value_written_between_read_and_write_survives_our_present(
    strict: StrictRoute53,
) -> None:
    def other_writer() -> None:
        strict.sets[NAME] = ('"theirs"',)

    strict.after_first_read = other_writer
    PROVIDER.present(fqdn=NAME, zone="example.com.", value="ours")
    assert strict.sets[NAME] == ('"theirs"', '"ours"')
    assert strict.batches == 2, "the first batch was refused and retried on the new set"


def test_a_value_written_between_read_and_write_survives_our_cleanup(
    strict: StrictRoute53,
) -> None:
    strict.sets[NAME] = ('"ours"',)

    def other_writer() -> None:
        strict.sets[NAME] = ('"ours"', '"theirs"')

    strict.after_first_read = other_writer
    PROVIDER.cleanup(fqdn=NAME, zone="example.com.", value="ours")
    assert strict.sets[NAME] == ('"theirs"',)


def test_removing_the_last_value_deletes_the_set_and_other_records_stay_byte_for_byte(
    strict: StrictRoute53,
) -> None:
    strict.sets[NAME] = ('"split" "value"', '"ours"')
    PROVIDER.cleanup(fqdn=NAME, zone="example.com.", value="ours")
    assert strict.sets[NAME] == ('"split" "value"',)
    PROVIDER.cleanup(fqdn=NAME, zone="example.com.", value="ours")
    assert strict.batches == 1, "an absent value needs no change"
