"""baocao's composition root: the ``baocao`` command and the all-in-one runner.

Only this package wires the stages (producers, streams, sinks) together.
"""
