"""Issue 10, defect 9 on the workbench: the forms and URLs take the same validated dates,
amounts and ids as the API (`postloan.inputs`), so bad input is a page naming the field (or
404 for an id that cannot exist), never a 500. The store and users are those of
`test_collections_pages` (SQLite; PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set)."""

# ruff: noqa: F811 — the fixtures imported below are requested by name as test parameters.
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.web.test_collections_pages import (  # noqa: F401  (fixtures)
    AS_OF,
    CollStore,
    _token,
    app,
    coll,
)

HUGE_ID = "99999999999999999999"  # beyond 64 bits
BAD_AMOUNTS = ("99999999999999999999.99", "1e5", "１２３", "92233720368547758.07")


def test_a_run_row_beyond_64_bits_is_not_found(as_user: Any) -> None:
    boss = as_user("boss")
    assert boss.get("/runs/1/row").status_code == 200
    assert boss.get(f"/runs/{HUGE_ID}/row").status_code == 404
    assert boss.get("/runs/１/row").status_code == 404  # full-width digits are not an id


def test_record_ids_beyond_64_bits_are_not_found(as_user: Any, coll: CollStore) -> None:
    customer = coll.loan_customers[0]
    sup = as_user("sup")
    token = _token(sup, f"/cases/{customer}")
    approve = f"/cases/{customer}/agreements/{HUGE_ID}/approve"
    assert sup.post(approve, data={"csrf_token": token}).status_code == 404
    legal = as_user("legal")
    legal_token = _token(legal, "/legal")
    advance = f"/legal/matters/{HUGE_ID}/advance"
    assert legal.post(advance, data={"to": "lawsuit", "csrf_token": legal_token}).status_code == 404


@pytest.mark.parametrize(("name", "value"), [("to", "0001-01-01"), ("from", "0001-01-01"),
                                             ("to", "9999-12-31")])  # fmt: skip
def test_kpi_period_out_of_range(as_user: Any, name: str, value: str) -> None:
    page = as_user("boss").get("/kpis", params={name: value})
    assert page.status_code == 422
    assert f"{name}: {value} is outside" in page.text


def _contact(at: str, **kw: str) -> dict[str, str]:
    return {"channel": "phone", "at": at, "outcome": "connected", **kw}


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_contact_time_out_of_range(as_user: Any, coll: CollStore, at: str) -> None:
    customer = coll.loan_customers[0]
    client = as_user("coll1")
    token = _token(client, f"/cases/{customer}")
    check = client.post(f"/cases/{customer}/contacts/check", data=_contact(at),
                        headers={"HX-Request": "true", "X-CSRF-Token": token})  # fmt: skip
    assert check.status_code == 200 and "at: " in check.text and "is outside" in check.text
    saved = client.post(f"/cases/{customer}/contacts", data={**_contact(at), "csrf_token": token})
    assert saved.status_code == 422 and 'data-field="at"' in saved.text


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_promise_amount_must_be_a_plain_decimal(as_user: Any, coll: CollStore, amount: str) -> None:
    customer = coll.loan_customers[0]
    client = as_user("coll1")
    token = _token(client, f"/cases/{customer}")
    form = _contact(f"{AS_OF}T10:00", outcome="promise_to_pay", promise_amount=amount,
                    promise_date=(AS_OF + timedelta(days=7)).isoformat())  # fmt: skip
    saved = client.post(f"/cases/{customer}/contacts", data={**form, "csrf_token": token})
    assert saved.status_code == 422 and 'data-field="promise_amount"' in saved.text
