from __future__ import annotations

import pytest

from postloan.access.masking import (
    mask_address,
    mask_card,
    mask_customer,
    mask_id_number,
    mask_mobile,
)
from postloan.access.roles import Role

ID = "11010119900307123X"


def test_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"


def test_id_number_default_and_collector() -> None:
    assert mask_id_number(ID) == "110101********123X"
    assert len(mask_id_number(ID)) == 18
    assert mask_id_number(ID, Role.COLLECTOR) == "110*************3X"
    assert len(mask_id_number(ID, "collector")) == 18
    assert mask_id_number(ID, "legal_officer") == "110101********123X"


def test_card() -> None:
    assert mask_card("6222021234567890123") == "622202*********0123"
    assert mask_card("6222021234567890") == "622202******7890"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市朝阳区建国路88号3单元", "北京市朝阳区****"),
        ("江苏省南京市玄武区中山路5号", "江苏省南京市玄武区****"),
        ("河北省保定市涞水县某某村", "河北省保定市涞水县****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路1号", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("某某路100号院内", "某某路100****"),
        ("短", "短****"),
    ],
)
def test_address(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_short_values_are_fully_masked() -> None:
    assert mask_mobile("12345") == "*****"
    assert mask_id_number("123") == "***"
    assert mask_mobile("") == ""


RECORD = {
    "customer_id": "C1",
    "name": "张三",
    "id_number": ID,
    "phone": "13812345678",
    "address": "北京市朝阳区建国路88号",
    "card_number": "6222021234567890",
    "branch_id": "BR01",
    "monthly_income": 1234500,
}


@pytest.mark.parametrize("role", list(Role))
def test_mask_customer_masks_for_every_role(role: Role) -> None:
    masked = mask_customer(RECORD, role)
    assert masked["phone"] == "138****5678"
    assert masked["address"] == "北京市朝阳区****"
    assert masked["card_number"] == "622202******7890"
    expected_id = "110*************3X" if role == Role.COLLECTOR else "110101********123X"
    assert masked["id_number"] == expected_id
    for key in ("customer_id", "name", "branch_id", "monthly_income"):
        assert masked[key] == RECORD[key]
    assert RECORD["phone"] == "13812345678"  # the input is not modified


def test_mask_customer_keeps_missing_values() -> None:
    masked = mask_customer({"customer_id": "C9", "phone": None, "id_number": None}, "admin")
    assert masked == {"customer_id": "C9", "phone": None, "id_number": None}
