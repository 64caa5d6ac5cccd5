"""Real-time lag of the simulated bench under full load (``python -m benchmarks sim_realtime``).

The drive is powered and turning against the dyno while every instrument is polled as fast as its
socket answers, the VCU sends TSC1 every 10 ms, the drive system's CAN traffic is read, and the
analyzer captures and reads out 8 channels × 100 000 samples at 1 MS/s over and over. A probe asks
for "now" every 2 ms and records how long it took to get the plant stepped to that instant (lock
wait + stepping): the lag a test sees. Target: p99 < 5 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import can
import numpy as np
import pyvisa

from instruments.registry import driver_class
from sim.service import start

INSTRUMENTS = [
    ("supply", "itech.it6000c", "IT6054C-800-225"),
    ("cellsim", "chroma.87001", "87001-24"),
    ("eload", "chroma.63200", "63206A-1200-240"),
    ("dyno", "magtrol.dsp7000", "DSP7000-AC250"),
    ("analyzer", "yokogawa.wt5000", "WT5000-EXT-10mV/A"),
]
TRACES = ["U1", "U2", "U3", "I1", "I2", "I3", "U4", "I4"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sim_realtime")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement duration")
    args = parser.parse_args(argv)

    bench = start(
        instruments=[
            {
                "name": n,
                "driver": d,
                "model": m,
                "serial": f"RT-{n}",
                "resource": "TCPIP0::127.0.0.1::0::SOCKET",
            }
            for n, d, m in INSTRUMENTS
        ],
        can={"interface": "virtual", "channel": "rt"},
        options={"seed": 1},
    )
    rm = pyvisa.ResourceManager("@py")
    drivers = {
        n: driver_class(d).open(rm, bench.resources[n], name=n, model=m, timeout_ms=20000)
        for n, d, m in INSTRUMENTS
    }
    stop = threading.Event()
    counts: dict[str, int] = {}
    try:
        _power_up(drivers)
        polls = {
            "supply": lambda d: d.measure_voltage(),
            "cellsim": lambda d: d.measure_voltages(),
            "eload": lambda d: d.measure_current(),
            "dyno": lambda d: d.read(),
        }
        threads = [
            threading.Thread(target=_loop, args=(stop, counts, n, lambda f=f, d=drivers[n]: f(d)))
            for n, f in polls.items()
        ]
        threads.append(
            threading.Thread(
                target=_loop, args=(stop, counts, "capture", lambda: _capture(drivers["analyzer"]))
            )
        )
        threads.append(threading.Thread(target=_vcu, args=(stop, counts, bench.can_kwargs)))
        threads.append(threading.Thread(target=_listen, args=(stop, counts, bench.can_kwargs)))
        for thread in threads:
            thread.start()
        lags = _probe(bench.simulation, args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        for driver in drivers.values():
            driver.close()
        bench.stop()
    lags_ms = np.array(lags) * 1000.0
    print(f"load over {args.seconds:g} s: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(
        f"real-time lag (ms): p50 {np.percentile(lags_ms, 50):.2f}  p99 {np.percentile(lags_ms, 99):.2f}  "
        f"max {lags_ms.max():.2f}  ({len(lags_ms)} probes; target p99 < 5 ms)"
    )
    print(f"mean lag {statistics.fmean(lags_ms):.2f} ms")


def _power_up(drivers: dict) -> None:
    cells, supply, dyno, eload = drivers["cellsim"], drivers["supply"], drivers["dyno"], drivers["eload"]
    cells.set_cell_voltages([3.3] * cells.channels)
    cells.output_on()
    supply.set_current_limit(340)
    supply.set_sink_current_limit(200)
    supply.set_slew(1000)
    supply.set_voltage(537.6)
    supply.output_on()
    eload.set_mode("CCH")
    eload.set_current(5)
    eload.load_on()
    dyno.set_speed(800)
    drivers["analyzer"].configure("P3W4", 1000, 50)


def _loop(stop: threading.Event, counts: dict, name: str, call) -> None:
    while not stop.is_set():
        call()
        counts[name] = counts.get(name, 0) + 1


def _capture(analyzer) -> None:
    analyzer.capture(TRACES, 1e6, 100_000)


def _vcu(stop: threading.Event, counts: dict, kwargs: dict) -> None:
    bus = can.Bus(**kwargs)
    tsc1 = can.Message(
        arbitration_id=0x0C000027, data=bytes([1, 0, 0, 125 + 30, 0, 0, 0, 0]), is_extended_id=True
    )
    bms = can.Message(arbitration_id=0x18FF2327, data=bytes([1, 0, 0, 0, 0, 0, 0, 0]), is_extended_id=True)
    next_send, k = time.monotonic(), 0
    while not stop.wait(max(0.0, next_send - time.monotonic())):
        bus.send(tsc1)
        if k % 10 == 0:
            bus.send(bms)
        k += 1
        counts["tsc1"] = k
        next_send += 0.01
    bus.shutdown()


def _listen(stop: threading.Event, counts: dict, kwargs: dict) -> None:
    bus = can.Bus(**kwargs)
    while not stop.is_set():
        if bus.recv(0.05) is not None:
            counts["frames received"] = counts.get("frames received", 0) + 1
    bus.shutdown()


def _probe(simulation, seconds: float) -> list[float]:
    lags = []
    end = time.monotonic() + seconds
    next_probe = time.monotonic()
    while (now := time.monotonic()) < end:
        if now < next_probe:
            time.sleep(next_probe - now)
        asked = time.monotonic()
        with simulation.now():
            lags.append(time.monotonic() - asked)
        next_probe += 0.002
    return lags


if __name__ == "__main__":
    main()
