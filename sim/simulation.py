"""Simulated time locked to the wall clock: whoever touches the plant first steps it to now, under
the one lock every emulator and ECU shares."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sim.plant import Plant


class Simulation:
    def __init__(self, plant: Plant, clock: Callable[[], float] = time.monotonic) -> None:
        self.plant = plant
        self.lock = threading.RLock()
        self._clock = clock
        self.started = clock()

    def elapsed_s(self) -> float:
        return self._clock() - self.started

    @contextmanager
    def now(self) -> Iterator[Plant]:
        """The plant, stepped to the present and held still while the caller reads or writes it."""
        with self.lock:
            self.plant.advance(self.elapsed_s())
            yield self.plant
