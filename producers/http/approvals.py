"""Approval routes: a reviewer lists its units' reports of a day, then approves, accepts
or returns them (DHIS2's approval up the hierarchy; ``contract/approval_rules.py``).

``GET /api/v1/approvals`` reads the warehouse (``approval_status`` beside each unit's
latest revision); ``POST /api/v1/approvals`` judges each unit on its own against the
state it reads there, and puts one ``ApprovalRecorded`` per allowed unit on the
``approvals`` topic (key = unit_id, acks=all). The sink writes them to the warehouse,
and the dashboards show the state beside the data: approval never holds a report back.

A reviewer's token needs the ``approve`` role (``submit`` is not needed); the check is
this module's ``reviewer`` dependency, the same token store and rate limit as the
submission routes'.

No ``from __future__ import annotations`` here: the routes are made inside
``install_approvals`` and FastAPI reads their parameters' annotations as objects.
"""

import json
import logging
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract import approval_rules as rules
from contract.datasets import Catalog
from contract.events import ApprovalRecorded
from contract.reasons import Reason
from contract.registry import Unit
from contract.validation import in_words
from producers.errors import PublishError
from producers.http import errors
from producers.http.callers import take_turn, token_holder
from producers.http.desk import Caller, Desk
from producers.http.errors import ApiError
from producers.http.handlers import PREFIX
from producers.http.known import KnownDecision
from producers.http.limits import read_body
from producers.http.models import (
    ApprovalBook,
    ApprovalIn,
    ApprovalPublisher,
    ApprovalResultOut,
    ApprovalsOut,
    ErrorBody,
    RecordedOut,
    RefusedOut,
    ReviewerOut,
    ReviewUnitOut,
)
from producers.http.openapi import ERRORS
from warehouse.approvals import ReviewRow

log = logging.getLogger(__name__)

#: An approval request names unit ids, not values: a few hundred fit easily.
MAX_BODY_BYTES = 65_536
_UNAVAILABLE = "the warehouse or the broker did not answer; nothing was recorded / chưa ghi nhận"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": ErrorBody, "description": "no approve role, not a reviewer / không được duyệt"},
    503: {"model": ErrorBody, "description": _UNAVAILABLE},
}


def install_approvals(
    app: FastAPI,
    bearer: HTTPBearer,
    desk: Desk,
    book: ApprovalBook | None,
    publisher: ApprovalPublisher | None,
) -> None:
    """Add ``GET`` and ``POST /api/v1/approvals``; without a book or a publisher (a service
    not wired to the warehouse and the broker) they answer 503."""
    registry, catalog, clock = desk.registry, desk.catalog, desk.clock
    codes = sorted(ds.code for ds in catalog.datasets)

    async def reviewer(
        request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Caller:
        """The bearer token's holder, if it may review: 401 unknown, 403 without ``approve``."""
        caller = token_holder(request, creds)
        cred, unit = caller.credential, caller.unit
        if not cred.may("approve"):
            raise errors.forbidden(
                "Mã này không có vai trò duyệt (approve); cấp mã mới bằng "
                f"`baocao tokens create --unit {unit.unit_id} --role approve`.",
                "This token has no approve role; create one with "
                f"`baocao tokens create --unit {unit.unit_id} --role approve`.",
            )
        if not rules.is_reviewer(unit):
            raise errors.forbidden(
                f"{unit.name} không duyệt báo cáo của đơn vị nào (chỉ huyện và tỉnh duyệt).",
                f"{unit.unit_id} reviews nobody's reports (districts and provinces do).",
            )
        take_turn(request, caller)
        return caller

    Reviewer = Annotated[Caller, Depends(reviewer)]

    def rows_of(dataset: str, day: date, units: list[str]) -> dict[str, ReviewRow]:
        if book is None:
            raise _unavailable("warehouse")
        try:
            return {r.unit_id: r for r in book.listing(dataset, day, units)}
        except Exception as exc:  # the warehouse is away: say so, record nothing
            log.warning("approvals: warehouse lookup failed: %s", exc)
            raise _unavailable("warehouse") from exc

    @app.get(
        f"{PREFIX}/approvals",
        response_model=ApprovalsOut,
        responses=_RESPONSES,
        operation_id="get_approvals",
        summary="Báo cáo cần duyệt / the reports this token reviews for a dataset and day",
    )
    def get_approvals(
        who: Reviewer,
        dataset: Annotated[
            str,
            Query(description="dataset code", json_schema_extra={"enum": codes}),
        ],
        day: Annotated[date, Query(alias="date", description="the day, YYYY-MM-DD")],
    ) -> ApprovalsOut:
        """A district sees the units whose district is itself; a province, every unit of
        its province. Each with its latest revision, its state of review, and ``can``:
        what this token may do with it now."""
        _known_dataset(catalog, dataset, "query.dataset")
        pool = registry.filter(province=who.unit.province_id)
        scope = [u for u in pool if rules.reviews(who.unit, u)]
        rows = rows_of(dataset, day, [u.unit_id for u in scope])
        units = rules.reviewed_units(who.unit, registry, dataset, day, rows.keys())
        return ApprovalsOut(
            dataset=dataset,
            date=day,
            reviewer=ReviewerOut(
                unit_id=who.unit.unit_id, name=who.unit.name, kind=who.unit.kind.value
            ),
            units=[_unit_out(who.unit, u, rows.get(u.unit_id)) for u in units],
        )

    schema = ApprovalIn.model_json_schema()
    schema["properties"]["dataset"]["enum"] = codes

    @app.post(
        f"{PREFIX}/approvals",
        status_code=202,
        response_model=ApprovalResultOut,
        responses={
            **_RESPONSES,
            202: {
                "model": ApprovalResultOut,
                "description": "each unit recorded (on the broker) or refused with why / "
                "từng đơn vị: đã ghi nhận hoặc bị từ chối kèm lý do",
            },
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        },
        operation_id="post_approvals",
        summary="Duyệt, chấp nhận hoặc trả lại / approve, accept or return reports",
    )
    async def post_approvals(request: Request, who: Reviewer) -> JSONResponse:
        asked = _approval_in(await read_body(request, MAX_BODY_BYTES))
        result = await run_in_threadpool(decide, who, asked)
        return JSONResponse(result.model_dump(mode="json"), 202)

    # GET and POST are two routes on one path: Starlette's 405 would name only the first
    # one's method in Allow. Any other method lands here and is told both.
    @app.api_route(
        f"{PREFIX}/approvals",
        methods=["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"],
        include_in_schema=False,
    )
    def other_method() -> None:
        raise StarletteHTTPException(405, headers={"Allow": "GET, HEAD, POST"})

    def decide(who: Caller, asked: ApprovalIn) -> ApprovalResultOut:
        _known_dataset(catalog, asked.dataset, "dataset")
        reason = asked.reason.strip()
        if asked.action == "return" and not reason:
            raise errors.invalid(
                [
                    Reason.of(
                        "reason_required",
                        "reason",
                        "Trả lại báo cáo phải nêu lý do (trường reason).",
                        "Returning reports needs a reason (field 'reason').",
                    )
                ]
            )
        if publisher is None:
            raise _unavailable("broker")
        asked_units = list(dict.fromkeys(asked.units))  # a unit named twice is judged once
        known = [u for u in asked_units if u in registry]
        rows = rows_of(asked.dataset, asked.date, known)
        now = clock.now()
        recorded: list[RecordedOut] = []
        refused: list[RefusedOut] = []
        events: list[ApprovalRecorded] = []
        for unit_id in asked_units:
            target = registry.get(unit_id)
            if target is None:
                refused.append(
                    RefusedOut(
                        unit_id=unit_id,
                        code="unknown_unit",
                        message_vi=f"Đơn vị {unit_id} không có trong danh mục.",
                        message_en=f"Unit {unit_id} is not registered.",
                    )
                )
                continue
            row = rows.get(unit_id)
            now_state = _unit_day(row)
            why = rules.judge(who.unit, target, asked.action, now_state, reason)
            seen = asked.revisions.get(unit_id)
            if why is None and row is not None and seen is not None and seen != row.revision:
                why = _changed_since(target, seen, row.revision)
            if why is not None:
                refused.append(
                    RefusedOut(
                        unit_id=unit_id,
                        code=why.code,
                        message_vi=why.message_vi,
                        message_en=why.message_en,
                    )
                )
                continue
            assert row is not None  # judged reported
            state = rules.RESULT[asked.action]
            if rules.repeats(asked.action, now_state):  # already so: nothing new to record
                done = RecordedOut(unit_id=unit_id, approval_id=row.approval_id, state=state)
                recorded.append(done)
                continue
            event = ApprovalRecorded(
                approval_id=ApprovalRecorded.id_of(
                    asked.action, asked.dataset, unit_id, asked.date, row.revision
                ),
                action=asked.action,
                dataset=asked.dataset,
                unit_id=unit_id,
                report_date=asked.date,
                revision=row.revision,
                values=row.values,
                by_name=who.credential.name[:200],
                by_unit=who.unit.unit_id,
                reason=reason,
                decided_at=_after(now, row.decided_at),
            )
            events.append(event)
            done = RecordedOut(unit_id=unit_id, approval_id=event.approval_id, state=state)
            recorded.append(done)
        if events:
            try:
                publisher.send_approvals(events)
            except PublishError as exc:
                log.warning("approvals: %s", exc)
                raise _unavailable("broker") from exc
            # The guard on corrections knows at once, before the sink writes them.
            desk.decisions.add(_known(e) for e in events)
        return ApprovalResultOut(recorded=recorded, refused=refused)


def _approval_in(raw: bytes) -> ApprovalIn:
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise errors.not_utf8(exc.start) from exc
    except json.JSONDecodeError as exc:
        raise errors.malformed(
            f"Nội dung không phải JSON hợp lệ: {exc}", f"The body is not valid JSON: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise errors.invalid(
            [
                Reason.of(
                    "not_json_object",
                    "",
                    "Nội dung phải là một đối tượng JSON.",
                    "The body must be a JSON object.",
                )
            ]
        )
    try:
        # From the JSON text: its dates are strings, and a number is not a date.
        return ApprovalIn.model_validate_json(raw)
    except ValidationError as exc:
        found = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "(body)"
            vi, en = in_words(err)
            found.append(Reason.of("invalid_field", where, f"{where}: {vi}", f"{where}: {en}"))
        raise ApiError(
            422,
            "validation_failed",
            "Yêu cầu duyệt chưa hợp lệ; xem lý do ở từng trường.",
            "The approval request is not valid; see the reason for each field.",
            found,
        ) from exc


def _changed_since(unit: Unit, seen: int, latest: int) -> Reason:
    """The reviewer looked at another revision than the one standing now: a decision is
    about what was reviewed, so it is refused rather than put on values nobody saw."""
    return Reason.of(
        "changed_since_listed",
        "revisions",
        f"Báo cáo của {unit.name} đã đổi (lần {latest}) so với lần bạn xem (lần {seen}); "
        "hãy xem lại rồi quyết định.",
        f"{unit.unit_id}'s report is now revision {latest}, not the revision {seen} you "
        "looked at; look at it again, then decide.",
    )


def _known_dataset(catalog: Catalog, dataset: str, field: str) -> None:
    if catalog.get(dataset) is None:
        vi = f"Không có biểu mẫu {dataset}."
        en = f"There is no dataset {dataset}."
        found = [Reason.of("unknown_dataset", field, vi, en)]
        raise ApiError(422, "unknown_dataset", vi, en, found)


def _unavailable(what: str) -> ApiError:
    if what == "broker":
        vi = "Máy chủ Kafka chưa xác nhận; chưa ghi nhận gì, hãy thử lại sau ít phút."
        en = "The broker did not confirm; nothing was recorded, try again in a few minutes."
    else:
        vi = "Kho dữ liệu chưa trả lời; chưa ghi nhận gì, hãy thử lại sau ít phút."
        en = "The warehouse did not answer; nothing was recorded, try again in a few minutes."
    return errors.refused(503, f"{what}_unavailable", vi, en, headers={"Retry-After": "30"})


def _after(now: datetime, previous: datetime | None) -> datetime:
    """``now``, or just after the decision it was judged against if the clock says
    otherwise: the warehouse keeps milliseconds and takes the newest decision as the
    standing one, so a later decision must be stamped later (a frozen demo clock, two
    reviewers within a millisecond)."""
    if previous is None:
        return now
    floor = now.replace(microsecond=now.microsecond // 1000 * 1000)
    return now if floor > previous else previous + timedelta(milliseconds=1)


def _unit_day(row: ReviewRow | None) -> rules.UnitDay:
    if row is None:
        return rules.NOT_REPORTED
    state: rules.State = row.state  # type: ignore[assignment]  # approval_status's states
    return rules.UnitDay(state, row.revision, row.approved_revision, row.action)


def _unit_out(reviewer: Unit, unit: Unit, row: ReviewRow | None) -> ReviewUnitOut:
    now_state = _unit_day(row)
    common: dict[str, Any] = {
        "unit_id": unit.unit_id,
        "name": unit.name,
        "kind": unit.kind.value,
        "district_id": unit.district_id,
        "state": now_state.state,
        "can": rules.can(reviewer, unit, now_state),
    }
    if row is None:
        return ReviewUnitOut(
            **common,
            revision=None,
            timeliness=None,
            submitted_at=None,
            submitted_by=None,
            values={},
            approved_revision=None,
            changed_values=0,
            by_name=None,
            decided_at=None,
            reason=None,
        )
    return ReviewUnitOut(
        **common,
        revision=row.revision,
        timeliness=row.timeliness,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        values=row.values,
        approved_revision=row.approved_revision or None,
        changed_values=row.changed_values,
        by_name=row.by_name or None,
        decided_at=row.decided_at,
        reason=row.reason or None,
    )


def _known(e: ApprovalRecorded) -> KnownDecision:
    return KnownDecision(
        e.dataset,
        e.unit_id,
        e.report_date,
        e.action,
        e.approval_id,
        e.by_name,
        e.by_unit,
        e.decided_at,
    )
