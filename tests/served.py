"""A simulated bench served by ``hil-sim serve`` for a test: a shipped bench file copied with free
ports (a busy machine may hold the fixed ones), and the server up until the block ends."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def bench_copy(
    source: str, target: Path, safe_state: dict[str, Any] | None = None, free: bool = False
) -> Path:
    """``benches/<source>`` with its safe state changed and, with ``free``, each port swapped for a
    free one."""
    bench = yaml.safe_load((ROOT / "benches" / source).read_text(encoding="utf-8"))
    bench["safe_state"] = {**bench.get("safe_state", {}), **(safe_state or {})}
    if free:
        ports = free_ports(len(bench["instruments"]) + 1)
        for instrument, port in zip(bench["instruments"].values(), ports, strict=False):
            instrument["resource"] = f"TCPIP0::127.0.0.1::{port}::SOCKET"
        bench["can"]["port"] = ports[-1]
    target.write_text(yaml.safe_dump(bench, sort_keys=False), encoding="utf-8")
    return target


def port_of(bench: Path, instrument: str) -> int:
    resource = yaml.safe_load(bench.read_text(encoding="utf-8"))["instruments"][instrument]["resource"]
    return int(resource.split("::")[2])


@contextlib.contextmanager
def served(bench: Path, *args: str) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """``hil-sim serve --bench BENCH ARGS``, ready; the server and what it printed (until it is ready;
    after the block, with the rest of its output added)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "serve", "--bench", str(bench), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("hil-sim: ready" in line for line in seen):
            line = server.stdout.readline()
            assert line or server.poll() is None, "".join(seen)
            seen.append(line)
            assert time.monotonic() < deadline, "".join(seen)
        yield server, seen
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            rest, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            rest, _ = server.communicate()
        seen.append(rest)
