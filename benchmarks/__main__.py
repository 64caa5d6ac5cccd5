"""Run the benchmarks by name (all when none is given)."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "driver_query": "benchmarks.driver_query",
    "waveform": "benchmarks.waveform",
    "sim_realtime": "benchmarks.sim_realtime",
    "synthesis": "benchmarks.synthesis",
    "drive_step": "benchmarks.drive_step",
    "process_bench": "benchmarks.process_bench",
    "results_store": "benchmarks.results_store",
    "vcu_under_load": "benchmarks.vcu_under_load",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)"
    )
    args, rest = parser.parse_known_args()
    for name in args.names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        importlib.import_module(BENCHMARKS[name]).main(rest)


if __name__ == "__main__":
    main()
