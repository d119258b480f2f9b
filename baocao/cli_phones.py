"""``baocao phones``: the numbers that may send reports by SMS, each tied to its unit.

The phone book is ``phones.sqlite`` next to the token file (``BAOCAO_DATA_DIR``); the
SMS webhook (``producers/http/sms_routes.py``, docs/sms.md) reads it.
"""

from __future__ import annotations

import click

from baocao import context


def _number(raw: str) -> str:
    from producers.http.phones import normalise

    number = normalise(raw)
    if number is None:
        raise click.ClickException(
            f"{raw!r} không phải số điện thoại (vd. 0912345678, +84912345678) / "
            f"{raw!r} is not a phone number (e.g. 0912345678, +84912345678)"
        )
    return number


@click.group("phones")
def phones_group() -> None:
    """Số điện thoại gửi báo cáo qua tin nhắn / phone numbers that report by SMS."""


@phones_group.command("add")
@click.option("--unit", "unit_id", required=True, help="unit id, e.g. 173 or CP-20-01")
@click.option("--number", "raw", required=True, help="0912345678, +84912345678 or 84912345678")
@click.option("--name", default="", help="who holds the phone, e.g. 'Trạm y tế xã …, chị Lan'")
def phones_add(unit_id: str, raw: str, name: str) -> None:
    """Register a number for a unit: its SMS then report for that unit."""
    from baocao.tokens import tokens_path
    from contract.sms_format import SmsFormat
    from producers.http.phones import PhoneBook, national, phones_path

    ctx = context.load()
    unit = ctx.registry.get(unit_id)
    if unit is None:
        raise click.ClickException(
            f"đơn vị {unit_id} không có trong danh mục / unit {unit_id} is not registered"
        )
    if not unit.datasets:
        raise click.ClickException(
            f"đơn vị {unit_id} ({unit.name}) không phải báo cáo biểu mẫu nào / "
            f"unit {unit_id} reports no dataset"
        )
    number = _number(raw)
    book = PhoneBook(phones_path(tokens_path(ctx.settings)))
    try:
        phone, added = book.add(number, unit.unit_id, name, ctx.clock.now())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        book.close()
    fmt = SmsFormat.load(ctx.catalog, ctx.settings.sms_format_path)
    words = [c.word for c in fmt.commands if c.dataset in unit.datasets]
    state = "registered / đã đăng ký" if added else "already registered / đã có"
    click.echo(
        f"{national(phone.number)} ({phone.number}) {state}: unit {unit.unit_id} ({unit.name})"
        + (f"; SMS: {', '.join(words)}" if words else "")
    )
    if not words:
        click.echo(
            f"chưa có lệnh tin nhắn cho biểu mẫu của đơn vị này ({', '.join(unit.datasets)}) / "
            "no SMS command covers this unit's datasets yet (docs/sms.md)",
            err=True,
        )


@phones_group.command("list")
@click.option("--unit", "unit_id", default=None, help="only this unit's numbers")
def phones_list(unit_id: str | None) -> None:
    """List registered numbers: number, unit, holder, since when."""
    from baocao.tokens import tokens_path
    from producers.http.phones import PhoneBook, national, phones_path

    ctx = context.load()
    book = PhoneBook(phones_path(tokens_path(ctx.settings)))
    try:
        phones = book.list(unit_id)
    finally:
        book.close()
    for p in phones:
        unit = ctx.registry.get(p.unit_id)
        unit_name = unit.name if unit else "không còn trong danh mục / no longer registered"
        holder = f"  {p.name!r}" if p.name else ""
        click.echo(
            f"{national(p.number)}  {p.number}  unit={p.unit_id} ({unit_name}){holder}  "
            f"added {p.added_at}"
        )
    if not phones:
        click.echo("chưa có số nào / no numbers registered", err=True)


@phones_group.command("remove")
@click.option("--number", "raw", required=True, help="the number, in any usual form")
def phones_remove(raw: str) -> None:
    """Remove a number: its SMS are refused from now on."""
    from baocao.tokens import tokens_path
    from producers.http.phones import PhoneBook, national, phones_path

    ctx = context.load()
    number = _number(raw)
    book = PhoneBook(phones_path(tokens_path(ctx.settings)))
    try:
        done = book.remove(number)
    finally:
        book.close()
    if not done:
        raise click.ClickException(
            f"số {national(number)} chưa đăng ký / {number} is not registered"
        )
    click.echo(f"removed / đã xoá {national(number)} ({number})")


COMMANDS = [phones_group]
