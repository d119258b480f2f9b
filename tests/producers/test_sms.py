"""Reports by text message: the format file, the parser on real-looking messages, the replies."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.reasons import Reason
from contract.sms_format import SmsFormat, fold
from producers.http.models import Decision, ReceiptOut
from producers.http.phones import national, normalise
from producers.http.receipts import decided
from producers.sms import (
    SMS_LENGTH,
    HelpQuery,
    SmsReport,
    StatusQuery,
    ascii_text,
    check_examples,
    fit,
    help_reply,
    in_keys,
    not_taken_reply,
    parse,
    receipt_reply,
    refused_reply,
)

TODAY = date(2021, 7, 27)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def fmt(catalog: Catalog) -> SmsFormat:
    return SmsFormat.load(catalog)


def report(fmt: SmsFormat, text: str, today: date = TODAY) -> SmsReport:
    found = parse(text, fmt, today)
    assert isinstance(found, SmsReport), found
    return found


def codes(fmt: SmsFormat, text: str, today: date = TODAY) -> list[str]:
    found = parse(text, fmt, today)
    assert isinstance(found, list), found
    return [r.code for r in found]


# ---------------------------------------------------------------- messages understood

BC = "district-daily"
CK = "checkpoint-daily"
FULL = {"cases_new": 3, "cases_community": 1, "tests_pcr": 420, "tests_pcr_positive": 3}


@pytest.mark.parametrize(
    ("text", "dataset", "day", "values"),
    [
        # the documented shape, and what people make of it on a basic phone
        ("BC 27/7 CM=3 CD=1 PCR=420 DT=3", BC, TODAY, FULL),
        ("bc 27/7 cm=3 cd=1 pcr=420 dt=3", BC, TODAY, FULL),
        ("Bc 27/07 Cm=3 Cđ=1 Pcr=420 Dt=3", BC, TODAY, FULL),
        ("BC 27/07/2021 CM:3, CD:1, PCR:420, DT:3", BC, TODAY, FULL),
        ("BC 27/7/21 CM 3 CD 1 PCR 420 DT 3", BC, TODAY, FULL),
        ("BC CM3 CD1 PCR420 DT3", BC, TODAY, FULL),  # glued: keys ending in a letter
        ("BC, CM = 3 ; CD = 1 ; PCR = 420 ; DT = 3.", BC, TODAY, FULL),
        ("  BC\n27/7\nCM=3\nCD=1\nPCR=420\nDT=3  ", BC, TODAY, FULL),  # one per line
        ("BAOCAO 27/7 CM=3 CD=1 PCR=420 DT=3", BC, TODAY, FULL),  # the alias
        ("BC NGÀY 26/7 CM=3 CD=1 PCR=420 DT=3", BC, date(2021, 7, 26), FULL),
        ("bc ngay 26-07-2021 cm=3 cd=1 pcr=420 dt=3", BC, date(2021, 7, 26), FULL),
        ("BC 26.7 CM=3 CD=1 PCR=420 DT=3", BC, date(2021, 7, 26), FULL),
        ("BC 2021-07-26 CM=3 CD=1 PCR=420 DT=3", BC, date(2021, 7, 26), FULL),
        ("BC CM=03 CD=01 PCR=0420 DT=3", BC, TODAY, FULL),  # leading zeros
        ("ＢＣ ＣＭ＝３", BC, TODAY, {"cases_new": 3}),  # full-width, from a phone keyboard
        (
            "BC F1=12 CLN=40 CLT=7 DTN=2",
            BC,
            TODAY,
            {
                "f1_new": 12,
                "home_isolation": 40,
                "centralized_quarantine": 7,
                "f0_home_treatment": 2,
            },
        ),
        (
            "BC CL2 CLN5 CLT9",
            BC,
            TODAY,
            {
                "cases_quarantined": 2,
                "home_isolation": 5,
                "centralized_quarantine": 9,
            },
        ),  # the longest key wins: CLN5 is CLN=5, not CL=N5
        (
            "BC TN 40 TND 0 TV 0",
            BC,
            TODAY,
            {
                "tests_antigen": 40,
                "tests_antigen_positive": 0,
                "deaths": 0,
            },
        ),
        (
            "BC M1T18=1200 M2T18=800 MNT65=15",
            BC,
            TODAY,
            {
                "vaccine_dose1.age_18_49": 1200,
                "vaccine_dose2.age_18_49": 800,
                "vaccine_booster.age_65_plus": 15,
            },
        ),
        (
            "bc m1t12: 30, m1t15: 25",
            BC,
            TODAY,
            {
                "vaccine_dose1.age_12_14": 30,
                "vaccine_dose1.age_15_17": 25,
            },
        ),
        (
            "CK 27/7 NG=850 XE=310 VD=12 CL=2 TN=40 TND=0 VP=1",
            CK,
            TODAY,
            {
                "people_screened": 850,
                "vehicles_screened": 310,
                "from_epidemic_areas": 12,
                "sent_to_quarantine": 2,
                "tests_antigen": 40,
                "tests_antigen_positive": 0,
                "violations": 1,
            },
        ),
        ("chot ng850 xe310", CK, TODAY, {"people_screened": 850, "vehicles_screened": 310}),
        ("CK NG=+850", CK, TODAY, {"people_screened": 850}),
    ],
)
def test_messages_people_send_are_read(
    fmt: SmsFormat,
    text: str,
    dataset: str,
    day: date,
    values: dict[str, int],
) -> None:
    found = report(fmt, text)
    assert (found.command.dataset, found.report_date, found.values) == (dataset, day, values)


def test_a_message_without_a_date_is_today_s(fmt: SmsFormat) -> None:
    found = report(fmt, "BC CM=3")
    assert (found.report_date, found.dated) == (TODAY, False)
    assert report(fmt, "BC 27/7 CM=3").dated


def test_a_day_without_a_year_is_the_nearest_one(fmt: SmsFormat) -> None:
    """31/12 sent on 1 January is last year's; 1/1 sent on 31 December is refused as future."""
    assert report(fmt, "BC 31/12 CM=1", date(2022, 1, 1)).report_date == date(2021, 12, 31)
    assert report(fmt, "BC 2/1 CM=1", date(2022, 1, 5)).report_date == date(2022, 1, 2)
    assert codes(fmt, "BC 1/1 CM=1", date(2021, 12, 31)) == ["future_date"]
    assert report(fmt, "BC 29/2 CM=1", date(2024, 3, 2)).report_date == date(2024, 2, 29)


def test_the_fields_are_a_json_report(fmt: SmsFormat) -> None:
    fields = report(fmt, "BC 26/7 CM=3 M1T18=5").fields("173", "rid")
    assert fields == {
        "report_id": "rid",
        "dataset": BC,
        "unit_id": "173",
        "report_date": "2021-07-26",
        "values": {"cases_new": 3, "vaccine_dose1.age_18_49": 5},
    }


@pytest.mark.parametrize(
    ("text", "short_id"),
    [
        ("TT 1a2b", "1a2b"),
        ("tt 1A2B", "1a2b"),
        ("TT: 1a2b.", "1a2b"),
        ("Tt 1a2b3c4d-5e6f", "1a2b3c4d5e6f"),
        ("TT", None),
    ],
)
def test_the_status_command(fmt: SmsFormat, text: str, short_id: str | None) -> None:
    assert parse(text, fmt, TODAY) == StatusQuery(short_id)


def test_the_help_command_lists_the_commands_or_one_command_s_keys(fmt: SmsFormat) -> None:
    every = parse("hđ", fmt, TODAY)  # diacritics and case ignored, like every word
    assert every == HelpQuery(None)
    assert help_reply(fmt, every) == (
        "Lenh: BC, CK. VD: BC 27/7 CM=3 CD=1 PCR=420 DT=3. TT <ma>: trang thai. "
        "HD <lenh>: cac ma, vd HD BC"
    )
    one = parse("HD ck", fmt, TODAY)
    assert one == HelpQuery(fmt.command_named("CK"))
    assert help_reply(fmt, one) == "CK [ngay] ma=so: NG XE VD CL TN TND VP"
    long = help_reply(fmt, parse("HD BC", fmt, TODAY))  # BC has more keys than fit
    assert long.startswith("BC [ngay] ma=so: CM CD CL KR TV F1") and len(long) <= SMS_LENGTH
    (unknown,) = parse("HD BX", fmt, TODAY)  # type: ignore[misc]
    assert unknown.code == "unknown_command" and "HD" in unknown.message_en


# ---------------------------------------------------------------- every way to get it wrong


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["empty_message"]),
        ("   \n ", ["empty_message"]),
        (" , ; = ", ["empty_message"]),
        ("BX 27/7 CM=3", ["unknown_command"]),
        ("CM=3 CD=1", ["unknown_command"]),  # the command word forgotten
        ("BC27/7 CM=3", ["unknown_command"]),  # no space after the word
        ("BÁO CÁO 27/7 CM=3", ["unknown_command"]),  # two words: BAO is no command
        ("BC", ["no_values"]),
        ("BC 27/7", ["no_values"]),
        ("BC CN=3", ["unknown_key"]),
        ("BC XYZ 5 CM=3", ["unknown_key"]),  # the 5 is XYZ's, not a second problem
        ("BC PCRR=420", ["unknown_key"]),
        ("BC NG=850", ["unknown_key"]),  # a checkpoint key under BC
        ("BC F112", ["needs_separator"]),  # F1 ends in a digit: F1=12
        ("BC M1T181200", ["needs_separator"]),
        ("BC CM=3 CM=4", ["repeated_key"]),
        ("BC cm3 CM 3", ["repeated_key"]),  # the same key, written twice differently
        ("BC CM=3 CD=", ["missing_value"]),
        ("BC CM CD=1", ["missing_value"]),
        ("BC CM=abc", ["missing_value", "unknown_key"]),
        ("BC PCR=42O", ["not_a_number"]),  # the letter O for a zero
        ("BC PCR=1.200", ["not_a_number"]),  # a thousands dot
        ("BC PCR=1,200", ["value_without_key"]),  # a thousands comma: PCR=1, then 200
        ("BC CM=3 5", ["value_without_key"]),
        ("BC CM=-3", ["negative_value"]),
        ("BC CM-3", ["negative_value"]),
        ("BC CM=99999999999999999", ["too_large"]),
        ("BC 32/7 CM=3", ["bad_date"]),
        ("BC 31/6 CM=3", ["bad_date"]),
        ("BC 27/13 CM=3", ["bad_date"]),
        ("BC 27/7/202 CM=3", ["bad_date"]),
        ("BC 2021-02-30 CM=3", ["bad_date"]),
        ("BC NGAY CM=3", ["bad_date"]),
        ("BC 28/7 CM=3", ["future_date"]),
        ("BC 27/7/2022 CM=3", ["future_date"]),
        ("BC CM=3 27/7", ["date_not_first"]),
        ("TT xyz", ["bad_short_id"]),
        ("TT 1a2b 3c4d", ["bad_short_id"]),
        # several at once: every one is said, in order
        (
            "BC 32/7 CN=3 CM=-1 PCR=4O DT CD=2 CD=1",
            [
                "bad_date",
                "unknown_key",
                "negative_value",
                "not_a_number",
                "missing_value",
                "repeated_key",
            ],
        ),
    ],
)
def test_every_error_is_said(fmt: SmsFormat, text: str, expected: list[str]) -> None:
    assert codes(fmt, text) == expected


def test_reasons_are_bilingual_and_name_the_key(fmt: SmsFormat) -> None:
    found = parse("BC CN=3 PCR=42O", fmt, TODAY)
    assert isinstance(found, list)
    unknown, not_number = found
    assert unknown.field == "CN" and not_number.field == "PCR"
    assert not_number.fields == ["tests_pcr"]
    for r in found:
        assert r.message_vi != r.message_en and r.message_vi and r.message_en
    assert "có phải" in unknown.message_vi and "did you mean" in unknown.message_en


def test_an_unknown_key_suggests_the_closest(fmt: SmsFormat) -> None:
    (reason,) = parse("BC PCRR=420", fmt, TODAY)  # type: ignore[misc]
    assert reason.message_en == "BC has no key PCRR; did you mean PCR?"
    (reason,) = parse("CK NGG=850", fmt, TODAY)  # type: ignore[misc]
    assert "NG" in reason.message_en
    (reason,) = parse("BC QQQQQ=1", fmt, TODAY)  # type: ignore[misc]
    assert reason.message_en == "BC has no key QQQQQ."


def test_an_unknown_command_suggests_one_and_lists_them(fmt: SmsFormat) -> None:
    (reason,) = parse("BX CM=3", fmt, TODAY)  # type: ignore[misc]
    assert reason.message_en == "Unknown command BX; did you mean BC? Commands: BC, CK, TT, HD"
    assert reason.message_vi == "Không có lệnh BX, có phải BC? Lệnh: BC, CK, TT, HD"


def test_a_key_ending_in_a_digit_says_how_to_write_it(fmt: SmsFormat) -> None:
    (reason,) = parse("BC F112", fmt, TODAY)  # type: ignore[misc]
    assert reason.message_vi.startswith("Viết F1=12")
    assert reason.fields == ["f1_new"]


def test_folding_drops_case_and_diacritics() -> None:
    assert fold("cđ Đt Ðx mũi nhắc") == "CD DT DX MUI NHAC"


# ---------------------------------------------------------------- the format file

ONE = """
[[commands]]
word = "BC"
dataset = "district-daily"
[commands.keys]
CM = "cases_new"
"""


def bad(catalog: Catalog, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        SmsFormat.parse(text, catalog, "test.toml")
    message = str(caught.value)
    assert message.startswith("định dạng tin nhắn test.toml không hợp lệ / SMS format")
    return message


def test_the_built_in_format_loads_and_its_examples_parse(fmt: SmsFormat) -> None:
    assert [c.word for c in fmt.commands] == ["BC", "CK"]
    assert fmt.status_word == "TT"
    check_examples(fmt, TODAY)
    for command in fmt.commands:
        assert report(fmt, command.example).command is command


def test_every_built_in_key_reaches_a_value_key(fmt: SmsFormat, catalog: Catalog) -> None:
    for command in fmt.commands:
        dataset = catalog.get(command.dataset)
        assert dataset is not None
        assert set(command.keys.values()) == catalog.allowed_keys(dataset), command.word


def test_a_small_format_with_aliases(catalog: Catalog) -> None:
    text = ONE.replace('word = "BC"', 'word = "bc"\naliases = ["báo"]') + 'F0 = "cases_new"\n'
    small = SmsFormat.parse(text, catalog)
    assert small.command_named("BAO") is small.command_named("BC")
    assert codes(small, "BAO CM=1 F0=1") == ["repeated_key"]  # two keys, one value
    (reason,) = parse("BC CM=1 F0=1", small, TODAY)  # type: ignore[misc]
    assert reason.message_en == "F0 and CM are the same value; give it once."


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[[commands]\nword=", "bad TOML"),
        ('status_word = "TT"', "needs at least one [[commands]]"),
        (ONE + "extra = 1\n", "extra: must be a value key"),  # under [commands.keys]
        (ONE.replace("district-daily", "district-dialy"), "no dataset 'district-dialy'"),
        (ONE.replace('"cases_new"', '"cases_nw"'), "did you mean cases_new?"),
        (ONE.replace('"cases_new"', '"vaccine_dose1"'), "not a value key of district-daily"),
        (ONE.replace('word = "BC"', 'word = "B C"'), "is not a word"),
        (ONE + '"CĐ" = "cases_community"\ncd = "deaths"\n', "same key as CĐ"),
        (ONE + 'CM1 = "deaths"\n', "starts with the key CM and a digit"),
        (ONE + 'NGAY = "deaths"\n', "NGAY is kept for the date"),
        (ONE + '"C.M" = "deaths"\n', "a key is a letter, then letters or digits"),
        (ONE + ONE, "the word BC is already used"),
        (ONE + ONE.replace('"BC"', '"BD"'), "dataset district-daily already has a command"),
        ('status_word = "BC"\n' + ONE, "the word BC is already used by status_word"),
        ('help_word = "BC"\n' + ONE, "the word BC is already used by help_word"),
        ('help_word = "TT"\n' + ONE, "the word TT is already used"),
        ("colour = 1\n" + ONE, "colour: unknown setting"),
        (ONE.replace("[commands.keys]", "colour = 1\n[commands.keys]"), "unknown setting"),
    ],
)
def test_a_bad_format_file_is_refused_in_both_languages(
    catalog: Catalog, text: str, said: str
) -> None:
    message = bad(catalog, text)
    assert said in message, message
    problems = message.splitlines()[1:]  # each: "  - in Vietnamese", "    in English"
    assert len(problems) % 2 == 0, message
    for vi, en in zip(problems[::2], problems[1::2], strict=True):
        assert vi.startswith("  - ") and en.startswith("    ") and vi[4:] != en[4:], message


def test_a_format_path_that_does_not_exist(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        SmsFormat.load(catalog, tmp_path / "sms.toml")


def test_an_example_that_does_not_parse_is_refused(catalog: Catalog) -> None:
    small = SmsFormat.parse(
        ONE.replace("[commands.keys]", 'example = "BC CX=1"\n[commands.keys]'), catalog
    )
    with pytest.raises(ConfigError, match="the example of command BC does not parse"):
        check_examples(small, TODAY)


# ---------------------------------------------------------------- replies

ASCII_SMS = re.compile(r"^[\x20-\x7e]{1,160}$")


def receipt(status: str, **decision: object) -> ReceiptOut:
    out = ReceiptOut(
        report_id="1a2b3c4d-0000-4000-8000-000000000000",
        unit_id="173",
        dataset=BC,
        report_date=TODAY,
        submitted_at=datetime(2021, 7, 27, 10, tzinfo=TZ),
        submitted_by="sms:+84912345678",
        status="received" if status in ("accepted", "rejected") else status,  # type: ignore[arg-type]
    )
    if status in ("accepted", "rejected"):
        return decided(out, Decision.model_validate({"status": status, **decision}))
    return decided(out, None)


def test_replies_for_each_status(fmt: SmsFormat) -> None:
    assert receipt_reply(fmt, receipt("received")) == (
        'BC 27/07 DA NHAN (ma 1a2b). Kiem tra: gui "TT 1a2b"'
    )
    assert receipt_reply(fmt, receipt("queued")).startswith("BC 27/07 DA LUU (ma 1a2b)")
    accepted = receipt("accepted", revision=1, timeliness="on_time")
    assert receipt_reply(fmt, accepted) == "BC 27/07 DA CHAP NHAN, DUNG HAN (ma 1a2b, lan 1)."
    late = receipt("accepted", revision=2, timeliness="late")
    assert receipt_reply(fmt, late) == "BC 27/07 DA CHAP NHAN, TRE HAN (ma 1a2b, lan 2)."
    error = {
        "rule_id": "reason_required",
        "severity": "error",
        "message_vi": "Sửa báo cáo sau 15:00 phải ghi lý do.",
        "message_en": "A correction after 15:00 must give a reason.",
    }
    rejected = receipt_reply(fmt, receipt("rejected", errors=[error]))
    assert rejected == "BC 27/07 BI TU CHOI (ma 1a2b): Sua bao cao sau 15:00 phai ghi ly do."


def test_a_warning_and_a_rule_speak_in_sms_keys(fmt: SmsFormat) -> None:
    warning = {
        "rule_id": "cases_le_positives",
        "severity": "warning",
        "message_vi": "Số ca mắc mới lớn hơn tổng số mẫu dương tính trong ngày, đề nghị kiểm "
        "tra. [cases_new = 9; tests_pcr_positive + tests_antigen_positive = 3]",
        "message_en": "New cases exceed the day's positive tests.",
    }
    text = receipt_reply(
        fmt, receipt("accepted", revision=1, timeliness="on_time", warnings=[warning])
    )
    assert text.startswith("BC 27/07 DA CHAP NHAN, DUNG HAN (ma 1a2b, lan 1). Canh bao: So ca")
    assert ASCII_SMS.match(text), text
    command = fmt.command_named("BC")
    assert in_keys("[cases_new = 9; tests_pcr_positive + x = 3]", command) == "[CM = 9; DT + x = 3]"


def test_every_refusal_fits_one_ascii_sms(fmt: SmsFormat) -> None:
    many = parse("BC 32/7 CN=3 CM=-1 PCR=4O DT DT=2 XX YY ZZ 1.2 3.4", fmt, TODAY)
    assert isinstance(many, list) and len(many) > 5
    text = refused_reply(many)
    assert ASCII_SMS.match(text), text
    assert re.search(r"\(\+\d+ loi\)$", text), text
    assert text.startswith("Tin sai: Ngay '32/7' khong dung")
    for message in ("", "BX", "BC", "BC CN=1", "BC 28/7 CM=1", "TT zz"):
        found = parse(message, fmt, TODAY)
        assert isinstance(found, list)
        assert ASCII_SMS.match(refused_reply(found)), message


def test_a_report_not_taken_names_its_day(fmt: SmsFormat) -> None:
    parsed = report(fmt, "BC 26/7 CM=1 CD=5")
    why = Reason.of(
        "case_breakdown_le_cases",
        "",
        "Tổng ca cộng đồng … không được lớn hơn số ca mắc mới. "
        "[cases_community + cases_quarantined + cases_unknown_source = 5; cases_new = 1]",
        "…",
    )
    text = not_taken_reply(parsed, [why])
    assert text == (
        "BC 26/07 KHONG NHAN: Tong ca cong dong ... khong duoc lon hon so ca mac moi. "
        "[CD + CL + KR = 5; CM = 1]"
    )


def test_ascii_and_fit() -> None:
    assert ascii_text("Đã nhận – “tốt” …") == 'Da nhan - "tot" ...'
    assert ascii_text("số 😀 ca") == "so  ca"
    long = fit("một " * 100)
    assert len(long) <= SMS_LENGTH and long.endswith("..") and long.isascii()
    assert fit("ngắn") == "ngan"


# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("091-234-5678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084912345678", "+84912345678"),
        ("(+84) 0912.345.678", "+84912345678"),
        ("912345678", "+84912345678"),  # a gateway that drops the 0
        ("0327654321", "+84327654321"),
        ("02083851234", "+842083851234"),  # a fixed line in Thái Nguyên
        ("+85621234567", "+85621234567"),  # Laos, written in full
        ("12345", None),
        ("0112345678", None),  # not a Vietnamese prefix
        ("091234567", None),  # one digit short
        ("VIETTEL", None),  # an alphanumeric sender
        ("", None),
        ("+84 ９12345678", None),  # digits of another script are not guessed
    ],
)
def test_phone_numbers_have_one_form(raw: str, number: str | None) -> None:
    assert normalise(raw) == number


def test_a_number_as_people_write_it() -> None:
    assert national("+84912345678") == "0912345678"
    assert national("+85621234567") == "+85621234567"


def test_the_guide_names_every_built_in_word_and_key(fmt: SmsFormat) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "sms.md").read_text("utf-8")
    for command in fmt.commands:
        for word in command.words:
            assert f"`{word}`" in guide, word
        for key, target in command.keys.items():
            if re.fullmatch(r"M[12N]T(12|15|18|50|65)", key):
                continue  # the age bands are described as a scheme: M1 … MN, T12 … T65
            assert f"`{key}`" in guide and f"`{target}`" in guide, key
