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

ROOT = Path(__file__).resolve().parents[2]
ALLURE = ROOT / "node_modules" / ".bin"
BENCH = "benches/sim-inprocess.yaml"


def _need(what: str, found: object) -> None:
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/run installs it")
    pytest.skip(f"{what} is not installed")


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
    _need("the Allure command line (npm install)", (ALLURE / "allure").exists() or shutil.which("allure"))


@pytest.fixture(scope="session")
def browser(allure_cli: None) -> Iterator[object]:
    chromium = shutil.which("chromium")
    _need("Chromium (Debian: chromium)", chromium)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    _need("Playwright (pip: playwright)", sync_playwright)
    with sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        launched = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    opened = browser.new_page()
    opened.set_default_timeout(30_000)
    try:
        yield opened
    finally:
        opened.close()
