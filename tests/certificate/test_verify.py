"""`verify` and `hil verify`: an untouched set matches; a changed stored value or file byte does not."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hil import cli
from hil.certificate import CERTIFICATE_FILES, verify
from hil.results.record import record_hash
from hil.results.store import Store
from tests.certificate.conftest import fail

ALL_FILES = [*CERTIFICATE_FILES, "record.json", "manifest.json"]


def flip(path: Path, position: float) -> None:
    data = bytearray(path.read_bytes())
    i = min(int(len(data) * position), len(data) - 1)
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def test_an_untouched_set_matches_its_store_record(record: dict, write) -> None:
    out = write(record)
    manifest = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    result = verify(out, copy.deepcopy(record), manifest_sha256=manifest)
    assert result.ok, result.report()
    assert result.record_sha256 == result.store_sha256 == record_hash(record)
    assert result.report().startswith("MATCH")
    assert not result.notes
    assert verify(out / "certificate.zh.pdf").ok  # a file names its set


def test_a_value_changed_in_the_store_is_a_mismatch_naming_the_field(record: dict, write) -> None:
    out = write(record)
    stored = copy.deepcopy(record)
    stored["tests"][4]["measurements"][1]["value"] += 0.001
    result = verify(out, stored)
    assert not result.ok
    assert result.store_sha256 != result.record_sha256
    assert any("tests[4].measurements[1].value" in p for p in result.problems), result.problems
    assert "MISMATCH" in result.report()


def test_a_store_record_of_a_failed_unit_does_not_match_a_pass_certificate(record: dict, write) -> None:
    result = verify(write(record), fail(record))
    assert {p.split(":")[1].strip() for p in result.problems} >= {
        "record.run.outcome",
        "record.tests[1].outcome",
        "record.tests[1].measurements[0].value",
        "record.tests[1].measurements[0].verdict",
    }


@pytest.mark.parametrize("name", ALL_FILES)
@pytest.mark.parametrize("position", [0.0, 0.5, 1.0])
def test_a_changed_byte_in_any_file_is_a_mismatch(record: dict, write, name: str, position: float) -> None:
    out = write(record)
    flip(out / name, position)
    result = verify(out, record)
    assert not result.ok
    assert any(name in p for p in result.problems), result.problems


@pytest.mark.parametrize("name", CERTIFICATE_FILES)
def test_a_certificate_edited_with_its_manifest_does_not_render_from_the_record(
    record: dict, write, name: str
) -> None:
    out = write(record)
    path = out / name
    data = bytearray(path.read_bytes())
    i = len(data) // 2
    data[i] ^= 0x01
    path.write_bytes(bytes(data))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(bytes(data)).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = verify(out)
    assert f"{name}: is not what record.json renders to" in result.problems


def test_a_record_json_edited_with_its_manifest_no_longer_matches_the_printed_hash(
    record: dict, write
) -> None:
    out = write(record)
    forged = copy.deepcopy(record)
    forged["tests"][0]["measurements"][0]["value"] = 1e6
    data = json.dumps(forged, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    (out / "record.json").write_bytes(data)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["record.json"] = hashlib.sha256(data).hexdigest()
    manifest["record_sha256"] = record_hash(forged)
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = verify(out, record)
    for name in CERTIFICATE_FILES:
        assert any(p.startswith(f"{name}: ") and "SHA-256" in p for p in result.problems), name
    assert any("tests[0].measurements[0].value" in p for p in result.problems)


def test_a_whole_set_rewritten_from_a_forged_record_is_caught_by_the_store(
    record: dict, write, tmp_path: Path
) -> None:
    original = write(record, "original")
    kept = hashlib.sha256((original / "manifest.json").read_bytes()).hexdigest()
    forged = copy.deepcopy(record)
    forged["tests"][0]["measurements"][0]["value"] = 1e6
    rewritten = write(forged, "rewritten")
    assert verify(rewritten).ok  # consistent files alone prove nothing more
    assert not verify(rewritten, record).ok
    result = verify(rewritten, manifest_sha256=kept)
    assert any(p.startswith("manifest.json: SHA-256") for p in result.problems)


def test_a_missing_file_is_a_mismatch(record: dict, write) -> None:
    out = write(record)
    (out / "certificate.en.pdf").unlink()
    assert "certificate.en.pdf: missing" in verify(out).problems


def test_a_set_from_another_renderer_is_checked_without_re_rendering(record: dict, write) -> None:
    out = write(record)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["renderer"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = verify(out, record)
    assert result.ok and any("not re-rendered" in n for n in result.notes)


# --- hil verify --------------------------------------------------------------------------------------


def test_cli_match_and_mismatch(record: dict, write) -> None:
    out = write(record)
    runner = CliRunner()
    ok = runner.invoke(cli.main, ["verify", str(out)])
    assert ok.exit_code == 0 and ok.output.startswith("MATCH"), ok.output
    assert "not compared with the result store" in ok.output
    flip(out / "certificate.zh.pdf", 0.3)
    bad = runner.invoke(cli.main, ["verify", str(out / "certificate.en.html")])
    assert bad.exit_code == 1 and bad.output.startswith("MISMATCH")
    assert "certificate.zh.pdf: changed" in bad.output


def test_cli_compares_with_the_stores_record(record: dict, write, monkeypatch: pytest.MonkeyPatch) -> None:
    out = write(record)
    stored = copy.deepcopy(record)
    asked = []

    def store_record(db_url: str, run_id: int) -> dict:
        asked.append((db_url, run_id))
        return stored

    monkeypatch.setattr(cli, "_store_record", store_record)
    runner = CliRunner()
    assert runner.invoke(cli.main, ["verify", str(out), "--db", "results/x.sqlite"]).exit_code == 0
    assert asked == [("results/x.sqlite", record["run"]["id"])]
    stored["unit"]["firmware"] = "EDS 2.4.2"
    result = runner.invoke(cli.main, ["verify", str(out), "--db", "results/x.sqlite"])
    assert result.exit_code == 1
    assert "record.unit.firmware: store 'EDS 2.4.2', certificate 'EDS 2.4.1'" in result.output


def test_cli_names_a_store_it_cannot_read(record: dict, write, tmp_path: Path) -> None:
    out = write(record)
    runner = CliRunner()
    missing = runner.invoke(cli.main, ["verify", str(out), "--db", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2
    assert f"--db {tmp_path / 'none.sqlite'}: no result store there" in missing.output
    garbage = tmp_path / "notes.sqlite"
    garbage.write_text("not a database\n" * 100, encoding="utf-8")
    result = runner.invoke(cli.main, ["verify", str(out), "--db", str(garbage)])
    assert result.exit_code == 2
    assert f"--db {garbage}: cannot open the store: file is not a database" in result.output
    empty = tmp_path / "empty.sqlite"
    Store(str(empty)).close()
    result = runner.invoke(cli.main, ["verify", str(out), "--db", str(empty)])
    assert result.exit_code == 2
    assert f"no run {record['run']['id']} in" in result.output


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe", b"NaN", b"[]", b'{"run": 1, "unit": {}}', b'{"run": {}, "unit": 1}'],
    ids=["not-utf8", "nan", "list", "run-not-mapping", "unit-not-mapping"],
)
def test_a_record_json_that_is_no_record_is_a_mismatch_not_a_crash(
    record: dict, write, content: bytes
) -> None:
    out = write(record)
    (out / "record.json").write_bytes(content)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["record.json"] = hashlib.sha256(content).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = verify(out, record)
    assert not result.ok
    assert any(p.startswith("record.json") or "SHA-256" in p for p in result.problems), result.problems


def test_a_malformed_record_from_a_test_or_instrument_entry_is_named(record: dict, write) -> None:
    out = write(record)
    for where, damage in (
        ("tests[2].duration_s", ("tests", 2, "duration_s", "12 s")),
        ("instruments[1]", None),
    ):
        forged = copy.deepcopy(record)
        if damage:
            forged[damage[0]][damage[1]][damage[2]] = damage[3]
        else:
            forged["instruments"][1] = "SIM-PA-0001"
        data = json.dumps(forged, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        (out / "record.json").write_bytes(data)
        result = verify(out)
        assert any(p.startswith("record.json: cannot be rendered") and where in p for p in result.problems), (
            result.problems
        )
