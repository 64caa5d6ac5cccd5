"""A record damaged anywhere either renders or is refused with CertificateError, never another error:
`hil verify` renders whatever record.json holds."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.certificate.html import render_html
from hil.certificate.pdf import render_pdf
from hil.certificate.view import CertificateError, build
from tests.certificate.conftest import make_record

RECORD = make_record(scenarios=3)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*path, i))
    return out


PATHS = [p for p in _paths(RECORD) if p]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(PATHS), value=JSON, lang=st.sampled_from(["en", "zh"]))
def test_any_damaged_field_renders_or_is_refused_cleanly(where: tuple, value: Any, lang: str) -> None:
    record = copy.deepcopy(RECORD)
    target = record
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    try:
        view = build(record, "0" * 64, lang)
    except CertificateError:
        return
    assert "0" * 64 in render_html(view)
    assert render_pdf(view).startswith(b"%PDF")
