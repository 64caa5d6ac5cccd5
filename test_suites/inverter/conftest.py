"""Fixtures the inverter scenarios share."""

from __future__ import annotations

import pytest

from hil.dut.monitor import CanMonitor
from hil.product import Product

from .driveline import Driveline


@pytest.fixture
def driveline(product: Product, can_monitor: CanMonitor) -> Driveline:
    return Driveline(product, can_monitor)
