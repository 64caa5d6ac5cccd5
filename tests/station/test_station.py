"""The station as an operator uses it: ``hil station`` serving its panel on a free port, driven in a
real headless Chromium. A certification runs ``hil certify`` on the simulated bench of
``benches/sim.yaml`` into a store of the test's own."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from hil.results.store import Store
from tests.safety.guardian_rig import SAFE_STATE_TAIL, first_sequence, outputs_off, records, state_changes

# a drive scenario on a simulated bench in real time: its TSC1 stream and waits starve beside a
# second worker on two cores
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
SERIAL = f"EDS200-2026-{7000 + os.getpid() % 1000:04d}"
# README screenshots are taken when this names a directory
SCREENSHOTS = os.environ.get("HIL_STATION_SCREENSHOTS")
VISIBLE_WITHIN_S = 0.5  # a measurement is on the page this soon after the store has it


@contextmanager
def station(tmp_path: Path, bench: str | Path = "benches/sim.yaml") -> Iterator[str]:
    """``hil station`` on a free port, a store and certificates of its own; its address."""
    command = [sys.executable, "-m", "hil", "station", "--bench", str(bench), "--port", "0"]
    command += ["--db", str(tmp_path / "hil.sqlite"), "--certificates", str(tmp_path / "certificates")]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        address = re.search(r"http://\S+/", first)
        assert address, f"hil station did not say where it listens: {first!r} {process.stdout.read()}"
        yield address.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def sim_bench(tmp_path: Path, change: Callable[[dict], object]) -> Path:
    """``benches/sim.yaml`` with ``change`` made to it, written under ``tmp_path``."""
    bench = yaml.safe_load((ROOT / "benches/sim.yaml").read_text(encoding="utf-8"))
    change(bench)
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(bench, sort_keys=False), encoding="utf-8")
    return path


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def shoot(page: object, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"station-{name}.png"), full_page=True)


def test_a_malformed_serial_is_refused_in_the_form_and_by_the_station(tmp_path: Path, page: object) -> None:
    with station(tmp_path) as url:
        page.goto(url)
        page.fill("#operator", "Wang Fang")
        page.fill("#serial", "eds200 2026")
        assert "invalid" in page.get_attribute("#serial", "class")
        assert "pattern" in page.inner_text("#serial-hint")
        assert page.is_disabled("#start")
        page.fill("#serial", SERIAL)
        assert page.inner_text("#serial-hint") == ""
        assert page.is_enabled("#start")
        shoot(page, "idle")
        status, reply = post(url + "api/start", {"serial": "../EDS200", "operator": "Wang Fang"})
        assert status == 400 and reply["field"] == "serial" and "pattern" in reply["error"]


def test_a_past_calibration_disables_start(tmp_path: Path, page: object) -> None:
    past = sim_bench(
        tmp_path, lambda bench: bench["instruments"]["analyzer"].update(calibration_due="2020-01-31")
    )
    with station(tmp_path, past) as url:
        page.goto(url)
        page.fill("#serial", SERIAL)
        page.fill("#operator", "Wang Fang")
        page.wait_for_selector("#blocked:has-text('calibration past due')")
        assert "analyzer 2020-01-31" in page.inner_text("#blocked")
        assert page.is_disabled("#start")
        assert "past" in page.get_attribute("#instruments tr:has-text('analyzer') td:nth-child(3)", "class")
        status, reply = post(url + "api/start", {"serial": SERIAL, "operator": "Wang Fang"})
        assert status == 409 and "calibration past due" in reply["error"]


def test_the_golden_unit_is_certified_live_and_passes(tmp_path: Path, page: object) -> None:
    page.set_default_timeout(60_000)
    with station(tmp_path) as url:
        page.goto(url)
        page.fill("#serial", SERIAL)
        page.fill("#operator", "Li Wei")
        page.click("#start")
        page.wait_for_selector("#measurements tr.measurement")
        assert page.is_disabled("#start") and page.is_enabled("#stop")
        # a second Start while the run goes is refused by the station, not only by the page
        status, reply = post(url + "api/start", {"serial": SERIAL, "operator": "Li Wei"})
        assert status == 409 and "being certified" in reply["error"]
        shoot(page, "running")
        # the panel closed and opened again: the run went on, and shows live
        page.goto("about:blank")
        page.goto(url)
        page.wait_for_selector("#state[data-phase='running']")
        page.wait_for_selector("#measurements tr.measurement")
        page.wait_for_selector("#verdict[data-outcome]", timeout=240_000)
        shoot(page, "finished")
        assert page.get_attribute("#verdict", "data-outcome") == "pass", page.inner_text("#state")
        assert page.inner_text("#verdict") == "PASS"
        assert page.locator("li.failed-measurement").count() == 0
        rows = page.eval_on_selector_all(
            "#measurements tr.measurement[data-live='1']",
            "rows => rows.map(r => [r.dataset.name, r.dataset.verdict,"
            " Number(r.dataset.seen) - Date.parse(r.dataset.taken)])",
        )
        assert page.locator("#measurements tr.measurement[data-verdict='fail']").count() == 0
        assert len(rows) >= 10, "the measurements taken after the panel opened again"
        delays = [delay / 1000.0 for _, _, delay in rows]
        print(
            f"measurement to page: median {statistics.median(delays):.3f} s, "
            f"max {max(delays):.3f} s over {len(delays)}"
        )
        late = [
            (name, delay)
            for (name, _, _), delay in zip(rows, delays, strict=True)
            if delay > VISIBLE_WITHIN_S
        ]
        assert not late, f"shown later than {VISIBLE_WITHIN_S} s after the store had them: {late}"
        with page.expect_download() as download:
            page.locator("a.certificate[href$='.pdf']").first.click()
        pdf = Path(download.value.path())
        assert pdf.read_bytes().startswith(b"%PDF")
        # the panel's language switches on the page
        page.click("#lang")
        assert page.inner_text("#verdict") == "合格"


def test_stop_mid_scenario_brings_the_bench_to_its_safe_state(tmp_path: Path, page: object) -> None:
    """Stop while a scenario drives the bench: the emulators' command log ends in the safe-state
    sequence with every output off, the store has the run aborted, the panel says the bench is safe."""
    log = tmp_path / "commands.jsonl"
    logged = sim_bench(tmp_path, lambda bench: bench["simulator"]["options"].update(log=str(log)))
    with station(tmp_path, logged) as url:
        page.goto(url)
        page.fill("#serial", SERIAL)
        page.fill("#operator", "Li Wei")
        page.click("#start")
        # mid-scenario: its first measurement is in and the supply is on
        page.wait_for_selector("#measurements tr.measurement", timeout=120_000)
        assert ("supply", "OUTP ON") in state_changes(records(log))
        page.click("#stop")
        page.wait_for_selector("#state[data-phase='safe']", timeout=120_000)
        shoot(page, "stopped")
        changes = state_changes(records(log))
        last = len(changes) - 1 - changes[::-1].index(SAFE_STATE_TAIL[0])
        assert first_sequence(changes[last:]) == SAFE_STATE_TAIL, changes[last:]
        outputs_off(changes)
        with urllib.request.urlopen(url + "api/current", timeout=10) as reply:
            said = "\n".join(json.loads(reply.read())["status"]["log"])
        assert page.get_attribute("#verdict", "data-outcome") == "aborted", said
    with Store(str(tmp_path / "hil.sqlite")) as store:
        run = store.runs(limit=1)[0]
    assert (run["serial"], run["kind"], run["outcome"], run["complete"]) == (
        SERIAL,
        "certification",
        "aborted",
        False,
    )


def test_a_defect_unit_fails_naming_its_failed_measurement(tmp_path: Path, page: object) -> None:
    """The defect unit with a 25 Ω pre-charge resistor (half the golden's): its inrush peak fails."""
    with station(tmp_path) as url:
        page.goto(url)
        page.fill("#serial", SERIAL)
        page.fill("#operator", "Li Wei")
        page.select_option("#profile", "sim/profiles/defects/precharge_resistor_low.yaml")
        page.click("#start")
        page.wait_for_selector("#verdict[data-outcome]", timeout=240_000)
        assert page.get_attribute("#verdict", "data-outcome") == "fail", page.inner_text("#state")
        assert page.inner_text("#verdict") == "FAIL"
        failed = page.locator("li.failed-measurement").all_inner_texts()
        assert len(failed) == 1 and failed[0].startswith("bms.precharge.inrush_peak_a = "), failed
        assert page.locator("tr.measurement[data-verdict='fail']").count() == 1
        assert page.locator("a.certificate[href$='.pdf']").count() == 2  # a FAIL is certified too
