"""A bench writing a run into a store, for the store's tests: ``writer.py URL KIND SERIAL COUNT``.

Prints ``run <id>`` once the run is open, then ``taken <n>`` after each measurement is committed;
COUNT 0 writes until killed.
"""

from __future__ import annotations

import itertools
import sys

from hil.results.store import Store


def main() -> None:
    url, kind, serial, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = Store(url)
    run = store.start_run(kind, serial=serial or None, operator="writer")
    print(f"run {run}", flush=True)
    test = store.start_test(run, f"test_suites/x.py::test_{serial or 'adhoc'}", scenario="X-01")
    for n in itertools.count(1) if count == 0 else range(1, count + 1):
        store.add_measurement(
            test,
            name="x.value",
            value=float(n),
            unit="V",
            low=0.0,
            high=1e9,
            marginal=1.0,
            verdict="pass",
            clause="X-01",
            source="E",
        )
        print(f"taken {n}", flush=True)
    store.end_test(test, "passed", 0.1)
    store.end_run(run, "pass")


if __name__ == "__main__":
    main()
