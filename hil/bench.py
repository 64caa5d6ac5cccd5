"""The bench: the instruments of one bench file, opened behind the safety envelope, and its CAN bus.

One bench is one safety domain. Opening it starts the bench's service first when the file names one
(the simulated bench is such a service, found by entry point, so the framework never imports it),
then opens each instrument by its explicit resource string.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import can
import pyvisa

from hil.config import BenchConfig, load_bench
from hil.errors import BenchConfigError, CanOpenError, HilError
from hil.guardian import Guardian
from hil.safe_state import energised, run_safe_state, shielded
from hil.safety import Guarded
from instruments.base import Identity, Instrument
from instruments.errors import InstrumentError

log = logging.getLogger("hil.bench")

SERVICE_GROUP = "hil.bench_services"


def _resource_manager() -> pyvisa.ResourceManager:
    """pyvisa's "@py" resource manager is one per process and shared: closing it would close every
    resource opened through it, including another bench's. Resources are closed one by one instead."""
    return pyvisa.ResourceManager("@py")


class BenchTerminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled like Ctrl-C so every path out runs the safe state."""


# SIGINT too: a background job of a non-interactive shell starts with SIGINT ignored
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@dataclass
class InstrumentStatus:
    name: str
    driver: str
    resource: str
    identity: Identity | None
    error: str | None
    energised: str | None = None  # what holds it out of its safe state


def start_service(config: BenchConfig, options: dict[str, Any]) -> Any:
    assert config.simulator is not None
    found = {ep.name: ep for ep in entry_points(group=SERVICE_GROUP)}
    name = config.simulator.service
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise BenchConfigError(config.path, "simulator.service", f"no bench service {name!r} ({known})")
    instruments = [
        {
            "name": n,
            "driver": i.driver,
            "model": i.model_name,
            "serial": i.serial,
            "resource": i.resource,
        }
        for n, i in config.instruments.items()
    ]
    try:
        return found[name].load()(instruments=instruments, can=dict(config.can), options=options)
    except (ValueError, OSError) as exc:  # a bad unit profile, a port already taken ...
        raise BenchConfigError(config.path, f"simulator.{name}", str(exc)) from None


def unverified_commands(config: BenchConfig) -> dict[str, tuple[str, ...]]:
    """For a lab bench, the commands of each instrument's driver that no manual or proven
    implementation confirms (its ``UNVERIFIED``), by instrument name: what the lab checks on the
    instrument before trusting a result. None for a simulated bench: its emulators answer them."""
    if config.simulator is not None:
        return {}
    return {
        name: cfg.driver_class.UNVERIFIED
        for name, cfg in config.instruments.items()
        if cfg.driver_class.UNVERIFIED
    }


class Bench:
    """Open with ``with Bench.from_file("benches/sim.yaml") as bench:``; instruments are attributes."""

    def __init__(
        self,
        config: BenchConfig,
        *,
        service_options: dict[str, Any] | None = None,
        record_dir: str | Path = Path("reports") / "guardian",
    ) -> None:
        self.config = config
        self.record_dir = Path(record_dir)
        self.guardian: Guardian | None = None
        self.service_options = {
            **(config.simulator.options if config.simulator else {}),
            **(service_options or {}),
        }
        self.service: Any = None
        self.resources = {name: i.resource for name, i in config.instruments.items()}
        self.can_kwargs = dict(config.can)
        self._drivers: dict[str, Instrument] = {}
        self.instruments: dict[str, Guarded] = {}
        self._previous_handlers: dict[int, Any] = {}
        self._buses: list[can.BusABC] = []
        self._safe_state_hooks: list[Callable[[], None]] = []

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Bench:
        return cls(load_bench(path), **kwargs)

    # --- life cycle ------------------------------------------------------------------------------
    def start_service(self) -> None:
        if self.config.simulator is not None and self.service is None:
            self.service = start_service(self.config, self.service_options)
            self.resources.update(self.service.resources)
            self.can_kwargs = dict(self.service.can_kwargs)

    def open(self) -> Bench:
        try:
            self.start_service()
            rm = _resource_manager()
            for name, cfg in self.config.instruments.items():
                driver = cfg.driver_class.open(
                    rm,
                    self.resources[name],
                    name=name,
                    model=cfg.model,
                    timeout_ms=cfg.timeout_ms,
                    open_timeout_ms=cfg.open_timeout_ms,
                )
                self._drivers[name] = driver
                self.instruments[name] = Guarded(driver, self.config.limits(name))
            self._install_signal_handlers()
            if self.config.safe_state.guardian:
                self.guardian = Guardian(self.config, self.resources, self.record_dir, self._end_run)
                self.guardian.start()
        except BaseException:
            self.close()
            raise
        return self

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def terminate(signum: int, frame: Any) -> None:
            raise BenchTerminated(f"signal {signum} ({signal.Signals(signum).name})")

        for signum in STOP_SIGNALS:
            # Ctrl-C stays Python's own KeyboardInterrupt, installed also where it was ignored
            handler = signal.default_int_handler if signum == signal.SIGINT else terminate
            self._previous_handlers[signum] = signal.signal(signum, handler)

    def _end_run(self, reason: str) -> None:
        """The run must not drive on against a bench the guardian made safe behind its back: end it
        as SIGTERM does, in the main thread, where the test runs (a signal sent to the process may be
        taken by any thread, and would not wake a main thread asleep in a dwell)."""
        if self._previous_handlers:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
        else:
            log.error("%s: this run cannot be stopped from here; stop it", reason)

    def add_safe_state_hook(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run ``hook`` first whenever the bench goes to its safe state (stop a plant-model loop, zero
        the VCU's requests); returns the callable that removes it. A failing hook is logged and the
        instruments' safe state still runs."""
        self._safe_state_hooks.append(hook)
        return lambda: self._safe_state_hooks.remove(hook) if hook in self._safe_state_hooks else None

    def safe_state(self) -> None:
        with shielded():  # a second Ctrl-C or SIGTERM waits until every instrument is safe
            for hook in list(self._safe_state_hooks):
                try:
                    hook()
                except Exception as exc:  # the instruments' own safe state matters more than this hook
                    log.error("safe state: hook %s failed: %s", getattr(hook, "__qualname__", hook), exc)
            if self._drivers:
                locks = {name: guarded.lock for name, guarded in self.instruments.items()}
                try:
                    run_safe_state(self._drivers, self.config.safe_state, locks)
                finally:
                    for guarded in self.instruments.values():
                        guarded.rearm()

    def close(self) -> None:
        """Safe state, then the guardian told to stand down, then release everything; safe to call
        twice."""
        try:
            self.safe_state()
        finally:
            if self.guardian is not None:
                self.guardian.stop()
                self.guardian = None
            for bus in self._buses:
                bus.shutdown()
            self._buses.clear()
            for driver in self._drivers.values():
                try:
                    driver.close()
                except Exception as exc:  # closing the rest matters more than this one
                    log.warning("closing %s: %s", driver.name, exc)
            self._drivers.clear()
            self.instruments.clear()
            if self.service is not None:
                self.service.stop()
                self.service = None
            for signum, handler in self._previous_handlers.items():
                if handler is not None:  # None: a handler not set from Python, which cannot be put back
                    signal.signal(signum, handler)
            self._previous_handlers.clear()

    def __enter__(self) -> Bench:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- access --------------------------------------------------------------------------------
    @property
    def unit_serial(self) -> str | None:
        """The serial number of the unit the bench's service holds (a simulated bench); None for a
        lab bench, where the operator gives it."""
        return None if self.service is None else getattr(self.service, "unit_serial", None)

    def __getattr__(self, name: str) -> Guarded:
        instruments = self.__dict__.get("instruments", {})
        if name in instruments:
            return instruments[name]
        raise AttributeError(f"bench {self.__dict__['config'].name!r} has no instrument {name!r}")

    def of_kind(self, kind: str) -> Guarded:
        """The one instrument of a kind (``supply``, ``dyno`` ...)."""
        return self.instruments[self.name_of_kind(kind)]

    def name_of_kind(self, kind: str) -> str:
        """The bench file's name of the one instrument of a kind."""
        found = [n for n, d in self._drivers.items() if d.kind == kind]
        if len(found) != 1:
            raise HilError(
                f"bench {self.config.name!r} has {len(found)} instruments of kind {kind!r}, expected 1"
            )
        return found[0]

    def can_bus(self, **overrides: Any) -> can.BusABC:
        """A new bus on the bench's CAN, closed with the bench."""
        try:
            bus = can.Bus(**{**self.can_kwargs, **overrides})
        except (can.CanError, OSError, ImportError, ValueError) as exc:
            raise CanOpenError(self.config.path, self.can_kwargs, str(exc)) from exc
        self._buses.append(bus)
        return bus

    # --- checking -------------------------------------------------------------------------------
    def check(self) -> list[InstrumentStatus]:
        """Connect to every instrument at once, ask who it is and read its error queue."""
        self.start_service()
        rm = _resource_manager()
        with ThreadPoolExecutor(max_workers=max(1, len(self.config.instruments))) as pool:
            futures = {name: pool.submit(self._check_one, rm, name) for name in self.config.instruments}
            return [f.result() for f in futures.values()]

    def _check_one(self, rm: pyvisa.ResourceManager, name: str) -> InstrumentStatus:
        cfg = self.config.instruments[name]
        resource = self.resources[name]
        try:
            driver = cfg.driver_class.open(
                rm,
                resource,
                name=name,
                model=cfg.model,
                timeout_ms=cfg.timeout_ms,
                open_timeout_ms=cfg.open_timeout_ms,
            )
        except InstrumentError as exc:
            return InstrumentStatus(name, cfg.driver, resource, None, exc.detail)
        try:
            identity = driver.identify()
            driver.check_errors()
            state = energised(driver, self.config.safe_state)
            return InstrumentStatus(name, cfg.driver, resource, identity, None, state)
        except InstrumentError as exc:
            return InstrumentStatus(name, cfg.driver, resource, None, exc.detail)
        finally:
            driver.close()
