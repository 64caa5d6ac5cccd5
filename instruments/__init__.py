"""Instrument drivers: one protocol per kind, one driver per model family, all over pyvisa."""
