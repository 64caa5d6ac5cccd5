"""The simulated bench in its own process against the same bench in the test's process
(``python -m benchmarks process_bench``).

For each of benches/sim.yaml (own process, CAN over socketcand) and benches/sim-inprocess.yaml
(threads, CAN on python-can's virtual bus): the time ``Bench.open`` takes to have every instrument
connected; the round trip of an instrument query (``MEAS:VOLT?`` to the supply, raw pyvisa); the
time a CAN frame takes from one client of the bench's CAN to another; and UDS over ISO-TP
(ReadDataByIdentifier of the VIN: a first frame, a flow control and consecutive frames): the
request-to-response time against the 50 ms P2server. Connections are warmed up first: a socketcand
server holds frames back for 50 ms after a client's handshake.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

import can
import pyvisa

from hil.bench import Bench
from hil.dut.uds import DID_VIN, make_uds_client

ROOT = Path(__file__).resolve().parents[1]
BENCHES = {
    "own process": ROOT / "benches" / "sim.yaml",
    "in-process": ROOT / "benches" / "sim-inprocess.yaml",
}
PROBE_ID = 0x7F0  # a standard identifier no ECU of the drive system uses
DRIVE = 0x00


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):7.3f}  p99 {p99:7.3f}  max {ordered[-1]:7.3f}"


def _can_latency_ms(bench: Bench, frames: int) -> list[float]:
    sender, receiver = bench.can_bus(), bench.can_bus()
    sent: dict[int, float] = {}
    latencies: list[float] = []
    done = threading.Event()

    def receive() -> None:
        while len(latencies) < frames:
            message = receiver.recv(timeout=2.0)
            if message is None:
                break
            if message.arbitration_id == PROBE_ID and not message.is_extended_id:
                latencies.append((time.perf_counter() - sent[int.from_bytes(message.data, "big")]) * 1e3)
        done.set()

    # a socketcand server holds frames back for a moment after a client's handshake: time none of that
    warm_up = can.Message(arbitration_id=PROBE_ID + 1, is_extended_id=False)
    deadline = time.monotonic() + 5.0
    while not _arrives(sender, receiver, warm_up):
        if time.monotonic() > deadline:
            raise RuntimeError("no frame crosses the bench's CAN")
    reader = threading.Thread(target=receive)
    reader.start()
    for number in range(frames):
        sent[number] = time.perf_counter()
        sender.send(
            can.Message(arbitration_id=PROBE_ID, is_extended_id=False, data=number.to_bytes(4, "big"))
        )
        time.sleep(0.005)  # one at a time: the latency of a frame, not of a queue
    done.wait(5.0)
    reader.join()
    return latencies


def _arrives(sender: can.BusABC, receiver: can.BusABC, message: can.Message) -> bool:
    sender.send(message)
    while (frame := receiver.recv(timeout=0.1)) is not None:
        if frame.arbitration_id == message.arbitration_id:
            return True
    return False


def _uds_ms(bench: Bench, requests: int) -> list[float]:
    link_bus = bench.can_bus()
    notifier = can.Notifier(link_bus, [], timeout=0.02)
    times: list[float] = []
    try:
        with make_uds_client(link_bus, notifier, DRIVE) as uds:
            uds.read_data_by_identifier(DID_VIN)  # the first answer waits out a socketcand handshake
            for _ in range(requests):
                started = time.perf_counter()
                vin = uds.read_data_by_identifier(DID_VIN).service_data.values[DID_VIN]
                times.append((time.perf_counter() - started) * 1e3)
                assert vin.strip(), "the ECU answered with no VIN"
    finally:
        notifier.stop()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks process_bench")
    parser.add_argument("--starts", type=int, default=5, help="bench openings timed per bench file")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--uds", type=int, default=200, help="UDS requests")
    args = parser.parse_args(argv)
    rm = pyvisa.ResourceManager("@py")
    for label, path in BENCHES.items():
        print(f"-- {label}: {path.relative_to(ROOT)}")
        opens = []
        for _ in range(args.starts):
            started = time.perf_counter()
            bench = Bench.from_file(path).open()
            opens.append(time.perf_counter() - started)
            bench.close()
        print(f"Bench.open, s        {_quantiles(opens)}  ({args.starts} openings)")
        with Bench.from_file(path) as bench:
            supply = rm.open_resource(
                bench.resources["supply"], read_termination="\n", write_termination="\n"
            )
            for _ in range(50):
                supply.query("MEAS:VOLT?")
            query = []
            for _ in range(args.queries):
                started = time.perf_counter()
                supply.query("MEAS:VOLT?")
                query.append((time.perf_counter() - started) * 1e3)
            supply.close()
            print(f"query round trip, ms {_quantiles(query)}  ({args.queries} MEAS:VOLT?)")
            latency = _can_latency_ms(bench, args.frames)
            print(f"CAN frame, ms        {_quantiles(latency)}  ({len(latency)} of {args.frames} frames)")
            uds = _uds_ms(bench, args.uds)
            print(f"UDS 0x22 VIN, ms     {_quantiles(uds)}  ({len(uds)} requests; P2server 50 ms)")


if __name__ == "__main__":
    main()
