"""Simulated ECUs on CAN: stand-ins for the drive's firmware, with their own encoders.

Nothing here imports ``hil``: if the simulator and the framework shared one codec, a codec bug
would pass unseen. Both sides are checked against hand-written byte vectors instead.
"""
