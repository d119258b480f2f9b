CREATE DATABASE IF NOT EXISTS `baocao`;

CREATE TABLE IF NOT EXISTS `baocao`.`report_values` (
    `report_id` UUID,
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Date,
    `metric` LowCardinality(String),
    `option` LowCardinality(String),
    `value` UInt32,
    `revision` UInt16,
    `timeliness` Enum8('on_time' = 1, 'late' = 2),
    `submitted_at` DateTime64(3, 'UTC'),
    `accepted_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(report_date)
ORDER BY (dataset, unit_id, report_date, metric, option, report_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`reports` (
    `report_id` UUID,
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Date,
    `revision` UInt16,
    `timeliness` Enum8('on_time' = 1, 'late' = 2),
    `submitted_at` DateTime64(3, 'UTC'),
    `first_submitted_at` DateTime64(3, 'UTC'),
    `deadline` DateTime64(3, 'UTC'),
    `accepted_at` DateTime64(3, 'UTC'),
    `submitted_by` String,
    `values_json` String,
    `note` String,
    `reason` String,
    `warnings` String,
    `warning_rules` Array(String),
    `source_topic` LowCardinality(String),
    `source_partition` UInt32,
    `source_offset` UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(report_date)
ORDER BY (dataset, unit_id, report_date, report_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`rejections` (
    `rejection_id` UUID,
    `rejected_at` DateTime64(3, 'UTC'),
    `report_id` String,
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Nullable(Date),
    `submitted_at` String,
    `submitted_by` String,
    `rule_ids` Array(String),
    `errors` String,
    `submission` String,
    `raw` String,
    `source_topic` LowCardinality(String),
    `source_partition` Nullable(UInt32),
    `source_offset` Nullable(UInt64)
)
ENGINE = ReplacingMergeTree
ORDER BY (rejection_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`alerts` (
    `alert_id` String,
    `kind` LowCardinality(String),
    `severity` LowCardinality(String),
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Date,
    `raised_at` DateTime64(3, 'UTC'),
    `message_vi` String,
    `message_en` String,
    `details` String
)
ENGINE = ReplacingMergeTree
ORDER BY (alert_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`units` (
    `unit_id` String,
    `name` String,
    `name_ascii` String,
    `kind` LowCardinality(String),
    `parent_id` Nullable(String),
    `province_id` String,
    `district_id` Nullable(String),
    `population` Nullable(UInt64),
    `population_by_age` Map(String, UInt64),
    `lat` Nullable(Float64),
    `lon` Nullable(Float64),
    `datasets` Array(String),
    `active_from` Date,
    `active_to` Nullable(Date),
    `version` UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (unit_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`dead_letters` (
    `source_topic` LowCardinality(String),
    `source_partition` UInt32,
    `source_offset` UInt64,
    `error` String,
    `raw` String,
    `seen_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (source_topic, source_partition, source_offset)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`signals` (
    `signal_id` String,
    `alert_id` String,
    `rule` LowCardinality(String),
    `metric` LowCardinality(String),
    `dataset` LowCardinality(String),
    `unit_id` String,
    `unit_kind` LowCardinality(String),
    `report_date` Date,
    `state` Enum8('active' = 1, 'withdrawn' = 2),
    `severity` LowCardinality(String),
    `message_vi` String,
    `message_en` String,
    `details` String,
    `changed_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (unit_id, report_date, signal_id, alert_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`levels` (
    `unit_id` String,
    `unit_kind` LowCardinality(String),
    `level_date` Date,
    `period` LowCardinality(String),
    `profile` LowCardinality(String),
    `level` Nullable(UInt8),
    `criteria` String,
    `unconfirmed` Array(String),
    `why_vi` String,
    `why_en` String,
    `next_vi` String,
    `next_en` String,
    `assessed_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(level_date)
ORDER BY (unit_id, profile, period, level_date, assessed_at, cityHash64(criteria, why_en, next_en))
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`daily_values` (
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Date,
    `revision` UInt16,
    `submitted_at` DateTime64(3, 'UTC'),
    `report_id` UUID,
    `version` UInt64,
    `counts` Map(LowCardinality(String), UInt32),
    `totals` Map(LowCardinality(String), UInt64)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(report_date)
ORDER BY (dataset, unit_id, report_date)
SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 1024;

CREATE TABLE IF NOT EXISTS `baocao`.`daily_reports` (
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Date,
    `revision` UInt16,
    `timeliness` Enum8('on_time' = 1, 'late' = 2),
    `submitted_at` DateTime64(3, 'UTC'),
    `report_id` UUID,
    `version` UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(report_date)
ORDER BY (dataset, unit_id, report_date)
SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 1024;

CREATE TABLE IF NOT EXISTS `baocao`.`briefs` (
    `province_id` String,
    `report_date` Date,
    `version` UInt16,
    `generated_at` DateTime64(3, 'UTC'),
    `formats` Array(String),
    `content_hash` String,
    `path` String,
    `cutoff` DateTime64(3, 'UTC'),
    `units_reported` UInt32,
    `units_expected` UInt32,
    `source_mark` String
)
ENGINE = ReplacingMergeTree
ORDER BY (province_id, report_date, version)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS `baocao`.`approvals` (
    `approval_id` String,
    `action` LowCardinality(String),
    `dataset` LowCardinality(String),
    `unit_id` String,
    `report_date` Date,
    `revision` UInt16,
    `values_json` String,
    `by_name` String,
    `by_unit` String,
    `reason` String,
    `decided_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(report_date)
ORDER BY (dataset, unit_id, report_date, approval_id, decided_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS `baocao`.`daily_values_mv`
TO `baocao`.`daily_values` AS
WITH JSONExtract(r.values_json, 'Map(String, UInt32)') AS values_map,
    mapFilter((k, v) -> position(k, '.') > 0, values_map) AS parts,
    arrayMap(k -> substringIndex(k, '.', 1), mapKeys(parts)) AS part_metrics,
    arrayDistinct(part_metrics) AS split_metrics
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, r.submitted_at AS submitted_at, r.report_id AS report_id,
    bitShiftLeft(toUInt64(r.revision), 44)
        + toUInt64(toUnixTimestamp64Milli(r.submitted_at)) AS version,
    values_map AS counts,
    mapUpdate(
        mapApply((k, v) -> (k, toUInt64(v)), mapFilter((k, v) -> position(k, '.') = 0, values_map)),
        mapFromArrays(split_metrics, arrayMap(
            m -> arraySum(arrayFilter((v, pm) -> pm = m, mapValues(parts), part_metrics)),
            split_metrics))) AS totals
FROM `baocao`.reports AS r;

INSERT INTO `baocao`.`daily_values` (dataset, unit_id, report_date, revision, submitted_at, report_id, version, counts, totals)
WITH JSONExtract(r.values_json, 'Map(String, UInt32)') AS values_map,
    mapFilter((k, v) -> position(k, '.') > 0, values_map) AS parts,
    arrayMap(k -> substringIndex(k, '.', 1), mapKeys(parts)) AS part_metrics,
    arrayDistinct(part_metrics) AS split_metrics
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, r.submitted_at AS submitted_at, r.report_id AS report_id,
    bitShiftLeft(toUInt64(r.revision), 44)
        + toUInt64(toUnixTimestamp64Milli(r.submitted_at)) AS version,
    values_map AS counts,
    mapUpdate(
        mapApply((k, v) -> (k, toUInt64(v)), mapFilter((k, v) -> position(k, '.') = 0, values_map)),
        mapFromArrays(split_metrics, arrayMap(
            m -> arraySum(arrayFilter((v, pm) -> pm = m, mapValues(parts), part_metrics)),
            split_metrics))) AS totals
FROM `baocao`.reports AS r
WHERE toYYYYMM(r.report_date) IN (
    SELECT month FROM (
        SELECT toYYYYMM(report_date) AS month, uniqExact(cityHash64(dataset, unit_id, report_date)) AS n
        FROM `baocao`.reports GROUP BY month) AS have
    LEFT JOIN (
        SELECT toYYYYMM(report_date) AS month, uniqExact(cityHash64(dataset, unit_id, report_date)) AS n
        FROM `baocao`.daily_values GROUP BY month) AS done ON done.month = have.month
    WHERE done.n < have.n);

CREATE MATERIALIZED VIEW IF NOT EXISTS `baocao`.`daily_reports_mv`
TO `baocao`.`daily_reports` AS
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, r.timeliness AS timeliness, r.submitted_at AS submitted_at,
    r.report_id AS report_id, bitShiftLeft(toUInt64(r.revision), 44)
        + toUInt64(toUnixTimestamp64Milli(r.submitted_at)) AS version
FROM `baocao`.reports AS r;

INSERT INTO `baocao`.`daily_reports` (dataset, unit_id, report_date, revision, timeliness, submitted_at, report_id, version)
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, r.timeliness AS timeliness, r.submitted_at AS submitted_at,
    r.report_id AS report_id, bitShiftLeft(toUInt64(r.revision), 44)
        + toUInt64(toUnixTimestamp64Milli(r.submitted_at)) AS version
FROM `baocao`.reports AS r
WHERE toYYYYMM(r.report_date) IN (
    SELECT month FROM (
        SELECT toYYYYMM(report_date) AS month, uniqExact(cityHash64(dataset, unit_id, report_date)) AS n
        FROM `baocao`.reports GROUP BY month) AS have
    LEFT JOIN (
        SELECT toYYYYMM(report_date) AS month, uniqExact(cityHash64(dataset, unit_id, report_date)) AS n
        FROM `baocao`.daily_reports GROUP BY month) AS done ON done.month = have.month
    WHERE done.n < have.n);

CREATE OR REPLACE VIEW `baocao`.`reports_latest` AS
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    max(r.revision) AS revision,
    argMax(r.report_id, (r.revision, r.submitted_at, r.report_id)) AS report_id,
    argMax(r.timeliness, (r.revision, r.submitted_at, r.report_id)) AS timeliness,
    argMax(r.submitted_by, (r.revision, r.submitted_at, r.report_id)) AS submitted_by,
    min(r.first_submitted_at) AS first_submitted_at,
    max(r.submitted_at) AS last_submitted_at,
    uniqExact(r.report_id) AS revisions
FROM `baocao`.reports AS r
GROUP BY r.dataset, r.unit_id, r.report_date;

CREATE OR REPLACE VIEW `baocao`.`report_values_latest` AS
SELECT v.dataset AS dataset, v.unit_id AS unit_id, v.report_date AS report_date,
    v.metric AS metric, v.option AS option, v.value AS value,
    l.revision AS revision, l.report_id AS report_id, l.timeliness AS timeliness,
    l.submitted_at AS submitted_at
FROM (
    SELECT x.dataset AS dataset, x.unit_id AS unit_id, x.report_date AS report_date,
        x.metric AS metric, x.option AS option, x.report_id AS report_id,
        any(x.value) AS value
    FROM `baocao`.report_values AS x
    WHERE x.metric != ''
    GROUP BY x.dataset, x.unit_id, x.report_date, x.metric, x.option, x.report_id) AS v
INNER JOIN (
    SELECT dataset, unit_id, report_date, latest.1 AS report_id, latest.2 AS revision,
        latest.3 AS timeliness, latest.4 AS submitted_at
    FROM (
        SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
            argMax((r.report_id, r.revision, r.timeliness, r.submitted_at), (r.revision, r.submitted_at, r.report_id))
                AS latest
        FROM `baocao`.reports AS r
        GROUP BY r.dataset, r.unit_id, r.report_date)) AS l
    ON l.dataset = v.dataset AND l.unit_id = v.unit_id AND l.report_date = v.report_date
    AND l.report_id = v.report_id;

CREATE OR REPLACE VIEW `baocao`.`units_current` AS
SELECT unit_id, name, name_ascii, kind, parent_id, province_id, district_id, population, population_by_age, lat, lon, datasets, active_from, active_to
FROM `baocao`.units
WHERE version = (SELECT max(version) FROM `baocao`.units)
LIMIT 1 BY unit_id;

CREATE OR REPLACE VIEW `baocao`.`daily_district_totals` AS
SELECT v.dataset AS dataset, v.report_date AS report_date,
    assumeNotNull(u.district_id) AS district_id, v.metric AS metric, v.option AS option,
    sum(v.value) AS value, uniqExact(v.unit_id) AS units_reporting
FROM `baocao`.report_values_latest AS v
INNER JOIN `baocao`.units_current AS u ON u.unit_id = v.unit_id
WHERE u.district_id IS NOT NULL
GROUP BY v.dataset, v.report_date, u.district_id, v.metric, v.option;

CREATE OR REPLACE VIEW `baocao`.`daily_province_totals` AS
SELECT v.dataset AS dataset, v.report_date AS report_date,
    u.province_id AS province_id, v.metric AS metric, v.option AS option,
    sum(v.value) AS value, uniqExact(v.unit_id) AS units_reporting
FROM `baocao`.report_values_latest AS v
INNER JOIN `baocao`.units_current AS u ON u.unit_id = v.unit_id
GROUP BY v.dataset, v.report_date, u.province_id, v.metric, v.option;

CREATE OR REPLACE VIEW `baocao`.`briefs_latest` AS
SELECT province_id, report_date, version, versions, latest.1 AS generated_at,
    latest.2 AS formats, latest.3 AS content_hash, latest.4 AS path, latest.5 AS cutoff,
    latest.6 AS units_reported, latest.7 AS units_expected, latest.8 AS source_mark
FROM (
    SELECT b.province_id AS province_id, b.report_date AS report_date,
        max(b.version) AS version, uniqExact(b.version) AS versions,
        argMax((b.generated_at, b.formats, b.content_hash, b.path, b.cutoff,
            b.units_reported, b.units_expected, b.source_mark), b.version) AS latest
    FROM `baocao`.briefs AS b
    GROUP BY b.province_id, b.report_date);

CREATE OR REPLACE VIEW `baocao`.`compliance_days` AS
SELECT arrayJoin(arrayMap(i -> toDate(b.lo + i),
    range(toUInt32(dateDiff('day', b.lo, b.hi) + 1)))) AS report_date
FROM (SELECT min(d) AS lo, max(d) AS hi FROM (
    SELECT report_date AS d FROM `baocao`.reports
    UNION ALL SELECT report_date AS d FROM `baocao`.alerts) HAVING count() > 0) AS b;

CREATE OR REPLACE VIEW `baocao`.`compliance_units` AS
SELECT d.report_date AS report_date, u.dataset AS dataset, u.unit_id AS unit_id,
    u.name AS name, u.kind AS kind, u.parent_id AS parent_id, u.province_id AS province_id,
    u.district_id AS district_id,
    r.revisions > 0 AS received,
    r.revisions > 0 AND r.timeliness = 'on_time' AS on_time,
    r.revisions > 0 AND r.timeliness = 'late' AS late,
    if(r.revisions > 0, toString(r.timeliness), 'missing') AS status,
    if(r.revisions > 0, toNullable(r.first_submitted_at), NULL) AS first_submitted_at
FROM (SELECT unit_id, name, kind, parent_id, province_id, district_id, active_from, active_to,
        arrayJoin(datasets) AS dataset FROM `baocao`.units_current) AS u
CROSS JOIN `baocao`.compliance_days AS d
LEFT JOIN `baocao`.reports_latest AS r
    ON r.dataset = u.dataset AND r.unit_id = u.unit_id AND r.report_date = d.report_date
WHERE u.active_from <= d.report_date AND (u.active_to IS NULL OR d.report_date <= u.active_to);

CREATE OR REPLACE VIEW `baocao`.`compliance_districts` AS
SELECT c.report_date AS report_date, c.dataset AS dataset,
    assumeNotNull(c.district_id) AS district_id, any(c.province_id) AS province,
    toUInt32(count()) AS expected, toUInt32(countIf(c.received)) AS received,
    toUInt32(countIf(c.on_time)) AS on_time, toUInt32(countIf(c.late)) AS late,
    expected - received AS missing,
    received / expected AS reporting_rate, on_time / expected AS timeliness_rate
FROM `baocao`.compliance_units AS c
WHERE c.district_id IS NOT NULL
GROUP BY c.report_date, c.dataset, district_id;

CREATE OR REPLACE VIEW `baocao`.`compliance_provinces` AS
SELECT c.report_date AS report_date, c.dataset AS dataset,
    c.province_id AS province_id, any(c.province_id) AS province,
    toUInt32(count()) AS expected, toUInt32(countIf(c.received)) AS received,
    toUInt32(countIf(c.on_time)) AS on_time, toUInt32(countIf(c.late)) AS late,
    expected - received AS missing,
    received / expected AS reporting_rate, on_time / expected AS timeliness_rate
FROM `baocao`.compliance_units AS c
WHERE 1
GROUP BY c.report_date, c.dataset, province_id;

CREATE OR REPLACE VIEW `baocao`.`signals_current` AS
SELECT signal_id, unit_id, report_date, latest.1 AS alert_id, latest.2 AS rule,
    latest.3 AS metric, latest.4 AS dataset, latest.5 AS unit_kind, latest.6 AS state,
    latest.7 AS severity, latest.8 AS message_vi, latest.9 AS message_en,
    latest.10 AS details, latest.11 AS changed_at, first_raised_at
FROM (
    SELECT s.signal_id AS signal_id, s.unit_id AS unit_id, s.report_date AS report_date,
        argMax((s.alert_id, s.rule, s.metric, s.dataset, s.unit_kind, s.state, s.severity,
            s.message_vi, s.message_en, s.details, s.changed_at), (s.changed_at, s.alert_id))
            AS latest,
        min(s.changed_at) AS first_raised_at
    FROM `baocao`.signals AS s
    GROUP BY s.signal_id, s.unit_id, s.report_date);

CREATE OR REPLACE VIEW `baocao`.`levels_latest` AS
SELECT unit_id, profile, period, level_date, latest.1 AS unit_kind,
    latest.2 AS level, latest.3 AS criteria, latest.4 AS unconfirmed, latest.5 AS why_vi,
    latest.6 AS why_en, latest.7 AS next_vi, latest.8 AS next_en, latest.9 AS assessed_at
FROM (
    SELECT l.unit_id AS unit_id, l.profile AS profile, l.period AS period,
        l.level_date AS level_date,
        argMax((l.unit_kind, l.level, l.criteria, l.unconfirmed, l.why_vi, l.why_en,
            l.next_vi, l.next_en, l.assessed_at),
            (l.assessed_at, cityHash64(l.criteria, l.why_en, l.next_en)))
            AS latest
    FROM `baocao`.levels AS l
    GROUP BY l.unit_id, l.profile, l.period, l.level_date);

CREATE OR REPLACE VIEW `baocao`.`approvals_latest` AS
SELECT dataset, unit_id, report_date, latest.1 AS approval_id, latest.2 AS action,
    latest.3 AS revision, latest.4 AS values_json, latest.5 AS by_name, latest.6 AS by_unit,
    latest.7 AS reason, latest.8 AS decided_at, decisions
FROM (
    SELECT a.dataset AS dataset, a.unit_id AS unit_id, a.report_date AS report_date,
        argMax((a.approval_id, a.action, a.revision, a.values_json, a.by_name, a.by_unit,
            a.reason, a.decided_at), (a.decided_at, a.approval_id)) AS latest,
        uniqExact(a.approval_id, a.decided_at) AS decisions
    FROM `baocao`.approvals AS a
    GROUP BY a.dataset, a.unit_id, a.report_date);

CREATE OR REPLACE VIEW `baocao`.`approval_status` AS
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision,
    multiIf(a.approval_id = '', 'submitted',
        a.action = 'return' AND r.revision > a.revision, 'submitted',
        a.action = 'return', 'returned',
        r.revision > a.revision, 'reopened',
        a.action = 'accept', 'accepted', 'approved') AS state,
    if(a.approval_id = '' OR a.action = 'return', 0, a.revision) AS approved_revision,
    if(a.approval_id != '' AND a.action != 'return' AND r.revision > a.revision,
        arrayCount(k -> (now_values[k] != then_values[k])
                OR (mapContains(now_values, k) != mapContains(then_values, k)),
            arrayDistinct(arrayConcat(mapKeys(now_values), mapKeys(then_values)))),
        0) AS changed_values,
    a.action AS action, a.approval_id AS approval_id, a.by_name AS by_name,
    a.by_unit AS by_unit, a.reason AS reason, a.decided_at AS decided_at
FROM (
    SELECT x.dataset AS dataset, x.unit_id AS unit_id, x.report_date AS report_date,
        max(x.revision) AS revision,
        JSONExtract(argMax(x.values_json, (x.revision, x.submitted_at, x.report_id)),
            'Map(String, UInt32)') AS now_values
    FROM `baocao`.reports AS x
    GROUP BY x.dataset, x.unit_id, x.report_date) AS r
LEFT JOIN (
    SELECT l.dataset AS dataset, l.unit_id AS unit_id, l.report_date AS report_date,
        l.approval_id AS approval_id, l.action AS action, l.revision AS revision,
        l.by_name AS by_name, l.by_unit AS by_unit, l.reason AS reason,
        l.decided_at AS decided_at,
        JSONExtract(l.values_json, 'Map(String, UInt32)') AS then_values
    FROM `baocao`.approvals_latest AS l) AS a
    ON a.dataset = r.dataset AND a.unit_id = r.unit_id AND a.report_date = r.report_date;

CREATE OR REPLACE VIEW `baocao`.`approval_states` AS
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, multiIf(a.approval_id = '', 'submitted',
        a.action = 'return' AND r.revision > a.revision, 'submitted',
        a.action = 'return', 'returned',
        r.revision > a.revision, 'reopened',
        a.action = 'accept', 'accepted', 'approved') AS state
FROM (
    SELECT x.dataset AS dataset, x.unit_id AS unit_id, x.report_date AS report_date,
        x.revision AS revision
    FROM `baocao`.daily_reports AS x FINAL) AS r
LEFT JOIN (
    SELECT l.dataset AS dataset, l.unit_id AS unit_id, l.report_date AS report_date,
        l.approval_id AS approval_id, l.action AS action, l.revision AS revision
    FROM `baocao`.approvals_latest AS l) AS a
    ON a.dataset = r.dataset AND a.unit_id = r.unit_id AND a.report_date = r.report_date;
