"""Turn ``baocao submit``'s flags, JSON file or CSV into checked reports and send them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import click

from baocao.context import Context
from contract.errors import BaocaoError, SubmissionError
from contract.events import ReportSubmitted
from contract.reasons import Reason
from producers.csvfile import decode_csv, parse_rows
from producers.ingest import build_report, parse_date, parse_json_report, preflight

if TYPE_CHECKING:
    from baocao.decisions import Decision, DecisionReader
    from producers.kafka import Receipt


def _parse_values(pairs: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            problems.append(
                Reason.of(
                    "invalid_value", pair, f"{pair!r}: dùng dạng KEY=N.", f"{pair!r}: use KEY=N."
                )
            )
            continue
        try:
            values[key.strip()] = int(raw.strip())
        except ValueError:
            values[key.strip()] = raw.strip()  # the model explains why it is not a count
    if problems:
        raise SubmissionError(problems)
    return values


@dataclass(frozen=True)
class SubmitRequest:
    """What `baocao submit` was asked: flags for one report, a JSON file, or a CSV."""

    submitted_by: str
    dataset: str | None = None
    unit_id: str | None = None
    report_date: str | None = None
    values: tuple[str, ...] = ()
    note: str = ""
    reason: str = ""
    report_id: str | None = None
    json_file: IO[bytes] | None = None
    csv_file: IO[bytes] | None = None


def reports_from_cli(ctx: Context, request: SubmitRequest) -> list[ReportSubmitted]:
    """Build the reports a command line describes; raise SubmissionError on bad input."""
    r = request
    flags = bool(
        r.dataset or r.unit_id or r.report_date or r.values or r.note or r.reason or r.report_id
    )
    sources = sum(x is not None for x in (r.json_file, r.csv_file)) + flags
    if sources != 1:
        raise SubmissionError(
            [
                Reason.of(
                    "usage",
                    "",
                    "Dùng đúng một trong: các cờ --dataset/--unit/--date, --file, --csv.",
                    "Use exactly one of: --dataset/--unit/--date flags, --file, or --csv.",
                )
            ]
        )
    if r.json_file is not None:
        return [parse_json_report(r.json_file.read(), ctx.clock, r.submitted_by)]
    if r.csv_file is not None:
        return _checked_csv(ctx, decode_csv(r.csv_file.read()), r.submitted_by)
    missing = [
        n
        for n, v in (("--dataset", r.dataset), ("--unit", r.unit_id), ("--date", r.report_date))
        if not v
    ]
    if missing:
        raise SubmissionError(
            [
                Reason.of(
                    "usage", "", f"Thiếu {', '.join(missing)}.", f"Missing {', '.join(missing)}."
                )
            ]
        )
    assert r.report_date is not None
    fields: dict[str, Any] = {
        "dataset": r.dataset,
        "unit_id": r.unit_id,
        "report_date": parse_date(r.report_date).isoformat(),
        "values": _parse_values(r.values),
        "note": r.note,
        "reason": r.reason,
    }
    if r.report_id:
        fields["report_id"] = r.report_id
    return [build_report(fields, ctx.clock, r.submitted_by)]


def _checked_csv(ctx: Context, text: str, submitted_by: str) -> list[ReportSubmitted]:
    """Parse a CSV and check every row against the registry and rules in one pass.

    A submitter fixing a spreadsheet wants every problem with its line at once, not a
    second round of errors after the first are fixed.
    """
    parsed, problems = parse_rows(text, ctx.clock, submitted_by)
    for line, report in parsed:
        try:
            preflight(report, ctx.registry, ctx.catalog, ctx.settings.tz)
        except SubmissionError as exc:
            problems.extend(p.at(f"line {line}: ") for p in exc.reasons)
    if problems:
        raise SubmissionError(sorted(problems, key=_line_of))
    return [report for _, report in parsed]


def _line_of(problem: Reason) -> int:
    head = problem.field.split(":", 1)[0]
    return int(head.removeprefix("line ")) if head.startswith("line ") else 0


def send_reports(
    ctx: Context, reports: list[ReportSubmitted], dry_run: bool, wait: float | None = None
) -> int:
    """Check every report, then send them all and print a receipt per report.

    ``wait``: then wait up to that many seconds for the stream's decisions and print
    them. Returns the exit status: 0, or with ``wait`` 1 if a report was rejected and
    3 if one had no decision in time.
    """
    problems: list[Reason] = []
    warnings: dict[str, list[str]] = {}
    for n, report in enumerate(reports, start=1):
        try:
            verdict = preflight(report, ctx.registry, ctx.catalog, ctx.settings.tz)
        except SubmissionError as exc:
            prefix = f"report {n}: " if len(reports) > 1 else ""
            problems.extend(p.at(prefix) for p in exc.reasons)
            continue
        warnings[str(report.report_id)] = [
            f"{w.message_vi} / {w.message_en}" for w in verdict.warnings
        ]
    if problems:
        raise SubmissionError(problems)  # nothing was sent: fix and send again
    if dry_run:
        click.echo(f"{len(reports)} report(s) valid / hợp lệ; nothing sent (--dry-run).")
        return 0
    from producers.kafka import ReportProducer

    reader = _decision_reader(ctx) if wait is not None else None
    try:
        with ReportProducer(ctx.settings) as producer:
            receipts = producer.send(reports)
        _print_receipts(receipts, warnings)
        if reader is None or wait is None:
            return 0
        ids = [r.report_id for r in receipts]
        return _print_decisions(ids, reader.wait(ids, wait), wait)
    finally:
        if reader is not None:
            reader.close()


def _decision_reader(ctx: Context) -> DecisionReader:
    from baocao.decisions import DecisionReader

    try:
        return DecisionReader(ctx.settings)
    except Exception as exc:  # kafka-python's errors, or topics not created yet
        raise BaocaoError(
            f"không đọc được các chủ đề quyết định / cannot read the decision topics: {exc}"
        ) from exc


def _print_receipts(receipts: list[Receipt], warnings: dict[str, list[str]]) -> None:
    for r in receipts:
        click.echo(
            f"received / đã nhận  report_id={r.report_id}  unit={r.unit_id}  "
            f"dataset={r.dataset}  date={r.report_date}  "
            f"(partition {r.partition}, offset {r.offset})"
        )
        for w in warnings.get(r.report_id, []):
            click.secho(f"  warning / cảnh báo: {w}", fg="yellow")


def _print_decisions(report_ids: list[str], found: dict[str, Decision], waited: float) -> int:
    """One line per report (and one per reason); the exit status ``send_reports`` names."""
    status = 0
    for report_id in report_ids:
        d = found.get(report_id)
        if d is None:
            click.secho(
                f"no decision / chưa có quyết định  report_id={report_id}  after {waited:g} s: "
                "a re-send of a report already decided gets none (a duplicate); otherwise "
                "check that a worker runs (baocao status) / báo cáo gửi lại trùng report_id "
                "không có quyết định mới; nếu không, kiểm tra worker (baocao status)",
                fg="yellow",
            )
            status = max(status, 3)
        elif d.accepted:
            timeliness = {"late": "late / trễ hạn", "on_time": "on time / đúng hạn"}
            click.secho(
                f"accepted / đã chấp nhận  report_id={report_id}  revision={d.revision}  "
                f"{timeliness.get(d.timeliness or '', d.timeliness)}",
                fg="green",
            )
        else:
            click.secho(f"rejected / bị từ chối  report_id={report_id}", fg="red")
            status = max(status, 1)
        for rule_id, vi, en in d.reasons if d is not None else []:
            click.echo(f"  {rule_id}: {vi} / {en}")
    return status
