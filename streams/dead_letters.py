"""Messages a worker cannot use go whole to the dead-letter topic, and the operator hears.

Each dead letter is keyed by the topic it came from, so one worker owns a topic's dead
letters and raises exactly one ``pipeline`` alert for the first of them each day (the
sink stores every one in the warehouse's ``dead_letters`` table; ``/metrics`` counts).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from pydantic import ValidationError

from contract import topics
from contract.clock import Clock
from contract.events import Alert, DeadLetter, SourceRef
from contract.settings import Settings
from streams import state
from streams.publish import publish_acked

log = logging.getLogger(__name__)

#: Send the event being processed to the dead-letter topic with a reason.
DeadLetterHook = Callable[[Any, str], Awaitable[None]]


def install(
    app: faust.App,
    settings: Settings,
    clock: Clock,
    declare: Callable[[str], faust.TopicT],
    alerts: faust.TopicT,
) -> DeadLetterHook:
    """Add the dead-letter topic, its alerting agent and table; return the hook."""
    letters = declare(topics.DEAD_LETTERS)
    raised = state.table(app, "dead_letter_alerts", settings)

    async def dead_letter(event: Any, reason: str) -> None:
        msg = event.message
        source = SourceRef(topic=msg.topic, partition=msg.partition, offset=msg.offset)
        letter = DeadLetter.of(source, "streams", reason, msg.key, msg.value, clock.now())
        log.warning(
            "dead letter %s[%d]@%d: %s",
            msg.topic,
            msg.partition,
            msg.offset,
            reason,
            extra={"topic": msg.topic, "partition": msg.partition, "offset": msg.offset},
        )
        # Published with the input's commit, like the decision itself (not awaited here).
        await letters.send(key=msg.topic.encode(), value=letter.to_json())

    @app.agent(letters, name="watch_dead_letters")
    async def watch_dead_letters(stream: faust.StreamT[bytes]) -> None:
        """Raise one alert per source topic and day for its dead letters."""
        async for event in stream.events():
            try:
                letter = DeadLetter.model_validate_json(event.value)
            except ValidationError:  # kept by the sink as it is; nothing to say about it here
                continue
            alert = first_dead_letter_alert(letter, settings, clock)
            if alert.alert_id in raised:
                continue
            await publish_acked([(b"*", alert.to_json())], alerts)
            raised[alert.alert_id] = alert.raised_at.isoformat()

    return dead_letter


def first_dead_letter_alert(letter: DeadLetter, settings: Settings, clock: Clock) -> Alert:
    day = letter.seen_at.astimezone(settings.tz).date()
    where = f"{letter.source.topic}[{letter.source.partition}]@{letter.source.offset}"
    return Alert(
        alert_id=f"pipeline:deadletters:{letter.source.topic}:{day.isoformat()}",
        kind="pipeline",
        severity="warning",
        dataset="deadletters",
        unit_id="*",
        report_date=day,
        raised_at=clock.now(),
        message_vi=(
            f"Có tin nhắn không dùng được trên {letter.source.topic} ({where}, {letter.stage}): "
            f"{letter.reason}. Xem bảng dead_letters; các tin sau trong ngày không báo lại."
        ),
        message_en=(
            f"A message on {letter.source.topic} could not be used ({where}, {letter.stage}): "
            f"{letter.reason}. See the dead_letters table; later ones today are not announced."
        ),
        details={
            "topic": letter.source.topic,
            "partition": letter.source.partition,
            "offset": letter.source.offset,
            "stage": letter.stage,
            "reason": letter.reason,
        },
    )
