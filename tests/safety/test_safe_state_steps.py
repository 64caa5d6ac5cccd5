"""Within each instrument's safe state the output-off stage runs whatever the ramp before it did:
failed, timed out, refused by the instrument, or interrupted; a second stop signal waits."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest
import yaml

from hil.bench import Bench
from hil.config import SafeStateConfig
from hil.errors import SafeStateError
from hil.safe_state import run_safe_state
from instruments.errors import InstrumentReportedError, InstrumentTimeout

ROOT = Path(__file__).resolve().parents[2]
CFG = SafeStateConfig(step_timeout_s=0.3, dyno_ramp_rpm_per_s=100_000)


class Fake:
    """An instrument that records each call and fails the ones it is told to."""

    kind = ""
    model = "fake"

    def __init__(self, name: str, fail: dict[str, BaseException] | None = None) -> None:
        self.name = name
        self.calls: list[str] = []
        self.fail = fail or {}
        self.on = True

    def _do(self, call: str) -> None:
        self.calls.append(call)
        if call in self.fail:
            raise self.fail[call]


class FakeSupply(Fake):
    kind = "supply"

    def __init__(
        self, name: str = "supply", fail: dict[str, BaseException] | None = None, falls: bool = True
    ):
        super().__init__(name, fail)
        self.volts, self.falls = 600.0, falls

    def ratings(self, model: str) -> dict:
        return {"slew_v_per_s": (8.0, 8000.0)}

    def set_slew(self, value: float) -> None:
        self._do("set_slew")

    def check_errors(self) -> None:
        self._do("check_errors")

    def set_voltage(self, value: float) -> None:
        self._do("set_voltage")
        if self.falls:
            self.volts = value

    def measure_voltage(self) -> float:
        self._do("measure_voltage")
        return self.volts

    def output_off(self) -> None:
        self._do("output_off")
        self.on = False

    def output_enabled(self) -> bool:
        return self.on


class FakeDyno(Fake):
    kind = "dyno"

    def read(self):
        self._do("read")
        return type("Reading", (), {"speed_rpm": 0.0 if not self.on else 1500.0})()

    def set_torque(self, value: float) -> None:
        self._do("set_torque")

    def set_speed(self, value: float) -> None:
        self._do("set_speed")

    def free_run(self) -> None:
        self._do("free_run")
        self.on = False


class FakeCells(Fake):
    kind = "cellsim"

    def output_off(self) -> None:
        self._do("output_off")
        self.on = False

    def outputs_enabled(self) -> list[bool]:
        return [self.on]


def _refused_slew() -> InstrumentReportedError:
    return InstrumentReportedError(
        "supply", "TCPIP0::x::1::SOCKET", "VOLT:SLEW 0.005", [(-222, "Data out of range")]
    )


@pytest.mark.parametrize(
    ("supply", "says"),
    [
        (FakeSupply(falls=False), "ramp down: DC output below 60 V not reached within 0.3 s"),
        (FakeSupply(fail={"set_voltage": InstrumentTimeout("supply", "r", "no reply")}), "ramp down: "),
        (FakeSupply(fail={"measure_voltage": OSError("connection reset")}), "ramp down: connection reset"),
        (FakeSupply(fail={"check_errors": _refused_slew()}), '-222,"Data out of range"'),
    ],
    ids=["ramp-times-out", "set-point-times-out", "read-back-fails", "slew-refused"],
)
def test_the_supply_output_goes_off_whatever_its_ramp_did(supply, says):
    cells = FakeCells("cellsim")
    with pytest.raises(SafeStateError) as caught:
        run_safe_state({"supply": supply, "cellsim": cells}, CFG)
    assert says in str(caught.value), caught.value
    assert supply.calls[-1] == "output_off" and not supply.on, supply.calls
    assert not cells.on


def test_a_refused_slew_still_ramps_down_before_the_output_goes_off():
    supply = FakeSupply(fail={"check_errors": _refused_slew()})
    with pytest.raises(SafeStateError, match=r"supply: slew: .*-222"):
        run_safe_state({"supply": supply}, CFG)
    assert supply.calls[supply.calls.index("set_voltage") :][-1] == "output_off"
    assert "set_voltage" in supply.calls and supply.volts == 0.0


def test_the_dyno_runs_free_whatever_its_brake_did():
    dyno = FakeDyno("dyno", fail={"set_speed": InstrumentTimeout("dyno", "r", "no reply to 'N1,0.0'")})
    supply = FakeSupply()
    with pytest.raises(SafeStateError, match=r"dyno: brake: .*N1,0.0"):
        run_safe_state({"dyno": dyno, "supply": supply}, CFG)
    assert "free_run" in dyno.calls and not dyno.on
    assert not supply.on


def test_an_interruption_inside_a_step_still_switches_every_output_off_and_is_raised_after():
    supply = FakeSupply(fail={"set_voltage": KeyboardInterrupt()})
    cells = FakeCells("cellsim")
    with pytest.raises(KeyboardInterrupt):
        run_safe_state({"supply": supply, "cellsim": cells}, CFG)
    assert supply.calls[-1] == "output_off" and not supply.on
    assert not cells.on


class SignalsItself(FakeDyno):
    """Sends its own process a stop signal as the safe state starts braking: a second Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__("dyno")
        self.signum = signum

    def set_torque(self, value: float) -> None:
        super().set_torque(value)
        os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_second_stop_signal_waits_until_the_safe_state_is_done(signum):
    def stop(number, frame):
        raise KeyboardInterrupt(f"signal {number}")

    previous = signal.signal(signum, stop)
    dyno, supply, cells = SignalsItself(signum), FakeSupply(), FakeCells("cellsim")
    try:
        with pytest.raises(KeyboardInterrupt, match=f"signal {signum}"):
            run_safe_state({"dyno": dyno, "supply": supply, "cellsim": cells}, CFG)
    finally:
        signal.signal(signum, previous)
    # held, not lost: delivered once every step had run, none of them cut short
    assert dyno.calls[-2:] == ["free_run", "read"] and "set_speed" in dyno.calls
    assert supply.calls[-1] == "output_off" and not supply.on
    assert not cells.on
    assert signal.getsignal(signum) is previous


def test_a_slew_the_supply_refuses_is_noticed_on_the_simulated_bench(tmp_path):
    """5 V/s is below the slew the IT6000C driver asks for (refused before anything is sent); with a
    100 V envelope the ramp still fits the step timeout, so the bench file is accepted."""
    bench = yaml.safe_load((ROOT / "benches" / "sim-inprocess.yaml").read_text(encoding="utf-8"))
    bench["envelope"]["supply"]["voltage_v"] = [0, 100]
    bench["safe_state"]["supply_ramp_v_per_s"] = 5
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(bench, sort_keys=False), encoding="utf-8")
    the_bench = Bench.from_file(path).open()
    try:
        supply = the_bench.supply
        supply.set_current_limit(10)
        supply.set_slew(1000)
        supply.set_voltage(90)
        supply.output_on()
        with pytest.raises(SafeStateError, match=r"supply: slew: .*slew_v_per_s=5 is outside") as caught:
            the_bench.safe_state()
        assert "ramp down" not in str(caught.value) and "output off" not in str(caught.value)
        assert not supply.output_enabled()
        assert supply.measure_voltage() < 60
    finally:
        with contextlib.suppress(SafeStateError):  # closing runs the safe state, and its refused slew, again
            the_bench.close()
