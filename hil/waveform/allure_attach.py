"""Attach a check result to the Allure report: the plot as PNG, the samples around violations as CSV."""

from __future__ import annotations

import io

import numpy as np

from hil.waveform.result import CheckResult

_MARGIN_SAMPLES = 200
_MAX_ROWS_PER_INTERVAL = 5000
_MAX_INTERVALS = 20


def result_png(result: CheckResult) -> bytes:
    buf = io.BytesIO()
    result.plot().savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def violation_csv(result: CheckResult) -> str:
    """time_s and each checked channel, for the samples around each violation (thinned if long);
    without violations, a thinned copy of the checked window."""
    cap = result.capture
    if cap is None:
        return ""
    names = [o.channel for o in result.outcomes if o.channel in cap.channels]
    rows = [cap.channel(n) for n in names]
    w0, w1 = cap.index_range(result.window)
    spans = [
        cap.index_range((t0, t1)) for o in result.outcomes for t0, t1 in o.violations[:_MAX_INTERVALS]
    ] or [(w0, w1)]
    out = io.StringIO()
    out.write(",".join(["time_s", *names]) + "\n")
    for i0, i1 in sorted(set(spans)):
        a, b = max(w0, i0 - _MARGIN_SAMPLES), min(w1, max(i1, i0 + 1) + _MARGIN_SAMPLES)
        index = np.arange(a, b, max(1, (b - a) // _MAX_ROWS_PER_INTERVAL))
        table = np.column_stack([cap.time_of(index), *[r[index] for r in rows]])
        np.savetxt(out, table, delimiter=",", fmt="%.9g")
    return out.getvalue()


def attach_result(result: CheckResult) -> None:
    """Add the result's plot and CSV to the running Allure test (a no-op outside an Allure run)."""
    import allure
    import allure_commons

    # Rendering a plot nobody receives costs a few hundred milliseconds per failing check.
    if not allure_commons.plugin_manager.hook.attach_data.get_hookimpls():
        return
    label = result.name
    allure.attach(result_png(result), name=f"{label} plot", attachment_type=allure.attachment_type.PNG)
    allure.attach(violation_csv(result), name=f"{label} samples", attachment_type=allure.attachment_type.CSV)
