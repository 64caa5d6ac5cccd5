"""The ``simulated-bench`` bench service (entry point ``hil.bench_services``): the framework starts
it by name from a bench file's ``simulator:`` section and never imports ``sim`` itself."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sim.bench import SimulatedBench
from sim.injection import ControlServer
from sim.options import check_options
from sim.process import START_TIMEOUT_S, ProcessBench
from sim.profile import load_profile

log = logging.getLogger("sim.service")

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


IDLE_POLL_S = 0.1
IDLE_RESET_S = 0.3  # all clients gone this long: the run has ended, not one instrument reconnecting


class ServedBench:
    """A simulated bench served for others to connect to (``hil-sim serve``, the bench process),
    with the fault-injection control port and a power cycle (``reset``): the bench is stopped and
    started again on the same ports, the unit back in its state at switch-on, every fault cleared.

    ``reset_when_idle``: a power cycle each time the last client disconnects (after at least one
    connected), as a lab bench is switched off and on between runs. The framework never learns
    that it is simulated, so it cannot ask for the reset itself; and only between runs do all its
    connections close (a run holds every instrument and its CAN link from open to close).
    """

    def __init__(
        self,
        instruments: list[dict[str, Any]],
        can: dict[str, Any],
        options: dict[str, Any],
        control_port: int = 0,
        reset_when_idle: bool = False,
    ) -> None:
        self._options = {k: v for k, v in options.items() if k not in ("process", "start_timeout_s")}
        self._lock = threading.RLock()
        self.bench: SimulatedBench = self._start(instruments, can)
        # a reset serves the ports this start was given, even those it chose itself (port 0)
        self._instruments = [{**i, "resource": self.bench.resources[i["name"]]} for i in instruments]
        served_can = self.bench.can_kwargs
        self._can = {**can, **({"port": served_can["port"]} if "port" in served_can else {})}
        self.resets = 0
        self._stopping = threading.Event()
        try:
            self.control = ControlServer(lambda: self.bench.faults, self.reset, control_port)
        except BaseException:
            self.bench.stop()
            raise
        self._watcher: threading.Thread | None = None
        if reset_when_idle:
            self._watcher = threading.Thread(target=self._watch_idle, name="sim-idle-reset", daemon=True)
            self._watcher.start()

    def _start(self, instruments: list[dict[str, Any]], can: dict[str, Any]) -> SimulatedBench:
        bench = start(instruments, can, self._options)
        assert isinstance(bench, SimulatedBench)
        return bench

    def reset(self) -> None:
        """Power cycle: stop the bench and start it again on the same ports."""
        with self._lock:
            self.bench.stop()
            self.bench = self._start(self._instruments, self._can)
            self.resets += 1
        log.warning("simulated bench reset (power cycle %d)", self.resets)

    def _watch_idle(self) -> None:
        used = False
        idle_since: float | None = None
        while not self._stopping.wait(IDLE_POLL_S):
            with self._lock:
                clients = self.bench.clients()
            if clients:
                used, idle_since = True, None
                continue
            if not used:
                continue
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
            elif now - idle_since >= IDLE_RESET_S:
                self.reset()
                used, idle_since = False, None

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        self.control.stop()
        with self._lock:
            self.bench.stop()
