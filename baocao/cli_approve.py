"""``baocao approve``: list a day's reports to review, then approve, accept or return them.

It talks to the warehouse service's API over HTTP (``GET``/``POST /api/v1/approvals``)
with a reviewer's token (role ``approve``), like the form does: the service judges each
unit and puts the decisions on the ``approvals`` topic.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from typing import Any

import click

STATES = {
    "not_reported": "chưa báo cáo / not reported",
    "submitted": "chờ duyệt / submitted",
    "approved": "đã duyệt / approved",
    "accepted": "tỉnh đã chấp nhận / accepted",
    "returned": "đã trả lại / returned",
    "reopened": "sửa sau duyệt / reopened",
}
TIMELINESS = {"on_time": "đúng hạn / on time", "late": "trễ / late"}
DONE = {
    "approve": "đã duyệt / approved",
    "accept": "đã chấp nhận / accepted",
    "return": "đã trả lại / returned",
}

EXAMPLES = """\b
Ví dụ / examples:
  baocao approve --dataset district-daily --date 2021-07-27 --list
  baocao approve --dataset checkpoint-daily --date 2021-07-27 --unit CP-19-01 --unit CP-19-02
  baocao approve --dataset checkpoint-daily --date 2021-07-27 --all
  baocao approve --dataset checkpoint-daily --date 2021-07-27 --unit CP-19-03 \\
      --return --reason "Số xét nghiệm chưa khớp sổ / test counts do not match the log"
  baocao approve --dataset district-daily --date 2021-07-27 --all --accept   # a province

The token (BAOCAO_TOKEN) needs the approve role: baocao tokens create --unit 173 --role approve.
Exit status: 0 every unit recorded; 1 a unit refused, or the service refused the request.
"""


def _default_api() -> str:
    from contract.settings import Settings

    s = Settings()
    host = "127.0.0.1" if s.http_host in ("", "0.0.0.0", "::") else s.http_host
    return f"http://{host}:{s.http_port}"


def _call(api: str, token: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        api.rstrip("/") + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise click.ClickException(_error_text(exc.code, exc.read())) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(
            f"không kết nối được dịch vụ tại {api} ({exc}); dịch vụ có đang chạy (baocao up)? "
            f"/ cannot reach the service at {api} ({exc}); is it running (baocao up)?"
        ) from exc


def _error_text(status: int, raw: bytes) -> str:
    try:
        body = json.loads(raw)
        lines = [f"{body['message_vi']} / {body['message_en']} (HTTP {status})"]
        for r in body.get("reasons", []):
            if r.get("message_en") != body["message_en"]:
                lines.append(f"  {r['message_vi']} / {r['message_en']}")
        return "\n".join(lines)
    except (ValueError, KeyError, TypeError):
        return f"dịch vụ trả lời HTTP {status} / the service answered HTTP {status}"


def _listing(api: str, token: str, dataset: str, day: date) -> dict[str, Any]:
    query = urllib.parse.urlencode({"dataset": dataset, "date": day.isoformat()})
    found: dict[str, Any] = _call(api, token, "GET", f"/api/v1/approvals?{query}")
    return found


def _table(listing: dict[str, Any]) -> str:
    reviewer = listing["reviewer"]
    head = (
        f"{listing['dataset']} {listing['date']} — người duyệt / reviewer: "
        f"{reviewer['name']} ({reviewer['unit_id']})"
    )
    if not listing["units"]:
        return head + "\nkhông có đơn vị nào để duyệt / no units to review"
    rows = [
        (
            "đơn vị / unit",
            "tên / name",
            "lần / rev",
            "trạng thái / state",
            "hạn / timeliness",
            "giá trị đổi / changed",
            "được làm / can",
        )
    ]
    for u in listing["units"]:
        rows.append(
            (
                u["unit_id"],
                u["name"],
                str(u["revision"] or "-"),
                STATES.get(u["state"], u["state"]),
                TIMELINESS.get(u["timeliness"] or "", "-"),
                str(u["changed_values"]) if u["state"] == "reopened" else "-",
                ",".join(u["can"]) or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    returned = [
        f"  {u['unit_id']}: {u['reason']}" for u in listing["units"] if u["state"] == "returned"
    ]
    tail = ["lý do trả lại / returned because:", *returned] if returned else []
    return "\n".join([head, *lines, *tail])


@click.command(epilog=EXAMPLES)
@click.option(
    "--token",
    envvar="BAOCAO_TOKEN",
    required=True,
    help="a reviewer's token with the approve role (also BAOCAO_TOKEN)",
)
@click.option(
    "--api",
    envvar="BAOCAO_API_URL",
    default=None,
    help="the warehouse service (also BAOCAO_API_URL); default http://BAOCAO_HTTP_HOST:BAOCAO_HTTP_PORT",
)
@click.option("--dataset", required=True, help="dataset code, e.g. district-daily")
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD", help="the reports' day")
@click.option("--unit", "units", multiple=True, help="a unit to decide on; repeat for more")
@click.option("--all", "every", is_flag=True, help="every listed unit the action applies to now")
@click.option("--accept", is_flag=True, help="accept (a province) instead of approve")
@click.option(
    "--return", "give_back", is_flag=True, help="return to the submitter (needs --reason)"
)
@click.option("--reason", default="", help="why it is returned (kept with the decision)")
@click.option("--list", "show", is_flag=True, help="only list the day's reports and their state")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def approve(
    token: str,
    api: str | None,
    dataset: str,
    day: str,
    units: tuple[str, ...],
    every: bool,
    accept: bool,
    give_back: bool,
    reason: str,
    show: bool,
    as_json: bool,
) -> None:
    """Duyệt báo cáo / review reports: approve (a district), accept (the province), return.

    Each unit is judged on its own: a refused one (with why) does not stop the others.
    """
    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise click.BadParameter(
            f"{day!r}: ngày dạng YYYY-MM-DD / a date as YYYY-MM-DD", param_hint="--date"
        ) from exc
    base = api or _default_api()
    if show:
        if units or every or accept or give_back:
            raise click.UsageError(
                "--list chỉ liệt kê, không đi cùng --unit/--all/--accept/--return "
                "/ --list only lists; it takes no --unit, --all, --accept or --return"
            )
        listing = _listing(base, token, dataset, when)
        click.echo(
            json.dumps(listing, ensure_ascii=False, indent=1) if as_json else _table(listing)
        )
        return
    if accept and give_back:
        raise click.UsageError("chọn --accept hoặc --return / choose --accept or --return")
    action = "accept" if accept else "return" if give_back else "approve"
    if action == "return" and not reason.strip():
        raise click.UsageError("--return cần --reason / --return needs a --reason")
    if bool(units) == every:
        raise click.UsageError(
            "nêu đơn vị bằng --unit (lặp lại được) hoặc dùng --all "
            "/ name units with --unit (repeatable) or use --all"
        )
    chosen = list(units)
    seen: dict[str, int] = {}
    if every:
        listing = _listing(base, token, dataset, when)
        chosen = [u["unit_id"] for u in listing["units"] if action in u["can"]]
        # What --all decides on is what the listing showed: a unit corrected in between
        # is refused by the service, to be looked at again.
        seen = {u["unit_id"]: u["revision"] for u in listing["units"] if u["unit_id"] in chosen}
        if not chosen:
            click.echo(f"không có đơn vị nào để {action} / nothing to {action}")
            return
    body = {
        "action": action,
        "dataset": dataset,
        "date": when.isoformat(),
        "units": chosen,
        "reason": reason,
        "revisions": seen,
    }
    result = _call(base, token, "POST", "/api/v1/approvals", body)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        for r in result["recorded"]:
            click.secho(f"{DONE[action]}  {r['unit_id']}  ({r['approval_id']})", fg="green")
        for r in result["refused"]:
            click.secho(
                f"từ chối / refused  {r['unit_id']}: {r['message_vi']} / {r['message_en']}",
                fg="red",
                err=True,
            )
    sys.exit(1 if result["refused"] else 0)


COMMANDS = [approve]
