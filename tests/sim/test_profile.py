"""Unit profiles: the golden unit with units, a profile file and dotted-path overrides on top, the
manufacturing spread of a serial number, and errors that name the file and the dotted path."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from sim.parameters import ParameterError
from sim.profile import ProfileError, load_profile

SPREAD = "motor.stator_resistance"  # golden 15 mΩ, spread 2 % (one standard deviation)


def test_golden_loads_with_units_and_the_physics_reads_si() -> None:
    profile = load_profile()
    assert profile.description == "golden unit" and profile.expected_failures == ()
    assert profile["motor"]["stator_resistance"] == pytest.approx(0.015)  # 15 mohm
    assert profile["hv_path"]["link_capacitance"] == pytest.approx(0.002)  # 2 mF
    assert profile["motor"]["max_speed"] == pytest.approx(6000.0 * math.pi / 30.0)  # rpm -> rad/s
    assert profile["shaft"]["transmission_efficiency"] == pytest.approx(0.97)  # 97 percent
    assert profile["simulation"]["max_step"] == pytest.approx(0.001)  # 1 ms
    assert profile["bench"]["coolant_temperature"] == 40.0  # temperatures stay in °C
    assert profile["cells"]["default_voltage_v"] == pytest.approx(3.30)
    assert profile.value("protection.overvoltage_trip") == pytest.approx(730.0)
    # value, unit, range and source are kept for reports
    r_s = profile.parameters["motor"]["stator_resistance"]
    assert (r_s.value, r_s.unit, r_s.low, r_s.high, r_s.source) == (15.0, "mohm", 5.0, 50.0, "E")
    assert profile.identity["part_number"] == "EDS200-IM4-01"


def test_a_profile_file_overlays_nested_or_dotted_keys(tmp_path: Path) -> None:
    path = tmp_path / "hot-motor.yaml"
    path.write_text(
        "motor:\n"
        "  stator_resistance: 18 mohm\n"  # nested, with its own unit
        "  rotor_resistance: 14\n"  # a bare number is in the parameter's unit (mohm)
        "hv_path.link_capacitance: 2200 uF\n"  # dotted
        "identity:\n"
        "  software_version: EDS 2.4.2\n"
    )
    profile = load_profile(path)
    assert profile["motor"]["stator_resistance"] == pytest.approx(0.018)
    assert profile["motor"]["rotor_resistance"] == pytest.approx(0.014)
    assert profile["hv_path"]["link_capacitance"] == pytest.approx(0.0022)
    assert profile.parameters["hv_path"]["link_capacitance"].unit == "mF"  # kept in the golden unit
    assert profile.identity["software_version"] == "EDS 2.4.2"
    assert profile.description == "hot-motor"  # the file's name when it does not say
    # everything else stays golden, and the golden unit itself is untouched
    assert profile["motor"]["magnetising_inductance"] == pytest.approx(0.0044)
    assert load_profile()["motor"]["stator_resistance"] == pytest.approx(0.015)


def test_set_overrides_apply_last(tmp_path: Path) -> None:
    path = tmp_path / "unit.yaml"
    path.write_text("motor.stator_resistance: 18 mohm\n")
    profile = load_profile(
        path, {"motor.stator_resistance": "0.02 ohm", "bench.ignition": 0, "protection.overvoltage_trip": 720}
    )
    assert profile["motor"]["stator_resistance"] == pytest.approx(0.020)  # --set wins over the file
    assert profile["bench"]["ignition"] == 0.0
    assert profile["protection"]["overvoltage_trip"] == pytest.approx(720.0)


def test_description_and_expected_failures_are_read(tmp_path: Path) -> None:
    path = tmp_path / "slow-ov-trip.yaml"
    path.write_text(
        "description: over-voltage trip 40 ms late\n"
        "expected_failures: [inverter.overvoltage_trip_latency, inverter.overvoltage_trip_level]\n"
        "protection:\n"
        "  overvoltage_trip_delay: 42 ms\n"
    )
    profile = load_profile(path)
    assert profile.description == "over-voltage trip 40 ms late"
    assert profile.expected_failures == (
        "inverter.overvoltage_trip_latency",
        "inverter.overvoltage_trip_level",
    )
    assert profile["protection"]["overvoltage_trip_delay"] == pytest.approx(0.042)


def test_the_same_serial_gives_the_same_spread_another_serial_another() -> None:
    golden = load_profile().value(SPREAD)
    first = load_profile(serial="EDS200-0001")
    again = load_profile(serial="EDS200-0001")
    other = load_profile(serial="EDS200-0002")
    assert first.value(SPREAD) == again.value(SPREAD)
    assert first.value(SPREAD) != golden
    assert other.value(SPREAD) != first.value(SPREAD)
    assert abs(first.value(SPREAD) / golden - 1.0) <= 3 * 0.02  # clipped at 3 standard deviations
    assert first.serial == "EDS200-0001"
    # parameters without a spread are the golden ones on every unit
    assert first["motor"]["pole_pairs"] == other["motor"]["pole_pairs"] == 2.0
    assert first["protection"]["overvoltage_trip"] == load_profile()["protection"]["overvoltage_trip"]
    # an override is what the unit has, spread or not
    assert load_profile(None, {SPREAD: 16}, serial="EDS200-0001").value(SPREAD) == pytest.approx(0.016)


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (
            "motor:\n  stator_resistanse: 15 mohm\n",
            ProfileError,
            r"unknown profile parameter 'motor\.stator_resistanse'; known under motor: base_speed",
        ),
        (
            "moter.stator_resistance: 15 mohm\n",
            ProfileError,
            r"unknown profile parameter 'moter\.stator_resistance'; known sections",
        ),
        (
            "motor.stator_resistance: 15 mV\n",
            ParameterError,
            r"motor\.stator_resistance: unit 'mV' does not fit 'mohm'",
        ),
        (
            "motor:\n  stator_resistance: 500 mohm\n",
            ParameterError,
            r"motor\.stator_resistance: 500 mohm is outside the range \[5, 50\] mohm",
        ),
        (
            "motor.stator_resistance: low\n",
            ParameterError,
            r"motor\.stator_resistance: 'low' is not '<number> <unit>'",
        ),
        (
            "expected_failures: inverter.trip\n",
            ProfileError,
            r"expected_failures: a list of measurement names",
        ),
        ("identity:\n  colour: red\n", ProfileError, r"unknown identity field 'colour'"),
        ("blocks: [flying]\n", ProfileError, r"blocks: a list of bench states, of drive_ready, powered"),
    ],
)
def test_profile_file_errors_name_the_file_and_the_path(
    tmp_path: Path, content: str, error: type[Exception], message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(error, match=rf"^{re.escape(str(path))}: {message}"):
        load_profile(path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"motor.warp": 1}, r"^unknown profile parameter 'motor\.warp'; known under motor: base_speed"),
        ({"motor": 1}, r"^'motor' is not <section>\.<parameter>"),
        ({"motor.stator_resistance": "15 mV"}, r"^motor\.stator_resistance: unit 'mV' does not fit 'mohm'"),
        ({"motor.stator_resistance": 60}, r"^motor\.stator_resistance: 60 mohm is outside the range"),
    ],
)
def test_bad_overrides_name_the_path(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        load_profile(None, overrides)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("motor: [stator_resistance\n", "cannot read the profile"),
        ("- motor.stator_resistance: 15 mohm\n", "a profile is a mapping of parameters"),
    ],
)
def test_a_bad_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    with pytest.raises(ProfileError, match=rf"^{re.escape(str(path))}: {message}"):
        load_profile(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(ProfileError, match=rf"^{re.escape(str(path))}: cannot read the profile"):
        load_profile(path)
