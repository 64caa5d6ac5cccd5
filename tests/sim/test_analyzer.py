"""The WT5000 driver against its emulator: numerics, harmonics and waveform capture round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.bench import SimulatedBench
from tests.sim.conftest import wait_for

GROWTH = math.sqrt(1.0 + 0.02**2 + 0.015**2)  # rms of the fundamental with the golden 5th and 7th


@pytest.fixture
def running(connect, bench: SimulatedBench) -> SimulatedBench:
    """The drive at 1500 rpm (dyno in speed control) producing 300 N·m from a 600 V link."""
    supply, dyno = connect("supply"), connect("dyno")
    supply.set_voltage(600.0)
    supply.set_current_limit(300.0)
    supply.output_on()
    dyno.set_speed(1500.0)
    with bench.simulation.now() as plant:
        plant.request_torque(300.0, 0x27)
    wait_for(
        lambda: abs(dyno.read().speed_rpm - 1500.0) < 0.5 and abs(bench.plant.motor_torque_nm - 300) < 0.1
    )
    wait_for(lambda: steady_for(bench, 0.25), what="a steady link over a capture window")
    return bench


def steady_for(bench: SimulatedBench, span_s: float) -> bool:
    with bench.simulation.now() as plant:
        if plant.time_s < span_s:
            return False
        link = plant.trajectory(plant.time_s - span_s, plant.time_s)["dc_voltage_v"]
    return bool(np.all(np.abs(link - 600.0) < 0.01))


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
            plant.inverter_dc_current_a,
        )
    assert values[("URMS", 1)] == pytest.approx(u * GROWTH, rel=1e-3)
    assert values[("IRMS", 2)] == pytest.approx(i * GROWTH, rel=1e-3)
    assert values[("FU", 1)] == pytest.approx(frequency, rel=1e-3)
    assert 50.0 < frequency < 51.0  # 2 pole pairs at 1500 rpm, plus slip
    assert values[("LAMBDA", 3)] == pytest.approx(math.cos(lag) / GROWTH**2, rel=1e-3)
    assert values[("UDC", 4)] == pytest.approx(dc_v, rel=1e-4)
    assert values[("P", 4)] == pytest.approx(dc_v * dc_a, rel=1e-3)
    assert values[("P", 4)] == pytest.approx(300.0 * 1500.0 * math.pi / 30.0 / 0.92, rel=0.01)
    assert values[("UTHD", 1)] == pytest.approx(2.5, rel=1e-3)


def test_harmonic_list_total_first_then_orders(connect, running: SimulatedBench) -> None:
    analyzer = connect("analyzer")
    values = analyzer.read_harmonics("IK", 1, max_order=10)
    assert len(values) == 11
    fundamental = values[1]
    assert values[5] == pytest.approx(0.02 * fundamental)
    assert values[7] == pytest.approx(0.015 * fundamental)
    assert values[0] == pytest.approx(fundamental * GROWTH)
    assert values[2] == values[3] == 0.0
    analyzer.check_errors()


def test_capture_round_trip(connect, running: SimulatedBench) -> None:
    analyzer = connect("analyzer")
    data = analyzer.capture(["U1", "I1", "I2", "I3", "U4", "I4"], sample_rate_hz=100_000.0, samples=20_000)
    assert data.samples.shape == (6, 20_000)
    assert data.samples.dtype == np.float32
    assert data.sample_rate_hz == 100_000.0
    assert data.units == ("V", "A", "A", "A", "V", "A")
    with running.simulation.now() as plant:
        _, current, _ = plant.phase_quantities()
        now_s, dc_a, frequency = plant.time_s, plant.inverter_dc_current_a, plant.electrical_frequency_hz
    assert now_s - 1.0 < data.start_time_s < now_s - 0.19999
    whole_cycles = int(0.2 * frequency) * 100_000.0 / frequency  # rms over whole cycles only
    rms = np.sqrt(np.mean(np.square(data.samples[1:4, : round(whole_cycles)].astype(np.float64)), axis=1))
    assert rms == pytest.approx([current * GROWTH] * 3, rel=0.01)
    # three phases 120° apart: they sum to (almost) nothing
    assert np.abs(data.samples[1:4].sum(axis=0)).max() < 0.05 * current
    assert data.samples[4].mean() == pytest.approx(600.0, rel=1e-3)
    assert data.samples[5].mean() == pytest.approx(dc_a, rel=0.01)
    analyzer.check_errors()


def test_block_reads_with_plain_pyvisa(bench: SimulatedBench, resource_manager) -> None:
    session = resource_manager.open_resource(
        bench.resources["analyzer"], read_termination="\n", write_termination="\n"
    )
    try:
        session.write(":WAV:SRAT 1e6;:WAV:LENG 1000;:WAV:FORM FLO;:WAV:BYT LSBF;:WAV:CAPT;:WAV:TRAC U4")
        values = session.query_binary_values(
            ":WAV:SEND?", datatype="f", is_big_endian=False, container=np.array
        )
        assert values.shape == (1000,)
        session.write(":WAV:BYT MSBF;:WAV:STAR 10;:WAV:END 19")
        same = session.query_binary_values(":WAV:SEND?", datatype="f", is_big_endian=True, container=np.array)
        np.testing.assert_array_equal(same, values[10:20])
        assert session.query(":WAV:SRAT?") == "1000000"
        assert session.query("SYST:ERR?") == '0,"No error"'
    finally:
        session.close()


def test_synthesis_is_deterministic_and_slices_agree(bench: SimulatedBench, connect) -> None:
    analyzer = connect("analyzer")
    analyzer.write(":WAV:SRAT 1e6;:WAV:LENG 200000;:WAV:CAPT")
    analyzer.wait_complete()
    emulator = bench.emulators["analyzer"]
    window = emulator.capture
    whole = emulator.samples(window, "I2", 0, 199_999)
    np.testing.assert_array_equal(whole, emulator.samples(window, "I2", 0, 199_999))
    np.testing.assert_array_equal(whole[70_000:140_001], emulator.samples(window, "I2", 70_000, 140_000))
    assert not np.array_equal(whole, emulator.samples(window, "I3", 0, 199_999))


def test_reading_before_a_capture_is_a_settings_conflict(connect) -> None:
    analyzer = connect("analyzer")
    assert analyzer.query(":WAV:TIME?;:SYST:ERR?").endswith(
        '"Settings conflict;no waveform captured; send :WAV:CAPT first"'
    )
