"""The socketcand server with python-can's own socketcand client: TSC1 in, EEC1 out."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator

import can
import pytest

from sim.bench import SimulatedBench
from sim.service import start
from sim.socketcand import frame_text, parse_send
from tests.sim.conftest import TSC1_PERIOD_S, Vcu, instruments, open_driver, power_up, tsc1

EEC1_ID = 0x0CF00400


@pytest.fixture
def remote_bench() -> Iterator[SimulatedBench]:
    bench = start(
        instruments(), {"interface": "socketcand", "host": "127.0.0.1", "port": 0, "channel": "can0"}, {}
    )
    yield bench
    bench.stop()


def next_eec1(bus: can.BusABC) -> can.Message:
    for _ in range(500):
        message = bus.recv(timeout=2.0)
        assert message is not None, "no CAN traffic over socketcand"
        if message.arbitration_id == EEC1_ID:
            return message
    raise AssertionError("no EEC1")


def test_python_can_client_sends_tsc1_and_receives_eec1(
    remote_bench: SimulatedBench, resource_manager
) -> None:
    kwargs = remote_bench.can_kwargs
    assert kwargs["interface"] == "socketcand" and kwargs["host"] == "127.0.0.1" and kwargs["port"] > 0
    # torque needs a charged DC link: the VCU (a socketcand client of its own) keys the BMS on
    vcu = Vcu(kwargs)
    cells, supply = (open_driver(resource_manager, remote_bench, name) for name in ("cellsim", "supply"))
    try:
        power_up(remote_bench, cells, supply, vcu)
        with can.Bus(**kwargs) as bus:
            first = next_eec1(bus)
            assert first.is_extended_id and len(first.data) == 8
            # 10 % torque, repeated every 10 ms as the drive's command timeout wants it
            task = bus.send_periodic(tsc1(100.0), TSC1_PERIOD_S)
            try:
                for _ in range(100):
                    if next_eec1(bus).data[2] == 135:
                        break
                else:
                    raise AssertionError("EEC1 never reported the requested 10 % torque")
            finally:
                task.stop()
    finally:
        vcu.close()
        cells.close()
        supply.close()
    assert remote_bench.plant.torque_request_nm == pytest.approx(100.0)


def test_two_clients_see_each_other(remote_bench: SimulatedBench) -> None:
    with can.Bus(**remote_bench.can_kwargs) as first, can.Bus(**remote_bench.can_kwargs) as second:
        first.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=[1, 2, 3]))
        for _ in range(500):
            message = second.recv(timeout=2.0)
            assert message is not None
            if message.arbitration_id == 0x123:
                break
        assert not message.is_extended_id and bytes(message.data) == b"\x01\x02\x03"


def test_wire_format() -> None:
    message = can.Message(arbitration_id=0x0CF00400, data=[0xF0, 0x7D, 0x91], timestamp=12.5)
    assert frame_text(message) == "< frame 0CF00400 12.500000 F07D91 >"
    parsed = parse_send("< send 0C000027 3 a 0 ff >")
    assert (
        parsed.is_extended_id
        and parsed.arbitration_id == 0x0C000027
        and bytes(parsed.data) == b"\x0a\x00\xff"
    )


def test_a_frame_crosses_without_waiting_for_an_acknowledgement() -> None:
    """python-can's client leaves Nagle's algorithm on: unless the server acknowledges each read at
    once, a frame sent every 5 ms waits for the acknowledgement of the one before (~3 ms, median)."""
    probe, frames = 0x7F0, 200
    bench = start(instruments(), {"interface": "socketcand", "port": 0}, {"process": True})
    sent: dict[int, float] = {}
    latencies: list[float] = []
    try:
        with can.Bus(**bench.can_kwargs) as sender, can.Bus(**bench.can_kwargs) as receiver:

            def receive() -> None:
                while len(latencies) < frames and (message := receiver.recv(timeout=2.0)) is not None:
                    if message.arbitration_id == probe:
                        latencies.append(time.perf_counter() - sent[message.data[0]])

            reader = threading.Thread(target=receive)
            reader.start()
            # the server holds frames back for a moment after a handshake, none of them timed
            time.sleep(0.2)
            for number in range(frames):
                sent[number % 256] = time.perf_counter()
                sender.send(can.Message(arbitration_id=probe, is_extended_id=False, data=[number % 256]))
                time.sleep(0.005)
            reader.join()
    finally:
        bench.stop()
    assert len(latencies) == frames
    assert statistics.median(latencies) < 0.0015, sorted(latencies)[:: frames // 10]
