"""Serial numbers as someone hostile types them: path traversal, shell metacharacters, very long,
non-ASCII, NUL. The product's pattern refuses each with one line, and nothing is written anywhere."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hil.serials
from hil.product import SerialNumberError, load_product
from hil.serials import run_serials
from sim.parameters import ParameterError
from sim.profile import load_profile
from tests.hostile.conftest import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = load_product(ROOT / "specs")
HOSTILE_SERIALS = [
    "../x",
    "../../etc/passwd",
    "/tmp/x",
    "..",
    "EDS200/../../x",
    "EDS200; rm -rf ~",
    "$(reboot)",
    "`id`",
    "EDS200|cat",
    "A" * 10_000,
    "EDS200-\u00e9",
    "EDS200-\u0661\u0662",  # Arabic-Indic digits: digits to str.isdigit, not to the pattern
    "EDS\x00200",
    "EDS200\n",
    "-rf",
    "",
]


@pytest.mark.parametrize("serial", HOSTILE_SERIALS)
def test_the_products_pattern_refuses_a_hostile_serial(serial) -> None:
    with pytest.raises(SerialNumberError, match="does not match the product's pattern"):
        PRODUCT.check_serial(serial)


@HOSTILE
@given(st.text(max_size=40))
def test_a_serial_the_pattern_admits_is_a_safe_file_name(serial) -> None:
    try:
        PRODUCT.check_serial(serial)
    except SerialNumberError:
        return
    assert serial.isascii() and serial.isprintable() and "/" not in serial and ".." not in serial
    assert not serial.startswith(("-", ".")) and 0 < len(serial) <= 16


def _files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize("serial", HOSTILE_SERIALS)
def test_run_serials_writes_nothing_for_a_hostile_serial(tmp_path, monkeypatch, serial) -> None:
    """The code path that names a file after each serial: refused before any file exists."""
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    written: list[Path] = []

    def fake_run_suites(*, bench, suites, results, args):
        written.append(results)
        results.write_text("{}")
        return None, 1, "fake"

    monkeypatch.setattr(hil.serials, "run_suites", fake_run_suites)
    before = _files_under(tmp_path)
    with pytest.raises(SerialNumberError):
        run_serials(
            ["EDS200-2026-0001", serial],
            bench=Path("b.yaml"),
            suites=Path("s"),
            marker="eol",
            parallel=1,
            progress=False,
            specs=ROOT / "specs",
        )
    assert written == [] and _files_under(tmp_path) == before


def test_run_serials_writes_a_good_serials_results_inside_its_folder(tmp_path, monkeypatch) -> None:
    """The same path with good serials writes, and only inside its own temporary folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    written: list[Path] = []

    def fake_run_suites(*, bench, suites, results, args):
        written.append(results)
        results.write_text("{}")
        return None, 1, "fake"

    monkeypatch.setattr(hil.serials, "run_suites", fake_run_suites)
    results = run_serials(
        ["EDS200-2026-0001"],
        bench=Path("b.yaml"),
        suites=Path("s"),
        marker="eol",
        parallel=1,
        progress=False,
        specs=ROOT / "specs",
    )
    assert [r.serial for r in results] == ["EDS200-2026-0001"]
    assert len(written) == 1 and written[0].resolve().parent.parent == tmp_path.resolve()


@pytest.mark.parametrize("serial", ["EDS\x00200", "A" * 17, "EDS200-\u00e9", "EDS\n200"])
def test_the_simulated_unit_refuses_a_serial_its_uds_identity_cannot_hold(serial) -> None:
    with pytest.raises(ParameterError, match="printable ASCII characters"):
        load_profile(serial=serial)
