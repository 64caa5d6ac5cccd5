"""The instruments' own protections, programmed from the bench's envelope before any output is enabled.

The envelope is the bench's promise; the instrument's OVP/OCP/alarms are the hardware backstop that
holds it even if the software above goes wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from instruments.base import Instrument


class _Bounds(Protocol):
    low: float
    high: float


def _peak(limit: _Bounds) -> float:
    return max(abs(limit.low), abs(limit.high))


def _supply(driver: Any, env: Mapping[str, _Bounds]) -> None:
    driver.program_protection(ovp_v=env["voltage_v"].high, ocp_a=env["current_a"].high)


def _cellsim(driver: Any, env: Mapping[str, _Bounds]) -> None:
    driver.program_protection(ovp_v=env["cell_voltage_v"].high, ocp_a=env["current_a"].high)


def _eload(driver: Any, env: Mapping[str, _Bounds]) -> None:
    driver.program_protection(ocp_a=env["current_a"].high, opp_w=env["power_w"].high)


def _dyno(driver: Any, env: Mapping[str, _Bounds]) -> None:
    driver.program_alarms(
        speed_rpm=_peak(env["speed_rpm"]), torque_nm=_peak(env["torque_nm"]), power_kw=env["power_kw"].high
    )


#: kind -> (quantities the programming reads, how to program)
PROTECTIONS: dict[str, tuple[tuple[str, ...], Callable[[Any, Mapping[str, _Bounds]], None]]] = {
    "supply": (("voltage_v", "current_a"), _supply),
    "cellsim": (("cell_voltage_v", "current_a"), _cellsim),
    "eload": (("current_a", "power_w"), _eload),
    "dyno": (("speed_rpm", "torque_nm", "power_kw"), _dyno),
}


def protection_quantities(driver: type[Instrument]) -> tuple[str, ...]:
    return PROTECTIONS.get(driver.kind, ((), None))[0]  # type: ignore[return-value]


def program_protections(driver: Instrument, envelope: Mapping[str, _Bounds]) -> None:
    entry = PROTECTIONS.get(driver.kind)
    if entry is not None:
        entry[1](driver, envelope)
