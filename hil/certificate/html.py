"""The certificate as one self-contained HTML page (Jinja2, autoescaped: record strings are untrusted)."""

from __future__ import annotations

import functools
import re

import jinja2

from hil.certificate.view import View

# The element the record hash is printed in; `hil verify` reads it back from there.
HASH_PATTERN = re.compile(r'<code id="record-sha256">([^<]*)</code>')


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hil.certificate", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("certificate.html.j2")


def render_html(view: View) -> str:
    return _template().render(v=view)
