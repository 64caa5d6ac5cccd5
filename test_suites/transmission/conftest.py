"""Fixtures the transmission scenarios share."""

from __future__ import annotations

import pytest

from hil.dut.monitor import CanMonitor
from hil.dut.vcu import Vcu
from hil.product import Product

from .gearbox import Gearbox


@pytest.fixture
def gearbox(product: Product, can_monitor: CanMonitor, vcu: Vcu) -> Gearbox:
    return Gearbox(product, can_monitor, vcu)
