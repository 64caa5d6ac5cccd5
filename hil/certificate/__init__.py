"""Certificates of a run record: HTML and PDF in English and Simplified Chinese, and their verification.

A certificate set is one directory (``certificates/<serial>/<attempt>/``):

==========================  ===========================================================
``certificate.en.html``     the certificate in English, one self-contained page
``certificate.zh.html``     the same in Simplified Chinese
``certificate.en.pdf``      English PDF (A4 landscape)
``certificate.zh.pdf``      Chinese PDF (reportlab's built-in CID font STSong-Light)
``record.json``             the run record as hashed: its canonical JSON, UTF-8
``manifest.json``           SHA-256 of each file above, the record's hash, the renderer
==========================  ===========================================================

Every certificate file prints the record's SHA-256 (``hil.results.record.record_hash``). What
:func:`verify` checks is described in :mod:`hil.certificate.verify`.
"""

from hil.certificate.files import CERTIFICATE_FILES, MANIFEST_FILE, RECORD_FILE, write_certificates
from hil.certificate.verify import VerifyResult, verify
from hil.certificate.view import CertificateError

__all__ = [
    "CERTIFICATE_FILES",
    "MANIFEST_FILE",
    "RECORD_FILE",
    "CertificateError",
    "VerifyResult",
    "verify",
    "write_certificates",
]
