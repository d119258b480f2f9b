"""A returned report tells its submitter: one ``returned`` alert per return, with the reason.

Approvals never hold back a report (the decision agent does not read this topic); this
agent only turns each ``return`` on the ``approvals`` topic into an alert for the unit
that submitted. Approve and accept raise nothing. The topic is keyed by unit, so one
worker owns a unit's returns, and the record of alerts sent (a changelogged table, keyed
by the alert id, which names the unit) lives on that same partition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import faust
from pydantic import ValidationError

from contract import topics
from contract.clock import Clock
from contract.events import Alert, ApprovalRecorded
from contract.registry import Registry
from contract.settings import Settings
from streams import messages, state
from streams.publish import publish_acked

log = logging.getLogger(__name__)


def install(
    app: faust.App,
    settings: Settings,
    registry: Registry,
    clock: Clock,
    declare: Callable[[str], faust.TopicT],
    alerts: faust.TopicT,
) -> None:
    """Add the approvals topic, the agent that announces returns, and its table."""
    approvals = declare(topics.APPROVALS)
    sent = state.table(app, "returned_alerts", settings)

    @app.agent(approvals, name="announce_returns")
    async def announce_returns(stream: faust.StreamT[bytes]) -> None:
        """Raise one ``returned`` alert per returned revision, whatever is redelivered."""
        async for event in stream.events():
            alert = returned_alert(event.value, registry, clock)
            if alert is None or alert.alert_id in sent:
                continue
            # Acked before it is marked sent: a crash in between repeats the alert with
            # the same id (the sink and the notifier drop it), never loses it.
            await publish_acked([(alert.unit_id.encode(), alert.to_json())], alerts)
            sent[alert.alert_id] = alert.raised_at.isoformat()


def returned_alert(value: bytes | None, registry: Registry, clock: Clock) -> Alert | None:
    """The alert a message on the approvals topic raises: only a return raises one.

    A message that is not an approval raises nothing here: the sink, which reads the same
    topic, sends it whole to the dead letters (once, not once per stage).
    """
    try:
        event = ApprovalRecorded.model_validate_json(value or b"")
    except ValidationError as exc:
        log.warning("not an approval, no alert (the sink keeps it as a dead letter): %s", exc)
        return None
    if event.action != "return":
        return None
    return messages.returned(
        event, registry.get(event.unit_id), registry.get(event.by_unit), clock.now()
    )
