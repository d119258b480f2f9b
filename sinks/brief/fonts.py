"""The brief's font: DejaVu Sans from matplotlib's wheel, found without importing matplotlib.

Shipped with the install (``matplotlib/mpl-data/fonts/ttf``), so no font is fetched at
run time and every machine renders the same glyphs. It covers the Vietnamese letters as
single code points, which is why every text is normalized to NFC before it is drawn.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from sinks.errors import SinkError

FAMILY = "DejaVu Sans"
#: ReportLab names of the four faces and their files.
FACES = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}
REGULAR, BOLD, ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"


@cache
def font_dir() -> Path:
    """The folder holding the DejaVu files; an error naming the fix when it is missing."""
    spec = importlib.util.find_spec("matplotlib")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        folder = Path(root) / "mpl-data" / "fonts" / "ttf"
        if all((folder / name).is_file() for name in FACES.values()):
            return folder
    raise SinkError(
        "DejaVu Sans fonts not found (matplotlib's mpl-data/fonts/ttf): pip install matplotlib"
        " / không tìm thấy phông DejaVu Sans của matplotlib: cài matplotlib"
    )


def path(face: str = REGULAR) -> Path:
    return font_dir() / FACES[face]


@cache
def register_reportlab() -> None:
    """Register the four faces with ReportLab once, as one family (bold and italic work)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for face in FACES:
        pdfmetrics.registerFont(TTFont(face, str(path(face))))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, ITALIC)
    addMapping(REGULAR, 1, 1, "DejaVuSans-BoldOblique")
