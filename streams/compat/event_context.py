"""Name the event a table write or a send belongs to, inside a ``take_events`` batch.

Faust files a table write under the changelog partition of the *current event*, and a
send on commit under its offset (``faust.streams.current_event()``, a context variable
of the task). A batch agent handles many events in one step of its own task, so it has
to name each before writing for it; Faust has no public way to.

``Stream._set_current_event`` would also set the stream's ``current_event`` attribute,
and ``take_events`` reads that attribute for the next event after an ``await``
(``add_to_buffer`` in faust/streams.py): set from the batch's body, it filed the next
event under one already handled, which was then handled twice and the next one never.
The signals benchmark lost 5-9 unit signals in 6,655 that way. Setting only the
context variable touches the agent's own task and nothing the buffer reads
(tests/streams/test_event_context.py).
"""

from __future__ import annotations

import weakref
from typing import Any

from streams.compat.versions import CompatError

try:
    from faust.streams import _current_event
except ImportError as exc:  # pragma: no cover - only with a Faust this was not written for
    raise CompatError(
        "faust.streams._current_event is gone: streams/compat/event_context.py must be "
        "rewritten for this Faust release (docs/known-issues.md)."
    ) from exc


def acting_for(event: Any) -> None:
    """Make ``event`` the one this task's next table writes and sends on commit belong to."""
    _current_event.set(weakref.ref(event))
