"""hil: hardware-in-the-loop test framework for an electric bus drive system."""

__version__ = "0.1.0"
