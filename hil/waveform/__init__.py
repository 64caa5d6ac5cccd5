"""The vectorized waveform checker: Typhoon-style checks over (channels, samples) captures."""

from hil.waveform.capture import Capture
from hil.waveform.crossing import find_crossing, trip_latency
from hil.waveform.parallel import set_threads
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity
from hil.waveform.spectral import fundamental, harmonics, thd, unbalance
from hil.waveform.step import is_first_order, is_ramp, is_step, step_info
from hil.waveform.streaming import in_envelope, is_constant, ripple, rms

__all__ = [
    "Capture",
    "ChannelOutcome",
    "CheckResult",
    "Limit",
    "Quantity",
    "find_crossing",
    "fundamental",
    "harmonics",
    "in_envelope",
    "is_constant",
    "is_first_order",
    "is_ramp",
    "is_step",
    "ripple",
    "rms",
    "set_threads",
    "step_info",
    "thd",
    "trip_latency",
    "unbalance",
]
