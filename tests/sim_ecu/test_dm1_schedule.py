"""The DM1 period runs from when a DM1 went out: one queued behind another's BAM does not bring the
next one early."""

from __future__ import annotations

import itertools

import pytest

from sim.ecu import j1939_frames as f
from sim.ecu.dtc_memory import DtcMemory, Lamp
from sim.ecu.j1939_diag import J1939DiagServer
from tests.sim_ecu.conftest import FakeClock

TICK_S = 0.01


def _announcements(clock: FakeClock, memory: DtcMemory, change_at_s: float, until_s: float) -> list[float]:
    """The times the DM1 announcements (TP.CM) went out, ticking every 10 ms; a third DTC set
    ``change_at_s`` after the first tick, while that tick's DM1 is still in its BAM."""
    sent: list[float] = []

    def send(can_id: int, data: bytes) -> None:
        if f.split_id(can_id)[0] == f.PGN_TP_CM:
            sent.append(clock.now)

    server = J1939DiagServer(memory, send, 0x00, clock=clock, dm1_period_s=1.0)
    start = clock.now
    for k in itertools.count():
        clock.now = start + k * TICK_S
        if clock.now > start + until_s:
            return [t - start for t in sent]
        if k == round(change_at_s / TICK_S):
            memory.report(110, 0, True, lamp=Lamp.RED_STOP)
        server.tick()


def test_a_dm1_queued_behind_a_bam_starts_the_next_period_when_it_goes_out():
    clock = FakeClock()
    memory = DtcMemory(clock=clock)
    memory.report(168, 4, True, lamp=Lamp.AMBER)
    memory.report(100, 1, True, lamp=Lamp.AMBER)  # two DTCs: each DM1 a BAM of two packets
    times = _announcements(clock, memory, change_at_s=0.01, until_s=3.5)
    # the periodic DM1 at 0, the changed one once its two packets are out (50 ms apart), then every 1 s
    assert times[:2] == pytest.approx([0.0, 0.15])
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]
    assert len(gaps) >= 3
    assert gaps == pytest.approx([1.0] * len(gaps), abs=TICK_S + 1e-9)
