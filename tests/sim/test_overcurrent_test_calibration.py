"""INV-04's stimulus end to end: over UDS a tester lowers the drive's over-current trip level for
the length of an extended session; the drive trips there; the session's end restores the level."""

from __future__ import annotations

import pytest
from udsoncan.exceptions import NegativeResponseException

from hil.dut.can_link import CanLink
from hil.dut.uds import DID_OVERCURRENT_TRIP_TEST, make_uds_client
from sim.bench import SimulatedBench
from tests.sim.conftest import wait_for

DRIVE = 0x00


def test_lowered_trip_level_trips_the_drive_and_ends_with_the_session(powered: SimulatedBench, vcu) -> None:
    with powered.simulation.now() as plant:
        production = plant.drive.production_overcurrent_trip_pk
        plant.dyno.hold_speed(600.0)

    def magnetised() -> bool:  # the flux built up: only the 120 A magnetising current flows
        with powered.simulation.now() as plant:
            return plant.drive.state.flux_fraction > 0.99 and plant.drive.state.i_phase_sensed_pk_a < 150.0

    wait_for(magnetised, what="the flux built up")
    assert production == pytest.approx(1.2 * 450.0 * 2**0.5)
    with CanLink(**powered.can_kwargs) as link, make_uds_client(link.bus, link.notifier, DRIVE) as uds:

        def read() -> float:
            response = uds.read_data_by_identifier(DID_OVERCURRENT_TRIP_TEST)
            return response.service_data.values[DID_OVERCURRENT_TRIP_TEST]

        assert read() == pytest.approx(production, abs=0.05)
        uds.change_session(3)
        uds.unlock_security_access(1)
        with pytest.raises(NegativeResponseException):
            uds.write_data_by_identifier(DID_OVERCURRENT_TRIP_TEST, production + 10.0)
        uds.write_data_by_identifier(DID_OVERCURRENT_TRIP_TEST, 200.0)
        assert read() == pytest.approx(200.0)
        with powered.simulation.now() as plant:
            assert "phase_overcurrent" not in plant.drive.active_faults
        vcu.request_torque(300.0)  # ≈ 235 A peak at rated flux: above the lowered level

        def tripped() -> bool:
            with powered.simulation.now() as plant:
                return "phase_overcurrent" in plant.drive.active_faults

        wait_for(tripped, what="the SW over-current trip")
        uds.change_session(1)
        assert read() == pytest.approx(production, abs=0.05)
