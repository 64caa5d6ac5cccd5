"""``hil soak``: outcomes compared across runs, growth of threads and descriptors reported."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hil.soak import POWER_CYCLE, Run, Sample, Soak, SoakError, await_served, junit_outcomes

ROOT = Path(__file__).resolve().parents[2]

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="test_suites.a" name="test_ok"/>
<testcase classname="test_suites.a" name="test_bad"><failure message="x"/></testcase>
<testcase classname="test_suites.a" name="test_skip"><skipped message="s"/></testcase>
<testcase classname="test_suites.a" name="test_teardown"/>
<testcase classname="test_suites.a" name="test_teardown"><error message="teardown"/></testcase>
</testsuite></testsuites>"""


def _run(number: int, outcomes: dict[str, str], **probes: list[Sample]) -> Run:
    run = Run(number, 1.0, 0, outcomes)
    run.probes = {int(pid.removeprefix("p")): samples for pid, samples in probes.items()}
    return run


def test_junit_outcomes_take_the_worse_of_call_and_teardown(tmp_path: Path) -> None:
    path = tmp_path / "run.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert junit_outcomes(path) == {
        "test_suites.a::test_ok": "passed",
        "test_suites.a::test_bad": "failed",
        "test_suites.a::test_skip": "skipped",
        "test_suites.a::test_teardown": "error",
    }


def test_a_test_that_changes_outcome_or_goes_missing_is_reported() -> None:
    soak = Soak(
        [
            _run(1, {"a": "passed", "b": "passed", "c": "failed"}),
            _run(2, {"a": "passed", "b": "failed", "c": "failed"}),
            _run(3, {"a": "passed", "c": "failed"}),
        ]
    )
    assert soak.differing() == {"b": ["passed", "failed", "absent"]}
    assert not soak.clean
    assert "b: passed / failed / absent" in soak.report()


def test_growth_is_a_count_that_keeps_rising_and_a_served_bench_that_grows() -> None:
    steady = [Sample(100_000, 30, 40), Sample(120_000, 27, 33), Sample(121_000, 27, 33)]
    # a pool made on first use: one step, at whichever test first needs it
    lazy = [Sample(100_000, 30, 40), *[Sample(120_000, 26, 35)] * 5, *[Sample(125_000, 28, 37)] * 5]
    leaking = [Sample(100_000, 30, 40), *(Sample(120_000, 27, 33 + n) for n in range(6))]
    assert Soak([_run(1, {"a": "passed"}, p1=steady)]).clean
    assert Soak([_run(1, {"a": "passed"}, p1=lazy)]).clean
    grown = Soak([_run(1, {"a": "passed"}, p1=leaking)])
    assert (
        not grown.clean
        and "27 threads, 33 fds → 117 MiB, 27 threads, 38 fds (rising at 5 tests)" in grown.report()
    )
    served = [_run(1, {"a": "passed"}), _run(2, {"a": "passed"})]
    served[0].served, served[1].served = Sample(50_000, 12, 20), Sample(50_000, 13, 20)
    assert Soak(served).served_growth() is not None


def test_a_served_bench_is_sampled_once_its_power_cycle_is_over(tmp_path: Path) -> None:
    """Sampled during the power cycle that follows a run, a served bench counted 5 to 7 threads and
    4 descriptors, after it 19 and 12: a soak of five clean runs read that as growth."""
    log = tmp_path / "serve.log"
    log.write_text(f"hil-sim: ready\n{POWER_CYCLE} 1)\n", encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        await_served(server, log, lambda text: text.count(POWER_CYCLE) > 0, "no power cycle")
        returned: list[str] = []

        def second_cycle() -> None:
            await_served(server, log, lambda text: text.count(POWER_CYCLE) > 1, "none")
            returned.append("power cycle 2")

        waiter = threading.Thread(target=second_cycle)
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive(), "sampled before the run's power cycle was over"
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{POWER_CYCLE} 2)\n")
        waiter.join(10)
        assert returned == ["power cycle 2"], "the wait ended without seeing the power cycle"
    finally:
        server.communicate(b"")
    # a server that has ended never writes it: one clear error, at once
    with pytest.raises(SoakError, match=r"(?s)did not power-cycle after run 3:\n.*power cycle 2\)"):
        await_served(server, log, lambda text: text.count(POWER_CYCLE) > 2, "did not power-cycle after run 3")


def test_sample_sees_a_new_thread_and_descriptor() -> None:
    before = Sample.of()
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    with open(__file__, encoding="utf-8"):
        during = Sample.of()
    stop.set()
    worker.join()
    assert during.threads == before.threads + 1 and during.fds == before.fds + 1


def test_two_runs_of_the_readiness_checks_on_the_in_process_bench_are_clean(tmp_path: Path) -> None:
    soak = [sys.executable, "-m", "hil", "soak", "--runs", "2", "--bench", "benches/sim-inprocess.yaml"]
    done = subprocess.run(
        [*soak, "--work", str(tmp_path), "test_suites/bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line[:3].strip() in ("1", "2")]
    assert [row[0] for row in rows] == ["1", "2"] and all(row[3] == row[4] != "0" for row in rows)
    assert "differing outcomes: 0" in done.stdout and done.stdout.rstrip().endswith("soak: clean")


def test_serve_refuses_a_bench_that_starts_its_own_simulator(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hil",
            "soak",
            "--serve",
            "--bench",
            "benches/sim.yaml",
            "--work",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--serve is for a bench another process serves" in done.stderr
