"""A bad bench file is refused on load with one line naming the file and the field."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hil.config import load_bench
from hil.errors import BenchConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = yaml.safe_load((ROOT / "benches" / "lab-example.yaml").read_text())


def _write(tmp_path: Path, mutate) -> Path:
    data = copy.deepcopy(GOOD)
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _set(path: str, value):
    def mutate(data):
        *parents, leaf = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is KeyError:
            del node[leaf]
        else:
            node[leaf] = value

    return mutate


CASES = {
    "unknown driver": (
        _set("instruments.supply.driver", "itech.it9999"),
        "instruments.supply.driver",
        "unknown driver",
    ),
    "malformed resource": (
        _set("instruments.eload.resource", "TCPIP0:hil-eload:5025:SOCKET"),
        "instruments.eload.resource",
        "not a VISA resource string",
    ),
    "port out of range": (
        _set("instruments.eload.resource", "TCPIP0::127.0.0.1::70000::SOCKET"),
        "instruments.eload.resource",
        "above 65535",
    ),
    "envelope above rating": (
        _set("envelope.supply.voltage_v", [0, 1000]),
        "envelope.supply.voltage_v",
        "exceeds the IT6054C-800-225 rating [0, 808]",
    ),
    "envelope below rating": (
        _set("envelope.dyno.speed_rpm", [-9000, 100]),
        "envelope.dyno.speed_rpm",
        "exceeds the DSP7000-AC250 rating",
    ),
    "missing field": (
        _set("instruments.dyno.serial", KeyError),
        "instruments.dyno.serial",
        "missing (required)",
    ),
    "missing can": (_set("can", KeyError), "can", "missing (required)"),
    "wrong type": (_set("instruments.supply.timeout_ms", "fast"), "instruments.supply.timeout_ms", "integer"),
    "wrong date": (
        _set("instruments.cellsim.calibration_due", "soon"),
        "instruments.cellsim.calibration_due",
        "date",
    ),
    "unknown field": (_set("instruments.supply.voltage", 600), "instruments.supply.voltage", "unknown field"),
    "unknown model": (
        _set("instruments.supply.model", "IT6000"),
        "instruments.supply.model",
        "not a itech.it6000c model",
    ),
    "low above high": (
        _set("envelope.eload.current_a", [100, 10]),
        "envelope.eload.current_a",
        "low 100 is above high",
    ),
    "missing envelope quantity": (
        lambda d: d["envelope"]["supply"].pop("slew_v_per_s"),
        "envelope.supply.slew_v_per_s",
        "missing",
    ),
    "unknown quantity": (
        _set("envelope.cellsim.voltage_v", [0, 4]),
        "envelope.cellsim.voltage_v",
        "has no quantity 'voltage_v'",
    ),
    "envelope for no instrument": (
        _set("envelope.pump", {"speed_rpm": [0, 1]}),
        "envelope.pump",
        "no instrument",
    ),
    "fault box envelope below the fixture's floor": (
        _set("envelope.isofault.fault_resistance_ohm", [10000, 1000000]),
        "envelope.isofault.fault_resistance_ohm",
        "exceeds the 34980A/IFB-1 rating [20000, 1.043e+06]",
    ),
    "thermistor without an envelope": (
        lambda d: d["envelope"].pop("tempsim"),
        "envelope.tempsim.resistance_ohm",
        "missing",
    ),
    "neutral thermistor resistance outside its envelope": (
        _set("safe_state.thermistor_neutral_ohm", 1000),
        "safe_state.thermistor_neutral_ohm",
        "1000 Ω is outside envelope.tempsim.resistance_ohm [2000, 150000]",
    ),
    "auto port without simulator": (
        _set("instruments.supply.resource", "TCPIP0::127.0.0.1::0::SOCKET"),
        "instruments.supply.resource",
        "port 0 needs a `simulator:`",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_bench_file_names_file_and_field(tmp_path, case):
    mutate, field, message = CASES[case]
    path = _write(tmp_path, mutate)
    with pytest.raises(BenchConfigError) as caught:
        load_bench(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: {field}: "), text
    assert message in text
    assert "\n" not in text


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ninstruments: [unclosed\n")
    with pytest.raises(BenchConfigError, match=r"broken.yaml: line \d+: not valid YAML"):
        load_bench(path)


def test_missing_file(tmp_path):
    with pytest.raises(BenchConfigError, match="no such bench file"):
        load_bench(tmp_path / "nope.yaml")


SHIPPED = sorted(p.name for p in (ROOT / "benches").glob("*.yaml"))


def test_the_shipped_bench_files_are_all_checked():
    assert {"sim.yaml", "sim-inprocess.yaml", "sim-remote.yaml", "lab-example.yaml"} <= set(SHIPPED)


@pytest.mark.parametrize("bench", SHIPPED)
def test_shipped_bench_files_load(bench):
    config = load_bench(ROOT / "benches" / bench)
    assert set(config.instruments) == {
        "supply",
        "cellsim",
        "eload",
        "dyno",
        "analyzer",
        "tempsim",
        "isofault",
    }


def test_cli_reports_a_bad_file_in_one_line_without_traceback(tmp_path):
    path = _write(tmp_path, _set("instruments.supply.driver", "itech.it9999"))
    done = subprocess.run(
        [sys.executable, "-m", "hil", "bench", "check", "--bench", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {path}: instruments.supply.driver: unknown driver"
    )
    assert "Traceback" not in done.stderr + done.stdout
