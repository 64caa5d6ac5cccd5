"""Unit profiles: golden defaults, a profile file and dotted-path overrides, with clear errors."""

from __future__ import annotations

import pytest

from sim.profile import ProfileError, load_profile, parameter


def test_golden_carries_the_simple_plant_parameters() -> None:
    profile = load_profile()
    assert parameter(profile, "dc_link.capacitance_f") == 0.002
    assert parameter(profile, "shaft.inertia_kg_m2") == 0.5
    assert parameter(profile, "drive.torque_time_constant_s") == 0.005
    assert parameter(profile, "cells.default_voltage_v") == 3.30


def test_a_profile_file_overlays_nested_or_dotted_keys(tmp_path) -> None:
    path = tmp_path / "slow.yaml"
    path.write_text("drive:\n  torque_time_constant_s: 0.05\ncells.quiescent_current_a: 0.002\n")
    profile = load_profile(path, {"shaft.inertia_kg_m2": 1.5})
    assert parameter(profile, "drive.torque_time_constant_s") == 0.05
    assert parameter(profile, "cells.quiescent_current_a") == 0.002
    assert parameter(profile, "shaft.inertia_kg_m2") == 1.5
    assert parameter(load_profile(), "shaft.inertia_kg_m2") == 0.5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"drive.warp": 1}, "unknown profile parameter 'drive.warp'; known under drive: base_frequency_hz"),
        ({"nope.x": 1}, "known under the profile: can, cells"),
        ({"drive": 1}, "'drive' is a group"),
        ({"drive.efficiency": "high"}, "expected a number"),
    ],
)
def test_bad_overrides_say_what_and_where(overrides, message) -> None:
    with pytest.raises(ProfileError, match=message):
        load_profile(None, overrides)


def test_profile_file_errors_name_the_file(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("shaft:\n  inertia_kgm2: 1.0\n")
    with pytest.raises(ProfileError, match=r"bad\.yaml: unknown profile parameter 'shaft\.inertia_kgm2'"):
        load_profile(path)
