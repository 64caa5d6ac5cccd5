"""The bench's safe state, run on every way out of a test: pass, fail, error, Ctrl-C, SIGTERM.

Order matters: stop the shaft before removing the DC source that powers the drive, take out every
inserted fault (insulation faults, a link load; a temperature sense line back to a neutral
resistance) before the sources go down, and drop the cell voltages last so the BMS never sees its
sense lines vanish under load. Each step reads back that it
took effect before the next instrument is touched, so the order holds on the wire too. Each step
runs even if an earlier one failed, and within a step the output-off stage runs whatever the ramp
before it did (failed, timed out, refused by the instrument); the failures are reported together at
the end. A second SIGINT, SIGTERM or SIGHUP waits until the safe state is done.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from hil.config import SafeStateConfig
from hil.errors import SafeStateError
from instruments.base import Instrument

log = logging.getLogger("hil.safe_state")

ORDER = ("dyno", "eload", "isofault", "tempsim", "supply", "cellsim")


def _wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout_s:g} s")
        time.sleep(0.01)


RAMP_STEP_S = 0.02


def _in_turn(*stages: tuple[str, Callable[[], None]]) -> None:
    """Run every stage whatever the ones before it did (the last one switches the output off); raise
    one error naming each stage that failed, or the first interruption once all have run."""
    problems: list[str] = []
    interrupted: BaseException | None = None
    for what, stage in stages:
        try:
            stage()
        except Exception as exc:
            problems.append(f"{what}: {exc}")
        except BaseException as exc:  # an interruption still leaves the output-off stage to run
            interrupted = interrupted or exc
            problems.append(f"{what}: interrupted ({type(exc).__name__})")
    if interrupted is not None:
        raise interrupted
    if problems:
        raise RuntimeError("; ".join(problems))


def _dyno(driver: Any, cfg: SafeStateConfig) -> None:
    def brake() -> None:
        speed = driver.read().speed_rpm
        driver.set_torque(0.0)
        steps = max(1, math.ceil(abs(speed) / cfg.dyno_ramp_rpm_per_s / RAMP_STEP_S))
        for k in range(steps - 1, -1, -1):  # the last set point is 0
            driver.set_speed(speed * k / steps if k else 0.0)
            if k:
                time.sleep(RAMP_STEP_S)
        _wait_until(
            lambda: abs(driver.read().speed_rpm) < cfg.dyno_stopped_below_rpm,
            cfg.step_timeout_s,
            f"shaft below {cfg.dyno_stopped_below_rpm:g} rpm",
        )

    def free_run() -> None:
        driver.free_run()
        driver.read()  # the controller has taken free run before the next instrument is touched

    _in_turn(("brake", brake), ("free run", free_run))


def _eload(driver: Any, cfg: SafeStateConfig) -> None:
    driver.load_off()
    if driver.load_enabled():
        raise RuntimeError("load input still on after LOAD OFF")


def _still_inserted(driver: Any) -> list[str]:
    inserted = driver.inserted()
    return [name for name, value in inserted.items() if value != (0.0 if name == "link_load" else math.inf)]


def _isofault(driver: Any, cfg: SafeStateConfig) -> None:
    driver.open_all()
    still = _still_inserted(driver)
    if still:
        raise RuntimeError(f"still inserted after ROUT:OPEN:ALL: {', '.join(still)}")


def _tempsim(driver: Any, cfg: SafeStateConfig) -> None:
    for channel in range(1, driver.channels + 1):
        driver.set_resistance(channel, cfg.thermistor_neutral_ohm)
        if abs(driver.resistance(channel) - cfg.thermistor_neutral_ohm) > 1.0:
            raise RuntimeError(f"channel {channel} does not read back {cfg.thermistor_neutral_ohm:g} Ω")


def _supply(driver: Any, cfg: SafeStateConfig) -> None:
    def slew() -> None:
        rated_slew = driver.ratings(driver.model)["slew_v_per_s"][1]
        driver.set_slew(min(cfg.supply_ramp_v_per_s, rated_slew))
        # a slew the instrument refuses (-222) is only in its error queue, and leaves the one before
        driver.check_errors()

    def ramp() -> None:
        driver.set_voltage(0.0)
        _wait_until(
            lambda: driver.measure_voltage() < cfg.discharged_below_v,
            cfg.step_timeout_s,
            f"DC output below {cfg.discharged_below_v:g} V",
        )

    def output_off() -> None:
        driver.output_off()
        if driver.output_enabled():
            raise RuntimeError("output still on after OUTP OFF")

    _in_turn(("slew", slew), ("ramp down", ramp), ("output off", output_off))


def _cellsim(driver: Any, cfg: SafeStateConfig) -> None:
    driver.output_off()
    if any(driver.outputs_enabled()):
        raise RuntimeError("a channel is still on after OUTP OFF")


STEPS: dict[str, Callable[[Any, SafeStateConfig], None]] = {
    "dyno": _dyno,
    "eload": _eload,
    "isofault": _isofault,
    "tempsim": _tempsim,
    "supply": _supply,
    "cellsim": _cellsim,
}


def energised(driver: Any, cfg: SafeStateConfig) -> str | None:
    """What holds an instrument out of its safe state, read without changing anything; None if
    nothing does (an instrument kind without a safe state has nothing to hold)."""
    found: list[str] = []
    if driver.kind == "supply":
        if driver.output_enabled():
            found.append("output on")
        volts = driver.measure_voltage()
        if volts >= cfg.discharged_below_v:
            found.append(f"{volts:.1f} V at the output")
    elif driver.kind == "dyno":
        speed = driver.read().speed_rpm
        if abs(speed) >= cfg.dyno_stopped_below_rpm:
            found.append(f"shaft turning at {speed:.0f} rpm")
    elif driver.kind == "eload":
        if driver.load_enabled():
            found.append("load on")
    elif driver.kind == "cellsim":
        on = sum(driver.outputs_enabled())
        if on:
            found.append(f"{on} channel(s) on")
    elif driver.kind == "isofault":
        found += [f"{name} inserted" for name in _still_inserted(driver)]
    return ", ".join(found) or None


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold off SIGINT, SIGTERM and SIGHUP while the safe state runs (a second Ctrl-C must not leave
    the supply at 600 V half way down); the first one held is delivered when the shield comes off."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread
        return
    held: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        held.append(signum)
        log.warning("safe state: %s held until the safe state ends", signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, hold) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])


def run_safe_state(
    drivers: Mapping[str, Instrument],
    cfg: SafeStateConfig,
    locks: Mapping[str, AbstractContextManager[Any]] | None = None,
    on_step: Callable[[str, str | None], None] | None = None,
) -> None:
    """Bring every instrument to its safe state in ``ORDER``; raise ``SafeStateError`` listing failures.

    ``locks`` (by instrument name) are held around each instrument's steps, so a thread still talking
    to an instrument finishes its exchange before the safe state takes the line. ``on_step`` hears
    each instrument's name and its error (None when it reached its safe state).
    """
    failures: list[str] = []
    interrupted: BaseException | None = None
    with shielded():
        for kind in ORDER:
            for name, driver in drivers.items():
                if driver.kind != kind:
                    continue
                error: str | None = None
                try:
                    with (locks or {}).get(name, nullcontext()):
                        STEPS[kind](driver, cfg)
                    log.info("safe state: %s done", name)
                except Exception as exc:  # every step must get its chance, whatever failed before
                    error = str(exc)
                except BaseException as exc:  # not even an interruption stops the instruments after it
                    interrupted = interrupted or exc
                    error = f"interrupted ({type(exc).__name__})"
                if error is not None:
                    failures.append(f"{name}: {error}")
                    log.error("safe state: %s failed: %s", name, error)
                if on_step is not None:
                    on_step(name, error)
    if interrupted is not None:
        raise interrupted
    if failures:
        raise SafeStateError(failures)
