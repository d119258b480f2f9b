"""Words and number formats of the brief, in Vietnamese and English."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

Lang = Literal["vi", "en"]
Rows = list[tuple[str, ...]]
#: At most this many names in a sentence or rows in a list (a national brief has thousands).
MAX_NAMES, MAX_ROWS = 60, 80

#: Every fixed phrase of the document: key -> (Vietnamese, English).
LABELS: dict[str, tuple[str, str]] = {
    "title": ("BÁO CÁO NHANH TÌNH HÌNH DỊCH COVID-19", "DAILY COVID-19 SITUATION BRIEF"),
    "committee": ("Ban Chỉ đạo phòng, chống dịch COVID-19", "COVID-19 Steering Committee"),
    "day": ("Ngày", "Day"),
    "cutoff": ("Số liệu tính đến {time} ngày {day}", "Figures as of {time} on {day}"),
    "generated": ("Lập lúc {time} ngày {day}", "Generated at {time} on {day}"),
    "version": ("Phiên bản {n}", "Version {n}"),
    "completeness": (
        "{name}: {received}/{expected} đơn vị đã báo cáo; {late} báo cáo trễ;"
        " {missing} chưa báo cáo",
        "{name}: {received}/{expected} units reported; {late} late; {missing} not reported",
    ),
    "s_cases": ("1. Tình hình ca mắc", "1. Cases"),
    "s_where": ("2. Địa bàn có ca mắc", "2. Where"),
    "s_signals": ("3. Cảnh báo và cấp độ dịch", "3. Signals and epidemic levels"),
    "s_testing": ("4. Xét nghiệm", "4. Testing"),
    "s_vaccination": ("5. Tiêm chủng", "5. Vaccination"),
    "s_checkpoints": ("6. Chốt kiểm soát", "6. Checkpoints"),
    "s_compliance": ("7. Tình hình báo cáo", "7. Reporting compliance"),
    "s_late": ("8. Bổ sung sau khi rà soát", "8. Late additions (after the cut-off)"),
    "s_charts": ("9. Biểu đồ", "9. Charts"),
    "col_figure": ("Chỉ số", "Figure"),
    "col_today": ("Hôm nay", "Today"),
    "col_change": ("So với hôm qua", "vs yesterday"),
    "col_avg": ("TB 7 ngày", "7-day avg"),
    "col_units": ("Đơn vị báo cáo", "Units reporting"),
    "col_unit": ("Đơn vị", "Unit"),
    "col_area": ("Địa bàn", "Area"),
    "col_community": ("Ca cộng đồng", "Community"),
    "col_unknown": ("Chưa rõ nguồn", "Unknown source"),
    "col_new": ("Mới", "New"),
    "col_note": ("Ghi chú", "Note"),
    "col_level": ("Cấp độ", "Level"),
    "col_previous": ("Hôm trước", "Before"),
    "col_why": ("Lý do", "Why"),
    "col_band": ("Nhóm tuổi", "Age band"),
    "col_population": ("Dân số", "Population"),
    "col_dose1": ("Mũi 1 (cộng dồn)", "Dose 1 (total)"),
    "col_dose2": ("Mũi 2 (cộng dồn)", "Dose 2 (total)"),
    "col_pct": ("%", "%"),
    "col_time": ("Thời điểm", "Time"),
    "col_kind": ("Loại", "Kind"),
    "col_changes": ("Thay đổi", "Changes"),
    "col_expected": ("Phải báo cáo", "Expected"),
    "col_on_time": ("Đúng hạn", "On time"),
    "col_late": ("Trễ", "Late"),
    "col_missing": ("Chưa báo cáo", "Not reported"),
    "summary_cases": (
        "Trong ngày ghi nhận {new} ca mắc mới: {community} ca cộng đồng, {quarantined} ca đã"
        " được cách ly, {unknown} ca chưa rõ nguồn lây; {deaths} ca tử vong.",
        "{new} new cases today: {community} in the community, {quarantined} already in"
        " quarantine, {unknown} of unknown source; {deaths} deaths.",
    ),
    "not_reported": ("chưa có báo cáo", "not reported"),
    "no_places": ("Không ghi nhận ca mắc trong cộng đồng.", "No community cases."),
    "districts_with": ("Địa bàn có ca cộng đồng: {names}.", "Areas with community cases: {names}."),
    "new_mark": ("mới", "new"),
    "no_signals": ("Không có cảnh báo đang hoạt động.", "No active signals."),
    "signals_intro": ("Cảnh báo đang hoạt động:", "Active signals:"),
    "level_changes": ("Thay đổi cấp độ dịch:", "Level changes:"),
    "level_change": (
        "{name}: cấp {before} → cấp {after}. {why}",
        "{name}: level {before} → level {after}. {why}",
    ),
    "no_level_changes": ("Không có thay đổi cấp độ dịch.", "No level changes."),
    "unconfirmed": ("ngưỡng chưa xác nhận từ văn bản", "threshold not confirmed from the text"),
    "doses_today": ("Mũi tiêm trong ngày", "Doses given today"),
    "coverage": ("Độ bao phủ cộng dồn theo nhóm tuổi", "Cumulative coverage by age band"),
    "target": (
        "Người từ 18 tuổi tiêm đủ 2 mũi: {pct} (mục tiêu ≥ {target} %: {verdict}).",
        "Adults (18+) with two doses: {pct} (target ≥ {target} %: {verdict}).",
    ),
    "met": ("đạt", "met"),
    "not_met": ("chưa đạt", "not met"),
    "estimated": (
        "Số dân theo nhóm tuổi là số ước tính, chưa phải số liệu chính thức.",
        "The population by age band is an estimate, not an official figure.",
    ),
    "unknown_population": ("chưa có số dân theo nhóm tuổi", "population by age not known"),
    "on_time_names": ("Đúng hạn ({n}): {names}.", "On time ({n}): {names}."),
    "late_names": ("Trễ hạn ({n}):", "Late ({n}):"),
    "missing_names": ("Chưa báo cáo ({n}):", "Not reported ({n}):"),
    "none": ("không có", "none"),
    "by_area": ("Theo địa bàn", "By area"),
    "no_late": (
        "Không có báo cáo bổ sung sau thời điểm chốt số liệu.",
        "No reports came in after the cut-off.",
    ),
    "late_report": ("Báo cáo trễ", "Late report"),
    "correction": ("Điều chỉnh", "Correction"),
    "after_review": (
        "Sau khi bổ sung: {new} ca mắc mới ({community} ca cộng đồng).",
        "With the additions: {new} new cases ({community} in the community).",
    ),
    "chart_cases": ("Ca mắc mới 14 ngày và trung bình 7 ngày", "New cases, 14 days, 7-day average"),
    "chart_positivity": ("Tỷ lệ dương tính RT-PCR (%)", "RT-PCR positivity (%)"),
    "chart_vaccine": ("Mũi tiêm cộng dồn", "Cumulative vaccine doses"),
    "legend_cases": ("Ca mắc mới", "New cases"),
    "legend_community": ("Ca cộng đồng", "Community cases"),
    "legend_avg": ("Trung bình 7 ngày", "7-day average"),
    "legend_dose1": ("Mũi 1", "Dose 1"),
    "legend_dose2": ("Mũi 2", "Dose 2"),
    "footer": (
        "baocao · số liệu từ kho dữ liệu báo cáo, không nhập lại bằng tay",
        "baocao · figures from the reporting warehouse, never re-typed",
    ),
    "page": ("Trang {n}", "Page {n}"),
    "and_more": ("… và {n} đơn vị khác", "… and {n} more units"),
}


def nfc(text: str) -> str:
    """The text in Unicode NFC: one code point per accented Vietnamese letter."""
    return unicodedata.normalize("NFC", text)


def label(key: str, lang: Lang, **fields: object) -> str:
    vi, en = LABELS[key]
    return nfc((vi if lang == "vi" else en).format(**fields))


def pick(vi: str, en: str, lang: Lang) -> str:
    return nfc(vi if lang == "vi" else en)


def _local(text: str, lang: Lang) -> str:
    # Vietnamese writes 1.286.751 and 0,7; English 1,286,751 and 0.7.
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


def number(value: float | None, lang: Lang, places: int = 0) -> str:
    """A figure for reading: thousands grouped, ``places`` decimals; '–' when unknown."""
    if value is None:
        return "–"
    if places == 0:
        return _local(f"{round(value):,}", lang)
    return _local(f"{value:,.{places}f}", lang)


def percent(value: float | None, lang: Lang, places: int = 1) -> str:
    return "–" if value is None else f"{number(value, lang, places)} %"


def change(value: float | None, lang: Lang, places: int = 0) -> str:
    """A difference with its sign: "+3", "−2" (a real minus), "0"."""
    if value is None:
        return "–"
    if round(value, places) == 0:
        return "0"
    sign = "+" if value > 0 else "−"
    return sign + number(abs(value), lang, places)


def day_text(day: date) -> str:
    """27/7/2021, as the bulletins write it."""
    return f"{day.day}/{day.month}/{day.year}"


def time_text(at: datetime) -> str:
    return at.strftime("%H:%M")


def names_list(names: Sequence[str], lang: Lang) -> str:
    """Names joined by commas, at most ``MAX_NAMES`` of them, the rest counted."""
    if not names:
        return label("none", lang)
    shown = ", ".join(names[:MAX_NAMES])
    more = len(names) - MAX_NAMES
    return shown + (" " + label("and_more", lang, n=more) if more > 0 else "")


def capped(rows: Rows, total: int, lang: Lang) -> Rows:
    """``rows`` (the first of ``total``), with a last row counting the others."""
    if total <= len(rows):
        return rows
    width = len(rows[0])
    return [*rows, (label("and_more", lang, n=total - len(rows)), *([""] * (width - 1)))]
