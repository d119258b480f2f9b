"""A schemathesis check of our own, loaded by its CLI as a hook module.

It runs in schemathesis's venv (tools/schemathesis/), which does not have baocao's
packages: it imports nothing of ours and reads the shape codes from the environment.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

SHAPE_CODES = frozenset(filter(None, os.environ.get("BAOCAO_SHAPE_CODES", "").split(",")))


@schemathesis.check
def schema_valid_is_well_shaped(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the document calls valid may break a rule (422), never the shape rules.

    The built-in positive-data check has to allow 422 on the report routes: a dataset's
    rules, the registry and the correction policy are beyond what a schema can say. This
    keeps what it would have caught: the document and the validation disagreeing about
    the shape of a field (e.g. ``"report_id": null``).
    """
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        reasons = response.json().get("reasons", [])
    except ValueError:
        return None
    shape = sorted({r.get("code") for r in reasons} & SHAPE_CODES)
    if shape:
        raise AssertionError(
            f"a request valid by the OpenAPI document was refused for its shape: {shape}\n"
            + "\n".join(r.get("message_en", "") for r in reasons)
        )
    return None
