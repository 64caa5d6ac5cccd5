"""Whether a certificate set is the untouched rendering of the record in the result store.

:func:`verify` checks, in a certificate directory (or the directory of a certificate file given):

1. ``manifest.json`` lists exactly the certificate files and ``record.json``, and each file's SHA-256 is
   the one listed: any changed, missing or extra byte of any file is a mismatch.
2. ``record.json`` is the record's canonical JSON, and ``record_hash`` of it equals the manifest's
   ``record_sha256``.
3. Each certificate file prints that hash: the HTML in its ``record-sha256`` element, the PDF in its
   text (every page's footer and the integrity section).
4. When the manifest's renderer is this one (same certificate code, templates, Jinja2 and reportlab),
   each certificate file is rendered again from ``record.json`` and must equal the file byte for
   byte: the files show what the record holds, even if a file and the manifest were edited together.
   A certificate made by another renderer is reported as not re-rendered (checks 1-3 still hold).
5. Given the store's record of the run, ``record_hash`` of it equals the certificate's: a value
   changed in the store, or a record.json edited together with the manifest, is a mismatch, and the
   fields that differ are named.
6. Given the SHA-256 of ``manifest.json`` kept when the set was written (the store's certificate row),
   the manifest still has it: then no byte of any file can change, whoever edits the manifest too.

Without (5) and (6) the set is checked for consistency only: someone who rewrites the record, the
certificates and the manifest together is caught by the store, not by the files alone.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.certificate import html
from hil.certificate.files import (
    CERTIFICATE_FILES,
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    RECORD_FILE,
    render,
    renderer,
    sha256,
)
from hil.certificate.view import CertificateError
from hil.results.record import record_hash

_MAX_DIFFERENCES = 20


@dataclass
class VerifyResult:
    """The outcome of :func:`verify`: ``problems`` empty means MATCH."""

    directory: Path
    record_sha256: str | None = None
    store_sha256: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        lines = [f"{'MATCH' if self.ok else 'MISMATCH'}: {self.directory}"]
        lines.append(f"  record SHA-256 {self.record_sha256 or '-'}")
        if self.store_sha256 is not None:
            lines.append(f"  store  SHA-256 {self.store_sha256}")
        lines += [f"  - {problem}" for problem in self.problems]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def differences(store: Any, certificate: Any, path: str = "record") -> list[str]:
    """Where two records differ, one line per differing field (the store's value first)."""
    if isinstance(store, dict) and isinstance(certificate, dict):
        out = []
        for key in sorted(store.keys() | certificate.keys(), key=str):
            if key not in certificate:
                out.append(f"{path}.{key}: in the store only")
            elif key not in store:
                out.append(f"{path}.{key}: in the certificate only")
            else:
                out += differences(store[key], certificate[key], f"{path}.{key}")
        return out
    if isinstance(store, list) and isinstance(certificate, list):
        out = []
        for i, (a, b) in enumerate(zip(store, certificate, strict=False)):
            out += differences(a, b, f"{path}[{i}]")
        if len(store) != len(certificate):
            out.append(f"{path}: {len(store)} entries in the store, {len(certificate)} in the certificate")
        return out
    if store != certificate or type(store) is not type(certificate):
        return [f"{path}: store {store!r}, certificate {certificate!r}"]
    return []


def _pdf_text(data: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _printed_hash(name: str, data: bytes, digest: str) -> str | None:
    """The problem with the hash ``name`` prints, or None when it prints ``digest``."""
    if name.endswith(".html"):
        found = html.HASH_PATTERN.findall(data.decode("utf-8", errors="replace"))
        if found != [digest]:
            return f"{name}: prints record SHA-256 {', '.join(found) or 'nowhere'}, the record's is {digest}"
        return None
    try:
        text = _pdf_text(data)
    except Exception as exc:  # a damaged PDF fails in many ways inside the parser; each is a mismatch
        return f"{name}: not a readable PDF ({type(exc).__name__}: {exc})"
    if digest not in text:
        return f"{name}: does not print the record's SHA-256 {digest}"
    return None


def _load_manifest(directory: Path, result: VerifyResult) -> dict | None:
    path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        result.problems.append(f"{MANIFEST_FILE}: missing")
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.problems.append(f"{MANIFEST_FILE}: not JSON ({exc})")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        result.problems.append(f"{MANIFEST_FILE}: not a {MANIFEST_FORMAT} manifest")
        return None
    files = manifest.get("files")
    expected = {*CERTIFICATE_FILES, RECORD_FILE}
    if not isinstance(files, dict) or set(files) != expected:
        listed = sorted(files) if isinstance(files, dict) else files
        result.problems.append(f"{MANIFEST_FILE}: lists {listed}, not {sorted(expected)}")
        return None
    return manifest


def verify(
    certificate: Path | str,
    record_from_store: dict[str, Any] | None = None,
    manifest_sha256: str | None = None,
) -> VerifyResult:
    """Check a certificate set (its directory, or any file in it) as the module says; never raises on a
    damaged set: every damage is a problem in the result."""
    path = Path(certificate)
    directory = path if path.is_dir() else path.parent
    result = VerifyResult(directory=directory)
    if not directory.is_dir():
        raise CertificateError(f"{certificate}: no such certificate directory")

    manifest = _load_manifest(directory, result)
    if manifest_sha256 is not None and (directory / MANIFEST_FILE).is_file():
        kept = sha256((directory / MANIFEST_FILE).read_bytes())
        if kept != manifest_sha256:
            result.problems.append(f"{MANIFEST_FILE}: SHA-256 {kept}, kept when written {manifest_sha256}")
    contents: dict[str, bytes] = {}
    for name in (*CERTIFICATE_FILES, RECORD_FILE):
        try:
            contents[name] = (directory / name).read_bytes()
        except FileNotFoundError:
            result.problems.append(f"{name}: missing")
            continue
        if manifest is not None and sha256(contents[name]) != manifest["files"][name]:
            result.problems.append(
                f"{name}: changed, or its line in {MANIFEST_FILE} was (SHA-256 {sha256(contents[name])}, "
                f"{MANIFEST_FILE} lists {manifest['files'][name]})"
            )

    if RECORD_FILE not in contents:
        return result
    try:
        record = json.loads(contents[RECORD_FILE].decode("utf-8"))
        digest = record_hash(record)
    except (UnicodeDecodeError, ValueError) as exc:
        result.problems.append(f"{RECORD_FILE}: not a record ({exc})")
        return result
    result.record_sha256 = digest
    if sha256(contents[RECORD_FILE]) != digest:
        result.problems.append(f"{RECORD_FILE}: not the record's canonical JSON (it hashes otherwise)")
    if manifest is not None and manifest.get("record_sha256") != digest:
        result.problems.append(
            f"{MANIFEST_FILE}: record_sha256 {manifest.get('record_sha256')}, record {digest}"
        )

    for name in CERTIFICATE_FILES:
        if name in contents and (problem := _printed_hash(name, contents[name], digest)):
            result.problems.append(problem)

    if manifest is not None and manifest.get("renderer") == renderer():
        try:
            rendered = render(record, digest)
        except CertificateError as exc:
            result.problems.append(f"{RECORD_FILE}: cannot be rendered ({exc})")
        else:
            for name in CERTIFICATE_FILES:
                if name in contents and rendered[name] != contents[name]:
                    result.problems.append(f"{name}: is not what {RECORD_FILE} renders to")
    else:
        result.notes.append("made by another version of the certificate renderer: files not re-rendered")

    if record_from_store is not None:
        result.store_sha256 = record_hash(record_from_store)
        if result.store_sha256 != digest:
            diffs = differences(record_from_store, record) or ["the records hash differently"]
            result.problems += [f"store: {d}" for d in diffs[:_MAX_DIFFERENCES]]
            if len(diffs) > _MAX_DIFFERENCES:
                result.problems.append(f"store: ... and {len(diffs) - _MAX_DIFFERENCES} more differences")
    else:
        result.notes.append("not compared with the result store's record of the run (hil verify --db)")
    return result
