"""``hil-sim serve``: the simulated bench as its own process, instruments on the loopback ports a
bench file names and CAN over socketcand, so a second terminal drives it like a lab bench."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
import yaml

from sim.process import serve_child
from sim.service import ServedBench


def bench_file_parts(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The instruments and CAN settings of a bench file (everything else in it is ignored)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise click.UsageError(f"{path}: no such bench file") from None
    instruments = []
    for name, spec in (raw.get("instruments") or {}).items():
        for key in ("driver", "resource"):
            if key not in spec:
                raise click.UsageError(f"{path}: instruments.{name}.{key} is missing")
        instruments.append(
            {
                "name": name,
                "driver": spec["driver"],
                "model": spec.get("model"),
                "serial": spec.get("serial", f"SIM-{name.upper()}"),
                "resource": spec["resource"],
            }
        )
    can = dict(raw.get("can") or {})
    can.setdefault("interface", "socketcand")
    return instruments, can


def parse_overrides(values: tuple[str, ...]) -> dict[str, Any]:
    overrides = {}
    for item in values:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"{item!r}: expected path=value", param_hint="--set")
        overrides[path.strip()] = yaml.safe_load(value)
    return overrides


def parse_fault(item: str) -> tuple[str, str, int]:
    where, sep, after = item.partition("@")
    target, colon, fault = where.partition(":")
    if not colon or not target or not fault or (sep and not after.isdigit()):
        raise click.BadParameter(f"{item!r}: expected TARGET:FAULT[@AFTER]", param_hint="--fault")
    return target, fault, int(after) if sep else 0


@click.group()
def main() -> None:
    """The simulated bench."""


@main.command()
@click.option(
    "--bench",
    "bench_path",
    type=click.Path(path_type=Path),
    default=Path("benches/sim-remote.yaml"),
    show_default=True,
    help="bench file naming the instruments' ports and the CAN port",
)
@click.option(
    "--log", "log_path", type=click.Path(path_type=Path), help="append the command log to FILE (JSON lines)"
)
@click.option(
    "--profile", type=click.Path(exists=True, path_type=Path), help="unit profile (default: golden)"
)
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the measurement noise")
@click.option(
    "--serial", default=None, help="the unit's serial number: its manufacturing spread and UDS F18C"
)
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="override a profile parameter")
@click.option(
    "--control-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="loopback port of the fault-injection control (0: a free one, printed)",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="TARGET:FAULT[@AFTER]",
    help="arm a fault at start (supply:silent, dyno:alarm@100, can:busoff ...); see sim/injection.py",
)
def serve(
    bench_path: Path,
    log_path: Path | None,
    profile: Path | None,
    seed: int,
    serial: str | None,
    overrides: tuple[str, ...],
    control_port: int,
    faults: tuple[str, ...],
) -> None:
    """Serve the bench file's instruments and CAN until SIGINT or SIGTERM. When the last client
    disconnects the bench is power-cycled: the next run finds the unit as at switch-on."""
    instruments, can = bench_file_parts(bench_path)
    options = {
        "profile": str(profile) if profile else None,
        "log": str(log_path) if log_path else None,
        "seed": seed,
        "serial": serial,
        "set": parse_overrides(overrides),
    }
    armed = [parse_fault(item) for item in faults]
    try:
        served = ServedBench(instruments, can, options, control_port=control_port, reset_when_idle=True)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    bench = served.bench
    try:
        for target, fault, after in armed:
            bench.faults.arm(target, fault, after)
    except ValueError as exc:
        served.stop()
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        rows = [
            (i["name"], i["driver"], bench.emulators[i["name"]].model, bench.resources[i["name"]])
            for i in instruments
        ]
        kwargs = bench.can_kwargs
        where = f"{kwargs['host']}:{kwargs['port']}" if "port" in kwargs else kwargs["channel"]
        rows.append(("can", kwargs["interface"], str(kwargs["channel"]), where))
        rows.append(("control", "hil-sim", "faults, reset", served.control.address))
        widths = [
            max(len(row[i]) for row in [("name", "driver", "model", "listens on"), *rows]) for i in range(4)
        ]
        click.echo(f"hil-sim: simulated bench from {bench_path} (profile {profile or 'golden'}, seed {seed})")
        for row in [("name", "driver", "model", "listens on"), *rows]:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        click.echo("hil-sim: ready; Ctrl-C or SIGTERM stops", nl=True)
        sys.stdout.flush()
        while not stopping.wait(0.5):
            pass
    finally:
        served.stop()
    click.echo("hil-sim: stopped")


@main.command("bench-process", hidden=True)
def bench_process() -> None:
    """The bench service's own process (``process: true``): spec on stdin, one report line on stdout."""
    sys.exit(serve_child())


if __name__ == "__main__":
    main()
