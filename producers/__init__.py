"""Producer stage: turn submissions (flags, JSON, CSV) into ``reports.submitted`` events."""
