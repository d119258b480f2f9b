"""Warehouse views of reporting compliance per unit, district and province and day."""

from __future__ import annotations

# Compliance (DHIS2's definitions): reporting rate = received / expected, timeliness =
# on time / expected. Expected = active units assigned the dataset on the day, from
# units_current, for every day between the first and last day the warehouse has heard
# of (reports or alerts): a day when nobody reported still counts. A LEFT JOIN without
# a match yields defaults, not NULLs, so "received" is tested on revisions > 0, never
# on timeliness (whose default would read 'on_time').
COMPLIANCE_VIEWS: tuple[tuple[str, str], ...] = (
    (
        "compliance_days",
        """SELECT arrayJoin(arrayMap(i -> toDate(b.lo + i),
    range(toUInt32(dateDiff('day', b.lo, b.hi) + 1)))) AS report_date
FROM (SELECT min(d) AS lo, max(d) AS hi FROM (
    SELECT report_date AS d FROM {db}.reports
    UNION ALL SELECT report_date AS d FROM {db}.alerts) HAVING count() > 0) AS b""",
    ),
    (
        "compliance_units",
        """SELECT d.report_date AS report_date, u.dataset AS dataset, u.unit_id AS unit_id,
    u.name AS name, u.kind AS kind, u.parent_id AS parent_id, u.province_id AS province_id,
    u.district_id AS district_id,
    r.revisions > 0 AS received,
    r.revisions > 0 AND r.timeliness = 'on_time' AS on_time,
    r.revisions > 0 AND r.timeliness = 'late' AS late,
    if(r.revisions > 0, toString(r.timeliness), 'missing') AS status,
    if(r.revisions > 0, toNullable(r.first_submitted_at), NULL) AS first_submitted_at
FROM (SELECT unit_id, name, kind, parent_id, province_id, district_id, active_from, active_to,
        arrayJoin(datasets) AS dataset FROM {db}.units_current) AS u
CROSS JOIN {db}.compliance_days AS d
LEFT JOIN {db}.reports_latest AS r
    ON r.dataset = u.dataset AND r.unit_id = u.unit_id AND r.report_date = d.report_date
WHERE u.active_from <= d.report_date AND (u.active_to IS NULL OR d.report_date <= u.active_to)""",
    ),
    *(
        (
            f"compliance_{level}s",
            f"""SELECT c.report_date AS report_date, c.dataset AS dataset,
    {key} AS {level}_id, any(c.province_id) AS province,
    toUInt32(count()) AS expected, toUInt32(countIf(c.received)) AS received,
    toUInt32(countIf(c.on_time)) AS on_time, toUInt32(countIf(c.late)) AS late,
    expected - received AS missing,
    received / expected AS reporting_rate, on_time / expected AS timeliness_rate
FROM {{db}}.compliance_units AS c
WHERE {where}
GROUP BY c.report_date, c.dataset, {level}_id""",
        )
        for level, key, where in (
            ("district", "assumeNotNull(c.district_id)", "c.district_id IS NOT NULL"),
            ("province", "c.province_id", "1"),
        )
    ),
)
