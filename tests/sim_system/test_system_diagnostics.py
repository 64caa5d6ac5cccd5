"""The diagnostics of the whole simulated drive system, reached only through the bench's CAN bus.

A fault is injected the way a bench would inject it (the cell simulator drops one cell's voltage
below the BMS's trip level); the BMS trips, the diagnostics ECU shows the DTC in DM1 and over UDS,
and every identity DID reads back, the serial number being the unit's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.bench import Bench
from hil.dut.can_link import CanLink
from hil.dut.dtc import Dtc
from hil.dut.j1939 import J1939Client
from hil.dut.uds import DID_ECU_SERIAL_NUMBER, DID_PART_NUMBER, DID_SOFTWARE_VERSION, DID_VIN, make_uds_client
from sim.bms import FAULTS

ROOT = Path(__file__).resolve().parents[2]
SERIAL = "EDS200-2026-0042"
CELL_UV = FAULTS["cell_undervoltage"]
DRIVE = 0x00


@pytest.fixture(scope="module")
def drive_bench():
    with Bench.from_file(ROOT / "benches" / "sim.yaml", service_options={"serial": SERIAL}) as bench:
        yield bench


def _powered(bench: Bench) -> None:
    cells, supply = bench.cellsim, bench.supply
    cells.set_current_limit(1.0)
    cells.set_cell_voltages([3.3] * cells.channels)
    cells.output_on()
    supply.set_current_limit(100)
    supply.set_slew(1000)
    supply.set_voltage(537.6)
    supply.output_on()


def test_a_cell_undervoltage_reaches_dm1_and_uds(drive_bench):
    _powered(drive_bench)
    with CanLink(**drive_bench.can_kwargs) as link:
        j1939 = J1939Client(link.bus, link.notifier)
        try:
            drive_bench.cellsim.set_cell_voltage(5, 2.6)  # below the 2.80 V trip [E]
            dm1 = j1939.wait_dm1(DRIVE, timeout_s=5.0, predicate=lambda m: m.find(CELL_UV.spn) is not None)
        finally:
            j1939.close()
        found = dm1.find(CELL_UV.spn)
        assert found is not None and found.fmi == CELL_UV.fmi
        assert CELL_UV.spn > 0xFFFF  # the split SPN encoding is exercised end to end

        with make_uds_client(link.bus, link.notifier, DRIVE) as uds:
            dtcs = {d.id: d.status for d in uds.get_dtc_by_status_mask(0xFF).service_data.dtcs}
            assert dtcs[Dtc(CELL_UV.spn, CELL_UV.fmi).uds_number].test_failed
            values = uds.read_data_by_identifier(
                [DID_PART_NUMBER, DID_ECU_SERIAL_NUMBER, DID_VIN, DID_SOFTWARE_VERSION]
            ).service_data.values
    assert values[DID_ECU_SERIAL_NUMBER].strip() == SERIAL
    assert values[DID_VIN] == "LHILBUS2011000001"
    assert values[DID_SOFTWARE_VERSION].strip() == "EDS 2.4.1"
