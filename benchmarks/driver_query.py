"""Per-query cost of a driver (and of the envelope guard) against a raw pyvisa query, same emulator.

The emulated supply answers ``MEAS:VOLT?`` on a loopback socket; the three clients take turns in
rounds so that drift in the machine's speed hits them alike. Reported: the median per-query time
of each and the ratios to raw pyvisa.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pyvisa

from hil.config import Limit
from hil.safety import Guarded
from instruments.supply import IT6000C
from sim.service import start


def _per_query_us(call, queries: int) -> float:
    start_ns = time.perf_counter_ns()
    for _ in range(queries):
        call()
    return (time.perf_counter_ns() - start_ns) / queries / 1000.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks driver_query")
    parser.add_argument("--queries", type=int, default=500, help="queries per round and client")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)

    bench = start(
        instruments=[
            {
                "name": "supply",
                "driver": IT6000C.driver,
                "model": IT6000C.DEFAULT_MODEL,
                "serial": "BENCH-0001",
                "resource": "TCPIP0::127.0.0.1::0::SOCKET",
            }
        ],
        can={"interface": "virtual", "channel": "bench"},
        options={"seed": 1},
    )
    rm = pyvisa.ResourceManager("@py")
    try:
        resource = bench.resources["supply"]
        raw = rm.open_resource(resource, read_termination="\n", write_termination="\n", timeout=2000)
        driver = IT6000C.open(rm, resource, name="supply")
        guarded = Guarded(driver, {"voltage_v": Limit(low=0, high=800)})
        clients = {
            "raw pyvisa query": lambda: float(raw.query("MEAS:VOLT?")),
            "driver measure_voltage": driver.measure_voltage,
            "guarded measure_voltage": guarded.measure_voltage,
        }
        for call in clients.values():  # warm-up: connections, caches, the emulator's first steps
            _per_query_us(call, 50)
        figures: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(args.rounds):
            for name, call in clients.items():
                figures[name].append(_per_query_us(call, args.queries))
        raw_us = statistics.median(figures["raw pyvisa query"])
        print(f"{'client':<26}{'median µs/query':>17}{'min':>9}{'max':>9}{'× raw':>8}")
        for name, values in figures.items():
            median = statistics.median(values)
            print(f"{name:<26}{median:>17.1f}{min(values):>9.1f}{max(values):>9.1f}{median / raw_us:>8.2f}")
        print(f"({args.rounds} rounds × {args.queries} queries each; target: driver ≤ 1.3 × raw)")
        raw.close()
        driver.close()
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
