"""Drivers come from installed packages' entry points (group ``hil.instruments``): a bench file can
name a driver another package registers. The package here is a real distribution as
importlib.metadata finds one (a ``*.dist-info`` directory on ``sys.path``), not a mock."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from hil.config import load_bench
from hil.errors import BenchConfigError
from instruments import registry
from instruments.errors import DriverEntryPointError
from instruments.registry import BROKEN, DRIVERS, GROUP, driver_class

ROOT = Path(__file__).resolve().parents[2]

LAB_MODULE = '''
from instruments.dyno import DSP7000


class LabDyno(DSP7000):
    """The lab's DSP7000 behind its own dyno drive."""

    driver = "lab.dyno"


class RawDyno(DSP7000):
    driver = "lab.raw"

    def send(self, command):  # a free command string: the dyno kind declares no such thing
        self.write(command)


class OtherName(DSP7000):
    driver = "lab.other"
'''

LAB_ENTRY_POINTS = f"""[{GROUP}]
lab.dyno = lab_drivers:LabDyno
lab.raw = lab_drivers:RawDyno
lab.renamed = lab_drivers:OtherName
lab.missing = lab_drivers:Nowhere
"""


def _install(site: Path, package: str, module: str, source: str, entry_points_txt: str) -> None:
    """``package`` 0.1 as installed: its module and its ``*.dist-info`` directory in ``site``."""
    info = site / f"{package.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    metadata = f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n"
    (info / "METADATA").write_text(metadata, encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points_txt, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on ``sys.path`` to install packages into; the registry as it was afterwards."""
    directory = tmp_path / "site"
    directory.mkdir()
    saved = dict(DRIVERS), dict(BROKEN), set(registry._loaded), set(sys.modules)
    monkeypatch.syspath_prepend(str(directory))
    yield directory
    DRIVERS.clear()
    DRIVERS.update(saved[0])
    BROKEN.clear()
    BROKEN.update(saved[1])
    registry._loaded.clear()
    registry._loaded.update(saved[2])
    for module in set(sys.modules) - saved[3]:
        del sys.modules[module]


@pytest.fixture
def lab_package(site: Path) -> Path:
    """The package ``lab-drivers`` installed."""
    _install(site, "lab-drivers", "lab_drivers", LAB_MODULE, LAB_ENTRY_POINTS)
    return site


def _bench_naming(directory: Path, driver: str) -> Path:
    bench = yaml.safe_load((ROOT / "benches" / "lab-example.yaml").read_text(encoding="utf-8"))
    bench["instruments"]["dyno"]["driver"] = driver
    path = directory / f"{driver}.yaml"
    path.write_text(yaml.safe_dump(bench, sort_keys=False), encoding="utf-8")
    return path


def test_the_projects_own_drivers_come_through_the_entry_point_group() -> None:
    own = {e.name: e.load() for e in entry_points(group=GROUP) if e.dist is not None and e.dist.name == "hil"}
    assert set(own) >= {"itech.it6000c", "chroma.87001", "chroma.63200", "magtrol.dsp7000"}
    assert set(own) >= {"yokogawa.wt5000", "iet.prs202", "keysight.34980a"}
    assert all(DRIVERS[name] is driver for name, driver in own.items())


def test_a_bench_file_names_a_driver_another_package_registers(lab_package: Path) -> None:
    config = load_bench(_bench_naming(lab_package.parent, "lab.dyno"))
    driver = config.instruments["dyno"].driver_class
    assert (driver.__module__, driver.__name__, driver.kind) == ("lab_drivers", "LabDyno", "dyno")
    assert driver_class("lab.dyno") is driver


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("lab.raw", r"lab_drivers\.RawDyno refused: RawDyno\.send is a public method Dynamometer does not"),
        ("lab.renamed", r"whose driver name is 'lab\.other', not 'lab\.renamed'"),
        ("lab.missing", r"AttributeError: .*Nowhere"),
    ],
)
def test_a_broken_entry_point_is_refused_naming_package_and_entry_point(
    lab_package: Path, name: str, reason: str
) -> None:
    bench = _bench_naming(lab_package.parent, name)
    with pytest.raises(BenchConfigError) as raised:
        load_bench(bench)
    message = str(raised.value)
    assert message.startswith(f"{bench}: instruments.dyno.driver: driver {name!r} of package 'lab-drivers' ")
    entry = next(e for e in entry_points(group=GROUP) if e.name == name)
    assert f"(entry point {GROUP}: {name} = {entry.value})" in message
    assert re.search(reason, message), message
    with pytest.raises(DriverEntryPointError):
        driver_class(name)


def test_a_broken_package_leaves_the_other_drivers_usable(lab_package: Path) -> None:
    registry.load_entry_points()
    assert {"lab.raw", "lab.renamed", "lab.missing"} <= set(BROKEN)
    assert "lab.dyno" in DRIVERS
    load_bench(ROOT / "benches" / "lab-example.yaml")


def test_two_packages_declaring_one_driver_name_is_an_error_not_a_choice(site: Path) -> None:
    source = "from instruments.dyno import DSP7000\nclass Impostor(DSP7000):\n    driver = 'magtrol.dsp7000'"
    declared = f"[{GROUP}]\nmagtrol.dsp7000 = impostor:Impostor\n"
    _install(site, "impostor-drivers", "impostor", source, declared)
    with pytest.raises(DriverEntryPointError, match=r"'impostor-drivers'.*is taken by DSP7000"):
        registry.load_entry_points()
        driver_class("magtrol.dsp7000")
