"""The IT6000C driver against its emulator over real sockets."""

from __future__ import annotations

import pytest

from instruments.errors import InstrumentReportedError
from instruments.supply import IT6000C
from sim.bench import SimulatedBench
from sim.emulators.supply import It6000cEmulator
from sim.plant.supply import SINK_OVER_CURRENT, SupplyModel
from tests.sim.conftest import power_up, wait_for


def test_identity_comes_from_the_bench_config_in_the_units_six_fields(connect) -> None:
    supply = connect("supply")
    assert supply.query("*IDN?") == "ITECH Electronics,IT6054C-800-225-P5,SIM-PS-0001,000.006.101,640.R,132.R"
    identity = supply.identify()
    assert (identity.manufacturer, identity.model, identity.serial, identity.firmware) == (
        "ITECH Electronics",
        "IT6054C-800-225-P5",
        "SIM-PS-0001",
        "000.006.101,640.R,132.R",
    )


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ("PROT:CLE", -113),  # clearing is OUTP:PROT:CLE; there is no PROTection root
        ("VOLT:OVER:PROT:LEV 700", -113),  # the voltage protection has no OVER node
        ("VOLT:BOGUS 1", -113),
        ("STAT:QUES:COND 5", -113),  # a query-only header takes no value
        ("MEAS:VOLT 5", -113),
        ("VOLT 900", -222),  # above the 808 V the unit takes
        ("VOLT:SLEW 5000", -222),  # a time in seconds, not V/ms
        ("FUNC POWER", -224),
    ],
)
def test_the_emulator_refuses_what_the_unit_refuses(connect, command, code) -> None:
    supply = connect("supply")
    supply.write(command)
    with pytest.raises(InstrumentReportedError) as raised:
        supply.check_errors()
    assert [c for c, _ in raised.value.entries] == [code]
    assert repr(command) in str(raised.value)  # the driver's error names the command


def test_current_limits_are_taken_in_cv_priority_only(connect, bench: SimulatedBench) -> None:
    supply = connect("supply")
    supply.set_current_limit(100.0)
    supply.write("FUNC CURR")
    assert supply.query("FUNC?") == "CURRent"
    supply.write("CURR:LIM 50")
    supply.write("CURR:LIM:NEG -50")
    with pytest.raises(InstrumentReportedError) as raised:
        supply.check_errors()
    assert [c for c, _ in raised.value.entries] == [-221, -221]
    assert "CURR:LIM:NEG -50" in str(raised.value)
    assert bench.plant.supply.source_limit_a == 100.0
    # the driver puts the supply back in CV priority before it sets a limit
    supply.set_current_limit(50.0)
    supply.check_errors()
    assert supply.query("FUNC?") == "VOLTage"
    assert supply.current_limit_a == 50.0
    # and VOLT:LIM is the CC priority's: refused in CV
    supply.write("VOLT:LIM 10")
    with pytest.raises(InstrumentReportedError) as raised:
        supply.check_errors()
    assert [c for c, _ in raised.value.entries] == [-221]


def test_slew_is_a_time_in_seconds(connect, bench: SimulatedBench) -> None:
    supply = connect("supply")
    assert float(supply.query("VOLT:SLEW?")) == 0.1  # the guide's default
    supply.set_slew(1000.0)
    assert float(supply.query("VOLT:SLEW:POS?")) == pytest.approx(0.808)
    assert float(supply.query("VOLT:SLEW:NEG?")) == pytest.approx(0.808)
    supply.write("VOLT:SLEW:NEG 2")
    supply.write("VOLT:SLEW:POS 500ms")
    supply.check_errors()
    assert (bench.plant.supply.rise_s, bench.plant.supply.fall_s) == (0.5, 2.0)


def test_cv_output_and_measurements(connect, bench: SimulatedBench, vcu) -> None:
    cells, supply = connect("cellsim"), connect("supply")
    supply.program_protection(ovp_v=700.0, ocp_a=300.0)
    supply.set_sink_current_limit(50.0)
    supply.set_slew(8000.0)
    power_up(bench, cells, supply, vcu, voltage_v=600.0, current_limit_a=100.0)
    assert supply.output_enabled()
    assert supply.measure_voltage() == pytest.approx(600.0)
    # the supply's load is the DUT behind the closed contactors: the drive, armed and magnetised at
    # standstill, draws its idle losses (far more than the 47 kΩ link bleed's 13 mA), steady once
    # the flux has built up (forced at 2.5 × the rated magnetising current until then)
    wait_for(lambda: bench.plant.drive.state.flux_fraction > 0.9999, what="the motor magnetised")
    with bench.simulation.now() as plant:
        drive_a = plant.inverter_dc_current_a
    assert drive_a > 1.0
    current = supply.measure_current()
    assert current == pytest.approx(drive_a, rel=1e-3)
    assert supply.measure_power() == pytest.approx(600.0 * current, rel=1e-3)
    assert supply.voltage_setpoint_v == 600.0
    assert supply.current_limit_a == 100.0
    assert supply.sink_current_limit_a == 50.0
    assert supply.query("CURR:LIM:NEG?") == "-50"
    supply.check_errors()
    supply.output_off()
    assert not supply.output_enabled()


def test_slew_limits_the_ramp(connect, bench: SimulatedBench) -> None:
    supply = connect("supply")
    supply.set_slew(1000.0)  # 1 V/ms
    supply.set_voltage(400.0)
    supply.output_on()
    started = bench.simulation.elapsed_s()
    wait_for(lambda: supply.measure_voltage() >= 399.9, what="ramp to 400 V")
    assert bench.simulation.elapsed_s() - started >= 0.39


def test_unknown_header_and_out_of_rating_go_to_the_error_queue(connect, bench: SimulatedBench) -> None:
    supply = connect("supply")
    supply.write("VOLT 100")
    supply.write("SOURce:VOLTage:LEVel 810")
    supply.write("VOLT:BOGUS 1")
    with pytest.raises(InstrumentReportedError) as raised:
        supply.check_errors()
    assert [code for code, _ in raised.value.entries] == [-222, -113]
    assert supply.voltage_setpoint_v == 100.0
    assert bench.plant.supply.setpoint_v == 100.0


def test_over_voltage_trips_latches_and_clears(connect, bench: SimulatedBench) -> None:
    supply = connect("supply")
    supply.program_protection(ovp_v=100.0, ocp_a=300.0)
    supply.set_slew(2000.0)
    supply.set_voltage(50.0)
    supply.output_on()
    wait_for(lambda: supply.measure_voltage() == pytest.approx(50.0), what="50 V")
    assert not supply.protection().tripped
    supply.set_voltage(150.0)
    wait_for(lambda: supply.protection().over_voltage, what="over-voltage trip")
    assert not supply.protection().over_current
    assert not supply.output_enabled()
    # tripped within a step of the 2 V/ms ramp crossing 100 V; the output capacitor holds that voltage
    assert 100.0 < supply.measure_voltage() <= 102.0
    # latched: the output stays off and refuses to come on until the protection is cleared
    supply.set_voltage(50.0)
    supply.write("OUTP ON")
    with pytest.raises(InstrumentReportedError) as raised:
        supply.check_errors()
    assert raised.value.entries[0][0] == -221
    assert not supply.output_enabled()
    assert supply.protection().over_voltage
    supply.clear_protection()
    assert not supply.protection().tripped
    supply.output_on()
    assert supply.output_enabled()
    wait_for(lambda: supply.measure_voltage() == pytest.approx(50.0, abs=0.1), what="back to 50 V")


def test_over_current_trips(connect, bench: SimulatedBench) -> None:
    supply, eload = connect("supply"), connect("eload")
    supply.program_protection(ovp_v=700.0, ocp_a=20.0)
    supply.set_voltage(100.0)
    supply.output_on()
    eload.set_mode("CCH")
    eload.set_current(30.0)
    eload.load_on()
    wait_for(lambda: supply.protection().over_current, what="over-current trip")
    assert not supply.output_enabled()


def test_closing_onto_an_empty_link_shares_charge_and_the_supply_recharges_at_its_limit(
    connect, powered: SimulatedBench
) -> None:
    supply = connect("supply")
    supply.program_protection(ovp_v=700.0, ocp_a=100.0)
    supply.set_current_limit(20.0)
    assert supply.current_limit_a == 20.0  # the query returns once the limit is in force
    with powered.simulation.now() as plant:
        plant.hv.link_voltage_v = 0.0  # as if the link had been discharged behind a welded contactor
        plant.advance(plant.time_s + 0.002)
        # 0.5 mF at 537.6 V shares with 2 mF at 0 V: the node drops to a fifth at once, then the
        # supply starts to recharge it
        assert 537.6 / 5 < plant.pack_voltage_v < 0.3 * 537.6
    # the supply recharges the 2.5 mF node at its 20 A limit (≈ 70 ms), without tripping at 100 A
    wait_for(lambda: supply.measure_voltage() > 530.0, timeout_s=2.0, what="node recharged")
    assert not supply.protection().tripped


def test_five_in_parallel_source_the_drives_peak_power() -> None:
    unit, system = (It6000cEmulator.rating_of(m) for m in ("IT6054C-800-225", "IT6054C-800-225-P5"))
    assert (system.current_a, system.sink_current_a, system.power_w) == (
        5 * unit.current_a,
        5 * unit.sink_current_a,
        5 * unit.power_w,
    )
    assert system.voltage_v == unit.voltage_v
    # the driver's rating table (what the bench file's envelope is checked against) says the same
    assert IT6000C.ratings("IT6054C-800-225-P5")["power_w"] == (0.0, system.power_w)
    # 200 kW at the shaft is ≈ 215 kW at the DC input: ≈ 390 A at 554 V, beyond one unit's 99 A
    supply = SupplyModel(system)
    supply.source_limit_a = 450.0
    assert supply.current_limits(554.0)[1] == 450.0
    assert SupplyModel(unit).current_limits(554.0)[1] < 100.0


def test_a_sink_over_current_trips_its_own_bit() -> None:
    supply = SupplyModel(It6000cEmulator.rating_of("IT6054C-800-225"))
    supply.ocp_enabled, supply.ocp_a = True, 100.0
    supply.switch_on(0.0)
    supply.current_a = -150.0
    supply.check()
    assert (supply.tripped, supply.output_on) == (SINK_OVER_CURRENT, False)


def test_the_questionable_register_carries_every_documented_bit(connect, bench: SimulatedBench) -> None:
    supply = connect("supply")
    with bench.simulation.now():
        bench.plant.supply.tripped = 0x7FFF  # all 15 bits, as the unit's register has them
    protection = supply.protection()
    assert len(protection.active) == 15 and protection.over_temperature and protection.sink_over_power
    supply.clear_protection()
    assert not supply.protection().tripped
