"""Raw-socket resources send each command at once (Nagle's algorithm off), as NI-VISA does."""

from __future__ import annotations

import time

from pyvisa import constants

from instruments.supply import IT6000C


def test_a_command_then_a_query_is_not_held_for_the_peers_delayed_ack(expected_protocol):
    exchanges = [(b"VOLT 550.000\n", None), (b"MEAS:CURR?\n", b"12.5\n")] * 5
    with expected_protocol(IT6000C, exchanges) as supply:
        nodelay = supply._resource.get_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY)
        assert nodelay == constants.VI_TRUE
        slowest = 0.0
        for _ in range(5):
            start = time.perf_counter()
            supply.set_voltage(550)
            assert supply.measure_current() == 12.5
            slowest = max(slowest, time.perf_counter() - start)
    # with Nagle on, the query waits for the ACK of the command, which the peer delays ~40 ms
    assert slowest < 0.02
