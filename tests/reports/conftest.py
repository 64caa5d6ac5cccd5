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


# a Chromium of its own for each test (about a second): in a whole CI session one shared browser
# rendered the first report and left the later ones blank for 30 s (not seen with these tests alone);
# a test's failure now carries what its page wrote to the console
@pytest.fixture
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed and hasattr(item, "page_log"):
        # what the page itself said: a report that does not render says why in its console
        report.sections.append(("page console", "\n".join(item.page_log) or "(nothing)"))
    return report


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    opened = browser.new_page()
    opened.set_default_timeout(30_000)
    log: list[str] = []
    opened.on("console", lambda message: log.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: log.append(f"page error: {error}"))
    request.node.page_log = log
    try:
        yield opened
    finally:
        opened.close()
