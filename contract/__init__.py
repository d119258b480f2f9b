"""The shared contract of baocao: every stage imports this package, never each other.

Events, datasets and rules, the reporting-unit registry, deadlines, settings and topic names.
"""
