"""Benchmarks: they print figures and never fail on speed. ``python -m benchmarks [NAME ...]``."""
