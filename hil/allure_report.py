"""Rendering Allure results as the HTML report with the Allure 3 command line, under the project's
``allurerc.yaml`` (categories, single-file page), with the history file the caller names.

The settings file names one history file; a run rendered elsewhere (a report of a past run, a test's
scratch report) must not add to the nightly's trend, so each render writes a copy of the settings
with its own history path (or none) and output."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

ALLURE_CONFIG = Path(__file__).resolve().parents[1] / "allurerc.yaml"
# The single-file page declares its embedded data after the application's script (3.6 MB), and the
# application, finding no data object yet, fetches each data file instead: a page opened from disk
# may not (CORS), so where the parser reached the data late (a loaded machine) the page stayed a
# spinner. Declared in the head, the object makes the application wait until the data is ready.
EMBEDDED_DATA = "window.allureReportDataReady = false;"
EARLY_DATA = "<script>window.allureReportData = window.allureReportData || {};</script>"
# Allure's template loads Google Analytics into every page it writes: a report opened on the test
# floor or by a customer reports to no one
ANALYTICS = re.compile(
    r'\s*<script async src="https://www\.googletagmanager\.com/gtag/js[^"]*"></script>'
    r"\s*<script>\s*window\.dataLayer[^<]*</script>"
)


class ReportError(RuntimeError):
    pass


def settings(report: Path, history: Path | None, name: str | None = None) -> dict:
    """The project's Allure settings with this render's output, history file and report name."""
    try:
        found = yaml.safe_load(ALLURE_CONFIG.read_text(encoding="utf-8")) if ALLURE_CONFIG.is_file() else {}
    except yaml.YAMLError as exc:
        raise ReportError(f"{ALLURE_CONFIG}: {exc}") from None
    found = dict(found or {})
    found["output"] = str(report.resolve())
    found.pop("historyPath", None)
    if history is not None:
        found["historyPath"] = str(history.resolve())
    if name:
        found["name"] = name
    return found


def render(results: Path, report: Path, *, history: Path | None, name: str | None = None) -> Path:
    """``report/index.html`` rendered from ``results``; raises ``ReportError`` saying why not."""
    allure = shutil.which("allure")
    if allure is None:
        raise ReportError(
            f"the Allure command line is not on PATH (npm package 'allure'); results are in {results}"
        )
    if history is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hil-allure-") as tmp:
        config = Path(tmp) / "allurerc.yaml"
        config.write_text(
            yaml.safe_dump(settings(report, history, name), allow_unicode=True), encoding="utf-8"
        )
        command = [allure, "generate", str(results), "--output", str(report), "--config", str(config)]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise ReportError(f"allure generate failed:\n{done.stdout}{done.stderr}")
    index = report / "index.html"
    if not index.is_file():
        raise ReportError(f"allure generate wrote no {index}:\n{done.stdout}{done.stderr}")
    index.write_text(offline_page(index.read_text(encoding="utf-8")), encoding="utf-8")
    return index


def offline_page(html: str) -> str:
    """The rendered page with no analytics, and its embedded data waited for (``EARLY_DATA``)."""
    html = ANALYTICS.sub("", html)
    if EMBEDDED_DATA in html and EARLY_DATA not in html:
        html = html.replace("</head>", f"    {EARLY_DATA}\n</head>", 1)
    return html


def properties(values: dict[str, str]) -> str:
    """Java properties text (``environment.properties``): keys as they are (no blanks, ``=`` or ``:``
    in ours), values escaped."""
    escape = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r"})
    return "".join(f"{key}={value.translate(escape)}\n" for key, value in values.items())


def unit_identity(unit: dict) -> str:
    """What the unit said over UDS about itself, as one environment line."""
    return (
        f"model {unit['model'] or '-'}, part {unit['part_number'] or '-'}, "
        f"firmware {unit['firmware'] or '-'}, VIN {unit['vin'] or '-'}"
    )
