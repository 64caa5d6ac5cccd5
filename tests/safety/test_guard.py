"""The envelope guard: refused calls send nothing; protections go first; raw access is closed."""

from __future__ import annotations

import math

import pytest

from hil.config import Limit
from hil.errors import SafetyLimitError
from hil.safety import Guarded
from instruments.cellsim import Chroma87001
from instruments.dyno import DSP7000
from instruments.supply import IT6000C

SUPPLY_LIMITS = {
    "voltage_v": Limit(low=0, high=700),
    "current_a": Limit(low=0, high=200),
    "sink_current_a": Limit(low=0, high=100),
    "slew_v_per_s": Limit(low=1, high=1000),
}


@pytest.mark.parametrize(
    ("call", "quantity", "value"),
    [
        (lambda s: s.set_voltage(700.001), "voltage_v", 700.001),
        (lambda s: s.set_voltage(-1), "voltage_v", -1),
        (lambda s: s.set_voltage(math.nan), "voltage_v", math.nan),
        (lambda s: s.set_voltage(voltage_v=math.inf), "voltage_v", math.inf),
        (lambda s: s.set_current_limit(300.5), "current_a", 300.5),
        (lambda s: s.set_sink_current_limit(101), "sink_current_a", 101),
        (lambda s: s.set_slew(0.5), "slew_v_per_s", 0.5),
        (lambda s: setattr(s, "voltage_setpoint_v", 750), "voltage_v", 750),
        (lambda s: s.set_voltage("600"), "voltage_v", "600"),
    ],
)
def test_refused_setter_raises_and_sends_nothing(expected_protocol, call, quantity, value):
    with expected_protocol(IT6000C, []) as driver:
        guarded = Guarded(driver, SUPPLY_LIMITS)
        with pytest.raises(SafetyLimitError) as caught:
            call(guarded)
    error = caught.value
    assert (error.instrument, error.quantity) == ("dut-under-test", quantity)
    assert "nothing sent" in str(error)


def test_admitted_setters_pass_through(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT 700.000\n", None),
            (b"FUNC VOLT\n", None),
            (b"CURR:LIM 0.000\n", None),
            (b"VOLT 650.000\n", None),
        ],
    ) as driver:
        guarded = Guarded(driver, SUPPLY_LIMITS)
        guarded.set_voltage(700)
        guarded.set_current_limit(0)
        guarded.voltage_setpoint_v = 650


def test_output_on_programs_protections_from_the_envelope_first_and_once(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT:PROT 700.000\n", None),
            (b"VOLT:PROT:STAT ON\n", None),
            (b"CURR:PROT 200.000\n", None),
            (b"CURR:PROT:STAT ON\n", None),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
            (b"OUTP ON\n", None),
            (b"OUTP OFF\n", None),
            (b"OUTP ON\n", None),
        ],
    ) as driver:
        guarded = Guarded(driver, SUPPLY_LIMITS)
        guarded.output_on()
        guarded.output_off()
        guarded.output_on()


def test_failed_protection_programming_leaves_the_output_off(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT:PROT 700.000\n", None),
            (b"VOLT:PROT:STAT ON\n", None),
            (b"CURR:PROT 200.000\n", None),
            (b"CURR:PROT:STAT ON\n", None),
            (b"SYST:ERR?\n", b'-222,"Data out of range"\n'),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
        ],
    ) as driver:
        with pytest.raises(Exception, match="Data out of range"):
            Guarded(driver, SUPPLY_LIMITS).output_on()


def test_dyno_alarms_use_the_envelope_peak_before_the_first_speed_command(expected_protocol):
    limits = {
        "speed_rpm": Limit(low=-7000, high=7500),
        "torque_nm": Limit(low=-1200, high=1000),
        "power_kw": Limit(low=0, high=220),
    }
    with expected_protocol(
        DSP7000,
        [
            (b"ALS1,7500\r\n", None),
            (b"ALT1,1200.00\r\n", None),
            (b"ALP1,220.00\r\n", None),
            (b"ALL1,1\r\n", None),
            (b"N1,1500.0\r\n", None),
        ],
    ) as driver:
        guarded = Guarded(driver, limits)
        with pytest.raises(SafetyLimitError):
            guarded.set_speed(7600)
        guarded.set_speed(1500)


def test_rearmed_protections_are_programmed_again_before_the_next_output(expected_protocol):
    limits = {
        "speed_rpm": Limit(low=-7500, high=7500),
        "torque_nm": Limit(low=-1200, high=1200),
        "power_kw": Limit(low=0, high=250),
    }
    alarms = [
        (b"ALS1,7500\r\n", None),
        (b"ALT1,1200.00\r\n", None),
        (b"ALP1,250.00\r\n", None),
        (b"ALL1,1\r\n", None),
    ]
    with expected_protocol(
        DSP7000,
        [*alarms, (b"N1,1500.0\r\n", None), (b"N1,0.0\r\n", None), *alarms, (b"N1,100.0\r\n", None)],
    ) as driver:
        guarded = Guarded(driver, limits)
        guarded.set_speed(1500)
        guarded.set_speed(0)
        guarded.rearm()
        guarded.set_speed(100)


def test_every_cell_of_a_bulk_set_is_checked(expected_protocol):
    limits = {"cell_voltage_v": Limit(low=2.0, high=4.2), "current_a": Limit(low=0, high=1)}
    with expected_protocol(Chroma87001, [], model="87001-12") as driver:
        guarded = Guarded(driver, limits)
        with pytest.raises(SafetyLimitError, match=r"4\.25"):
            guarded.set_cell_voltages([3.3] * 11 + [4.25])


def test_quantity_without_limit_is_refused(expected_protocol):
    with expected_protocol(IT6000C, []) as driver:
        with pytest.raises(SafetyLimitError, match="no limit"):
            Guarded(driver, {"voltage_v": Limit(low=0, high=10)}).set_slew(5)


@pytest.mark.parametrize(
    "name", ["write", "query", "query_value", "query_floats", "query_block", "reset", "close", "identify"]
)
def test_raw_access_is_closed(expected_protocol, name):
    with expected_protocol(IT6000C, []) as driver:
        with pytest.raises(AttributeError, match=f"'{name}' refused, nothing sent"):
            getattr(Guarded(driver, SUPPLY_LIMITS), name)


SUPPLY_790 = {**SUPPLY_LIMITS, "voltage_v": Limit(low=0, high=790)}
DYNO_LIMITS = {
    "speed_rpm": Limit(low=-7500, high=7500),
    "torque_nm": Limit(low=-1200, high=1200),
    "power_kw": Limit(low=0, high=250),
}


@pytest.mark.parametrize(
    ("driver_cls", "limits", "attack", "message"),
    [
        (IT6000C, SUPPLY_790, lambda s: s.query("VOLT 795\n*OPC?"), "no command strings reach an instrument"),
        (
            IT6000C,
            SUPPLY_790,
            lambda s: s.query("OUTP ON\n*OPC?"),
            "read through measure_current, measure_power",
        ),
        (IT6000C, SUPPLY_790, lambda s: s.query_value("VOLT 795;*OPC?"), "no command strings"),
        (IT6000C, SUPPLY_790, lambda s: s.query_floats("OUTP ON;MEAS:VOLT?"), "no command strings"),
        (DSP7000, DYNO_LIMITS, lambda d: d.query("N1,7900\r\n*IDN?"), "read through read"),
        (
            IT6000C,
            SUPPLY_790,
            lambda s: s.program_protection(ovp_v=800, ocp_a=340),
            "programmed from the bench envelope by the framework only",
        ),
        (IT6000C, SUPPLY_790, lambda s: s.clear_protection(), "by the framework only"),
        (
            DSP7000,
            DYNO_LIMITS,
            lambda d: d.program_alarms(speed_rpm=8000, torque_nm=1500, power_kw=250),
            "by the framework only",
        ),
        (IT6000C, SUPPLY_790, lambda s: s.set_voltage(795), "voltage_v=795 refused by the safety envelope"),
        (DSP7000, DYNO_LIMITS, lambda d: d.set_speed(7900), "speed_rpm=7900 refused"),
    ],
)
def test_the_issues_attacks_are_refused_and_send_nothing(
    expected_protocol, driver_cls, limits, attack, message
):
    with expected_protocol(driver_cls, []) as driver:
        guarded = Guarded(driver, limits)
        with pytest.raises((AttributeError, SafetyLimitError), match=message):
            attack(guarded)


def test_protections_programmed_by_the_framework_hold_after_a_test_tries_to_loosen_them(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT:PROT 790.000\n", None),
            (b"VOLT:PROT:STAT ON\n", None),
            (b"CURR:PROT 200.000\n", None),
            (b"CURR:PROT:STAT ON\n", None),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
            (b"OUTP ON\n", None),
        ],
    ) as driver:
        guarded = Guarded(driver, SUPPLY_790)
        guarded.output_on()
        for loosen in ("program_protection", "clear_protection"):
            with pytest.raises(AttributeError, match="framework only"):
                getattr(guarded, loosen)


def test_unknown_attribute_assignment_is_refused(expected_protocol):
    with expected_protocol(IT6000C, []) as driver:
        with pytest.raises(AttributeError, match="not a setting a test may set"):
            Guarded(driver, SUPPLY_LIMITS).voltage = 5
