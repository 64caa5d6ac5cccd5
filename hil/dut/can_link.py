"""One CAN channel shared by every DUT client: a python-can bus and a notifier that fans frames out.

A real interface (PCAN, Kvaser) usually allows one handle per channel, so the J1939 client and
the UDS (ISO-TP) client listen on the same bus through one ``can.Notifier`` rather than each
opening the channel.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import can

# The notifier's reader wakes this often to notice stop(); short so that teardown is quick.
_NOTIFIER_POLL_S = 0.02


class CanLink:
    """A bus opened from the bench config's keyword arguments, with a notifier on it."""

    def __init__(self, **bus_kwargs: Any) -> None:
        if "interface" not in bus_kwargs:
            raise ValueError(
                f"CanLink: bus_kwargs need an 'interface' (e.g. 'virtual', 'pcan'); got {bus_kwargs}"
            )
        self.bus: can.BusABC = can.Bus(**bus_kwargs)
        self.notifier = can.Notifier(self.bus, [], timeout=_NOTIFIER_POLL_S)

    def close(self) -> None:
        self.notifier.stop()
        self.bus.shutdown()

    def __enter__(self) -> CanLink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
