"""Streaming checks take memory independent of the capture length.

Each measurement runs in a fresh interpreter: tracemalloc counts every thread's allocations, and a
test process may have other threads working (a simulated bench left open by earlier tests).
"""

import json
import subprocess
import sys

import pytest

MEASURE = """
import json, sys, tracemalloc
import numpy as np
from hil.waveform import Capture, find_crossing, in_envelope, is_constant, kernels, ripple, rms, step_info

if sys.argv[2] == "numpy":
    kernels.compiled = None

CHECKS = {
    "rms": lambda c: rms(c),
    "is_constant": lambda c: is_constant(c, 0.0, 2.0),
    "in_envelope": lambda c: in_envelope(c, lower=[(0, -2), (1, -1.5)], upper=[(0, 2), (1, 1.5)]),
    "ripple": lambda c: ripple(c),
    "step_info": lambda c: step_info(c),
    "find_crossing": lambda c: find_crossing(c, 5.0),
}

def peak_bytes(check, n):
    t = np.arange(n) / n  # one second, whatever n is: same number of cycles and events
    # Two channels: with the kernels, 8e6 samples of them are checked on two threads, 1e6 in turn
    # (hil.waveform.parallel), so the threads must not add memory either.
    x = np.vstack([np.sin(2 * np.pi * 20 * t + p) + 0.001 * np.cos(2 * np.pi * 997 * t) for p in (0, 1)])
    cap = Capture.from_arrays(x, float(n))
    check(cap)  # warm caches of numpy and the checks
    tracemalloc.start()
    try:
        check(cap)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

check = CHECKS[sys.argv[1]]
print(json.dumps([kernels.compiled is not None, peak_bytes(check, 1_000_000), peak_bytes(check, 8_000_000)]))
"""


@pytest.mark.parametrize(
    "check", ["rms", "is_constant", "in_envelope", "ripple", "step_info", "find_crossing"]
)
def test_streaming_checks_allocate_the_same_for_1e6_and_8e6_samples(check, kernel_path):
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, check, kernel_path],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    compiled, small, large = json.loads(done.stdout)
    assert compiled == (kernel_path == "compiled")
    assert large <= small * 1.1 + 64 * 1024, (small, large)
    assert large < 8_000_000 * 8 / 20  # far below one copy of the data


NON_ADJACENT = """
import json, sys, tracemalloc
import numpy as np
from hil.waveform import Capture, kernels, ripple, rms, thd

if sys.argv[1] == "numpy":
    kernels.compiled = None
n = 4_000_000
t = np.arange(n) / 1e6
x = np.vstack([np.sin(2 * np.pi * 50 * t + p) for p in (0, 1, 2)])
cap = Capture.from_arrays(x, 1e6, ["a", "b", "c"])
peaks = {}
for name, check in {"rms": rms, "ripple": ripple, "thd": thd}.items():
    check(cap, ["a", "c"])
    tracemalloc.start()
    check(cap, ["c", "a"])
    peaks[name] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
print(json.dumps([np.shares_memory(cap[["a", "c"]].samples, cap.samples), peaks]))
"""


def test_checks_copy_no_channel_of_a_non_adjacent_selection(kernel_path):
    done = subprocess.run(
        [sys.executable, "-c", NON_ADJACENT, kernel_path],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    view, peaks = json.loads(done.stdout)
    assert view  # every other channel is a strided view
    one_row = 4_000_000 * 8
    for check, peak in peaks.items():
        assert peak < one_row / 4, (check, peak)
