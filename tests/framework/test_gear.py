"""The engaged gear is told by ETC2's gear ratio, never by its gear numbers, and not during a shift."""

from __future__ import annotations

from pathlib import Path

from hil.dut.gear import engaged_gear
from hil.product import load_product

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = load_product(ROOT / "specs")


class Latest:
    def __init__(self, **frames: dict | None) -> None:
        self.frames = frames

    def latest(self, message: str) -> dict | None:
        return self.frames.get(message)


def test_the_gear_comes_from_the_ratio_even_when_the_numbers_are_off_by_one():
    zero_based_first = {"CurrentGear": 0, "SelectedGear": 0, "ActualGearRatio": 1.65}
    assert engaged_gear(Latest(ETC2=zero_based_first, ETC1={"ShiftInProcess": 0}), PRODUCT) == 1
    assert engaged_gear(Latest(ETC2={"ActualGearRatio": 1.0}, ETC1={"ShiftInProcess": 0}), PRODUCT) == 3


def test_no_gear_during_a_shift_or_before_both_messages_are_heard():
    assert engaged_gear(Latest(ETC2={"ActualGearRatio": 1.28}, ETC1={"ShiftInProcess": 1}), PRODUCT) is None
    assert engaged_gear(Latest(ETC1={"ShiftInProcess": 0}), PRODUCT) is None
    assert engaged_gear(Latest(ETC2={"ActualGearRatio": 1.28}), PRODUCT) is None
