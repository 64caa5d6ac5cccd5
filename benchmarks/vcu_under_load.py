"""The VCU's frame gaps on a machine kept busy at the simulator's priority
(``python -m benchmarks vcu_under_load [--seconds S] [--runs N]``).

One process more than there are cores spins at nice -10, as the simulated drive's CAN threads run
(where the process may raise them); the VCU sends TSC1 every 10 ms and its heartbeat every 100 ms
on a virtual bus, first with its threads raised as ``Vcu`` starts them, then ordinary. Prints the
longest gap of each stream per run (the drive's command timeout is 100 ms, the BMS's 500 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import subprocess
import sys
import time
import uuid

import can

from hil.dut import vcu as vcu_module
from hil.dut.dbc import load_drive_dbc
from hil.realtime import NICE

SPIN = f"""
import os
try:
    os.setpriority(os.PRIO_PROCESS, 0, {NICE})
except OSError:
    pass
while True:
    pass
"""


def _longest_gap_ms(frames: list[can.Message], frame_id: int) -> float:
    stamps = [m.timestamp for m in frames if m.arbitration_id == frame_id]
    return 1e3 * max(b - a for a, b in itertools.pairwise(stamps))


def _run(seconds: float) -> list[can.Message]:
    channel = f"vcu-load-{uuid.uuid4().hex[:8]}"
    sender, listener = (
        can.Bus(interface="virtual", channel=channel),
        can.Bus(interface="virtual", channel=channel),
    )
    spinners = [
        subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(len(os.sched_getaffinity(0)) + 1)
    ]
    try:
        vcu = vcu_module.Vcu(sender, load_drive_dbc(), reference_torque_nm=1000.0).start()
        try:
            frames: list[can.Message] = []
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                message = listener.recv(timeout=left)
                if message is not None:
                    frames.append(message)
            return frames
        finally:
            vcu.stop()  # before its bus is shut down
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
        sender.shutdown()
        listener.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks vcu_under_load")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    db = load_drive_dbc()
    tsc1, heartbeat = (
        db.get_message_by_name("TSC1").frame_id,
        db.get_message_by_name("VCU_BmsCommand").frame_id,
    )
    raised = vcu_module.threads_started_ahead
    for label, start_threads in (("raised", raised), ("ordinary", contextlib.nullcontext)):
        vcu_module.threads_started_ahead = start_threads
        try:
            for _ in range(args.runs):
                frames = _run(args.seconds)
                print(
                    f"{label:8s} longest gap: TSC1 {_longest_gap_ms(frames, tsc1):6.1f} ms, "
                    f"heartbeat {_longest_gap_ms(frames, heartbeat):6.1f} ms",
                    flush=True,
                )
        finally:
            vcu_module.threads_started_ahead = raised
