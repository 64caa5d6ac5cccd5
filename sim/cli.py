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
from sim.service import start


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
def serve(
    bench_path: Path,
    log_path: Path | None,
    profile: Path | None,
    seed: int,
    serial: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Serve the bench file's instruments and CAN until SIGINT or SIGTERM."""
    instruments, can = bench_file_parts(bench_path)
    options = {
        "profile": str(profile) if profile else None,
        "log": str(log_path) if log_path else None,
        "seed": seed,
        "serial": serial,
        "set": parse_overrides(overrides),
    }
    try:
        bench = start(instruments, can, options)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
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
        bench.stop()
    click.echo("hil-sim: stopped")


@main.command("bench-process", hidden=True)
def bench_process() -> None:
    """The bench service's own process (``process: true``): spec on stdin, one report line on stdout."""
    sys.exit(serve_child())


if __name__ == "__main__":
    main()
