"""The daily brief (báo cáo nhanh hằng ngày): one province's day, or the nation's, as a document.

``gather`` reads the warehouse into a ``Brief`` (``model``: plain data, every number
computed); ``render`` lays it out as PDF, DOCX or HTML, in Vietnamese or English. All
three formats are drawn from one list of blocks (``render.build``), so they hold the same
tables and words.

Libraries, and why:

* PDF: **ReportLab** (platypus). Pure Python with wheels for every platform, no system
  library (WeasyPrint needs Pango and Cairo from the system), and it embeds a subset of a
  TrueType font with a ToUnicode map, so ``pdftotext`` and copy-paste give back the
  Vietnamese letters. With ``invariant=1`` and the creation date set to the brief's
  ``generated_at`` the same brief gives the same bytes (with or without ``rl-accel``,
  its C helpers, which only make it faster). Typst (the ``typst`` package)
  typesets better, but would mean writing and escaping markup for a single-column
  bulletin of tables; ReportLab builds the same tables from Python objects.
* DOCX: **python-docx**. Offices edit and sign the brief in Word; real Word tables and
  headings, not a PDF converted back. The zip's timestamps and core properties are set
  from ``generated_at`` so the file is reproducible too.
* Charts: **matplotlib** with the Agg backend, PNG: no browser (plotly's static export
  needs Chrome through kaleido), deterministic for the same data (no timestamp in the
  PNG's metadata).
* Fonts: **DejaVu Sans**, shipped inside matplotlib's wheel (``mpl-data/fonts/ttf``), so
  the install brings them and nothing is fetched at run time. It covers Vietnamese
  (Latin Extended Additional: "ệ", "ố", "ữ" as single code points); every text is put in
  Unicode NFC first, because neither ReportLab nor DOCX viewers reliably stack a
  combining accent on a letter that already carries one.
"""

from sinks.brief.gather import gather
from sinks.brief.model import Brief

__all__ = ["Brief", "gather"]
