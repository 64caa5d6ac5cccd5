"""The WT5000 driver against its emulator: numerics, harmonics and waveform capture round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from instruments.errors import InstrumentReportedError, InstrumentTimeout
from sim.bench import SimulatedBench
from sim.drive.waveforms import synthesise
from sim.emulators.analyzer import ACCURACY, CaptureWindow, Wt5000Emulator
from tests.sim.conftest import PACK_V, cells_read, wait_for

TORQUE_NM = 200.0
MOTOR_RPM = 1500.0


def growth(ratios: list[float]) -> float:
    """rms of a fundamental of 1 with these harmonic ratios added."""
    return math.sqrt(1.0 + sum(r * r for r in ratios))


def harmonics(bench: SimulatedBench) -> tuple[dict[int, float], dict[int, float]]:
    """(voltage, current) harmonic ratios by order, as the golden inverter has them."""
    inverter = bench.profile["inverter"]
    voltage = {h: inverter[f"voltage_harmonic_{h}"] for h in (5, 7)}
    current = {h: inverter["harmonic_scale"] * inverter[f"harmonic_{h}"] for h in (5, 7, 11, 13)}
    return voltage, current


@pytest.fixture
def running(connect, powered: SimulatedBench, vcu) -> SimulatedBench:
    """The motor at 1500 rpm (the dyno holding the output shaft in 1st gear) producing 200 N·m from
    a 600 V pack: 31 kW, well inside the 54 kW supply."""
    supply, dyno = connect("supply"), connect("dyno")
    supply.set_voltage(600.0)
    output_rpm = MOTOR_RPM / powered.profile["transmission"]["ratio_1"]
    dyno.set_speed(output_rpm)
    wait_for(lambda: abs(dyno.read().speed_rpm - output_rpm) < 0.5, what="the dyno at speed")
    vcu.request_torque(TORQUE_NM)
    wait_for(
        lambda: (
            abs(dyno.read().speed_rpm - output_rpm) < 0.5
            and abs(powered.plant.motor_torque_nm - TORQUE_NM) < 0.1
        ),
        what="the drive at its operating point",
    )
    wait_for(lambda: steady_for(powered, 0.25), what="a steady link over a capture window")
    return powered


def steady_for(bench: SimulatedBench, span_s: float) -> bool:
    with bench.simulation.now() as plant:
        if plant.time_s < span_s:
            return False
        link = plant.trajectory(plant.time_s - span_s, plant.time_s)["dc_voltage_v"]
    # the pack at 600 V, less the drop across the 1 mΩ contactors
    return bool(np.all(np.abs(link - 600.0) < 0.5) and np.ptp(link) < 0.01)


def within(quantity: str, kind: str, value: float, measuring_range: float) -> float:
    reading, of_range = ACCURACY[(quantity, kind)]
    return reading * abs(value) + of_range * measuring_range


def test_each_unit_reads_with_its_own_fixed_error_inside_the_spec(bench: SimulatedBench) -> None:
    emulator = bench.emulators["analyzer"]
    truth = {"URMS": 537.6, "UDC": 537.6, "IRMS": 20.0, "IDC": 20.0, "P": 10752.0, "S": 10752.0, "Q": 0.0}
    read = emulator._measured(4, truth)
    assert read["UDC"] != truth["UDC"], "a real analyzer is never exactly right"
    assert read["UDC"] == pytest.approx(537.6, abs=within("U", "DC", 537.6, emulator.voltage_range_v))
    assert read["IDC"] == pytest.approx(20.0, abs=within("I", "DC", 20.0, emulator.current_range_a))
    assert emulator._measured(4, truth) == read  # fixed for this unit, not noise
    other = Wt5000Emulator(
        name="analyzer",
        model="WT5000",
        serial="ANOTHER-UNIT",
        simulation=emulator.simulation,
        log=emulator.log,
        physics=None,
        profile=emulator.profile,
        seed=emulator.seed,
    )
    assert other._measured(4, truth)["UDC"] != read["UDC"]


def test_numerics_follow_the_plant(connect, running: SimulatedBench) -> None:
    analyzer = connect("analyzer")
    analyzer.configure("P3W4", 600.0, 50.0)
    items = [
        ("URMS", 1),
        ("IRMS", 2),
        ("FU", 1),
        ("LAMBDA", 3),
        ("UDC", 4),
        ("IDC", 4),
        ("P", 4),
        ("UTHD", 1),
    ]
    values = dict(zip(items, analyzer.read_numeric(items), strict=True))
    with running.simulation.now() as plant:
        u, i, lag = plant.phase_quantities()
        frequency, dc_v, dc_a = (
            plant.electrical_frequency_hz,
            plant.dc_link_voltage_v,
            plant.dc_input_current_a,
        )
        # on a steady link its capacitor takes nothing: the DC input is what the inverter draws
        assert dc_a == pytest.approx(plant.inverter_dc_current_a, rel=1e-3)
        shaft_w = plant.motor_torque_nm * plant.motor_speed_rpm * math.pi / 30.0
    voltage_h, current_h = harmonics(running)
    u_growth, i_growth = growth(list(voltage_h.values())), growth(list(current_h.values()))
    # within the WT5000's accuracy: ±(reading fraction · value + range fraction · range)
    assert values[("URMS", 1)] == pytest.approx(u * u_growth, abs=within("U", "AC", u * u_growth, 600.0))
    assert values[("IRMS", 2)] == pytest.approx(i * i_growth, abs=within("I", "AC", i * i_growth, 50.0))
    assert values[("FU", 1)] == pytest.approx(frequency, rel=1e-3)
    assert 50.0 < frequency < 51.0  # 2 pole pairs at 1500 rpm, plus slip
    assert values[("LAMBDA", 3)] == pytest.approx(math.cos(lag) / (u_growth * i_growth), rel=1e-3)
    assert values[("UDC", 4)] == pytest.approx(dc_v, abs=within("U", "DC", dc_v, 600.0))
    assert values[("P", 4)] == pytest.approx(dc_v * dc_a, rel=2e-3)
    # the DC input is the shaft power plus the motor's and inverter's losses: ~91 % here
    assert 0.88 < shaft_w / values[("P", 4)] < 0.95
    assert values[("UTHD", 1)] == pytest.approx(100.0 * (u_growth**2 - 1.0) ** 0.5, rel=1e-3)


def test_harmonic_list_total_first_then_orders(connect, running: SimulatedBench) -> None:
    analyzer = connect("analyzer")
    values = analyzer.read_harmonics("IK", 1, max_order=10)
    assert len(values) == 11
    fundamental = values[1]
    _, current_h = harmonics(running)
    assert values[5] == pytest.approx(current_h[5] * fundamental)
    assert values[7] == pytest.approx(current_h[7] * fundamental)
    # the total covers the orders asked for (1..10): not the 11th and 13th the IRMS includes
    assert values[0] == pytest.approx(fundamental * growth([current_h[5], current_h[7]]))
    assert values[2] == values[3] == 0.0
    analyzer.check_errors()


def test_capture_round_trip(connect, running: SimulatedBench) -> None:
    analyzer = connect("analyzer")
    with running.simulation.now() as plant:
        before_s = plant.time_s
    data = analyzer.capture(["U1", "I1", "I2", "I3", "U4", "I4"], sample_rate_hz=100_000.0, samples=20_000)
    assert data.samples.shape == (6, 20_000)
    assert data.samples.dtype == np.float32
    assert data.sample_rate_hz == 100_000.0
    assert data.units == ("V", "A", "A", "A", "V", "A")
    # the record the analyzer held, ending when :WAV:HOLD ON came; the capture counts back from there
    held = running.emulators["analyzer"].last_hold
    held_s = held.start_s + (held.length - 1) / held.rate_hz
    start_s = held_s + data.start_time_s
    assert data.start_time_s == pytest.approx(-19_999 / 100_000.0)
    with running.simulation.now() as plant:
        now_s, frequency = plant.time_s, plant.electrical_frequency_hz
        # what the drive did during the captured window (a starved VCU thread on a loaded machine
        # can let the torque command time out mid-window; the capture must show what happened)
        window = plant.drive_trajectory(start_s, start_s + 0.2)
    assert before_s - 1e-9 <= held_s <= now_s + 1e-9  # held_s is summed back from the record's start
    cycles = int(0.2 * frequency)
    span = round(cycles * 100_000.0 / frequency)  # whole cycles only
    times = start_s + np.arange(20_000) / 100_000.0
    amplitude = np.interp(times[:span], window.t_s, window.i_phase_rms_a * window.pwm_enabled)
    current = float(np.sqrt(np.mean(np.square(amplitude))))
    expected = current * growth(list(harmonics(running)[1].values()))
    phases = np.square(data.samples[1:4, :span].astype(np.float64))
    # together the three phases' squares follow the amplitude, however it moves
    assert np.sqrt(np.mean(phases)) == pytest.approx(expected, rel=0.01)
    # one phase alone takes more or less of a change in amplitude by where in its cycle the change
    # falls: its mean square is off by at most ∫|d(a²)| / (2π·cycles·mean a²) of it, half that in rms,
    # and 0 while the drive holds still
    moved = np.abs(np.diff(np.square(amplitude))).sum() / (4.0 * math.pi * cycles * current**2)
    assert np.sqrt(np.mean(phases, axis=1)) == pytest.approx([expected] * 3, rel=0.01 + moved)
    # three phases 120° apart: they sum to (almost) nothing
    assert np.abs(data.samples[1:4].sum(axis=0)).max() < 0.05 * current
    assert data.samples[4].mean() == pytest.approx(600.0, rel=1e-3)
    # the link current at every sample, as the capture has it (not the plant's 1 ms rows, which
    # weigh a change inside the window differently)
    dc_a = float(np.mean(np.interp(times, window.t_s, window.i_dc_input_a)))
    assert data.samples[5].mean() == pytest.approx(dc_a, rel=0.01)
    analyzer.check_errors()


def test_a_trace_read_with_its_group_is_the_trace_synthesised_alone(running: SimulatedBench) -> None:
    emulator = running.emulators["analyzer"]
    with running.simulation.now() as plant:
        end = plant.time_s
        window = CaptureWindow(end - 0.05, 1e6, 50_001, plant.drive_trajectory(end - 0.05, end))
    first, last = 1_000, 40_000
    # I3 and I4 come from what I2 and U4 synthesised, U1 with a new group, I2 again after it
    for trace in ("I2", "I3", "U4", "I4", "U1", "I2"):
        alone = synthesise(
            window.trajectory,
            emulator.shape,
            window.start_s + first / window.rate_hz,
            last - first + 1,
            window.rate_hz,
            (trace,),
            seed=emulator.seed,
        )[0]
        assert np.array_equal(emulator.samples(window, trace, first, last), alone), trace


def test_element_4_sees_the_precharge_inrush(bench: SimulatedBench, connect, vcu) -> None:
    """Element 4 sits at the inverter's DC input terminals, behind the BMS's contactors: it sees
    the link capacitor charging through the pre-charge resistor, V_pack/R_pre at first and decaying
    with τ = R_pre·C_link, not only what the inverter bridge draws."""
    cells, supply, analyzer = connect("cellsim"), connect("supply"), connect("analyzer")
    vcu.command_bms(close_contactors=False)  # the VCU, not the ignition, says when to close
    cells.output_on()
    supply.set_current_limit(300.0)
    supply.set_voltage(PACK_V)
    supply.output_on()
    wait_for(lambda: cells_read(bench), what="the BMS reading its cells")
    wait_for(lambda: supply.measure_voltage() == pytest.approx(PACK_V, abs=0.1), what="the pack at voltage")
    vcu.reset_faults()  # a bench starts with its cells off: the BMS latched their under-voltage
    vcu.command_bms(close_contactors=True)

    def closed() -> bool:
        with bench.simulation.now() as plant:
            return plant.bms.state.contactor_state.name == "CLOSED"

    wait_for(closed, what="the contactors closed")
    rate_hz = 20_000.0
    data = analyzer.capture(["I4"], sample_rate_hz=rate_hz, samples=40_000)  # the last 2 s
    current = data.samples[0].astype(np.float64)
    hv_path = bench.profile["hv_path"]
    peak_a = PACK_V / hv_path["precharge_resistance"]
    tau_s = hv_path["precharge_resistance"] * hv_path["link_capacitance"]
    start = int(np.argmax(current > 0.5 * peak_a))
    assert start > 0.05 * rate_hz, "the capture begins with the pre-charge under way"
    assert np.abs(current[: start - 20]).max() < 0.5, "nothing flows into an open HV path"
    # 1 ms means against the noise, fitted from 2 ms after the contact until the link is ~80 % up
    per_ms = round(rate_hz / 1000.0)
    fitted = current[start + 2 * per_ms : start + 152 * per_ms].reshape(-1, per_ms).mean(axis=1)
    times_s = 0.002 + (np.arange(fitted.size) + 0.5 - 0.5 / per_ms) / 1000.0
    slope, intercept = np.polyfit(times_s, np.log(fitted), 1)
    assert -1.0 / slope == pytest.approx(tau_s, rel=0.03)
    assert math.exp(intercept) == pytest.approx(peak_a, rel=0.03)
    analyzer.check_errors()


def test_block_reads_with_plain_pyvisa(bench: SimulatedBench, resource_manager) -> None:
    session = resource_manager.open_resource(
        bench.resources["analyzer"], read_termination="\n", write_termination="\n"
    )
    try:
        session.write(":WAV:FORM FLO;:WAV:BYT LSBF;:WAV:HOLD ON;:WAV:TRAC U4;:WAV:STAR 0;:WAV:END 999")
        values = session.query_binary_values(
            ":WAV:SEND?", datatype="f", is_big_endian=False, container=np.array
        )
        assert values.shape == (1000,)
        session.write(":WAV:BYT MSBF;:WAV:STAR 10;:WAV:END 19")
        same = session.query_binary_values(":WAV:SEND?", datatype="f", is_big_endian=True, container=np.array)
        np.testing.assert_array_equal(same, values[10:20])
        assert float(session.query(":WAV:SRAT?")) == 1_000_000.0
        session.write(":WAV:HOLD OFF")
        assert session.query(":STAT:ERR?") == '0,"No error"'
    finally:
        session.close()


def test_the_instrument_refuses_what_the_wt5000_refuses(connect) -> None:
    """What the real WT5000 does not take: the error goes on its :STATus:ERRor? queue with the
    Yokogawa's positive code, and the driver names the command that caused it. SYST:ERR? is not a
    Yokogawa query: it gets no reply at all."""
    analyzer = connect("analyzer")
    for command, code in [
        (":WAV:SRAT 1000000", 113),  # the record's rate is a query only
        (":WAV:LENG 1000", 113),  # so is its length
        (":WAV:CAPT", 113),  # no such command in the family
        (":WAV:TIME?", 113),
        (":INP:CURR:RANG:ALL 50A", 224),  # ranges are a fixed list, 30 A at most direct
        (":INP:VOLT:RANG:ALL 700V", 224),
        (":WAV:SEND?", 221),  # nothing held [E]
    ]:
        analyzer.write(command)
        with pytest.raises(InstrumentReportedError) as raised:
            analyzer.check_errors()
        assert raised.value.command == command and [c for c, _ in raised.value.entries] == [code]
        assert command in str(raised.value)
    analyzer._resource.timeout = 300
    with pytest.raises(InstrumentTimeout, match="SYST:ERR"):
        analyzer.query("SYST:ERR?")
