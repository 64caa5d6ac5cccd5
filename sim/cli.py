"""``hil-sim serve``: the simulated bench as its own process, instruments on the loopback ports a
bench file names and CAN over socketcand, so a second terminal drives it like a lab bench."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from hil.yamlfile import YamlFileError, parse_yaml, read_yaml
from sim.process import serve_child
from sim.service import ServedBench


def bench_file_parts(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The instruments and CAN settings of a bench file (everything else in it is ignored)."""
    try:
        raw = read_yaml(path) or {}
    except YamlFileError as exc:
        where = f"{path}: {exc.where}" if exc.where else str(path)
        raise click.UsageError(f"{where}: {exc.message}") from None
    if not isinstance(raw, dict):
        raise click.UsageError(f"{path}: expected a mapping at the top level")
    named = raw.get("instruments") or {}
    if not isinstance(named, dict) or not named:
        raise click.UsageError(
            f"{path}: instruments: a mapping of name to instrument; a bench serves at least one"
        )
    instruments = []
    for name, spec in named.items():
        if not isinstance(spec, dict):
            raise click.UsageError(f"{path}: instruments.{name}: a mapping of driver, resource ...")
        for key in ("driver", "resource"):
            if key not in spec:
                raise click.UsageError(f"{path}: instruments.{name}.{key} is missing")
        for key in ("driver", "resource", "model", "serial"):
            if key in spec and not isinstance(spec[key], str | None):
                raise click.UsageError(f"{path}: instruments.{name}.{key}: {spec[key]!r} is not text")
        instruments.append(
            {
                "name": str(name),
                "driver": spec["driver"],
                "model": spec.get("model"),
                "serial": spec.get("serial") or f"SIM-{str(name).upper()}",
                "resource": spec["resource"],
            }
        )
    can = raw.get("can") or {}
    if not isinstance(can, dict):
        raise click.UsageError(f"{path}: can: a mapping of python-can keyword arguments")
    can = dict(can)
    can.setdefault("interface", "socketcand")
    port = can.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise click.UsageError(f"{path}: can.port: {port!r} is not a TCP port (0 to 65535)")
    return instruments, can


def parse_overrides(values: tuple[str, ...]) -> dict[str, Any]:
    overrides = {}
    for item in values:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"{item!r}: expected path=value", param_hint="--set")
        try:
            overrides[path.strip()] = parse_yaml(value)
        except YamlFileError as exc:
            raise click.BadParameter(f"{item[:60]!r}: {exc}", param_hint="--set") from None
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
