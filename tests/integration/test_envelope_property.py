"""Property: whatever sequence of setter calls a test makes, no out-of-envelope value reaches an
instrument, and every refused call raised ``SafetyLimitError``.

Random calls inside and outside the envelope go through the bench's guarded instruments to the
simulated bench; the emulators' command logs are the ground truth of what arrived.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.errors import SafetyLimitError
from sim.plant.insulation import HV_NEG, HV_POS, FaultBox

# (instrument, method, quantity, extra positional arguments before the value)
CALLS = [
    ("supply", "set_voltage", "voltage_v", ()),
    ("supply", "set_current_limit", "current_a", ()),
    ("supply", "set_sink_current_limit", "sink_current_a", ()),
    ("supply", "set_slew", "slew_v_per_s", ()),
    ("cellsim", "set_cell_voltage", "cell_voltage_v", (7,)),
    ("cellsim", "set_current_limit", "current_a", ()),
    ("eload", "set_current", "current_a", ()),
    ("eload", "set_power", "power_w", ()),
    ("eload", "set_resistance", "resistance_ohm", ()),
    ("dyno", "set_speed", "speed_rpm", ()),
    ("dyno", "set_torque", "torque_nm", ()),
    ("tempsim", "set_resistance", "resistance_ohm", (1,)),
    ("isofault", "insert", "fault_resistance_ohm", ("hv_neg",)),
]

# how each state-changing command that arrives maps back to an enveloped quantity
QUANTITY_OF = {
    ("supply", "VOLT"): ("voltage_v", float),
    ("supply", "VOLT:PROT"): ("voltage_v", float),
    ("supply", "CURR:LIM"): ("current_a", float),
    ("supply", "CURR:PROT"): ("current_a", float),
    ("supply", "CURR:LIM:NEG"): ("sink_current_a", lambda a: abs(float(a))),
    # a time in seconds over the supply's 808 V range (instruments/supply.py)
    ("supply", "VOLT:SLEW"): ("slew_v_per_s", lambda a: 808.0 / float(a)),
    ("cellsim", "VOLT"): ("cell_voltage_v", float),
    ("cellsim", "VOLT:PROT"): ("cell_voltage_v", float),
    ("cellsim", "CURR:LIM"): ("current_a", float),
    ("cellsim", "CURR:PROT"): ("current_a", float),
    ("eload", "CURR:STAT:L1"): ("current_a", float),
    ("eload", "POW:STAT:L1"): ("power_w", float),
    ("eload", "RES:STAT:L1"): ("resistance_ohm", float),
    ("dyno", "N1"): ("speed_rpm", float),
    ("dyno", "Q1"): ("torque_nm", float),
    ("dyno", "ALS1"): ("speed_rpm", float),
    ("dyno", "ALT1"): ("torque_nm", float),
    ("dyno", "ALP1"): ("power_kw", float),
    # the resistance string's 1 Ω to 100 kΩ decades (PRS-202-B-6-1-1-3)
    ("tempsim", "DATA"): ("resistance_ohm", lambda a: float(a[3:9])),
}
# state changes that carry no enveloped value
HARMLESS = {
    "OUTP",
    "LOAD",
    "MODE",
    "ALL1",
    "FUNC",
    "VOLT:PROT:STAT",
    "CURR:PROT:STAT",
    "PROT:CLE",
    "OUTP:PROT:CLE",
    "*CLS",
    "*RST",
    "ROUT:OPEN:ALL",
}
# the fault box's relays carry no value: what they insert is replayed below
RELAYS = ("ROUT:CLOS", "ROUT:OPEN")


def _replay_relays(bench, box: FaultBox, header: str, record: dict) -> int:
    """Apply one relay command to a model of the box; the resistance of each side connected after
    it must lie in the envelope. Returns how many connected sides were checked."""
    channels = {int(c) for c in record["args"][0].strip("(@)").split(",")}
    box.closed = box.closed | channels if header == "ROUT:CLOS" else box.closed - channels
    limit = bench.config.limits("isofault")["fault_resistance_ohm"]
    connected = [ohm for ohm in (box.hv_pos_ohm, box.hv_neg_ohm) if not math.isinf(ohm)]
    assert all(limit.admits(ohm) for ohm in connected), (record, connected)
    return len(connected) if channels & {HV_POS.connect, HV_NEG.connect} else 0


def _header(record: dict) -> str:
    header = record["header"].upper().removeprefix(":").removeprefix("SOUR:")
    return header.removesuffix(":LEV")


def _values(bench, instrument: str, quantity: str):
    limit = bench.config.limits(instrument)[quantity]
    span = max(limit.high - limit.low, 1.0)
    edges = [
        limit.low,
        limit.high,
        math.nextafter(limit.high, math.inf),
        math.nextafter(limit.low, -math.inf),
    ]
    return st.one_of(
        st.sampled_from(edges),
        st.floats(limit.low - span, limit.high + span),
        st.sampled_from([math.nan, math.inf, -math.inf]),
    )


@pytest.fixture(scope="module")
def calls(bench):
    return st.one_of(
        [
            st.tuples(st.just((name, method, quantity, extra)), _values(bench, name, quantity))
            for name, method, quantity, extra in CALLS
        ]
    )


def test_no_out_of_envelope_value_reaches_an_instrument(bench, calls):
    log_start = len(bench.service.command_log())
    refused = admitted = 0

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(st.lists(calls, min_size=1, max_size=12))
    def run(sequence):
        nonlocal refused, admitted
        for (name, method, quantity, extra), value in sequence:
            inside = bench.config.limits(name)[quantity].admits(value)
            call = getattr(bench.instruments[name], method)
            if inside:
                call(*extra, value)
                admitted += 1
            else:
                with pytest.raises(SafetyLimitError) as caught:
                    call(*extra, value)
                assert (caught.value.instrument, caught.value.quantity) == (name, quantity)
                refused += 1

    run()
    bench.safe_state()
    assert refused > 20 and admitted > 20, (refused, admitted)

    arrived = bench.service.command_log()[log_start:]
    checked = 0
    box = FaultBox()
    for record in arrived:
        header = _header(record)
        if header.endswith("?") or header in ("OD1", "STAT"):
            continue
        key = (record["instrument"], header)
        if record["instrument"] == "isofault" and header in RELAYS:
            checked += _replay_relays(bench, box, header, record)
        elif key in QUANTITY_OF and record["args"]:
            quantity, convert = QUANTITY_OF[key]
            value = convert(record["args"][0])
            assert bench.config.limits(record["instrument"])[quantity].admits(value), record
            checked += 1
        elif header not in ("Q1", "N1"):  # bare, they are free run: speed mode off, torque to zero, brake off
            assert header in HARMLESS, f"unclassified state change reached an instrument: {record}"
    assert checked >= admitted
