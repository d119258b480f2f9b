"""Data exchange with DHIS2, the reference system for aggregate health reporting.

- ``mapping``: which DHIS2 data set, data element and category option combo each
  dataset, metric and "metric.option" key is (a TOML file the operator edits);
- ``export``: the latest revision of each unit-day in the warehouse as a DHIS2
  ``dataValueSets`` document;
- ``push``: POST that document to DHIS2's Web API and read its import summary;
- ``importer``: a ``dataValueSets`` document back into baocao submissions;
- ``routes``: the warehouse service's read for ``export`` while it owns the warehouse;
- ``cli``: the ``baocao dhis2`` commands. See docs/dhis2.md.
"""
