"""``sim.service.start``: the bench object, its resources, its command log and a clean stop."""

from __future__ import annotations

import json
import threading

import can
import pytest

from sim.ecu.diagnostics import EcuDefects
from sim.service import start
from tests.sim.conftest import instruments, port_is_free, power_up, wait_for


def test_resources_are_loopback_sockets_and_stop_frees_everything() -> None:
    threads_before = set(threading.enumerate())
    bench = start(instruments(), {"interface": "virtual", "channel": "vcan-unused"}, {})
    ports = [int(r.split("::")[2]) for r in bench.resources.values()]
    assert sorted(bench.resources) == ["analyzer", "cellsim", "dyno", "eload", "supply"]
    assert all(
        r.startswith("TCPIP0::127.0.0.1::") and r.endswith("::SOCKET") for r in bench.resources.values()
    )
    assert bench.can_kwargs["interface"] == "virtual" and bench.can_kwargs["channel"] != "vcan-unused"
    assert not any(port_is_free(p) for p in ports)
    bench.stop()
    bench.stop()  # idempotent
    assert all(port_is_free(p) for p in ports)
    assert set(threading.enumerate()) <= threads_before


def test_two_benches_do_not_share_a_can_channel() -> None:
    first = start(instruments(), {"interface": "virtual", "channel": "x"}, {})
    second = start(instruments(), {"interface": "virtual", "channel": "x"}, {})
    try:
        assert first.can_kwargs["channel"] != second.can_kwargs["channel"]
    finally:
        first.stop()
        second.stop()


def test_unknown_driver_is_named() -> None:
    scope = {"name": "scope", "driver": "acme.zz9", "model": "Z", "serial": "1"}
    items = [*instruments(), {**scope, "resource": "TCPIP0::127.0.0.1::0::SOCKET"}]
    with pytest.raises(ValueError, match=r"acme\.zz9"):
        start(items, {"interface": "virtual"}, {})


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("TCPIP0::bench.example::0::SOCKET", "127.0.0.1 only"),
        ("GPIB0::5::INSTR", "TCPIP0::127.0.0.1::<port>::SOCKET"),
    ],
)
def test_resources_must_be_loopback_sockets(resource: str, message: str) -> None:
    items = instruments()
    items[0]["resource"] = resource
    with pytest.raises(ValueError, match=message):
        start(items, {"interface": "virtual"}, {})


def test_drive_ecu_broadcasts_eec1_and_follows_tsc1(bench, connect, vcu) -> None:
    with can.Bus(**bench.can_kwargs) as bus:
        eec1 = wait_for_frame(bus, 0x0CF00400)
        assert eec1.data[2] == 125  # 0 % actual torque
        # torque needs a charged DC link: cells on, the pack on, the BMS's contactors closed
        power_up(bench, connect("cellsim"), connect("supply"), vcu)
        connect("dyno").set_speed(0.0)  # the dyno holds the output shaft: locked rotor
        # TSC1 to the drive (DA 0x00) from the VCU (SA 0x27) every 10 ms: data[3] = 125 + 20 %
        vcu.request_torque(200.0)
        for _ in range(100):
            eec1 = wait_for_frame(bus, 0x0CF00400)
            if eec1.data[2] == 145:
                break
        assert eec1.data[2] == 145 and eec1.data[1] == 145 and eec1.data[5] == 0x27
    # EEC1 rounds to 1 % (10 N·m): the torque itself settles on the request (5 ms lag), the dyno's
    # speed loop pulls the shaft back to standstill
    wait_for(
        lambda: (
            bench.plant.motor_torque_nm == pytest.approx(200.0, rel=1e-3) and abs(bench.plant.speed_rpm) < 1.0
        ),
        what="200 N·m at standstill",
    )


def wait_for_frame(bus: can.BusABC, can_id: int) -> can.Message:
    for _ in range(200):
        message = bus.recv(timeout=1.0)
        assert message is not None, "no CAN traffic"
        if message.arbitration_id == can_id:
            return message
    raise AssertionError(f"no frame 0x{can_id:08X}")


def test_command_log_records_each_command_of_a_chain(bench, connect, tmp_path) -> None:
    cells = connect("cellsim")
    cells.write(":SOUR:VOLT 3.4000,(@1);sour:volt 3.5,(@2)")
    analyzer = connect("analyzer")
    analyzer.write(":NUM:NORM:ITEM2 IRMS,4")
    records = wait_for(lambda: len(r := bench.command_log()) == 3 and r, what="3 records")
    # the two instruments' servers run concurrently: order is kept per instrument only
    records.sort(key=lambda r: r["instrument"] != "cellsim")
    assert [(r["instrument"], r["command"], r["header"], r["args"], r["error"]) for r in records] == [
        ("cellsim", ":SOUR:VOLT 3.4000,(@1)", "SOUR:VOLT", ["3.4000", "(@1)"], 0),
        ("cellsim", "sour:volt 3.5,(@2)", "SOUR:VOLT", ["3.5", "(@2)"], 0),
        ("analyzer", ":NUM:NORM:ITEM2 IRMS,4", "NUM:ITEM2", ["IRMS", "4"], 0),
    ]
    assert 0.0 <= records[0]["t"] <= records[1]["t"] < 60.0
    copy = bench.command_log()
    copy[0]["args"].append("mutated")
    assert "mutated" not in bench.command_log()[0]["args"]


def test_command_log_file_gets_one_json_line_per_command(tmp_path, resource_manager) -> None:
    path = tmp_path / "commands.jsonl"
    bench = start(instruments(), {"interface": "virtual"}, {"log": str(path)})
    try:
        supply = resource_manager.open_resource(
            bench.resources["supply"], read_termination="\n", write_termination="\n"
        )
        supply.write("VOLT 12;OUTP ON")
        assert supply.query("OUTP?") == "1"
        # flushed per line: readable while the bench still runs
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["header"] for line in lines] == ["SOUR:VOLT", "OUTP", "OUTP?"]
        supply.close()
    finally:
        bench.stop()


def test_the_diagnostics_ecu_gets_the_units_serial_and_its_firmware_defects(tmp_path) -> None:
    good = start(instruments(), {"interface": "virtual"}, {"serial": "EDS200-2026-0042"})
    try:
        assert good.unit_serial == "EDS200-2026-0042"
        assert good.diagnostics.uds.identity.serial_number == "EDS200-2026-0042"
        assert good.diagnostics.defects == EcuDefects()
    finally:
        good.stop()
    profile = tmp_path / "bad.yaml"
    profile.write_text(
        "identity: {serial_number: PCB-0000001}\n"
        "diagnostics: {trips_amber: 1, clear_ignored: 1, vin_volatile: 1, never_confirmed: 1}\n"
    )
    bad = start(
        instruments(), {"interface": "virtual"}, {"serial": "EDS200-2026-0042", "profile": str(profile)}
    )
    try:
        defects = bad.diagnostics.defects
        assert bad.diagnostics.uds.identity.serial_number == "PCB-0000001"
        assert (defects.trips_amber, defects.clear_ignored, defects.dm2_reports_active) == (True, True, False)
        assert defects.uds.vin_volatile and defects.memory.never_confirmed
    finally:
        bad.stop()
