"""`baocao phones`: register, list and remove the numbers that report by SMS."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from baocao.cli import main
from producers.http.phones import PhoneBook


def run(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    env = {"BAOCAO_DATA_DIR": str(tmp_path), "BAOCAO_CHDB_PATH": str(tmp_path / "wh"), **env}
    result = CliRunner().invoke(main, ["phones", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def book(tmp_path: Path) -> list[tuple[str, str, str]]:
    phones = PhoneBook(tmp_path / "phones.sqlite")  # next to tokens.sqlite
    try:
        return [(p.number, p.unit_id, p.name) for p in phones.list()]
    finally:
        phones.close()


def test_add_list_remove(tmp_path: Path) -> None:
    code, out, err = run(
        tmp_path, "add", "--unit", "173", "--number", "0912 345 678", "--name", "chị Lan"
    )
    assert code == 0, err
    assert out.strip() == (
        "0912345678 (+84912345678) registered / đã đăng ký: unit 173 (Huyện Phú Bình); SMS: BC"
    )
    code, out, _ = run(tmp_path, "add", "--unit", "CP-20-01", "--number", "+84 987 654 321")
    assert code == 0 and out.strip().endswith("SMS: CK")
    assert book(tmp_path) == [
        ("+84912345678", "173", "chị Lan"),
        ("+84987654321", "CP-20-01", ""),
    ]

    code, out, _ = run(tmp_path, "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith("0912345678  +84912345678  unit=173 (Huyện Phú Bình)  'chị Lan'")
    code, out, _ = run(tmp_path, "list", "--unit", "CP-20-01")
    assert out.startswith("0987654321  +84987654321  unit=CP-20-01")
    assert len(out.splitlines()) == 1

    code, out, _ = run(tmp_path, "remove", "--number", "84912345678")  # any spelling
    assert code == 0 and out.strip() == "removed / đã xoá 0912345678 (+84912345678)"
    assert book(tmp_path) == [("+84987654321", "CP-20-01", "")]
    code, _, err = run(tmp_path, "remove", "--number", "0912345678")
    assert code == 1 and "is not registered" in err and "chưa đăng ký" in err


def test_every_spelling_is_one_number(tmp_path: Path) -> None:
    for spelling in ("0912345678", "+84912345678", "84912345678", "(+84) 912-345-678"):
        code, out, err = run(tmp_path, "add", "--unit", "173", "--number", spelling)
        assert code == 0, err
    assert book(tmp_path) == [("+84912345678", "173", "")]
    assert "already registered / đã có" in out


def test_a_new_name_for_a_registered_number(tmp_path: Path) -> None:
    run(tmp_path, "add", "--unit", "173", "--number", "0912345678")
    run(tmp_path, "add", "--unit", "173", "--number", "0912345678", "--name", "anh Minh")
    assert book(tmp_path) == [("+84912345678", "173", "anh Minh")]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--unit", "999", "--number", "0912345678"), "unit 999 is not registered"),
        (("--unit", "05908", "--number", "0912345678"), "unit 05908 reports no dataset"),
        (("--unit", "173", "--number", "12345"), "'12345' is not a phone number"),
        (("--unit", "173", "--number", "0112345678"), "is not a phone number"),
    ],
)
def test_what_cannot_be_added(tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    code, _, err = run(tmp_path, "add", *args)
    assert code == 1 and said in err, err
    assert "/" in err  # Vietnamese / English
    assert book(tmp_path) == []


def test_a_number_belongs_to_one_unit(tmp_path: Path) -> None:
    run(tmp_path, "add", "--unit", "173", "--number", "0912345678")
    code, _, err = run(tmp_path, "add", "--unit", "CP-20-01", "--number", "+84912345678")
    assert code == 1
    assert "is registered to unit 173; remove it there first" in err
    assert "đã đăng ký cho đơn vị 173" in err
    assert book(tmp_path) == [("+84912345678", "173", "")]


def test_an_empty_book(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "list")
    assert code == 0 and out == "" and "no numbers registered" in err


def test_a_unit_no_sms_command_covers_is_warned_of(tmp_path: Path) -> None:
    own = tmp_path / "sms.toml"
    own.write_text(
        '[[commands]]\nword = "CK"\ndataset = "checkpoint-daily"\n'
        '[commands.keys]\nNG = "people_screened"\n'
    )
    code, out, err = run(
        tmp_path, "add", "--unit", "173", "--number", "0912345678", BAOCAO_SMS_FORMAT_PATH=str(own)
    )
    assert code == 0 and "registered" in out and "SMS:" not in out
    assert "no SMS command covers this unit's datasets" in err
