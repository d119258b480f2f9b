"""Turn ``baocao submit``'s flags, JSON file or CSV into checked reports and send them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import click

from baocao.context import Context
from contract.errors import Problem, SubmissionError
from contract.events import ReportSubmitted
from producers.csvfile import decode_csv, parse_rows
from producers.ingest import build_report, parse_date, parse_json_report, preflight


def _parse_values(pairs: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(
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
                Problem(
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
            [Problem("usage", "", f"Thiếu {', '.join(missing)}.", f"Missing {', '.join(missing)}.")]
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
            problems.extend(
                Problem(p.code, f"line {line}: {p.field}", p.message_vi, p.message_en)
                for p in exc.problems
            )
    if problems:
        raise SubmissionError(sorted(problems, key=_line_of))
    return [report for _, report in parsed]


def _line_of(problem: Problem) -> int:
    head = problem.field.split(":", 1)[0]
    return int(head.removeprefix("line ")) if head.startswith("line ") else 0


def send_reports(ctx: Context, reports: list[ReportSubmitted], dry_run: bool) -> None:
    """Check every report, then send them all and print a receipt per report."""
    problems: list[Problem] = []
    warnings: dict[str, list[str]] = {}
    for n, report in enumerate(reports, start=1):
        try:
            verdict = preflight(report, ctx.registry, ctx.catalog, ctx.settings.tz)
        except SubmissionError as exc:
            prefix = f"report {n}: " if len(reports) > 1 else ""
            problems.extend(
                Problem(p.code, prefix + p.field, p.message_vi, p.message_en) for p in exc.problems
            )
            continue
        warnings[str(report.report_id)] = [
            f"{w.message_vi} / {w.message_en}" for w in verdict.warnings
        ]
    if problems:
        raise SubmissionError(problems)  # nothing was sent: fix and send again
    if dry_run:
        click.echo(f"{len(reports)} report(s) valid / hợp lệ; nothing sent (--dry-run).")
        return
    from producers.kafka import ReportProducer

    with ReportProducer(ctx.settings) as producer:
        receipts = producer.send(reports)
    for r in receipts:
        click.echo(
            f"received / đã nhận  report_id={r.report_id}  unit={r.unit_id}  "
            f"dataset={r.dataset}  date={r.report_date}  "
            f"(partition {r.partition}, offset {r.offset})"
        )
        for w in warnings.get(r.report_id, []):
            click.secho(f"  warning / cảnh báo: {w}", fg="yellow")
