"""``hil serials``: the eol subset on many serials of the golden unit, each on a simulated bench of
its own, as a production line's first-pass yield would show it.

A serial draws its unit's manufacturing spread (the simulated bench's golden profile); a good unit
must pass on every serial, so the limits and the spread have to agree.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hil.defects import failed_measurements, run_suites
from hil.product import load_product


@dataclass
class SerialResult:
    serial: str
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failed and not self.errors


def serial_numbers(prefix: str, count: int, first: int = 1) -> list[str]:
    return [f"{prefix}{n:04d}" for n in range(first, first + count)]


def run_serials(
    serials: Sequence[str],
    *,
    bench: Path,
    suites: Path,
    marker: str,
    parallel: int,
    progress: bool = True,
    specs: Path = Path("specs"),
) -> list[SerialResult]:
    """Each serial's run set on a bench of its own; every serial is checked against the product's
    pattern (``SerialNumberError``) before anything runs or is written."""
    product = load_product(specs)
    for serial in serials:
        product.check_serial(serial)
    with tempfile.TemporaryDirectory(prefix="hil-serials-") as tmp:

        def one(serial: str) -> SerialResult:
            started = time.monotonic()
            document, exit_code, tail = run_suites(
                bench=bench,
                suites=suites,
                results=Path(tmp) / f"{serial}.json",
                args=[f"--unit-serial={serial}", "-m", marker],
            )
            result = SerialResult(serial, wall_s=time.monotonic() - started)
            if document is None:
                result.errors.append(f"no results (pytest exit {exit_code}): {tail}")
            else:
                _, result.failed, result.errors = failed_measurements(document)
            if progress:
                verdict = "PASS" if result.passed else "FAIL " + ", ".join(result.failed + result.errors)
                print(f"hil serials: {serial}: {verdict} ({result.wall_s:.0f} s)", flush=True)
            return result

        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            return list(pool.map(one, serials))
