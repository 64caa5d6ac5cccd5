"""Waveform synthesis on the simulated bench: 8 channels × 1 s at 1 MS/s from a drive trajectory
(``python -m benchmarks synthesis``); target ≤ 0.5 s. Then what the analyzer emulator spends on a
capture of U4, I1, I2 and I3 read trace by trace: each trace synthesised alone, against each with its
group (``TRACE_GROUPS``) once."""

from __future__ import annotations

import math
import time

from sim.drive.golden import golden_sections
from sim.drive.model import DriveInputs, InverterMotor
from sim.drive.waveforms import CHANNELS, TrajectoryRecorder, WaveformParameters, synthesise
from sim.emulators.analyzer import TRACE_GROUPS

CAPTURE = ("U4", "I1", "I2", "I3")


def main(argv: list[str] | None = None, rate_hz: float = 1e6, seconds: float = 1.0, repeats: int = 3) -> None:
    sections = golden_sections()
    drive = InverterMotor(sections["motor"], sections["inverter"], sections["protection"])
    recorder = TrajectoryRecorder()
    dt = 1e-3
    speed = 1500.0 * math.pi / 30.0
    for k in range(round((seconds + 0.5) / dt)):
        recorder.append(drive.step(dt, DriveInputs((k + 1) * dt, 475.0, speed, 540.0, 60.0)))
    trajectory = recorder.trajectory()
    parameters = WaveformParameters.from_inverter(sections["inverter"])
    n = round(seconds * rate_hz)

    def best_of(*calls: tuple[str, ...]) -> float:
        """The fastest of ``repeats`` rounds, each synthesising every channel set of ``calls``."""
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            for channels in calls:
                synthesise(trajectory, parameters, 0.4, n, rate_hz, channels, seed=1)
            best = min(best, time.perf_counter() - start)
        return best

    best = best_of(CHANNELS)
    print(
        f"waveforms: {len(CHANNELS)} channels × {n} samples at {rate_hz:g} S/s "
        f"in {best:.3f} s (best of {repeats})"
    )
    groups = list(dict.fromkeys(TRACE_GROUPS[trace] for trace in CAPTURE))
    for name, calls in (("each trace alone", [(t,) for t in CAPTURE]), ("each with its group", groups)):
        print(
            f"capture of {', '.join(CAPTURE)}, {n} samples a trace, {name}: "
            f"{best_of(*calls):.3f} s (best of {repeats})"
        )


if __name__ == "__main__":
    main()
