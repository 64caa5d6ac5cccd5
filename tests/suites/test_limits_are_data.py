"""Limits are data: a limit changed in specs/ changes the verdict with no test touched, and no file
under test_suites/ holds a numeric limit."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "test_suites"
LIMIT_KEYWORDS = ("low", "high", "limit", "tolerance", "band")


def _run(specs: Path, results: Path) -> dict:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITES / "bench" / "test_bench_readiness.py"),
            "-k",
            "cell_simulator",
            f"--specs={specs}",
            f"--results-json={results}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return json.loads(results.read_text())


def _outcome(document: dict, name: str) -> str:
    return next(m["outcome"] for t in document["tests"] for m in t["measurements"] if m["name"] == name)


def test_a_limit_changed_in_specs_changes_the_verdict(tmp_path):
    name = "bench.cellsim.cell_voltage_error_v"
    assert _outcome(_run(ROOT / "specs", tmp_path / "as-shipped.json"), name) == "pass"

    tightened = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", tightened)
    path = tightened / "bench.yaml"
    document = yaml.safe_load(path.read_text())
    spec = document["measurements"][name]
    spec["low"], spec["high"] = spec["high"] * 2, spec["high"] * 3  # a window the good read-back is not in
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    assert _outcome(_run(tightened, tmp_path / "tightened.json"), name) == "fail"


def _numeric(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _limit_literals(path: Path) -> list[str]:
    """Numbers given as a limit: a limit-named keyword argument, or one side of a comparison in an
    ``assert`` (a verdict a test decides with a number of its own)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        limit_named = isinstance(node, ast.keyword) and (
            node.arg in LIMIT_KEYWORDS or str(node.arg).startswith(("max_", "min_"))
        )
        if limit_named and _numeric(node.value):
            found.append(f"{path.name}:{node.lineno}: {node.arg}={ast.unparse(node.value)}")
        if isinstance(node, ast.Assert):
            for compare in ast.walk(node.test):
                if isinstance(compare, ast.Compare) and any(
                    _numeric(side) for side in [compare.left, *compare.comparators]
                ):
                    found.append(f"{path.name}:{node.lineno}: assert {ast.unparse(compare)}")
    return found


def test_no_suite_holds_a_numeric_limit():
    found = [hit for path in sorted(SUITES.rglob("*.py")) for hit in _limit_literals(path)]
    assert not found, "numeric limits in test_suites/ (put them in specs/):\n" + "\n".join(found)


def test_the_check_for_numeric_limits_finds_them(tmp_path):
    planted = tmp_path / "test_planted.py"
    planted.write_text(
        "def test_x(measure, cap):\n"
        "    assert rms(cap, 'I1', low=95, high=105)\n"
        "    assert thd(cap, 'I1', max_thd=0.05)\n"
        "    assert trip_time < 0.01\n"
        "    assert 700 <= level\n"
    )
    assert len(_limit_literals(planted)) == 5
