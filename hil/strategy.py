"""The bench's states and the one way between them, in the manner of labgrid's strategies.

    off -> powered -> drive_ready -> turning

``transition("turning", output_rpm=800)`` brings the bench from wherever it is: down to the
highest state both paths share, then up through each state's bring-up, each written once here.

- off: the bench's safe state (no output on, shaft stopped).
- powered: the cell simulator holds the cell voltages and the supply holds the pack voltage, as a
  pack would; the VCU asks the BMS to keep its contactors open.
- drive_ready: the VCU has reset latched faults and asked for the contactors; the BMS reports them
  closed and the inverter reports its PWM enabled; TSC1 requests zero torque.
- turning: the dyno holds the transmission's output shaft at a speed.

Every way down (a transition, the fixture closing the strategy, the safe state) zeroes the torque
and waits for the drive's DC current to fall below the product's ``contactor_break_current`` before
the VCU asks the contactors open.

Where a plant model runs (a battery pack in the loop), the bring-up takes the pack's voltages from
it instead of the fixed ones.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from hil.bench import Bench
from hil.dut.monitor import CanMonitor
from hil.dut.vcu import Vcu
from hil.errors import HilError
from hil.product import Product
from hil.timing import dwell, wait_until

log = logging.getLogger("hil.strategy")

# Fixed stimulus of a bench without a pack model [R: reference §3.2]: mid SOC on the LFP plateau.
RESTING_CELL_V = 3.30
CONTACTOR_CLOSED, CONTACTOR_OPEN = 2, 0  # BMS_Status.ContactorState, dbc/README.md
CELLSIM_CURRENT_LIMIT_A = 1.0  # the BMS front end and its balancing draw well under this [E]
SUPPLY_SETTLED_V = 1.0
SPEED_SETTLED_RPM = 5.0
SPEED_SETTLED_FRACTION = 0.005
STOPPED_RPM = 30.0
SUPPLY_SLEW_V_PER_S = 1000.0
# A drive-ready inverter reports PWM on once the link is up: one INV_Status period and the
# contactor sequence after the BMS closed
READY_TIMEOUT_S = 2.0
SPEED_TIMEOUT_S = 20.0
# The dyno's set point moves at this rate, so its speed loop never saturates: with the drivetrain's
# reflected inertia (about 1.6 kg·m² at the output in 1st gear [E]) it needs ~250 N·m, far inside the
# torque alarm the envelope programs, where a step would ask for the machine's full torque.
DYNO_RAMP_RPM_PER_S = 1500.0
DYNO_RAMP_STEP_S = 0.02
# Zero torque takes the drive's DC current down within its torque ramp and a few INV_Status periods
# (20 ms); a drive whose current stays up past this has its contactors asked open all the same.
UNLOAD_TIMEOUT_S = 1.0


class State(enum.IntEnum):
    OFF = 0
    POWERED = 1
    DRIVE_READY = 2
    TURNING = 3


class TransitionError(HilError):
    """A state that could not be reached: names the state, the step and what was seen."""


class DriveStrategy:
    def __init__(
        self,
        bench: Bench,
        vcu: Vcu,
        monitor: CanMonitor,
        *,
        pack_cells: int,
        precharge_timeout_s: float,
        break_current_a: float,
    ) -> None:
        self.bench, self.vcu, self.monitor = bench, vcu, monitor
        self.pack_cells = pack_cells
        self.precharge_timeout_s = precharge_timeout_s
        self.break_current_a = break_current_a
        self.state = State.OFF
        self.output_rpm = 0.0
        self.cell_voltages: Callable[[], Sequence[float]] | None = None
        self.pack_voltage: Callable[[], float] | None = None
        self._remove_hook = bench.add_safe_state_hook(self._on_safe_state)

    @classmethod
    def for_product(cls, bench: Bench, vcu: Vcu, monitor: CanMonitor, product: Product) -> DriveStrategy:
        """The strategy with the product's pack, pre-charge timeout and contactor break current."""
        return cls(
            bench,
            vcu,
            monitor,
            pack_cells=int(product.value("pack_cells", "1")),
            precharge_timeout_s=product.value("precharge_timeout", "s"),
            break_current_a=product.value("contactor_break_current", "A"),
        )

    # --- the pack the bench emulates -------------------------------------------------------------
    def emulate_pack(
        self, cell_voltages: Callable[[], Sequence[float]], pack_voltage: Callable[[], float]
    ) -> None:
        """Take the bring-up voltages from a pack model (channel voltages, pack terminal voltage)."""
        self.cell_voltages, self.pack_voltage = cell_voltages, pack_voltage

    def _cells(self) -> list[float]:
        if self.cell_voltages is not None:
            return list(self.cell_voltages())
        return [RESTING_CELL_V] * self.bench.of_kind("cellsim").channels

    def _pack_v(self) -> float:
        if self.pack_voltage is not None:
            return self.pack_voltage()
        return RESTING_CELL_V * self.pack_cells

    # --- transitions -----------------------------------------------------------------------------
    def transition(self, state: State | str, **params: Any) -> None:
        """Reach ``state``; ``turning`` takes ``output_rpm`` (the dyno's shaft, the transmission output)."""
        target = state if isinstance(state, State) else State[str(state).upper()]
        if target is State.TURNING and "output_rpm" not in params:
            raise TransitionError("transition('turning') needs output_rpm=<rpm of the output shaft>")
        unknown = set(params) - {"output_rpm"}
        if unknown:
            raise TransitionError(f"transition({target.name.lower()}): unknown parameter {sorted(unknown)}")
        while self.state > target:
            self._down()
        while self.state < target:
            self._up(params)
        if target is State.TURNING and params["output_rpm"] != self.output_rpm:
            self._turn(float(params["output_rpm"]))

    def _up(self, params: dict[str, Any]) -> None:
        step = State(self.state + 1)
        if step is State.POWERED:
            self._power_up()
        elif step is State.DRIVE_READY:
            self._close()
        else:
            self._turn(float(params["output_rpm"]))
        self.state = step

    def _down(self) -> None:
        if self.state is State.TURNING:
            self._stop_shaft()
        elif self.state is State.DRIVE_READY:
            self._open()
        else:
            self.bench.safe_state()  # sets self.state through the hook
            return
        self.state = State(self.state - 1)

    # --- each step, once -------------------------------------------------------------------------
    def _power_up(self) -> None:
        cellsim, supply = self.bench.of_kind("cellsim"), self.bench.of_kind("supply")
        limits = self.bench.config.limits(self.bench.name_of_kind("supply"))
        self.vcu.neutral()
        cellsim.set_current_limit(CELLSIM_CURRENT_LIMIT_A)
        cellsim.set_cell_voltages(self._cells())
        cellsim.output_on()
        supply.set_current_limit(limits["current_a"].high)
        supply.set_sink_current_limit(limits["sink_current_a"].high)
        supply.set_slew(SUPPLY_SLEW_V_PER_S)
        target = self._pack_v()
        supply.set_voltage(target)
        supply.output_on()
        wait_until(
            supply.measure_voltage,
            lambda v: abs(v - self._pack_v()) <= SUPPLY_SETTLED_V,
            timeout_s=2.0 + target / SUPPLY_SLEW_V_PER_S,
            what=f"powered: supply at the pack voltage {target:.1f} V",
        )

    def _close(self) -> None:
        self.vcu.fault_reset()
        self.vcu.close_contactors(True)
        self.monitor.wait(
            "BMS_Status",
            lambda f: f["ContactorState"] == CONTACTOR_CLOSED,
            timeout_s=self.precharge_timeout_s + 1.0,
            what="drive_ready: BMS contactors closed",
        )
        # a latch whose condition clears only with the link up (the DC under-voltage a safe state
        # leaves when the supply ramps down before the contactors open) resets now
        self.vcu.fault_reset()
        self.monitor.wait(
            "INV_Status",
            lambda f: f["PwmEnabled"] == 1,
            timeout_s=READY_TIMEOUT_S,
            what="drive_ready: inverter PWM enabled",
        )

    def _ramp_dyno(self, target_rpm: float) -> None:
        dyno = self.bench.of_kind("dyno")
        start = self.output_rpm
        steps = max(1, math.ceil(abs(target_rpm - start) / DYNO_RAMP_RPM_PER_S / DYNO_RAMP_STEP_S))
        for k in range(1, steps + 1):
            dyno.set_speed(start + (target_rpm - start) * k / steps if k < steps else target_rpm)
            if k < steps:
                dwell(DYNO_RAMP_STEP_S)

    def _turn(self, output_rpm: float) -> None:
        dyno = self.bench.of_kind("dyno")
        self._ramp_dyno(output_rpm)
        band = max(SPEED_SETTLED_RPM, SPEED_SETTLED_FRACTION * abs(output_rpm))
        wait_until(
            lambda: dyno.read().speed_rpm,
            lambda rpm: abs(rpm - output_rpm) <= band,
            timeout_s=SPEED_TIMEOUT_S,
            what=f"turning: output shaft at {output_rpm:g} rpm",
        )
        self.output_rpm = output_rpm

    def _stop_shaft(self) -> None:
        dyno = self.bench.of_kind("dyno")
        self.vcu.request_torque(0.0)
        self._ramp_dyno(0.0)
        wait_until(
            lambda: dyno.read().speed_rpm,
            lambda rpm: abs(rpm) < STOPPED_RPM,
            timeout_s=SPEED_TIMEOUT_S,
            what="drive_ready: output shaft stopped",
        )
        dyno.free_run()
        self.output_rpm = 0.0

    def _unload(self) -> None:
        """Zero torque, then wait for an INV_Status frame whose DC current is below the contactors'
        break current: a contactor opened under load arcs, and worn contacts weld."""
        self.vcu.request_torque(0.0)
        try:
            self.monitor.wait(
                "INV_Status",
                lambda f: abs(f["DcBusCurrent"]) < self.break_current_a,
                since=self.monitor.mark(),
                timeout_s=UNLOAD_TIMEOUT_S,
                what=f"the drive's DC current below {self.break_current_a:g} A at zero torque",
            )
        except HilError as exc:  # the wait timed out, or a watchdog (a failed plant loop) ended it
            log.warning("%s; asking the contactors open all the same", exc)

    def _open(self) -> None:
        self._unload()
        self.vcu.close_contactors(False)
        self.monitor.wait(
            "BMS_Status",
            lambda f: f["ContactorState"] == CONTACTOR_OPEN,
            timeout_s=READY_TIMEOUT_S,
            what="powered: BMS contactors open",
        )

    def _on_safe_state(self) -> None:
        try:
            self._unload()
        finally:
            self.vcu.neutral()
            self.state = State.OFF
            self.output_rpm = 0.0

    def close(self) -> None:
        # the test's safe state runs after this: it must find the VCU asking for no torque and open
        # contactors, as the hook would have had it, or the supply ramps down under a live drive
        try:
            self._unload()
        finally:
            self.vcu.neutral()
            self._remove_hook()
