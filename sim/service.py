"""The ``simulated-bench`` bench service (entry point ``hil.bench_services``): the framework starts
it by name from a bench file's ``simulator:`` section and never imports ``sim`` itself."""

from __future__ import annotations

from typing import Any

from sim.bench import SimulatedBench
from sim.options import check_options
from sim.process import START_TIMEOUT_S, ProcessBench
from sim.profile import load_profile

DEFAULT_SERIAL = "EDS200-SIM-0001"


def start(
    instruments: list[dict[str, Any]], can: dict[str, Any], options: dict[str, Any]
) -> SimulatedBench | ProcessBench:
    """Serve ``instruments`` (dicts of name, driver, model, serial, resource; port 0 = any free port)
    and the CAN bus (``can`` as the bench file gives it; ``interface: socketcand`` also serves a
    socketcand server, otherwise an in-process virtual channel). ``options``: ``profile`` (path or
    None for the golden unit), ``set`` (dotted path -> value overrides), ``log`` (command-log file
    or None), ``seed`` (int), ``serial`` (the unit's serial number: its manufacturing spread and
    what it reports over UDS), ``process`` (true: the bench runs in a child process of its own, CAN
    over socketcand, see ``sim.process``; ``start_timeout_s`` bounds its start)."""
    check_options(options)
    if options.get("process"):
        return ProcessBench(
            instruments, can, options, start_timeout_s=float(options.get("start_timeout_s", START_TIMEOUT_S))
        )
    serial = options.get("serial") or DEFAULT_SERIAL
    profile = load_profile(options.get("profile"), options.get("set"), serial=serial)
    return SimulatedBench(
        instruments,
        dict(can),
        profile,
        log_path=options.get("log"),
        seed=int(options.get("seed", 0)),
        serial=serial,
    )
