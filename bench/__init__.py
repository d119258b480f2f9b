"""Benchmarks: `python -m bench` prints a Markdown results table for docs/benchmarks.md."""
