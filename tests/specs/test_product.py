"""The product's design figures, identity and DTC table: the shipped file loads; bad entries name file
and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.product import load_product
from hil.specs import SpecError

ROOT = Path(__file__).resolve().parents[2]
FIGURE = "product:\n  x: {value: 1, unit: V, source: E, doc: d}\n"


def test_shipped_product_has_the_identity_and_dtcs_diagnostics_expect():
    product = load_product(ROOT / "specs")
    assert len(product.identity("eol_vin")) == 17
    assert product.identity("part_number") and product.identity("software_version")
    trip = product.dtc("cell_undervoltage")
    assert (trip.spn > 0xFFFF, trip.lamp) == (True, "red")
    assert product.dtc("command_timeout").lamp == "amber"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("identity:\n  vin: {value: 17, source: E, doc: d}\n", "identity.vin.value", "string"),
        ("identity:\n  vin: {value: V, source: E}\n", "identity.vin.doc", "required"),
        ("dtcs:\n  f: {spn: 524288, fmi: 1, lamp: red, source: E, doc: d}\n", "dtcs.f.spn", "less than"),
        ("dtcs:\n  f: {spn: 1, fmi: 32, lamp: red, source: E, doc: d}\n", "dtcs.f.fmi", "less than"),
        ("dtcs:\n  f: {spn: 1, fmi: 1, lamp: blue, source: E, doc: d}\n", "dtcs.f.lamp", "amber"),
        ("dtc:\n  f: {spn: 1, fmi: 1, lamp: red, source: E, doc: d}\n", "dtc", "unknown section"),
    ],
)
def test_bad_entries_name_file_and_field(tmp_path, body, field, message):
    (tmp_path / "product.yaml").write_text(FIGURE + body)
    with pytest.raises(SpecError) as caught:
        load_product(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'product.yaml'}: {field}: ")
    assert message in str(caught.value)


def test_asking_for_what_the_product_does_not_say_names_what_it_does(tmp_path):
    (tmp_path / "product.yaml").write_text(FIGURE)
    product = load_product(tmp_path)
    with pytest.raises(SpecError, match=r"identity\.serial: missing; known: none"):
        product.identity("serial")
    with pytest.raises(SpecError, match=r"dtcs\.overspeed: missing"):
        product.dtc("overspeed")
    with pytest.raises(SpecError, match=r"gear_ratio_1: missing: the product names no gears"):
        product.gear_of_ratio(1.3)


def test_a_gear_is_told_by_its_nearest_ratio():
    product = load_product(ROOT / "specs")
    assert product.gear_ratios() == {1: 1.65, 2: 1.28, 3: 1.0}
    # ratios as the TCU measures them: between two gears, the nearer wins
    assert [product.gear_of_ratio(r) for r in (1.70, 1.47, 1.45, 1.2, 0.9)] == [1, 1, 2, 2, 3]
