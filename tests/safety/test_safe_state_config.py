"""The safe-state settings a bench file may hold: a ramp that cannot end within its step's timeout,
or a timeout that is not a finite positive time, is refused at load, naming the file and field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from hil.config import load_bench
from hil.errors import BenchConfigError

ROOT = Path(__file__).resolve().parents[2]


def _bench(tmp_path: Path, safe_state: dict, envelope: dict | None = None, source: str = "sim.yaml") -> Path:
    bench = yaml.safe_load((ROOT / "benches" / source).read_text(encoding="utf-8"))
    bench["safe_state"] = {**bench["safe_state"], **safe_state}
    for name, limits in (envelope or {}).items():
        bench["envelope"][name].update(limits)
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(bench, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("source", ["sim.yaml", "sim-inprocess.yaml", "sim-remote.yaml", "lab-example.yaml"])
def test_shipped_benches_ramp_down_within_their_step_timeout(source):
    load_bench(ROOT / "benches" / source)


@pytest.mark.parametrize(
    ("safe_state", "field", "says"),
    [
        # 790 V (envelope) to 60 V at 10 V/s is 73 s: the step times out with the output on
        ({"supply_ramp_v_per_s": 10}, "safe_state.supply_ramp_v_per_s", "73 s from 790 V"),
        ({"supply_ramp_v_per_s": 5}, "safe_state.supply_ramp_v_per_s", "146 s from 790 V"),
        (
            {"supply_ramp_v_per_s": 73},
            "safe_state.supply_ramp_v_per_s",
            "not within safe_state.step_timeout_s 10 s",
        ),
        # 7500 rpm (envelope) to 30 rpm at 500 rpm/s is 15 s
        ({"dyno_ramp_rpm_per_s": 500}, "safe_state.dyno_ramp_rpm_per_s", "from 7500 rpm"),
        ({"step_timeout_s": 2}, "safe_state.dyno_ramp_rpm_per_s", "4.98 s from 7500 rpm"),
        ({"step_timeout_s": math.inf}, "safe_state.step_timeout_s", "finite"),
        ({"step_timeout_s": math.nan}, "safe_state.step_timeout_s", "finite"),
        ({"step_timeout_s": 0}, "safe_state.step_timeout_s", "greater than 0"),
        ({"step_timeout_s": -1}, "safe_state.step_timeout_s", "greater than 0"),
        ({"supply_ramp_v_per_s": math.inf}, "safe_state.supply_ramp_v_per_s", "finite"),
        ({"discharged_below_v": math.nan}, "safe_state.discharged_below_v", "finite"),
        ({"heartbeat_timeout_s": math.inf}, "safe_state.heartbeat_timeout_s", "finite"),
        ({"heartbeat_timeout_s": 0}, "safe_state.heartbeat_timeout_s", "greater than or equal to 0.5"),
    ],
)
def test_a_safe_state_that_cannot_finish_is_refused_at_load(tmp_path, safe_state, field, says):
    path = _bench(tmp_path, safe_state)
    with pytest.raises(BenchConfigError) as caught:
        load_bench(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}: "), message
    assert says in message, message


def test_the_envelope_sets_the_span_a_ramp_must_cover(tmp_path):
    # 10 V/s is enough for a bench whose supply never goes above 150 V: 9 s to 60 V
    load_bench(_bench(tmp_path, {"supply_ramp_v_per_s": 10}, {"supply": {"voltage_v": [0, 150]}}))
    with pytest.raises(BenchConfigError, match=r"envelope.supply.voltage_v"):
        load_bench(_bench(tmp_path, {"supply_ramp_v_per_s": 10}, {"supply": {"voltage_v": [0, 170]}}))
    # a reverse speed counts as much as a forward one
    with pytest.raises(BenchConfigError, match=r"safe_state.dyno_ramp_rpm_per_s: .* from 7900 rpm"):
        load_bench(_bench(tmp_path, {"dyno_ramp_rpm_per_s": 700}, {"dyno": {"speed_rpm": [-7900, 100]}}))
