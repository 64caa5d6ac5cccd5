"""A failing check in a pytest run: its message in the terminal, its plot and CSV in the Allure results."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TEST_FILE = textwrap.dedent(
    """
    import numpy as np
    from hil.waveform import Capture, is_constant

    def cap():
        x = np.full(10_000, 600.0)
        x[7_000:7_020] = 650.0
        return Capture.from_arrays(x, 10e3, ["dc_bus"], "V")

    def test_dc_bus_is_flat():
        assert is_constant(cap(), 600.0, 5.0)

    def test_dc_bus_before_the_glitch():
        assert is_constant(cap(), 600.0, 5.0, during=(0.0, 0.6))
    """
)


def run(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    (tmp_path / "test_dc.py").write_text(TEST_FILE)
    results = tmp_path / "allure"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "hil.waveform.pytest_plugin",
            "-p",
            "no:cacheprovider",
            f"--alluredir={results}",
            "test_dc.py",
            *extra,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, [json.loads(p.read_text()) for p in results.glob("*-result.json")]


@pytest.mark.slow
def test_failing_check_shows_message_and_attaches_plot(tmp_path):
    proc, results = run(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL is_constant" in proc.stdout and "first violation at 0.7 s" in proc.stdout
    by_name = {r["name"]: r for r in results}
    failed = by_name["test_dc_bus_is_flat"]
    assert failed["status"] == "failed"
    assert "FAIL is_constant" in failed["statusDetails"]["message"]
    kinds = {a["type"]: a for a in failed["attachments"]}
    assert set(kinds) == {"image/png", "text/csv"}
    png = tmp_path / "allure" / kinds["image/png"]["source"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert (
        "attachments" not in by_name["test_dc_bus_before_the_glitch"]
        or not by_name["test_dc_bus_before_the_glitch"]["attachments"]
    )


@pytest.mark.slow
def test_always_option_attaches_passing_checks_too(tmp_path):
    _, results = run(tmp_path, "--waveform-plots=always")
    passed = next(r for r in results if r["name"] == "test_dc_bus_before_the_glitch")
    assert {a["type"] for a in passed["attachments"]} == {"image/png", "text/csv"}
