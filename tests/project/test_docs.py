"""The README stays a door, every link in the docs leads somewhere, the settings page is current."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from contract import settings_doc
from contract.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = ("```", "~~~")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
#: An inline link or image: [text](target "title"); the text may hold one level of [ ].
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)"
)
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(text: str) -> list[str]:
    """Return the lines outside fenced code blocks, with code spans blanked out."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(FENCE):
            fenced = not fenced
            continue
        if not fenced:
            out.append(CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (github-slugger's rules)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    # Kept: letters, marks, numbers, connector punctuation ("_"), spaces and hyphens.
    kept = (c for c in text if c in " -" or unicodedata.category(c) in _KEPT)
    return "".join(kept).replace(" ", "-")


_KEPT = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc"}


def anchors(text: str) -> set[str]:
    """Every heading anchor of a Markdown page; repeated headings get -1, -2, …"""
    found: dict[str, int] = {}
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(FENCE):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        base = result = slug(match.group(2))
        while result in found:
            found[base] += 1
            result = f"{base}-{found[base]}"
        found[result] = 0
    return set(found)


def links(text: str) -> list[str]:
    """Every link target outside code, in order; a link's text may span lines."""
    prose = "\n".join(prose_lines(text))
    found = [(m.start(), m.group(1)) for m in INLINE_LINK.finditer(prose)]
    found += [(m.start(), m.group(1)) for m in REFERENCE.finditer(prose)]
    return [target.strip("<>") for _, target in sorted(found)]


def broken_links(page: Path) -> list[str]:
    """Say which relative links of ``page`` lead to no file, or to no heading of one."""
    problems: list[str] = []
    for target in links(page.read_text("utf-8")):
        if SCHEME.match(target):
            continue  # http(s), mailto: not fetched
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not dest.exists():
            problems.append(f"{target}: no such file")
        elif (
            anchor
            and dest.suffix == ".md"
            and unquote(anchor) not in anchors(dest.read_text("utf-8"))
        ):
            problems.append(f"{target}: no heading #{unquote(anchor)} in {dest.name}")
    return problems


def test_the_readme_is_a_door_not_a_library() -> None:
    lines = README.read_text("utf-8").count("\n")
    assert lines <= 200, f"README.md has {lines} lines; move detail to docs/ (≤ 200)"


def test_the_quick_start_is_two_commands() -> None:
    text = README.read_text("utf-8")
    quick = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make up", "make test"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_anchors_follow_githubs_rules() -> None:
    text = "\n".join(
        [
            "# Who may read what / Ai được xem gì",
            "## `quiet_days`: first cases after N quiet days",
            "## Limits",
            "## Limits",
            "```sh",
            "# a comment, not a heading",
            "```",
            "### [Settings](settings.md) (generated)",
        ]
    )
    assert anchors(text) == {
        "who-may-read-what--ai-được-xem-gì",
        "quiet_days-first-cases-after-n-quiet-days",
        "limits",
        "limits-1",
        "settings-generated",
    }


def test_a_broken_link_is_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Hạn báo cáo / Deadlines\n", "utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#hạn-báo-cáo--deadlines) [gone](missing.md) [bad](other.md#nowhere)\n"
        "[self](#top) `[code](not-a-link.md)` [web](https://example.org/x) [two\n"
        "lines](other.md#two-lines)\n"
        "```\n[fenced](also-not-a-link.md)\n```\n"
        "[ref]: ./nope.md\n",
        "utf-8",
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
        "#top: no heading #top in page.md",
        "other.md#two-lines: no heading #two-lines in other.md",
        "./nope.md: no such file",
    ]


def test_the_settings_page_is_current() -> None:
    current = settings_doc.DOC.read_text("utf-8")
    assert settings_doc.render(current) == current, (
        "docs/settings.md is out of date: run `.venv/bin/python -m contract.settings_doc`"
    )


def test_the_settings_page_lists_every_setting_once() -> None:
    grouped = [name for group in settings_doc.groups() for name in group.fields]
    assert sorted(grouped) == sorted(Settings.model_fields)
    text = settings_doc.DOC.read_text("utf-8")
    for name in Settings.model_fields:
        assert text.count(f"| `{settings_doc.variable(name)}` |") == 1, name


def test_every_variable_the_docs_name_is_on_the_settings_page() -> None:
    settings_page = settings_doc.DOC.read_text("utf-8")
    named = {
        name
        for page in PAGES
        for name in re.findall(r"BAOCAO_[A-Z0-9_]*[A-Z0-9]", page.read_text("utf-8"))
    }
    assert sorted(n for n in named if n not in settings_page) == []


def test_the_check_mode_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "settings.md"
    stale.write_text(
        f"# Settings\n\nhand-written\n\n{settings_doc.BEGIN}\nold\n{settings_doc.END}\n\nnotes\n",
        "utf-8",
    )
    assert settings_doc.main(["--check", "--path", str(stale)]) == 1
    assert settings_doc.main(["--path", str(stale)]) == 0
    assert settings_doc.main(["--check", "--path", str(stale)]) == 0
    text = stale.read_text("utf-8")
    assert text.startswith("# Settings\n\nhand-written\n\n") and text.endswith("\n\nnotes\n")
    assert "| `BAOCAO_BROKER` |" in text
