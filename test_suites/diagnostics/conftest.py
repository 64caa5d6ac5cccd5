"""The diagnostics scenarios' fixture: the drive's diagnostics as the bench sees them (diag_support.py)."""

from __future__ import annotations

import pytest
from diag_support import Diagnostics

from hil.dut.j1939 import J1939Client
from hil.dut.vcu import Vcu
from hil.product import Product
from hil.safety import Guarded
from hil.strategy import DriveStrategy


@pytest.fixture
def diagnostics(
    j1939: J1939Client, vcu: Vcu, drive: DriveStrategy, cellsim: Guarded, product: Product
) -> Diagnostics:
    return Diagnostics(
        j1939,
        vcu,
        drive,
        cellsim,
        int(product.value("drive_address", "1")),
        warning=product.dtc("command_timeout"),
        trip=product.dtc("cell_undervoltage"),
    )
