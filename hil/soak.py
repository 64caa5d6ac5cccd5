"""The soak: the nightly run back to back on one bench, watched for what changes between runs.

Each run is a fresh pytest process over ``test_suites/``; its outcomes come from its JUnit XML, and a
probe inside it (``hil.soak_probe``) samples the process's resident memory, threads and open file
descriptors as each test starts. With ``serve``, one ``hil-sim serve`` is started for the bench file
and left running through every run, sampled the same way after each. A soak fails when a test's
outcome differs between runs, or when threads or file descriptors grow: in a test process, rising to
a new high at three or more of its tests after the second (the first opens the bench; a pool made on
first use steps once), in the served bench from the first run to the last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import HilError
from hil.nightly import WITHOUT_HYPOTHESIS

PROBE_ENV = "HIL_SOAK_PROBE"
SERVE_READY_S = 60.0
GROWTH_STEPS = 3
POWER_CYCLE = "simulated bench reset (power cycle"  # hil-sim serve's line once a reset is over


def _new_highs(counts: list[int]) -> int:
    """How many times ``counts`` reached a new high after its first value."""
    highs, high = 0, counts[0]
    for count in counts[1:]:
        if count > high:
            highs, high = highs + 1, count
    return highs


class SoakError(HilError):
    """The soak could not run (a served bench that does not come up, a run without results)."""


@dataclass(frozen=True)
class Sample:
    rss_kib: int
    threads: int
    fds: int

    @classmethod
    def of(cls, pid: int | str = "self") -> Sample:
        """Read from /proc (Linux): resident set, OS threads, open descriptors."""
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return cls(
            rss_kib=int(fields["VmRSS"].split()[0]),
            threads=int(fields["Threads"]),
            fds=len(os.listdir(f"/proc/{pid}/fd")),
        )

    def line(self) -> str:
        return f"{self.rss_kib / 1024:.0f} MiB, {self.threads} threads, {self.fds} fds"


@dataclass
class Run:
    number: int
    wall_s: float
    exit_code: int
    outcomes: dict[str, str]
    # per test process (one per pytest-xdist worker): the samples in test order
    probes: dict[int, list[Sample]] = field(default_factory=dict)
    served: Sample | None = None

    def growth(self) -> list[str]:
        """Threads or descriptors of a process that kept rising: a new high at GROWTH_STEPS or more of
        its tests after the second. A resource made on first use (a worker pool, a session's client)
        raises the count once, at whichever test first needs it; a leak raises it test after test."""
        found = []
        for pid, samples in self.probes.items():
            if len(samples) < 3:
                continue
            first, last = samples[1], samples[-1]
            steps = max(
                _new_highs([s.threads for s in samples[1:]]), _new_highs([s.fds for s in samples[1:]])
            )
            if steps >= GROWTH_STEPS:
                found.append(
                    f"run {self.number}, test process {pid}: {first.line()} → {last.line()} "
                    f"(rising at {steps} tests)"
                )
        return found


@dataclass
class Soak:
    runs: list[Run]

    def differing(self) -> dict[str, list[str]]:
        """Tests whose outcome is not the same in every run (missing from a run counts)."""
        names = sorted({name for run in self.runs for name in run.outcomes})
        seen = {name: [run.outcomes.get(name, "absent") for run in self.runs] for name in names}
        return {name: outcomes for name, outcomes in seen.items() if len(set(outcomes)) > 1}

    def served_growth(self) -> str | None:
        served = [run.served for run in self.runs if run.served is not None]
        if len(served) < 2:
            return None
        first, last = served[0], served[-1]
        if last.threads > first.threads or last.fds > first.fds:
            return f"hil-sim serve: {first.line()} after run 1 → {last.line()} after run {len(served)}"
        return None

    @property
    def clean(self) -> bool:
        grown = any(run.growth() for run in self.runs) or self.served_growth() is not None
        return not self.differing() and not grown

    def report(self) -> str:
        lines = ["run  wall s  exit  tests  passed  failed  test process (2nd test → last)   hil-sim serve"]
        for run in self.runs:
            passed = sum(o == "passed" for o in run.outcomes.values())
            failed = sum(o in ("failed", "error") for o in run.outcomes.values())
            spans = []
            for samples in run.probes.values():
                if len(samples) >= 2:
                    a, b = samples[min(1, len(samples) - 1)], samples[-1]
                    spans.append(f"{a.threads}→{b.threads} thr {a.fds}→{b.fds} fd {b.rss_kib / 1024:.0f} MiB")
            served = run.served.line() if run.served else "-"
            lines.append(
                f"{run.number:>3}  {run.wall_s:>6.0f}  {run.exit_code:>4}  {len(run.outcomes):>5}  "
                f"{passed:>6}  {failed:>6}  {'; '.join(spans) or '-':<32}  {served}"
            )
        differing = self.differing()
        lines.append(f"differing outcomes: {len(differing)}")
        lines += [f"  {name}: {' / '.join(outcomes)}" for name, outcomes in differing.items()]
        for problem in [*(g for run in self.runs for g in run.growth()), self.served_growth()]:
            if problem:
                lines.append(f"growth: {problem}")
        lines.append("soak: clean" if self.clean else "soak: NOT clean")
        return "\n".join(lines)


def junit_outcomes(path: Path) -> dict[str, str]:
    """passed / failed / error / skipped per test id (classname::name) from pytest's JUnit XML."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SoakError(f"{path}: no readable JUnit results ({exc})") from None
    outcomes = {}
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        kinds = {child.tag for child in case}
        if "error" in kinds:
            outcome = "error"
        elif "failure" in kinds:
            outcome = "failed"
        elif "skipped" in kinds:
            outcome = "skipped"
        else:
            outcome = "passed"
        # a failed teardown adds an error on top of the call's outcome: the worse one stands
        if outcomes.get(name) not in (None, "passed"):
            outcome = outcomes[name] if outcome == "passed" else outcome
        outcomes[name] = outcome
    return outcomes


def read_probes(path: Path) -> dict[int, list[Sample]]:
    probes: dict[int, list[Sample]] = {}
    if not path.is_file():
        return probes
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        probes.setdefault(record["pid"], []).append(
            Sample(record["rss_kib"], record["threads"], record["fds"])
        )
    return probes


def await_served(server: subprocess.Popen[str], log: Path, done: Callable[[str], bool], failure: str) -> None:
    """Until ``done`` holds for ``hil-sim serve``'s log; SoakError ``failure`` if the server ends or
    it takes longer than SERVE_READY_S."""
    deadline = time.monotonic() + SERVE_READY_S
    while not done(log.read_text(encoding="utf-8")):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SoakError(f"{failure}:\n{log.read_text(encoding='utf-8')}")
        time.sleep(0.1)


@contextmanager
def served_bench(bench: Path, log: Path) -> Iterator[subprocess.Popen[str]]:
    """``hil-sim serve`` for ``bench``, up until the block ends."""
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "sim", "serve", "--bench", str(bench)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            await_served(
                server, log, lambda text: "ready" in text, f"hil-sim serve --bench {bench} did not come up"
            )
            yield server
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run_soak(
    bench: Path, runs: int, work: Path, pytest_args: Sequence[str], *, serve: bool = False, benches: int = 1
) -> Soak:
    work.mkdir(parents=True, exist_ok=True)
    # the whole nightly unless the arguments name tests of their own
    suites = [] if any(Path(arg.split("::")[0]).exists() for arg in pytest_args) else ["test_suites"]
    soak = Soak([])
    served_log = work / "serve.log"
    with served_bench(bench, served_log) if serve else _nothing() as server:
        for number in range(1, runs + 1):
            junit, probe = work / f"run{number}.xml", work / f"run{number}-probe.jsonl"
            probe.unlink(missing_ok=True)
            command = [
                sys.executable, "-m", "pytest", *suites, f"--bench={bench}", "-p", "hil.soak_probe",
                f"--junitxml={junit}", "-q", "-p", "no:cacheprovider", *WITHOUT_HYPOTHESIS, *pytest_args,
            ]  # fmt: skip
            if benches > 1:
                command += ["-n", str(benches), "--dist", "worksteal"]
            print(f"hil soak: run {number} of {runs}: {' '.join(command[2:])}", flush=True)
            cycles_before = served_log.read_text(encoding="utf-8").count(POWER_CYCLE) if server else 0
            started = time.monotonic()
            done = subprocess.run(
                command,
                env={**os.environ, PROBE_ENV: str(probe)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            run = Run(number, time.monotonic() - started, done.returncode, junit_outcomes(junit))
            run.probes = read_probes(probe)
            if server is not None:
                # sampled once the power cycle that follows a run (its last client gone) is over: a
                # sample taken during it counts a bench half stopped, and one after it the whole
                await_served(
                    server,
                    served_log,
                    lambda text, before=cycles_before: text.count(POWER_CYCLE) > before,
                    f"hil-sim serve did not power-cycle after run {number}",
                )
                run.served = Sample.of(server.pid)
            soak.runs.append(run)
            print(f"hil soak: run {number}: exit {run.exit_code}, {run.wall_s:.0f} s", flush=True)
    return soak


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
