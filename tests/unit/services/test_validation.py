"""Order request validation: every bad field named, nothing ambiguous accepted."""
from __future__ import annotations

import pytest

from platform_services.common.app import ApiError
from platform_services.common.validation import parse_idempotency_key, parse_order


def test_lines_of_the_same_sku_merge_and_fingerprint_ignores_order():
    a = parse_order({"lines": [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2},
                               {"sku": "B", "quantity": 3}]})
    b = parse_order({"lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 4}]})
    assert a.lines == [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 4}]
    assert a.total_quantity == 6 and a.fingerprint == b.fingerprint


@pytest.mark.parametrize("data, field", [
    ({}, "lines"),
    ({"lines": []}, "lines"),
    ({"lines": "SKU-1"}, "lines"),
    ({"lines": [{"sku": "SKU-1", "quantity": 0}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "SKU-1", "quantity": -1}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "SKU-1", "quantity": True}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "SKU-1", "quantity": 1.5}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "SKU-1", "quantity": 10_001}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "../etc", "quantity": 1}]}, "lines[0].sku"),
    ({"lines": [{"sku": "", "quantity": 1}]}, "lines[0].sku"),
    ({"lines": ["SKU-1"]}, "lines[0]"),
    ({"lines": [{"sku": "A", "quantity": 1}], "customer_ref": ""}, "customer_ref"),
    ({"lines": [{"sku": "A", "quantity": 1}], "discount": 5}, "discount"),
])
def test_invalid_orders_name_the_field(data, field):
    with pytest.raises(ApiError) as caught:
        parse_order(data)
    assert caught.value.status == 422 and field in caught.value.fields


@pytest.mark.parametrize("value, ok", [(None, True), ("abc-123:x.y_z", True), ("", False),
                                       ("has space", False), ("x" * 101, False)])
def test_idempotency_key_format(value, ok):
    if ok:
        assert parse_idempotency_key(value) == value
    else:
        with pytest.raises(ApiError):
            parse_idempotency_key(value)
