"""A driver is held to its kind's declarations when it is registered: a setter whose quantity has no
parameter to arrive in, an undeclared public method, an undeclared setting, or a kind method
declared as nothing is refused, naming the driver, the method and what is missing. A driver that
overrides a setter without any mark of its own is still checked by the kind's declaration."""

from __future__ import annotations

from abc import abstractmethod

import pytest

from hil.config import Limit
from hil.errors import SafetyLimitError
from hil.safety import Guarded
from instruments.base import Setting, setter
from instruments.errors import DriverRegistrationError
from instruments.registry import DRIVERS, check_driver, register
from instruments.supply import IT6000C, DcSupply
from tests.safety.test_guard_allowlist import RecordingResource


def test_every_builtin_driver_passes_its_kind() -> None:
    assert set(DRIVERS) >= {
        "itech.it6000c",
        "chroma.87001",
        "chroma.63200",
        "magtrol.dsp7000",
        "yokogawa.wt5000",
        "iet.prs202",
        "keysight.34980a",
    }
    for driver in DRIVERS.values():
        check_driver(driver)


def test_a_setter_without_the_parameter_its_quantity_arrives_in_is_refused() -> None:
    class Renamed(IT6000C):
        driver = "test.renamed"

        def set_voltage(self, volts: float) -> None:  # the envelope would find no voltage_v to check
            self.write(f"VOLT {volts:.3f}")

    with pytest.raises(
        DriverRegistrationError, match=r"Renamed refused: set_voltage\(volts\) has no parameter 'voltage_v'"
    ):
        register(Renamed)
    assert "test.renamed" not in DRIVERS


def test_an_undeclared_public_method_that_writes_is_refused() -> None:
    class Extra(IT6000C):
        driver = "test.extra"

        def set_ovp(self, volts: float) -> None:
            self.write(f"VOLT:OVER:PROT:LEV {volts:.3f}")

    with pytest.raises(DriverRegistrationError, match=r"Extra.*Extra\.set_ovp.*DcSupply does not declare"):
        register(Extra)
    assert "test.extra" not in DRIVERS


def test_an_undeclared_setting_is_refused() -> None:
    class Sneaky(IT6000C):
        driver = "test.sneaky"
        ovp_v = Setting("VOLT:OVER:PROT:LEV?", "VOLT:OVER:PROT:LEV {:.3f}", quantity="voltage_v")

    with pytest.raises(DriverRegistrationError, match=r"Sneaky.*setting ovp_v is not declared in DcSupply"):
        register(Sneaky)


def test_a_kind_method_declared_as_nothing_is_refused() -> None:
    class LooseSupply(DcSupply):
        kind = "supply"

        @abstractmethod
        def set_frequency(self, frequency_hz: float) -> None: ...

    class LooseDriver(IT6000C, LooseSupply):
        driver = "test.loose"

        def set_frequency(self, frequency_hz: float) -> None:
            self.write(f"FREQ {frequency_hz}")

    with pytest.raises(
        DriverRegistrationError, match=r"LooseDriver.*LooseSupply\.set_frequency is not declared"
    ):
        register(LooseDriver)


def test_a_declared_quantity_without_a_rating_is_refused() -> None:
    class Unrated(IT6000C):
        driver = "test.unrated"
        MODELS = {"X": {k: v for k, v in IT6000C.MODELS["IT6054C-800-225"].items() if k != "slew_v_per_s"}}
        DEFAULT_MODEL = "X"

    with pytest.raises(DriverRegistrationError, match=r"Unrated.*set_slew sets slew_v_per_s.*'X'"):
        register(Unrated)


def test_a_missing_operation_is_refused() -> None:
    class Partial(DcSupply):
        driver = "test.partial"
        MODELS = IT6000C.MODELS
        DEFAULT_MODEL = IT6000C.DEFAULT_MODEL

        @setter("voltage_v")
        def set_voltage(self, voltage_v: float) -> None: ...

    with pytest.raises(DriverRegistrationError, match=r"Partial.*does not implement .*output_on"):
        register(Partial)


def test_a_name_taken_by_another_driver_is_refused() -> None:
    class Twin(IT6000C):
        driver = "itech.it6000c"

    with pytest.raises(DriverRegistrationError, match="taken by IT6000C"):
        register(Twin)
    assert DRIVERS["itech.it6000c"] is IT6000C


def test_an_override_without_a_mark_is_still_checked_by_the_kind() -> None:
    class Unmarked(IT6000C):
        driver = "test.unmarked"

        def set_voltage(self, voltage_v: float) -> None:
            self.write(f"VOLT {voltage_v:.3f}")

    check_driver(Unmarked)
    resource = RecordingResource()
    guarded = Guarded(
        Unmarked(resource, name="supply", resource_name="R"), {"voltage_v": Limit(low=0, high=790)}
    )
    with pytest.raises(SafetyLimitError, match="795"):
        guarded.set_voltage(795)
    assert resource.sent == []
    guarded.set_voltage(voltage_v=790)
    assert resource.sent == ["VOLT 790.000"]


def test_a_driver_that_skipped_registration_is_refused_by_the_guard() -> None:
    class Unregistered(IT6000C):
        driver = "test.unregistered"

        def set_ovp(self, volts: float) -> None:
            self.write(f"VOLT:OVER:PROT:LEV {volts:.3f}")

    resource = RecordingResource()
    with pytest.raises(DriverRegistrationError, match=r"Unregistered\.set_ovp"):
        Guarded(Unregistered(resource, name="supply", resource_name="R"), {})
    assert resource.sent == []
