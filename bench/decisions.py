"""Count the decisions a stopped stack's warehouse holds: distinct reports and raw rows.

At-least-once delivery may write a decision twice (the views count it once), so raw
row counts can hide a missing one. Run as a child process (``python -m bench.decisions``
with the stack's ``BAOCAO_*`` environment) after the warehouse service has stopped:
chDB opens a data directory from one process only.
"""

from __future__ import annotations

import json

from contract.settings import Settings
from warehouse.client import Warehouse


def main() -> None:
    with Warehouse.connect(Settings()) as wh:
        wh.ensure_schema()  # also selects the database
        ((distinct, raw),) = wh.query_rows(
            "SELECT (SELECT uniqExact(report_id) FROM reports)"
            " + (SELECT uniqExact(rejection_id) FROM rejections),"
            " (SELECT count() FROM reports) + (SELECT count() FROM rejections)"
        )
    print(json.dumps({"distinct": int(distinct), "raw": int(raw)}))


if __name__ == "__main__":
    main()
