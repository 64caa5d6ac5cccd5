"""Where a run's inputs came from: the bench file's and the specs' hashes, the project's revision;
opening a run with all of it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hil.config import BenchConfig, load_bench
from hil.errors import HilError
from hil.product import load_product

if TYPE_CHECKING:
    from hil.results.store import Store


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of a file, or None when it cannot be read (the run then says so by a null)."""
    try:
        return sha256_file(path)
    except OSError:
        return None


def tree_sha256(directory: str | Path) -> str | None:
    """SHA-256 over every file under ``directory``: each one's relative path and content hash, sorted,
    so a renamed, added, removed or edited file changes it and nothing else does."""
    root = Path(directory)
    if not root.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(root).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def git_revision(directory: str | Path) -> str | None:
    """The commit checked out in ``directory``, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def open_run(
    store: Store,
    kind: str,
    *,
    bench: Path,
    specs: Path,
    root: Path,
    serial: str | None = None,
    operator: str | None = None,
    unit_profile: str | None = None,
) -> int:
    """A new run with everything known before a test runs: the bench file and its hash, the specs'
    hash, the project's revision, a simulated bench's unit profile and seed, the unit's serial and
    model, the bench file's instruments (their identity is asked once the bench opens)."""
    try:
        bench_config: BenchConfig | None = load_bench(bench)
    except HilError:
        bench_config = None  # whatever opens the bench says what is wrong with it
    try:
        model: str | None = load_product(specs).identity("model")
    except HilError:
        model = None
    simulator = bench_config.simulator if bench_config is not None else None
    run = store.start_run(
        kind,
        serial=serial,
        bench_file=_shown(bench, root),
        bench_sha256=file_sha256(bench),
        operator=operator,
        revision=git_revision(root),
        specs_sha256=tree_sha256(specs),
        unit_profile=unit_profile if simulator is not None else None,
        seed=simulator.options.get("seed") if simulator is not None else None,
    )
    if model is not None:
        store.set_unit(run, model=model)
    if bench_config is not None:
        store.add_instruments(run, instrument_rows(bench_config))
    return run


def instrument_rows(config: BenchConfig) -> list[dict[str, Any]]:
    """The bench file's instruments as the store keeps them."""
    return [
        {
            "name": name,
            "kind": cfg.driver_class.kind,
            "driver": cfg.driver,
            "identity": None,
            "serial": cfg.serial,
            "calibration_due": cfg.calibration_due,
        }
        for name, cfg in config.instruments.items()
    ]


def _shown(path: Path, root: Path) -> str:
    """A path as the project names it (relative to its root) where it lies inside the project."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
