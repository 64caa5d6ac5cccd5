"""Bench files, spec files, the product file and unit profiles as someone hostile writes them: each
gives one error naming the file (and the field), never a traceback, never a hang."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hil.cli import main as hil_main
from hil.config import load_bench
from hil.errors import BenchConfigError, HilError
from hil.product import load_product
from hil.specs import SpecError, load_specs
from hil.yamlfile import MAX_BYTES, MAX_DEPTH
from sim.cli import main as sim_main
from sim.parameters import ParameterError
from sim.profile import load_profile
from tests.hostile.conftest import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
GOOD_BENCH = yaml.safe_load((ROOT / "benches" / "sim-inprocess.yaml").read_text(encoding="utf-8"))
GOOD_PRODUCT = (ROOT / "specs" / "product.yaml").read_text(encoding="utf-8")

# what a file can hold that is not the text it should be
HOSTILE_FILES: dict[str, Any] = {
    "binary": b"\x00\xff\xfe\x80garbage",
    "latin-1": "name: caf\u00e9\n".encode("latin-1"),
    "nested 5000 deep": ("[" * 5000 + "]" * 5000).encode(),
    "mappings nested 5000 deep": ("{a: " * 5000 + "1" + "}" * 5000).encode(),
    "an alias bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    ),
    "a list": b"- 1\n- 2\n",
    "seed: [1]": b"seed: [1]\n",
    "a NUL in text": b"name: a\x00b\n",
    "too large": b"#" * (MAX_BYTES + 1),
}


def _hostile_path(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "hostile.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # no writer ever comes: opening it for reading must not wait for one
    else:
        path.write_bytes(HOSTILE_FILES[kind])
    return path


KINDS = ["directory", "fifo", *HOSTILE_FILES]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_bench_file_is_one_error_naming_it(tmp_path, kind) -> None:
    path = _hostile_path(tmp_path, kind)
    with pytest.raises(BenchConfigError) as caught:
        load_bench(path)
    assert str(caught.value).startswith(f"{path}:") and "\n" not in str(caught.value)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_spec_file_is_one_error_naming_it(tmp_path, kind) -> None:
    path = _hostile_path(tmp_path, kind)  # a directory named *.yaml is what the search finds
    with pytest.raises(SpecError) as caught:
        load_specs(tmp_path)
    assert str(caught.value).startswith(f"{path}:")


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_unit_profile_is_one_error_naming_it(tmp_path, kind) -> None:
    path = _hostile_path(tmp_path, kind)
    with pytest.raises(ParameterError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}:")


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["directory", "fifo", "binary", "nested 5000 deep", "an alias bomb"])
def test_a_hostile_product_file_is_one_error_naming_it(tmp_path, kind) -> None:
    path = tmp_path / "product.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(HOSTILE_FILES[kind])
    with pytest.raises(SpecError) as caught:
        load_product(tmp_path)
    assert str(caught.value).startswith(f"{path}:")


def test_nesting_within_the_limit_still_loads(tmp_path) -> None:
    """The depth limit refuses hostile files, not deep-ish honest ones."""
    path = tmp_path / "specs.yaml"
    path.write_text(
        "measurements:\n  m: {unit: V, low: 0, high: 1, clause: c, source: E, description: "
        + "'"
        + "x" * 10
        + "'}\n"
    )
    assert set(load_specs(tmp_path)) == {"m"}
    nested = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)
    path.write_text(f"measurements: {{}}\nproduct: {nested}\n")
    assert load_specs(tmp_path) == {}  # a product file is skipped, and reading it did not fail


def _bench_with(tmp_path: Path, dotted: str, value: Any) -> Path:
    raw = yaml.safe_load(yaml.safe_dump(GOOD_BENCH))
    *parents, last = dotted.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        (
            "envelope.supply.voltage_v",
            [math.nan, 2],
            "envelope.supply.voltage_v.low: Input should be a finite",
        ),
        (
            "envelope.supply.voltage_v",
            [0, math.nan],
            "envelope.supply.voltage_v.high: Input should be a finite",
        ),
        (
            "envelope.dyno.speed_rpm",
            [True, 7500],
            "envelope.dyno.speed_rpm.low: Input should be a valid number",
        ),
        (
            "envelope.supply.voltage_v",
            [0, math.inf],
            "envelope.supply.voltage_v.high: Input should be a finite",
        ),
        (
            "envelope.supply.voltage_v",
            ["0", 790],
            "envelope.supply.voltage_v.low: Input should be a valid number",
        ),
        (
            "envelope.supply.voltage_v",
            [0, 1, 2],
            "envelope.supply.voltage_v: Input should be a valid dictionary",
        ),
        ("envelope.supply.colour", [0, 1], "envelope.supply.colour: itech.it6000c has no quantity 'colour'"),
        (
            "instruments.supply.timeout_ms",
            True,
            "instruments.supply.timeout_ms: Input should be a valid integer",
        ),
        ("instruments.supply.colour", "red", "instruments.supply.colour: unknown field"),
        ("instruments.supply", [1], "instruments.supply: Input should be a valid dictionary"),
        ("seed", [1], "seed: unknown field"),
        ("simulator.options.seed", [1], "simulator.simulated-bench: options.seed: [1] is not an integer"),
        ("simulator.options.colour", "red", "simulator.simulated-bench: options.colour: unknown option"),
    ],
)
def test_a_wrong_value_in_a_bench_file_names_the_field(tmp_path, dotted, value, message) -> None:
    path = _bench_with(tmp_path, dotted, value)
    with pytest.raises(BenchConfigError) as caught:
        from hil.bench import Bench

        Bench.from_file(path).open().close()
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


# any YAML value, including the ones a YAML parser makes of odd scalars
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _leaves(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}{k}.")] + [prefix.rstrip(".")]
    return [prefix.rstrip(".")]


BENCH_PATHS = sorted(p for p in _leaves(GOOD_BENCH) if p)


@HOSTILE
@given(dotted=st.sampled_from(BENCH_PATHS), value=VALUES)
def test_any_value_anywhere_in_a_bench_file_loads_or_names_the_file(tmp_path, dotted, value) -> None:
    path = _bench_with(tmp_path, dotted, value)
    try:
        load_bench(path)
    except BenchConfigError as exc:
        assert str(exc).startswith(f"{path}:")


@HOSTILE
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_a_bench_file_load_or_name_the_file(tmp_path, content) -> None:
    path = tmp_path / "bench.yaml"
    path.write_bytes(content)
    with pytest.raises(BenchConfigError) as caught:
        load_bench(path)
    assert str(caught.value).startswith(f"{path}")


@HOSTILE
@given(
    body=st.dictionaries(
        st.sampled_from(["unit", "low", "high", "marginal", "clause", "source", "x"]), VALUES
    )
)
def test_any_spec_entry_loads_or_names_the_file_and_field(tmp_path, body) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"measurements": {"m": body}}), encoding="utf-8")
    try:
        specs = load_specs(tmp_path)
    except SpecError as exc:
        assert str(exc).startswith(f"{path}: measurements.m")
    else:
        spec = specs["m"]
        assert not (math.isnan(spec.low) or math.isnan(spec.high)) and spec.low <= spec.high


@HOSTILE
@given(section=st.sampled_from(["product", "identity", "dtcs", "serial_number", "other"]), value=VALUES)
def test_any_product_section_loads_or_names_the_file(tmp_path, section, value) -> None:
    raw = yaml.safe_load(GOOD_PRODUCT)
    raw[section] = value
    (tmp_path / "product.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    try:
        load_product(tmp_path)
    except SpecError as exc:
        assert str(exc).startswith(f"{tmp_path / 'product.yaml'}:")


PROFILE_KEYS = [
    "identity",
    "blocks",
    "expected_failures",
    "description",
    "motor",
    "motor.stator_resistance",
    "x",
]


@HOSTILE
@given(overlay=st.dictionaries(st.sampled_from(PROFILE_KEYS) | st.text(max_size=5), VALUES, max_size=4))
def test_any_unit_profile_loads_or_names_the_file(tmp_path, overlay) -> None:
    path = tmp_path / "unit.yaml"
    path.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    try:
        load_profile(path)
    except ParameterError as exc:
        assert str(exc).startswith(f"{path}:")


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ("[1]", "identity: a mapping"),
        ("{vin: SHORT}", "identity.vin: 'SHORT' is not 17 printable ASCII characters"),
        ("{part_number: [a]}", "identity.part_number: ['a'] is not text"),
        ('{software_version: "EDS \\u00e9"}', "identity.software_version:"),
        ("{serial_number: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'}", "identity.serial_number:"),
    ],
)
def test_identity_errors_in_a_profile_name_the_file_and_field(tmp_path, identity, message) -> None:
    path = tmp_path / "unit.yaml"
    path.write_text(f"identity: {identity}\n", encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["directory", "fifo", "binary", "nested 5000 deep", "seed: [1]"])
def test_the_clis_print_one_error_line_for_a_hostile_bench_file(tmp_path, kind) -> None:
    path = _hostile_path(tmp_path, kind)
    checked = CliRunner().invoke(hil_main, ["bench", "check", "--bench", str(path)])
    assert checked.exit_code == 2 and isinstance(checked.exception, SystemExit), checked.output
    assert f"error: {path}" in checked.output and "Traceback" not in checked.output
    served = CliRunner().invoke(sim_main, ["serve", "--bench", str(path)])
    assert served.exit_code == 2 and isinstance(served.exception, SystemExit), served.output
    assert str(path) in served.output and "ready" not in served.output


def test_hil_sim_serve_refuses_a_bench_file_without_instruments(tmp_path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("name: empty\ninstruments: {}\ncan: {interface: socketcand}\n", encoding="utf-8")
    served = CliRunner().invoke(sim_main, ["serve", "--bench", str(path)])
    assert served.exit_code == 2, served.output
    assert "a bench serves at least one" in served.output and "ready" not in served.output


def test_every_error_here_is_a_hil_error_the_cli_prints() -> None:
    assert issubclass(BenchConfigError, HilError) and issubclass(SpecError, HilError)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "motor.stator_resistance=" + "[" * 5000], "nested more than"),
        (["--serial", "EDS\x01200"], "printable ASCII characters"),
        (["--serial", "A" * 17], "printable ASCII characters"),
    ],
)
def test_hil_sim_serve_refuses_a_hostile_option_in_one_line(args, message) -> None:
    served = CliRunner().invoke(
        sim_main, ["serve", "--bench", str(ROOT / "benches" / "sim-remote.yaml"), *args]
    )
    assert served.exit_code in (1, 2) and isinstance(served.exception, SystemExit), served.output
    assert message in served.output and "ready" not in served.output and "Traceback" not in served.output
