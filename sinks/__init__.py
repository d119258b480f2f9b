"""Sinks: plain Kafka consumers that write the pipeline's events to the warehouse."""
