"""The HV path between the pack (on the bench: the DC supply) and the inverter's DC link.

    source + ──┬── main contactor (R_contactor) ──┬── link + ── C_link ∥ R_bleed ∥ load (inverter)
               └── pre-charge contactor ── R_pre ─┘
    source − ───── negative contactor ─────────────── link −

Each step solves the link's one-node RC exactly for the step (the inputs held constant), so it is
stable at any step: with the main contactor closed the time constant R_contactor·C is
microseconds and the result is the algebraic tie V_link = V_source − I·R_contactor, while the
current reported is the step's average, so the inrush charge that tops up the link is not lost.
Contactors close and open after their mechanical delays; a welded one never opens again. A main
contactor with worn contacts may tack-weld when it breaks more than ``main_weld_current``: it then
stays closed for ``main_weld_hold`` before the weld parts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sim.bms.contactors import Contactors

_TIME_ROUNDING_S = 1e-9  # a delay summed from float steps may fall short of itself by rounding


class _Contactor:
    __slots__ = ("_timer_s", "close_time_s", "closed", "open_time_s", "weld_left_s", "welded")

    def __init__(self, close_time_s: float, open_time_s: float, welded: bool) -> None:
        self.close_time_s = close_time_s
        self.open_time_s = open_time_s
        self.welded = welded
        self.weld_left_s = 0.0  # a tack weld that parts after this long
        self.closed = False
        self._timer_s = 0.0

    def advance(self, dt_s: float, command: bool) -> None:
        if self.weld_left_s > 0.0:
            self.weld_left_s -= dt_s
            self.welded = self.weld_left_s > 0.0
        if command == self.closed or (self.closed and self.welded):
            self._timer_s = 0.0
            return
        self._timer_s += dt_s
        if self._timer_s >= (self.close_time_s if command else self.open_time_s) - _TIME_ROUNDING_S:
            self.closed = command
            self._timer_s = 0.0

    @property
    def opening(self) -> bool:
        """Closed, told to open, and its contacts about to part within the next step."""
        return self.closed and self._timer_s > 0.0


class HvPath:
    def __init__(self, params: Mapping[str, float]) -> None:
        self.precharge_conductance_s = (
            0.0 if params["precharge_resistor_open"] >= 0.5 else 1.0 / params["precharge_resistance"]
        )
        self.main_conductance_s = 1.0 / params["contactor_resistance"]
        self.bleed_conductance_s = 1.0 / params["link_bleed_resistance"]
        self.capacitance_f = params["link_capacitance"]
        close_s, open_s = params["contactor_close_time"], params["contactor_open_time"]
        self.negative = _Contactor(close_s, open_s, params["negative_welded"] >= 0.5)
        self.precharge = _Contactor(close_s, open_s, welded=False)
        self.main = _Contactor(close_s, open_s, params["main_welded"] >= 0.5)
        self.weld_current_a = params["main_weld_current"]
        self.weld_hold_s = params["main_weld_hold"]
        self.aux_contacts = Contactors()
        self.link_voltage_v = 0.0
        self.source_current_a = 0.0

    def step(
        self,
        dt_s: float,
        source_voltage_v: float,
        load_current_a: float,
        command: Contactors,
        load_conductance_s: float = 0.0,
    ) -> tuple[float, float]:
        """Advance by ``dt_s`` (> 0); ``load_current_a`` is drawn from the link (+ into the inverter),
        ``load_conductance_s`` is a resistive load across it. Returns (link voltage, current the
        source delivers, averaged over the step)."""
        negative, precharge, main = self.negative, self.precharge, self.main
        g = 0.0
        if negative.closed:
            if main.closed:
                g += self.main_conductance_s
            if precharge.closed:
                g += self.precharge_conductance_s
        g_total = g + self.bleed_conductance_s + load_conductance_s
        x = dt_s * g_total / self.capacitance_f  # step / time constant
        v_final = (g * source_voltage_v - load_current_a) / g_total
        v0 = self.link_voltage_v
        decay = math.exp(-x)
        v1 = v_final + (v0 - v_final) * decay
        v_mean = v_final + (v0 - v_final) * (1.0 - decay) / x
        # an inverter on an empty link draws nothing: the link does not go negative
        self.link_voltage_v = v1 if v1 > 0.0 else 0.0
        self.source_current_a = g * (source_voltage_v - (v_mean if v_mean > 0.0 else 0.0))

        # contacts that finish moving inside this step carry current from the next one on
        breaking = main.opening and not command.main and negative.closed
        if breaking and 0.0 < self.weld_current_a < abs(self.source_current_a) and not main.welded:
            main.welded, main.weld_left_s = True, self.weld_hold_s  # the arc at the break welds them
        negative.advance(dt_s, command.negative)
        precharge.advance(dt_s, command.precharge)
        main.advance(dt_s, command.main)
        aux = self.aux_contacts
        if (negative.closed, precharge.closed, main.closed) != (aux.negative, aux.precharge, aux.main):
            self.aux_contacts = Contactors(negative.closed, precharge.closed, main.closed)
        return self.link_voltage_v, self.source_current_a
