"""A certificate set on disk: the four renderings, the record they render and the manifest of them all."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import jinja2
import reportlab

from hil.certificate.html import render_html
from hil.certificate.pdf import render_pdf
from hil.certificate.view import CertificateError, build
from hil.results.record import record_hash

RECORD_FILE = "record.json"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "hil-certificate/1"


def certificate_files(lang: str) -> tuple[str, str]:
    """The HTML and PDF file names of the certificate in ``lang``."""
    return f"certificate.{lang}.html", f"certificate.{lang}.pdf"


CERTIFICATE_FILES = (*certificate_files("en"), *certificate_files("zh"))


def record_bytes(record: dict[str, Any]) -> bytes:
    """The record exactly as hashed: its canonical JSON, UTF-8."""
    try:
        text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CertificateError(f"record: not strict JSON: {exc}") from exc
    return text.encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def renderer() -> str:
    """What made the certificate files: a hash of this package's code and templates and the versions of
    Jinja2 and reportlab. The same renderer makes the same bytes of the same record."""
    package = Path(__file__).parent
    digest = hashlib.sha256(f"jinja2 {jinja2.__version__} reportlab {reportlab.Version}".encode())
    for path in sorted([*package.glob("*.py"), *package.glob("templates/*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def render(record: dict[str, Any], digest: str) -> dict[str, bytes]:
    """The four certificate files of a record whose hash is ``digest``, by name."""
    contents: dict[str, bytes] = {}
    for lang in ("en", "zh"):
        view = build(record, digest, lang)
        html_name, pdf_name = certificate_files(lang)
        contents[html_name] = render_html(view).encode("utf-8")
        contents[pdf_name] = render_pdf(view)
    return contents


def write_certificates(record: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the certificate of a complete run into ``out_dir`` (created; refused if it already holds one):
    certificate.{en,zh}.{html,pdf}, record.json and manifest.json. Returns the paths written, manifest last.
    """
    out_dir = Path(out_dir)
    data = record_bytes(record)
    digest = record_hash(record)
    if sha256(data) != digest:
        raise CertificateError(
            "record.json would not hash to record_hash(record): the canonical forms differ"
        )
    if (out_dir / MANIFEST_FILE).exists():
        raise CertificateError(
            f"{out_dir}: holds a certificate already; an attempt's certificate is never rewritten"
        )
    contents = render(record, digest)
    contents[RECORD_FILE] = data
    manifest = {
        "format": MANIFEST_FORMAT,
        "record_sha256": digest,
        "renderer": renderer(),
        "files": {name: sha256(content) for name, content in contents.items()},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in contents.items():
        (out_dir / name).write_bytes(content)
        paths.append(out_dir / name)
    # written last: a set without its manifest is one whose writing did not finish
    (out_dir / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    paths.append(out_dir / MANIFEST_FILE)
    return paths
