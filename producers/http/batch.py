"""Take a batch (CSV or .xlsx): check every row (scope, re-sends, rules, policy), then send.

Nothing is sent if any row is refused; every refusal names its row and column
("Dòng 3, cột cases_new: …" / "Line 3, column cases_new: …").
"""

from __future__ import annotations

import csv

from contract.errors import SubmissionError
from contract.events import ReportSubmitted
from contract.reasons import Reason
from producers.csvfile import located
from producers.http import errors
from producers.http.commit import Entry
from producers.http.desk import Caller, Desk, fingerprint
from producers.http.models import ReceiptOut
from producers.http.receipts import of_new
from producers.ingest import preflight
from producers.spreadsheet import parse_upload


def submit_csv(
    desk: Desk, caller: Caller, raw: bytes, filename: str = ""
) -> tuple[int, list[ReceiptOut]]:
    """Check every row of a CSV or .xlsx file, then publish them all, or none.

    ``filename`` (of a multipart upload) only helps name a damaged file's kind.
    """
    try:
        parsed, problems = parse_upload(raw, filename, desk.clock, caller.credential.name)
    except SubmissionError as exc:
        raise errors.invalid(exc.reasons) from exc
    except csv.Error as exc:  # a syntax error the parser did not turn into a reason
        raise errors.invalid(
            [
                Reason(
                    code="csv_syntax",
                    field="file",
                    message_vi=f"Tệp CSV sai cú pháp: {exc}",
                    message_en=f"The CSV file is malformed: {exc}",
                )
            ]
        ) from exc
    if len(parsed) > desk.settings.max_csv_reports:
        raise errors.too_many_reports(len(parsed), desk.settings.max_csv_reports)
    denied: list[Reason] = []
    fresh: list[tuple[int, ReportSubmitted, list[dict[str, object]]]] = []
    known: dict[int, ReceiptOut] = {}
    for line, report in parsed:
        where = f"line {line}"
        try:
            desk.authorize_unit_field(caller, report.unit_id)
            receipt = desk.known_receipt(report, fingerprint(report))
            if receipt is not None:
                known[line] = receipt
                continue
            verdict = preflight(report, desk.registry, desk.catalog, desk.settings.tz)
            desk.check_correction(caller, report)
        except SubmissionError as exc:
            problems += [p.at(f"{where}: ") for p in exc.reasons]
            continue
        except errors.ApiError as exc:
            found = exc.body.reasons or [
                Reason(
                    code=exc.body.error,
                    message_vi=exc.body.message_vi,
                    message_en=exc.body.message_en,
                )
            ]
            target = denied if exc.status == 403 else problems
            target += [r.at(f"{where}: ") for r in found]
            continue
        fresh.append((line, report, [w.model_dump(mode="json") for w in verdict.warnings]))
    if denied:
        raise errors.forbidden(
            "Tệp có dòng cho đơn vị mà tài khoản không được gửi.",
            "The file has rows for units this token may not submit for.",
            located(denied + problems),
        )
    if problems:
        raise errors.invalid(located(problems))
    # One group commit for every row: one transaction, one flush. The rows were checked
    # above; a row whose report_id a concurrent request stored meanwhile is a re-send.
    entries = [Entry(report, fingerprint(report), warnings) for _, report, warnings in fresh]
    outcomes = desk.commits.commit(entries) if entries else []
    receipts = dict(known)
    for (line, report, _), outcome in zip(fresh, outcomes, strict=True):
        if outcome.state == "exists":
            again = desk.known_receipt(report, fingerprint(report), in_flight=True)
            assert again is not None
            receipts[line] = again
        else:
            receipts[line] = of_new(report, outcome)
    states = {o.state for o in outcomes} - {"exists"}
    code = 200 if not states else 201 if states == {"sent"} else 202
    return code, [receipts[line] for line in sorted(receipts)]
