"""``hil-sim serve`` as its own process: start, print its table, serve, stop cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import can
import pytest
import yaml

from tests.sim.conftest import INSTRUMENTS, port_is_free

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_file(tmp_path: Path) -> Path:
    content = {
        "name": "sim-remote-test",
        "instruments": {
            i["name"]: {
                "driver": i["driver"],
                "model": i["model"],
                "serial": i["serial"],
                "resource": "TCPIP0::127.0.0.1::0::SOCKET",
                "calibration_due": "2027-06-30",
            }
            for i in INSTRUMENTS
        },
        "can": {"interface": "socketcand", "host": "127.0.0.1", "port": 0, "channel": "can0"},
        "envelope": {"supply": {"voltage_v": [0, 700]}},
    }
    path = tmp_path / "sim-remote.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def test_serve_prints_its_table_serves_and_stops_on_sigterm(
    bench_file: Path, tmp_path: Path, resource_manager
) -> None:
    log = tmp_path / "commands.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "serve",
            "--bench",
            str(bench_file),
            "--log",
            str(log),
            "--seed",
            "3",
            "--set",
            "cells.default_voltage_v=3.25",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        table = []
        for line in process.stdout:
            table.append(line)
            if line.startswith("hil-sim: ready"):
                break
        else:
            pytest.fail(f"hil-sim serve ended early: {process.wait()} {process.stderr.read()}")
        rows = {line.split()[0]: line.split()[-1] for line in table[2:-1]}
        assert set(rows) == {
            "supply",
            "cellsim",
            "eload",
            "dyno",
            "analyzer",
            "tempsim",
            "isofault",
            "can",
            "control",
        }
        ports = [int(rows[name].split("::")[2]) for name in rows if name not in ("can", "control")]
        can_port = int(rows["can"].rsplit(":", 1)[1])

        cells = resource_manager.open_resource(rows["cellsim"], read_termination="\n", write_termination="\n")
        assert cells.query("*IDN?") == "Chroma ATE,87001-24,SIM-CS-0001,1.30-SIM"
        cells.write("OUTP ON")
        assert cells.query("MEAS:VOLT? (@1)") == "3.25"
        cells.close()
        with can.Bus(interface="socketcand", host="127.0.0.1", port=can_port, channel="can0") as bus:
            assert bus.recv(timeout=2.0) is not None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert all(port_is_free(p) for p in [*ports, can_port])
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["header"] for r in records] == ["*IDN?", "OUTP", "MEAS:VOLT?"]
    assert records[1] == {
        **records[1],
        "instrument": "cellsim",
        "command": "OUTP ON",
        "args": ["ON"],
        "error": 0,
    }


def test_unknown_override_is_a_clear_error(bench_file: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "serve",
            "--bench",
            str(bench_file),
            "--set",
            "motor.warp_factor=9",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "unknown profile parameter 'motor.warp_factor'; known under motor:" in result.stderr
