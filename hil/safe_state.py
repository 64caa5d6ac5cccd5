"""The bench's safe state, run on every way out of a test: pass, fail, error, Ctrl-C, SIGTERM.

Order matters: stop the shaft before removing the DC source that powers the drive, take out every
inserted fault (insulation faults, a link load; a temperature sense line back to a neutral
resistance) before the sources go down, and drop the cell voltages last so the BMS never sees its
sense lines vanish under load. Each step reads back that it
took effect before the next instrument is touched, so the order holds on the wire too. Each step
runs even if an earlier one failed; the failures are reported together at the end.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
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


def _dyno(driver: Any, cfg: SafeStateConfig) -> None:
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
    driver.free_run()
    driver.read()  # the controller has taken free run before the next instrument is touched


def _eload(driver: Any, cfg: SafeStateConfig) -> None:
    driver.load_off()
    if driver.load_enabled():
        raise RuntimeError("load input still on after LOAD OFF")


def _isofault(driver: Any, cfg: SafeStateConfig) -> None:
    driver.open_all()
    inserted = driver.inserted()
    still = [name for name, value in inserted.items() if value != (0.0 if name == "link_load" else math.inf)]
    if still:
        raise RuntimeError(f"still inserted after ROUT:OPEN:ALL: {', '.join(still)}")


def _tempsim(driver: Any, cfg: SafeStateConfig) -> None:
    for channel in range(1, driver.channels + 1):
        driver.set_resistance(channel, cfg.thermistor_neutral_ohm)
        if abs(driver.resistance(channel) - cfg.thermistor_neutral_ohm) > 1.0:
            raise RuntimeError(f"channel {channel} does not read back {cfg.thermistor_neutral_ohm:g} Ω")


def _supply(driver: Any, cfg: SafeStateConfig) -> None:
    rated_slew = driver.ratings(driver.model)["slew_v_per_s"][1]
    driver.set_slew(min(cfg.supply_ramp_v_per_s, rated_slew))
    driver.set_voltage(0.0)
    _wait_until(
        lambda: driver.measure_voltage() < cfg.discharged_below_v,
        cfg.step_timeout_s,
        f"DC output below {cfg.discharged_below_v:g} V",
    )
    driver.output_off()
    if driver.output_enabled():
        raise RuntimeError("output still on after OUTP OFF")


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


def run_safe_state(
    drivers: Mapping[str, Instrument],
    cfg: SafeStateConfig,
    locks: Mapping[str, AbstractContextManager[Any]] | None = None,
) -> None:
    """Bring every instrument to its safe state in ``ORDER``; raise ``SafeStateError`` listing failures.

    ``locks`` (by instrument name) are held around each instrument's steps, so a thread still talking
    to an instrument finishes its exchange before the safe state takes the line.
    """
    failures: list[str] = []
    for kind in ORDER:
        for name, driver in drivers.items():
            if driver.kind != kind:
                continue
            try:
                with (locks or {}).get(name, nullcontext()):
                    STEPS[kind](driver, cfg)
                log.info("safe state: %s done", name)
            except Exception as exc:  # every step must get its chance, whatever failed before
                failures.append(f"{name}: {exc}")
                log.error("safe state: %s failed: %s", name, exc)
    if failures:
        raise SafeStateError(failures)
