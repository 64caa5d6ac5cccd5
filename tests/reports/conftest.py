"""The reports as an engineer sees them: rendered by the Allure command line and opened from disk in
a real headless Chromium (Debian's package, driven by Playwright). Without Chromium or the Allure
command line these tests skip, except in CI (``CI`` set), where they fail: .ci/run installs both."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
ALLURE = ROOT / "node_modules" / ".bin"
BENCH = "benches/sim-inprocess.yaml"


def nightly(out: Path, *args: str, bench: str | Path = BENCH) -> subprocess.CompletedProcess:
    """``hil nightly`` on one in-process simulated bench, everything it writes under ``out``: results,
    report, its trend beside the report, the store."""
    environment = {**os.environ, "PATH": f"{ALLURE}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "hil", "nightly", "--bench", str(bench), "--benches", "1"]
    command += [
        "--results",
        str(out / "results"),
        "--report",
        str(out / "report"),
        "--db",
        str(out / "hil.sqlite"),
    ]
    return subprocess.run(
        [*command, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False
    )


def hil(*args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{ALLURE}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "hil", *args], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="session")
def allure_cli() -> None:
    need("the Allure command line (npm install)", (ALLURE / "allure").exists() or shutil.which("allure"))


@pytest.fixture
def browser(allure_cli: None, browser: object) -> object:
    """The reports' pages are rendered by the Allure command line first."""
    return browser
