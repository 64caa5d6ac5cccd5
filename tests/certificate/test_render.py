"""Certificates rendered from a run record: content, both languages, hostile strings, speed."""

from __future__ import annotations

import html
import io
import json
import re
import time
from pathlib import Path

import pypdf
import pytest

from hil.certificate import CertificateError, write_certificates
from hil.certificate.i18n import words
from hil.results.record import record_hash
from tests.certificate.conftest import SERIAL, fail, make_record

FILES = [
    "certificate.en.html",
    "certificate.en.pdf",
    "certificate.zh.html",
    "certificate.zh.pdf",
    "record.json",
    "manifest.json",
]
HOSTILE = '<script>alert("x")</script>&<b>'


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages)


def html_text(path: Path) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))).split())


def test_writes_the_set_and_record_json_is_what_is_hashed(record: dict, tmp_path: Path) -> None:
    paths = write_certificates(record, tmp_path / "EDS200-2026-0001" / "1")
    assert [p.name for p in paths] == FILES
    data = (tmp_path / "EDS200-2026-0001" / "1" / "record.json").read_bytes()
    assert json.loads(data) == record
    import hashlib

    assert hashlib.sha256(data).hexdigest() == record_hash(record)
    manifest = json.loads(paths[-1].read_text())
    assert manifest["record_sha256"] == record_hash(record)
    assert set(manifest["files"]) == set(FILES[:-1])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pass_certificate_shows_identity_instruments_limits_and_hash(record: dict, write, lang: str) -> None:
    t = words(lang)
    out = write(record)
    digest = record_hash(record)
    for text in (html_text(out / f"certificate.{lang}.html"), pdf_text(out / f"certificate.{lang}.pdf")):
        for heading in ("title", "verdict_heading", "unit_heading", "bench_heading", "results_heading"):
            assert t[heading] in text, (lang, heading)
        # spacing differs between the page's markup and the PDF's text runs; the words and their order do not
        assert f"{t['overall']}{t['colon']}{t['PASS']}".replace(" ", "") in text.replace(" ", "")
        for identity in (SERIAL, "EDS200-IM4-01", "EDS 2.4.1", "LEDS2011WVT000042", "Li Wei"):
            assert identity in text
        for instrument in record["instruments"]:
            assert instrument["serial"] in text and instrument["calibration_due"] in text
        m = record["tests"][5]["measurements"][0]
        # a long name wraps inside its PDF table cell
        assert m["name"] in text.replace("\n", "") and f"{m['value']:.6g}" in text
        assert m["clause"].split()[0] in text
        assert digest in text
        assert t["failed_measurements"] not in text


def test_chinese_pdf_carries_chinese_headings_and_verdicts(record: dict, write) -> None:
    text = pdf_text(write(fail(record)) / "certificate.zh.pdf")
    for chinese in (
        "下线检验证书",
        "被测产品",
        "测试台与仪器",
        "测量结果与限值",
        "总判定：不合格",
        "不合格测量项",
    ):
        assert chinese in text
    assert "End-of-line" not in text


def test_clause_text_is_quoted_as_in_specs_in_both_languages(record: dict, write) -> None:
    clause = "INV-11 unbalance max|I_x − Ī|/Ī ≤ 2 % τ"
    record["tests"][0]["measurements"][0]["clause"] = clause
    out = write(record)
    for lang in ("en", "zh"):
        assert f"{clause} [{record['tests'][0]['measurements'][0]['source']}]" in pdf_text(
            out / f"certificate.{lang}.pdf"
        )
        assert clause in html_text(out / f"certificate.{lang}.html")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fail_certificate_names_the_failed_measurement(record: dict, write, lang: str) -> None:
    failed = fail(record, test=3, measurement=0)
    m = failed["tests"][3]["measurements"][0]
    out = write(failed)
    t = words(lang)
    page = (out / f"certificate.{lang}.html").read_text(encoding="utf-8")
    listed = re.search(r'<ul id="failed-measurements">(.*?)</ul>', page, re.S)
    assert listed is not None
    assert m["name"] in listed.group(1) and failed["tests"][3]["scenario"] in listed.group(1)
    assert record["tests"][2]["measurements"][0]["name"] not in listed.group(1)
    assert 'id="failed-tests"' not in page  # the failed test is named by its measurement already
    text = pdf_text(out / f"certificate.{lang}.pdf")
    assert f"{t['overall']}{t['colon']}{t['FAIL']}" in text
    verdict_section = text.split(t["unit_heading"])[0]
    assert t["failed_measurements"] in verdict_section and m["name"] in verdict_section


def test_a_failed_test_without_failed_measurements_fails_the_certificate(record: dict, write) -> None:
    record["tests"][2]["outcome"] = "error"
    record["run"]["outcome"] = "error"
    text = html_text(write(record) / "certificate.en.html")
    assert "Overall verdict: FAIL" in text
    assert f"Tests failed without a failed measurement {record['tests'][2]['scenario']} (error)" in text


def test_hostile_strings_are_escaped_in_html_and_kept_as_text_in_pdf(record: dict, write) -> None:
    record["unit"]["serial"] = HOSTILE
    record["run"]["operator"] = HOSTILE
    record["instruments"][0]["serial"] = HOSTILE
    record["tests"][0]["measurements"][0]["name"] = HOSTILE
    out = write(fail(record, test=0))
    for lang in ("en", "zh"):
        page = (out / f"certificate.{lang}.html").read_text(encoding="utf-8")
        assert "<script>" not in page and "<b>" not in page
        assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&lt;b&gt;") >= 5
        assert HOSTILE in pdf_text(out / f"certificate.{lang}.pdf")


def test_an_incomplete_or_malformed_record_gets_no_certificate(record: dict, tmp_path: Path) -> None:
    aborted = make_record()
    aborted["run"].update(complete=False, outcome="aborted", ended=None)
    with pytest.raises(CertificateError, match="not complete"):
        write_certificates(aborted, tmp_path / "a")
    record["tests"][1]["measurements"][0]["verdict"] = "ok"
    with pytest.raises(CertificateError, match=r"tests\[1\]\.measurements\[0\]\.verdict"):
        write_certificates(record, tmp_path / "b")
    del record["unit"]["serial"]
    with pytest.raises(CertificateError, match=r"unit\.serial: missing"):
        write_certificates(record, tmp_path / "c")
    assert not any(tmp_path.rglob("*.*"))


def test_an_attempts_certificate_is_never_rewritten(record: dict, tmp_path: Path) -> None:
    write_certificates(record, tmp_path)
    before = (tmp_path / "certificate.en.pdf").read_bytes()
    with pytest.raises(CertificateError, match="never rewritten"):
        write_certificates(fail(record), tmp_path)
    assert (tmp_path / "certificate.en.pdf").read_bytes() == before


def test_rendering_a_13_scenario_eol_record_takes_under_a_second(tmp_path: Path) -> None:
    record = make_record(scenarios=13)
    write_certificates(record, tmp_path / "warm")  # fonts and template load once per process
    started = time.perf_counter()
    write_certificates(record, tmp_path / "timed")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_a_string_taller_than_a_page_splits_over_pages(record: dict, write) -> None:
    record["run"]["operator"] = "word " * 3000
    record["tests"][0]["measurements"][0]["clause"] = "条" * 20000
    out = write(record)
    for lang in ("en", "zh"):
        assert len(pypdf.PdfReader(out / f"certificate.{lang}.pdf").pages) > 5
