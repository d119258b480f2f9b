"""Dashboards defined once in Python: Grafana JSON for production, the built-in viewer here."""
