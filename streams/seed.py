"""Rebuild the stream tables' changelogs from the warehouse's history.

The embedded broker keeps messages in memory, so after a restart the ledger (revision
numbers, first-submission timeliness, report_ids seen) and the marks of alerts already
sent would start empty while the warehouse still holds every revision and alert.
Writing the history back into the changelogs before the worker starts lets it recover
as if the broker had never gone away (and not announce yesterday's alerts again).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kafka.partitioner.default import murmur2

from contract import topics
from contract.events import ReportSubmitted
from streams.ledger import LedgerEntry, Seen, content_hash

#: The Faust changelog of the ``ledger`` table (faust names it ``<app id>-<table>-changelog``).
LEDGER_CHANGELOG = f"{topics.STREAMS_APP_ID}-ledger-changelog"
#: The changelog of the deadline watch's ``alerts_sent`` table.
ALERTS_SENT_CHANGELOG = f"{topics.STREAMS_APP_ID}-alerts_sent-changelog"


#: One changelog record: (partition, key, value), in Faust's JSON format for str keys.
Record = tuple[int, bytes, bytes]


def partition_for(unit_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a unit's key (murmur2, as Java's)."""
    return int((murmur2(unit_id.encode()) & 0x7FFFFFFF) % partitions)


def ledger_from_history(rows: Iterable[dict[str, Any]]) -> dict[str, LedgerEntry]:
    """Fold accepted revisions (oldest first) into one ledger entry per unit/dataset/date."""
    entries: dict[str, LedgerEntry] = {}
    for row in rows:
        report = ReportSubmitted(
            report_id=uuid.UUID(str(row["report_id"])),
            dataset=row["dataset"],
            unit_id=row["unit_id"],
            report_date=datetime.fromisoformat(row["report_date"]).date(),
            submitted_at=datetime.fromisoformat(row["submitted_at"]),
            submitted_by=row["submitted_by"] or "-",
            values=json.loads(row["values_json"]),
            note=row["note"],
            reason=row["reason"],
        )
        key = report.ledger_key
        entry = entries.get(key)
        if entry is None:
            entry = LedgerEntry(
                datetime.fromisoformat(row["first_submitted_at"]), row["timeliness"], 0, {}
            )
            entries[key] = entry
        entry.revisions = max(entry.revisions, int(row["revision"]))
        # Offsets of a lost broker mean nothing: -1 never matches a new message, so a
        # re-send of an old report_id is a duplicate, as it should be.
        entry.seen[str(report.report_id)] = Seen(int(row["revision"]), content_hash(report), -1, -1)
    return entries


def changelog_records(entries: dict[str, LedgerEntry], partitions: int) -> list[Record]:
    """(partition, key, value) records in the table's own changelog format."""
    return [
        (
            partition_for(key.split("|", 1)[0], partitions),
            json.dumps(key).encode(),
            json.dumps(entry.to_json()).encode(),
        )
        for key, entry in entries.items()
    ]


def alerts_sent_records(rows: Iterable[dict[str, Any]], partitions: int) -> list[Record]:
    """(partition, key, value) marks of the ``alerts_sent`` table for alerts already raised.

    A mark lands in the partition of the event that raised it: the unit's key for
    per-unit alerts, the (dataset|date) key of the partial counts for summaries. A
    mark in another partition would only let a worker repeat an alert (same alert_id,
    dropped downstream), never lose one.
    """
    records: list[Record] = []
    for row in rows:
        if row["kind"] == "summary":
            key = f"{row['dataset']}|{row['report_date']}"
        else:
            key = row["unit_id"]
        partition = partition_for(key, partitions)
        value = json.dumps(row["raised_at"]).encode()
        details = json.loads(row["details"] or "{}")
        for aid in (row["alert_id"], *details.get("covers", ())):
            records.append((partition, json.dumps(aid).encode(), value))
    return records
