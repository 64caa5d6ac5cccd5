"""The nightly's Allure report and ``hil report``'s, opened from disk in a real headless Chromium: the
test count, a failing scenario's plot, the instruments' serials, the failure's category; and history
across nights: one entry per test, holding every night's result although the measured values differ."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import yaml

from hil.allure_report import EARLY_DATA
from hil.results.store import Store
from tests.reports.conftest import BENCH, ROOT, hil, nightly

pytestmark = pytest.mark.slow

DEFECT = "sim/profiles/defects/harmonic_rich.yaml"  # INV-11a fails on THD and attaches its capture's plot
FAILING = "INV-11a"
PLOT = "capture 1: I1, I2, I3"
STORED_PLOT = "capture-1-i1-i2-i3.png"  # the evidence file's name in the store
SERIALS = [
    i["serial"] for i in yaml.safe_load((ROOT / BENCH).read_text(encoding="utf-8"))["instruments"].values()
]


@pytest.fixture(scope="module")
def defect_night(tmp_path_factory: pytest.TempPathFactory, allure_cli: None) -> Path:
    out = tmp_path_factory.mktemp("night")
    done = nightly(out, "--unit-profile", DEFECT, "-k", "inv11a or supply_regulates")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr  # a failed test: pytest's exit 1
    assert (out / "report" / "index.html").is_file(), done.stdout[-2000:] + done.stderr
    return out


def _open(page, report: Path) -> str:
    page.goto((report / "index.html").as_uri())
    page.get_by_text("Metadata").first.wait_for()
    more = page.get_by_text("Show more")
    if more.count():
        more.first.click()
    return page.inner_text("body")


def _test_ids(report: Path) -> dict[str, dict]:
    return json.loads((report / "test-results.json").read_text(encoding="utf-8"))["byId"]


def _embedded(report: Path, name: str) -> dict:
    """A data file of the single-file report, as the page reads it (embedded as base64)."""
    found = re.search(
        rf'"{re.escape(name)}","([A-Za-z0-9+/=]+)"', (report / "index.html").read_text(encoding="utf-8")
    )
    assert found, f"{report / 'index.html'} embeds no {name}"
    return json.loads(base64.b64decode(found.group(1)))


def _failing_scenario(page, report: Path, plot: str = PLOT) -> str:
    """The failing scenario's page: its text once the plot attached to it has loaded as an image."""
    (failed,) = [i for i, t in _test_ids(report).items() if t["status"] == "failed"]
    page.goto(f"{(report / 'index.html').as_uri()}#{failed}")
    page.get_by_text(plot).first.click()
    image = page.locator("img").first
    image.wait_for()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
    width, height = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert width >= 400 and height >= 200, (width, height)
    return page.inner_text("body")


def _total(text: str) -> int:
    lines = text.splitlines()
    return int(lines[lines.index("Total") + 1])


def test_the_nightly_report_shows_count_plot_serials_and_category(defect_night: Path, page) -> None:
    report = defect_night / "report"
    front = _open(page, report)
    assert _total(front) == 2
    for serial in SERIALS:
        assert serial in front, f"{serial} not on the report's front page"
    assert "unit.identity" in front and "firmware EDS" in front  # what the unit said over UDS
    scenario = _failing_scenario(page, report)
    assert FAILING in scenario
    assert "Category: Limit violation" in scenario
    assert "inv.phase_current.thd_pct" in scenario and "FAIL" in scenario


def _with_late_data(report: Path, into: Path, early: bool) -> Path:
    """``report``'s page with its embedded data declared only a second after the page starts, as a
    parser that reaches the end of 4 MB late does on a loaded machine; ``early``: with the head's
    declaration the rendered page carries, or without it (the page as Allure writes it)."""
    html = (report / "index.html").read_text(encoding="utf-8")
    assert EARLY_DATA in html and "googletagmanager" not in html  # as hil renders every page
    declared = re.compile(r"(<script async>\s*)(window\.allureReportDataReady = false;[\s\S]*?)(</script>)")
    ready = re.compile(r"(<script defer>\s*)(Promise\.allSettled\([\s\S]*?)(</script>)")
    for script in (declared, ready):
        html, found = script.subn(r"\1setTimeout(function () {\2}, 1000);\3", html, count=1)
        assert found == 1, f"{script.pattern}: not in the page"
    # the data's declaring function, global as before although it is now declared inside a callback
    html = html.replace("function d(name, value){", "window.d = function (name, value){", 1)
    if not early:
        html = html.replace(EARLY_DATA, "")
    into.mkdir()
    (into / "index.html").write_text(html, encoding="utf-8")
    return into


def test_the_report_waits_for_its_embedded_data(defect_night: Path, page, request, tmp_path: Path) -> None:
    front = _open(page, _with_late_data(defect_night / "report", tmp_path / "early", early=True))
    assert _total(front) == 2
    assert not [line for line in request.node.page_log if "CORS" in line], request.node.page_log
    # as Allure writes it, the page fetches what it finds no data for, and a page from disk may not
    page.goto(
        (_with_late_data(defect_night / "report", tmp_path / "late", early=False) / "index.html").as_uri()
    )
    page.wait_for_function("() => window.allureReportDataReady === true")
    assert [line for line in request.node.page_log if "blocked by CORS policy" in line]


def test_hil_report_renders_the_stored_run_alone(defect_night: Path, page, tmp_path: Path) -> None:
    with Store(str(defect_night / "hil.sqlite")) as store:
        (run,) = store.runs()
    # the nightly's own results and report out of the way: the report is made from the store alone
    (defect_night / "results").rename(tmp_path / "results-moved")
    try:
        done = hil(
            "report",
            str(run["id"]),
            "--db",
            str(defect_night / "hil.sqlite"),
            "--output",
            str(tmp_path / "r"),
        )
    finally:
        (tmp_path / "results-moved").rename(defect_night / "results")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"nightly run {run['id']}" in done.stdout and "2 tests" in done.stdout
    front = _open(page, tmp_path / "r")
    assert _total(front) == 2
    for serial in SERIALS:
        assert serial in front
    scenario = _failing_scenario(page, tmp_path / "r", STORED_PLOT)
    assert "Category: Limit violation" in scenario
    assert "inv.phase_current.thd_pct = 8." in scenario  # the stored value with its limits


def test_three_nights_are_one_history_per_test(tmp_path: Path, page, allure_cli: None) -> None:
    bench = yaml.safe_load((ROOT / BENCH).read_text(encoding="utf-8"))
    for night in range(1, 4):
        # another seed each night: the simulated instruments' noise, so other measured values
        bench["simulator"]["options"]["seed"] = night
        (tmp_path / "bench.yaml").write_text(yaml.safe_dump(bench), encoding="utf-8")
        done = nightly(tmp_path, "-k", "supply_regulates or analyzer_agrees", bench=tmp_path / "bench.yaml")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr
        assert "hil nightly: Allure report" in done.stdout, (
            f"night {night} rendered no report:\n{done.stderr}"
        )
    with Store(str(tmp_path / "hil.sqlite")) as store:
        values: dict[str, set[float]] = {}
        for run in store.runs():
            for test in store.run_record(run["id"])["tests"]:
                values.setdefault(test["node_id"], set()).update(m["value"] for m in test["measurements"])
    assert len(values) == 2
    for node, seen in values.items():
        assert len(seen) > 1, f"{node}: the same measured values every night; the test proves nothing"
    nights = [json.loads(line) for line in (tmp_path / "allure-history.jsonl").read_text().splitlines()]
    assert len(nights) == 3
    assert all(len(n["testResults"]) == 2 for n in nights)
    assert len({key for n in nights for key in n["testResults"]}) == 2  # one history identity per test
    report = tmp_path / "report"
    for test_id in _test_ids(report):
        history = _embedded(report, f"data/test-results/{test_id}.json")["history"]
        assert len(history) == 2, f"{test_id}: the report's data holds {len(history)} earlier nights"
        page.goto("about:blank")  # each test's page loaded whole, not reached by a change of hash
        page.goto(f"{(report / 'index.html').as_uri()}#{test_id}")
        tab = page.locator("[data-testid=test-result-tab-history]")
        assert tab.locator("[data-testid=counter]").inner_text() == "2"  # two earlier nights, and this one
        tab.click()
        page.get_by_text("Powered by").first.wait_for()
        assert page.inner_text("body").count(" at ") >= 2
