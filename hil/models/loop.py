"""The plant loop: the models' steps in one background thread at a fixed rate (100 Hz).

Steps run on absolute deadlines t0 + k·period, so the schedule never drifts. Each step's lateness
(its start less its deadline) and duration are recorded. A start more than one period late is an
overrun: the schedule skips ahead to the latest slot instead of running a burst of catch-up steps,
and the step is given the time that really passed (``dt_s``), so the models stay on the wall clock.

An exception in a step stops the loop. It is kept, ``on_failure`` is called once with it (in the
loop's thread; the bench wires it to its safe state), and ``check()`` raises it as a
``PlantLoopError`` naming the step in the caller's thread, so a scenario's waits notice.

While a loop runs (``realtime``, the default) the process's interpreter is tuned for it: the
interpreter lock changes hands every 0.5 ms and the garbage collector's automatic passes are off,
the loop collecting young objects in its slack after each step (``_Interpreter``). Its thread runs
ahead of the machine's ordinary work where the process may ask for it (``raise_thread_priority``).

The loop's steps talk to the bench's instruments: while it runs, nothing else may talk to the
same instruments (a driver's connection carries one conversation at a time). Read the models, or
add a step, instead.
"""

from __future__ import annotations

import gc
import logging
import math
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hil.errors import HilError
from hil.realtime import raise_thread_priority

log = logging.getLogger("hil.models.loop")


class PlantStep(Protocol):
    """One model's part of a loop cycle; ``t_s`` is loop time, ``dt_s`` the time since the last step."""

    name: str

    def step(self, t_s: float, dt_s: float) -> None: ...


class PlantLoopError(HilError):
    """A step of the plant loop raised: names the step; the original is the cause."""

    def __init__(self, step: str, error: BaseException) -> None:
        self.step, self.error = step, error
        super().__init__(f"plant loop stopped: step {step!r} raised {type(error).__name__}: {error}")


@dataclass(frozen=True)
class LoopStats:
    period_s: float
    count: int
    overruns: int
    lateness_p50_s: float
    lateness_p99_s: float
    lateness_max_s: float
    duration_p50_s: float
    duration_p99_s: float
    duration_max_s: float

    def line(self) -> str:
        ms = 1e3
        return (
            f"{self.count} steps at {1 / self.period_s:g} Hz, {self.overruns} overruns; lateness "
            f"p50 {self.lateness_p50_s * ms:.3f} ms, p99 {self.lateness_p99_s * ms:.3f} ms, "
            f"max {self.lateness_max_s * ms:.3f} ms; duration p50 {self.duration_p50_s * ms:.3f} ms, "
            f"p99 {self.duration_p99_s * ms:.3f} ms, max {self.duration_max_s * ms:.3f} ms"
        )


class Schedule:
    """Absolute deadlines start + k·period; a start more than one period late skips ahead."""

    def __init__(self, start_s: float, period_s: float) -> None:
        self.period_s = period_s
        self.deadline_s = start_s

    def begin(self, now_s: float) -> tuple[float, bool]:
        """A step starts at ``now_s``: its lateness, whether it overran; sets the next deadline."""
        lateness = now_s - self.deadline_s
        overrun = lateness > self.period_s
        slot = self.deadline_s
        if overrun:
            slot += math.floor(lateness / self.period_s) * self.period_s
        self.deadline_s = slot + self.period_s
        return lateness, overrun


class _Interpreter:
    """What a real-time loop asks of the Python process while any loop runs, given back when the
    last one stops: the interpreter lock handed over every 0.5 ms instead of every 5 ms, so a loop
    waking at its deadline is not held up by a busy thread for a whole switch interval; and the
    cyclic garbage collector's automatic passes off, since a full pass over a large heap stops every
    thread for tens of ms. The loops collect the young generations in their slack instead; what
    becomes cyclic garbage only after it has grown old waits for the collector's return."""

    SWITCH_INTERVAL_S = 0.0005

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops = 0
        self._saved = (sys.getswitchinterval(), gc.isenabled())

    def enter(self) -> None:
        with self._lock:
            if self._loops == 0:
                self._saved = (sys.getswitchinterval(), gc.isenabled())
                sys.setswitchinterval(self.SWITCH_INTERVAL_S)
                gc.disable()
            self._loops += 1

    def leave(self) -> None:
        with self._lock:
            self._loops -= 1
            if self._loops == 0:
                interval, collecting = self._saved
                sys.setswitchinterval(interval)
                if collecting:
                    gc.enable()


_INTERPRETER = _Interpreter()
# check() waits this long at most for on_failure (a bench's safe state) before it raises anyway
FAILURE_HANDLING_S = 120.0
GC_SLACK_S = 0.002  # a young-generation pass takes well under this; less slack, no pass
FULL_YOUNG_EVERY = 10  # every tenth pass takes the middle generation too


class _Step:
    def __init__(self, name: str, fn: Callable[[float, float], None]) -> None:
        self.name, self.step = name, fn


class PlantLoop:
    """``with PlantLoop([pack_emulation, road_load], on_failure=to_safe_state) as loop: ...``"""

    def __init__(
        self,
        steps: Iterable[PlantStep] = (),
        *,
        rate_hz: float = 100.0,
        on_failure: Callable[[PlantLoopError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        realtime: bool = True,
    ) -> None:
        """``realtime`` tunes the interpreter while the loop runs (see ``_Interpreter``). ``clock``
        and ``sleep`` are the wall clock unless a test runs the loop on its own time."""
        if not math.isfinite(rate_hz) or rate_hz <= 0.0:
            raise ValueError(f"plant loop rate {rate_hz!r} Hz must be a positive number")
        self.period_s = 1.0 / rate_hz
        self._steps: list[PlantStep] = list(steps)
        names = [s.name for s in self._steps]
        if len(set(names)) != len(names):
            raise ValueError(f"plant loop steps need distinct names: {names}")
        self._on_failure = on_failure
        self._clock = clock
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait  # the wall-clock wait ends early on stop()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._lateness = array("d")
        self._duration = array("d")
        self._overruns = 0
        self._failure: PlantLoopError | None = None
        self._failure_handled = threading.Event()
        self._realtime = realtime
        self.priority = "not started"

    def add(self, name: str, fn: Callable[[float, float], None]) -> None:
        """A plain function as a step (``fn(t_s, dt_s)``); only before the loop starts."""
        if self._thread is not None:
            raise RuntimeError("plant loop: steps are added before it starts")
        if any(s.name == name for s in self._steps):
            raise ValueError(f"plant loop already has a step {name!r}")
        self._steps.append(_Step(name, fn))

    # --- life cycle ------------------------------------------------------------------------------
    def start(self) -> PlantLoop:
        if self._thread is not None:
            raise RuntimeError("plant loop: already started (a loop runs once)")
        if not self._steps:
            raise ValueError("plant loop: no steps to run")
        self._thread = threading.Thread(target=self._run, name="plant-loop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the step under way and wait for the thread to end; safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def check(self) -> None:
        """Raise the failure of a step, if one stopped the loop, in the caller's thread -- once
        ``on_failure`` has finished with it, so the caller never acts while the bench is being made
        safe. In ``on_failure``'s own thread it raises nothing."""
        failure = self._failure
        if failure is not None:
            if threading.current_thread() is self._thread:
                # on_failure's own waits (the safe state waiting for the drive to unload) run the
                # watchdogs too: the failure it is handling must not cut them short
                return
            self._failure_handled.wait(FAILURE_HANDLING_S)
            raise PlantLoopError(failure.step, failure.error) from failure.error

    def __enter__(self) -> PlantLoop:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop()
        if exc_type is None:
            self.check()

    # --- the thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        if not self._realtime:
            self._cycle()
            return
        self.priority = raise_thread_priority()
        _INTERPRETER.enter()
        try:
            self._cycle()
        finally:
            _INTERPRETER.leave()

    def _cycle(self) -> None:
        clock, period = self._clock, self.period_s
        passes = 0
        t0 = clock()
        schedule = Schedule(t0, period)
        previous: float | None = None
        while not self._stop.is_set():
            wait = schedule.deadline_s - clock()
            if wait > 0.0:
                self._sleep(wait)
                if self._stop.is_set():
                    break
            start = clock()
            lateness, overrun = schedule.begin(start)
            dt = period if previous is None else start - previous
            previous = start
            for step in self._steps:
                try:
                    step.step(start - t0, dt)
                except Exception as exc:
                    self._fail(step.name, exc)
                    return
            with self._lock:
                self._lateness.append(lateness)
                self._duration.append(clock() - start)
                self._overruns += overrun
            if self._realtime and schedule.deadline_s - clock() > GC_SLACK_S:
                passes += 1
                gc.collect(1 if passes % FULL_YOUNG_EVERY == 0 else 0)

    def _fail(self, name: str, exc: Exception) -> None:
        self._failure = failure = PlantLoopError(name, exc)
        self._stop.set()
        log.error("%s", failure)
        try:
            if self._on_failure is not None:
                self._on_failure(failure)
        except Exception:
            log.exception("plant loop: on_failure raised while handling %s", failure)
        finally:
            self._failure_handled.set()

    # --- timing ----------------------------------------------------------------------------------
    def lateness_s(self) -> np.ndarray:
        """Every step's lateness so far, in order."""
        with self._lock:
            return np.array(self._lateness)

    def stats(self) -> LoopStats:
        with self._lock:
            lateness = np.array(self._lateness)
            duration = np.array(self._duration)
            overruns = self._overruns

        def pct(values: np.ndarray, q: float) -> float:
            return float(np.percentile(values, q)) if values.size else math.nan

        return LoopStats(
            period_s=self.period_s,
            count=int(lateness.size),
            overruns=overruns,
            lateness_p50_s=pct(lateness, 50),
            lateness_p99_s=pct(lateness, 99),
            lateness_max_s=pct(lateness, 100),
            duration_p50_s=pct(duration, 50),
            duration_p99_s=pct(duration, 99),
            duration_max_s=pct(duration, 100),
        )
