"""The simulated bench: instrument emulators on loopback sockets, the plant they share, the drive's
ECUs on CAN. Started by ``sim.service.start`` (the ``simulated-bench`` bench service) or by
``hil-sim serve``."""
