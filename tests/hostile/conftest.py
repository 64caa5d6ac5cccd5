"""Hostile input: a fixed example budget, so CI draws the same examples every run and the whole
directory stays within a minute on a loaded machine."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

HOSTILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
