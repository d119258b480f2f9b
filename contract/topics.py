"""Kafka topic names and partition counts; every topic is declared, none auto-created.

Faust auto-creates undeclared topics with its own partition count, which would break
co-partitioning by unit_id, so every topic the pipeline touches is listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

SUBMITTED = "reports.submitted"
ACCEPTED = "reports.accepted"
REJECTED = "reports.rejected"
ALERTS = "alerts"
#: Epidemic levels per unit and area and day (contract.events.LevelAssessed).
LEVELS = "levels"
#: Reviewers' approvals, acceptances and returns (contract.events.ApprovalRecorded).
APPROVALS = "approvals"
#: Messages a stage could not use, whole, with the reason (contract.events.DeadLetter).
DEAD_LETTERS = "deadletters"

ALL = (SUBMITTED, ACCEPTED, REJECTED, ALERTS, LEVELS, APPROVALS, DEAD_LETTERS)

#: Topics only the stream workers read and write (streams/watch.py, streams/signal_watch.py).
#: Created up front with the others: a worker's first send to an undeclared topic makes a
#: broker with auto-creation on create it with its own partition count, and then a send to
#: partition 1 or more fails ("Unrecognized partition", seen on Apache Kafka); with
#: auto-creation off, as in production, the send waits for a topic nobody creates.
TICKS = "deadline.ticks"
PARTIALS = "deadline.partials"
#: A unit's own day (from its decision) or a child's day, keyed by the subject it is for.
SIGNAL_SUBJECTS = "signals.subjects"
INTERNAL = (TICKS, PARTIALS, SIGNAL_SUBJECTS)

#: The Faust application id; also the consumer group of the stream workers.
STREAMS_APP_ID = "baocao-streams"
#: Consumer group of the warehouse sink.
SINK_GROUP = "baocao-sink"
#: Consumer group of the alert notifier (webhook, e-mail, log).
NOTIFY_GROUP = "baocao-notify"


@dataclass(frozen=True)
class TopicSpec:
    """A topic and how many partitions it is created with."""

    name: str
    partitions: int


def specs(partitions: int) -> list[TopicSpec]:
    """Return every pipeline topic with the same partition count (co-partitioned by unit)."""
    return [TopicSpec(name, partitions) for name in (*ALL, *INTERNAL)]
