"""Benchmark of the waveform checker: ``python -m hil.waveform.bench [--samples N] [--json FILE]``.

A fixed-seed capture of 8 channels (float32 and float64) at 10 MS/s, 1e7 samples a channel or more,
so that the float32 capture is larger than the last-level cache (see ``default_samples``); the read
bandwidth of one thread and of as many threads as the checks use is measured in the same run, over
each dtype's own capture. For each check: samples/s, the fraction of each bandwidth (streaming
checks), the ratio to the bare batched FFT (THD), and the speed-up over numpy written as an
experienced engineer writes it (competent.py; with ``--baseline``, also or instead over the
straightforward versions of reference.py) and over a peer (python-control's step_info, pandas-style
checks). Each competent version's result is checked equal to the check's before it is timed.
Settings: every check with its defaults (``rms`` with hysteresis 0 on noisy channels, so every
noise-made zero crossing is a cycle), bounds that the data never leave, and a level
``find_crossing`` never meets, so that it reads every sample. It never fails on speed.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.fft

from hil.waveform import competent, kernels, parallel, reference
from hil.waveform.capture import Capture
from hil.waveform.crossing import find_crossing
from hil.waveform.result import Quantity
from hil.waveform.spectral import thd
from hil.waveform.step import step_info
from hil.waveform.streaming import in_envelope, is_constant, ripple, rms

SAMPLE_RATE_HZ = 10e6
CHANNELS = 8
STREAMING = ("rms", "is_constant", "in_envelope", "ripple", "step_info", "find_crossing")


def dataset(n: int, seed: int = 20240601) -> np.ndarray:
    """Six AC channels (50 Hz with 5th/7th harmonics and noise), a DC bus with ripple, a speed step a
    tenth of the way in (noise about zero before it: with hysteresis 0 about 250,000 crossings per 1e7
    samples, whatever the length)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE_HZ
    x = np.empty((CHANNELS, n))
    for c in range(6):
        phase = -2 * np.pi * (c % 3) / 3
        w = 2 * np.pi * 50.0 * t + phase
        x[c] = 100.0 * (np.cos(w) + 0.04 * np.cos(5 * w) + 0.02 * np.cos(7 * w))
        x[c] += rng.normal(0.0, 0.2, n)
    x[6] = 600.0 + 2.0 * np.sin(2 * np.pi * 300.0 * t) + rng.normal(0.0, 0.1, n)
    step = np.clip(t - 0.1 * n / SAMPLE_RATE_HZ, 0.0, None)
    x[7] = 1000.0 * (1 - np.exp(-step / 0.02) * np.cos(2 * np.pi * step / 0.05)) + rng.normal(0.0, 0.5, n)
    return x


def best_time(fn: Callable[[], object], repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def read_bandwidth(x: np.ndarray, threads: int = 1, repeat: int = 5) -> float:
    """Bytes per second of the fastest numpy read kernel over a large array, in chunks, the array
    split between ``threads`` threads reading at once (numpy lets go of the GIL in a reduction)."""
    flat = x.reshape(-1)
    step = 4 * 1024 * 1024 // flat.itemsize
    parts = np.array_split(flat, threads)

    def run(kernel: Callable[[np.ndarray], object]) -> Callable[[], None]:
        def read(part: np.ndarray) -> None:
            for a in range(0, part.size, step):
                kernel(part[a : a + step])

        def go() -> None:
            list(pool.map(read, parts))

        return go

    with ThreadPoolExecutor(threads) as pool:
        times = [best_time(run(k), repeat) for k in (np.add.reduce, np.maximum.reduce)]
    return flat.nbytes / min(times)


def _pandas_peers(cap: Capture, rows: np.ndarray) -> dict[str, Callable[[], object]]:
    import pandas as pd

    t_table = np.array([0.0, cap.end_s / 2, cap.end_s])

    def rms_groupby() -> None:
        for r in rows:
            s = pd.Series(r)
            cycle = ((s.shift() < 0) & (s >= 0)).cumsum()
            (s**2).groupby(cycle).mean() ** 0.5

    def between() -> None:
        for r in rows:
            pd.Series(r).between(-1e6, 1e6).mean()

    def envelope() -> None:
        t = pd.Series(cap.time_s())
        upper = pd.Series(np.interp(t, t_table, [1e6, 2e6, 1e6]))
        for r in rows:
            s = pd.Series(r)
            ((s >= -upper) & (s <= upper)).mean()

    def ripple_stats() -> None:
        for r in rows:
            s = pd.Series(r)
            s.max() - s.min(), s.std(ddof=0)

    def crossing() -> None:
        for r in rows:
            s = pd.Series(r)
            ((s.shift() < 1e9) & (s >= 1e9)).idxmax()

    return {
        "rms": rms_groupby,
        "is_constant": between,
        "in_envelope": envelope,
        "ripple": ripple_stats,
        "find_crossing": crossing,
    }


def _control_step_info(cap: Capture, rows: np.ndarray) -> Callable[[], None]:
    import control

    def run() -> None:
        t = cap.time_s()
        for r in rows:
            control.step_info(r, t, yfinal=float(r[-1]))

    return run


def _competent(cap: Capture, x: np.ndarray, table: list[tuple[float, float]]) -> dict[str, tuple]:
    """Per check: the competent numpy version, and a test that its result equals the check's."""
    fs = cap.sample_rate_hz
    times, values = (np.array(v) for v in zip(*table, strict=True))
    tight = 1e-4 if x.dtype == np.float32 else 1e-9

    def same_rms(r: object, found: list) -> None:
        for o, (per_cycle, at) in zip(r.outcomes, found, strict=True):
            mine = o.values["per_cycle"].value if "per_cycle" in o.values else np.empty(0)
            np.testing.assert_allclose(mine, per_cycle, rtol=tight)
            if per_cycle.size:
                np.testing.assert_allclose(
                    o.values["cycle_start_s"].value, at[:-1] / fs + cap.start_s, rtol=1e-9
                )

    def same_fraction(r: object, found: list) -> None:
        for o, count in zip(r.outcomes, found, strict=True):
            assert o["fraction_inside"] == 1 - count / x.shape[1], (o.channel, count)

    def same_ripple(r: object, found: list) -> None:
        for o, (p2p, ac, mean) in zip(r.outcomes, found, strict=True):
            found = [o["peak_to_peak"], o["rms"], o["mean"]]  # a mean near zero: to the ripple's scale
            np.testing.assert_allclose(found, [p2p, ac, mean], rtol=tight, atol=tight * p2p)

    def same_step(r: object, found: list) -> None:
        for o, m in zip(r.outcomes, found, strict=True):
            for key, value in m.items():
                # the final value's mean is summed in another order: 1e-13 of it, more of a small step
                assert math.isclose(o[key], value, rel_tol=1e-6, abs_tol=1e-12) or (
                    math.isnan(o[key]) and math.isnan(value)
                ), key

    def same_crossing(r: object, found: list) -> None:
        for o, idx in zip(r.outcomes, found, strict=True):
            assert o.values.get("index", Quantity(None)).value == idx, (o.channel, idx)

    return {
        "rms": (lambda: [competent.rms_per_cycle(r) for r in x], same_rms),
        "is_constant": (lambda: [competent.outside_count(r, -1e6, 1e6) for r in x], same_fraction),
        "in_envelope": (lambda: [competent.outside_table(r, fs, times, values) for r in x], same_fraction),
        "ripple": (lambda: [competent.ripple(r) for r in x], same_ripple),
        "step_info": (lambda: [competent.step_info(r, fs) for r in x], same_step),
        "find_crossing": (lambda: [competent.first_rising(r, 1e9) for r in x], same_crossing),
    }


def run_dtype(
    x: np.ndarray, bandwidths: tuple[float, float], repeat: int, baselines: tuple[str, ...]
) -> dict[str, dict[str, float | str | None]]:
    cap = Capture.from_arrays(x, SAMPLE_RATE_HZ, [f"ch{i}" for i in range(x.shape[0])], "")
    n_total = x.size
    fs = SAMPLE_RATE_HZ
    table = [(0.0, 1e6), (cap.end_s / 2, 2e6), (cap.end_s, 1e6)]
    ours: dict[str, Callable[[], object]] = {
        "rms": lambda: rms(cap),
        "is_constant": lambda: is_constant(cap, 0.0, 1e6),
        "in_envelope": lambda: in_envelope(cap, lower=[(t, -v) for t, v in table], upper=table),
        "ripple": lambda: ripple(cap),
        "step_info": lambda: step_info(cap),
        "find_crossing": lambda: find_crossing(cap, 1e9),
        "thd": lambda: thd(cap),
    }

    def env_numpy() -> None:
        t = cap.time_s()
        upper = np.interp(t, *zip(*table, strict=True))
        for r in x:
            reference.outside_band(r, -upper, upper)

    straightforward: dict[str, Callable[[], object]] = {
        "rms": lambda: [reference.rms_per_cycle(r) for r in x],
        "is_constant": lambda: [reference.outside_band(r, -1e6, 1e6) for r in x],
        "in_envelope": env_numpy,
        "ripple": lambda: [reference.ripple(r) for r in x],
        "step_info": lambda: [reference.step_info(r, fs, float(r[-1])) for r in x],
        "find_crossing": lambda: [reference.first_crossing_time(r, 1e9, fs) for r in x],
        "thd": lambda: [reference.thd_f(r, fs) for r in x],
    }
    competent_versions = _competent(cap, x, table)
    peers = _pandas_peers(cap, x)
    peers["step_info"] = _control_step_info(cap, x)

    frame = round(10 * fs / 50.0)
    n_frames = x.shape[1] // frame
    if n_frames == 0:
        print(f"thd skipped: fewer samples than one 10-cycle frame ({frame})")
        del ours["thd"]

    def bare_fft() -> None:
        scipy.fft.rfft(x[:, : n_frames * frame].reshape(x.shape[0], n_frames, frame), axis=-1)

    t_fft = best_time(bare_fft, repeat) if n_frames else np.nan
    out: dict[str, dict[str, float | str | None]] = {}
    for name, fn in ours.items():
        t = best_time(fn, repeat)
        speedups: dict[str, float | None] = {"competent": None, "straightforward": None}
        if "competent" in baselines and name in competent_versions:
            version, same = competent_versions[name]
            same(fn(), version())  # the yardstick measures the same thing, or the figure means nothing
            speedups["competent"] = best_time(version, repeat) / t
        if "straightforward" in baselines:
            speedups["straightforward"] = best_time(straightforward[name], repeat) / t
        t_peer = best_time(peers[name], repeat) if name in peers else None
        streaming = name in STREAMING
        out[name] = {
            "dtype": str(x.dtype),
            "samples_per_s": n_total / t,
            "fraction_of_bandwidth": x.nbytes / t / bandwidths[0] if streaming else None,
            "fraction_of_all_cores_bandwidth": x.nbytes / t / bandwidths[1] if streaming else None,
            "ratio_to_fft": t_fft / t if name == "thd" else None,
            "speedup_vs_competent_numpy": speedups["competent"],
            "speedup_vs_straightforward_numpy": speedups["straightforward"],
            "speedup_vs_peer": t_peer / t if t_peer is not None else None,
            "peer": {"step_info": "python-control step_info", "thd": None}.get(name, "pandas"),
        }
    return out


def _fmt(v: float | str | None, spec: str) -> str:
    width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()) or 0)
    return "-".rjust(width) if v is None else format(v, spec)


def last_level_cache_bytes(cpu: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> int | None:
    """The size of the CPU's largest cache level, from sysfs ("491520K"), or None where it is not said."""
    sizes: dict[int, int] = {}
    for index in cpu.glob("index*"):
        try:
            level = int((index / "level").read_text())
            size = (index / "size").read_text().strip()
            sizes[level] = int(size[:-1]) * {"K": 1 << 10, "M": 1 << 20}[size[-1]]
        except (OSError, ValueError, KeyError, IndexError):
            continue
    return sizes[max(sizes)] if sizes else None


def default_samples(cache_bytes: int | None) -> int:
    """Samples per channel: 1e7, or as many more tens of millions as make the float32 capture a quarter
    larger than the last-level cache. Read again and again, a capture the cache mostly holds is read at
    the cache's speed, and a check that computes more per sample than a bare read keeps up with memory
    but not with that; a figure against memory bandwidth wants data that comes from memory."""
    n = 10_000_000
    while cache_bytes and CHANNELS * n * 4 < 1.25 * cache_bytes:
        n += 10_000_000
    return n


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m hil.waveform.bench", description=__doc__.splitlines()[0])
    cache = last_level_cache_bytes()
    parser.add_argument(
        "--samples",
        type=float,
        default=default_samples(cache),
        help="samples per channel (default 1e7, more where the float32 capture would not be a quarter "
        "larger than the last-level cache)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each version, best taken (default 3)")
    parser.add_argument(
        "--threads",
        type=int,
        default=parallel.threads(),
        help=f"threads for the channels of a capture (default {parallel.threads()}: the cores here)",
    )
    parser.add_argument(
        "--baseline",
        choices=("competent", "straightforward", "both"),
        default="competent",
        help="numpy versions to compare with: as an experienced engineer writes them (default), the "
        "straightforward full-array ones, or both",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--numpy-paths", action="store_true", help="measure the numpy paths instead of the compiled kernels"
    )
    args = parser.parse_args(argv)
    if args.numpy_paths:
        kernels.compiled = None
    parallel.set_threads(args.threads)
    threads = args.threads if kernels.compiled else 1  # the numpy paths check channels in turn
    n = int(args.samples)
    paths = "compiled" if kernels.compiled else "numpy"
    print(f"kernels: {paths}, {threads} thread(s) for the channels")
    print(f"dataset: {CHANNELS} channels x {n:.3g} samples at {SAMPLE_RATE_HZ:g} S/s, fixed seed")
    if cache:
        print(
            f"last-level cache: {cache / 2**20:.0f} MiB; float32 capture: {CHANNELS * n * 4 / 2**20:.0f} MiB"
        )
    x64 = dataset(n)
    x32 = x64.astype(np.float32)
    baselines = ("competent", "straightforward") if args.baseline == "both" else (args.baseline,)
    checks: dict[str, dict[str, float | str | None]] = {}
    bandwidths: dict[str, dict[str, float]] = {}
    for x in (x32, x64):
        # Read from the very array the checks read: the float64 one is twice the size, and how much of
        # an array the caches still hold from its last pass sets the rate.
        bandwidth, all_cores = read_bandwidth(x), read_bandwidth(x, threads)
        bandwidths[str(x.dtype)] = {"one_thread_gb_s": bandwidth / 1e9, "all_cores_gb_s": all_cores / 1e9}
        print(
            f"read bandwidth over the {x.dtype} capture ({x.nbytes / 1e6:.0f} MB): "
            f"{bandwidth / 1e9:.2f} GB/s on one thread, {all_cores / 1e9:.2f} GB/s on {threads}"
        )
        for name, figures in run_dtype(x, (bandwidth, all_cores), args.repeat, baselines).items():
            checks[f"{name}/{x.dtype}"] = figures
    print(
        f"{'check':<22}{'Msamples/s':>12}{'of 1-thread bw':>16}{f'of {threads}-thread bw':>16}{'vs FFT':>8}"
        f"{'vs competent':>14}{'vs straightforward':>20}{'vs peer':>9}  peer"
    )

    def times(v: float | None, spec: str) -> str:
        return _fmt(v, spec) + ("x" if v is not None else " ")

    for key, f in checks.items():
        print(
            f"{key:<22}{f['samples_per_s'] / 1e6:>12.0f}{_fmt(f['fraction_of_bandwidth'], '>16.0%')}"
            f"{_fmt(f['fraction_of_all_cores_bandwidth'], '>16.0%')}{_fmt(f['ratio_to_fft'], '>8.2f')}"
            f"{times(f['speedup_vs_competent_numpy'], '>13.1f')}"
            f"{times(f['speedup_vs_straightforward_numpy'], '>19.1f')}"
            f"{times(f['speedup_vs_peer'], '>8.1f')}  {f['peer'] or ''}"
        )
    report = {
        "read_bandwidth": bandwidths,
        "baseline": args.baseline,
        "samples_per_channel": n,
        "last_level_cache_bytes": cache,
        "kernels": paths,
        "threads": threads,
        "checks": checks,
    }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    return report


if __name__ == "__main__":
    main()
