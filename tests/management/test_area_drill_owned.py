"""The cells that only their owning area can open (`Area.kpi_drill`): relationship's complaints
decided on time and open past their deadline (the deadline is the area's complaint clock), and
collections' KPI-1 lines (portfolio, team, collector) and cure by bucket — on the hand-built
history (tests/management/conftest.py + area_data.py, plus collectors' contacts and promises
written here), on SQLite and PostgreSQL. Every cell's list sums to the figure the area's own
`kpi_figures` gives (and its denominator to the figure's), in the caller's scope; collections'
lines are whole-book only, as its figures are."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import insert, select, true

from postloan.collections.tables import contacts, promises
from postloan.errors import RefusedError
from postloan.management import area_drill
from postloan.policy.loader import default_policy
from postloan.relationship.complaints import _calendar
from postloan.relationship.rules.clock import ClockFacts, deadline
from postloan.relationship.tables import complaints
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.management import area_data
from tests.management.conftest import MONTH_ENDS, History
from tests.management.test_area_figures import _pack
from tests.management.test_pages import app, as_user  # noqa: F401

COLLECTIONS = ("collections_recovery_rate", "collections_reduction_rate",
               "collections_cost_ratio", "collections_promise_kept_rate",
               "collections_contacts_per_case", "collections_cure_rate")  # fmt: skip
COMPLAINTS = ("complaint_on_time_rate", "complaints_breached_open")


def _add_casework(history: History, seed: int = 11) -> None:
    """Contacts by the collectors of area_data (some with a promise, decided kept or broken)
    spread over the history's months."""
    rng = random.Random(seed)
    people = list(area_data.COLLECTORS)
    found, made = [], []
    for k in range(80):
        customer = rng.choice(sorted(history.customers))
        day = date(2026, 1, 2) + timedelta(days=rng.randrange(178))
        found.append({"contact_id": k + 1, "customer_id": customer,
                      "at": datetime.combine(day, time(3), tzinfo=UTC),
                      "channel": rng.choice(["phone", "sms", "visit", "letter"]),
                      "recorded_by": rng.choice(people), "staff": "[]", "outcome": "reached",
                      "jurisdiction": "CN"})  # fmt: skip
        if rng.random() < 0.5:
            decided = day + timedelta(days=rng.randrange(1, 20))
            made.append({"contact_id": k + 1, "customer_id": customer, "amount": 10_000,
                         "made_on": day, "due_on": decided,
                         "status": rng.choice(["kept", "broken", "pending"]),
                         "decided_on": decided})  # fmt: skip
    engine = engine_for(history.url)
    with engine.begin() as conn:
        conn.execute(insert(contacts), found)
        conn.execute(insert(promises), made)
    engine.dispose()


@pytest.fixture
def worked(history: History) -> History:
    area_data.add(history)
    _add_casework(history)
    return history


def _drill(history: History, cell: dict[str, Any], scope: Any) -> dict[str, Any]:
    engine = engine_for(history.url)
    with engine.connect() as conn:
        found = area_drill.drill(
            conn, default_policy(),
            (cell["as_of"], cell["kpi"], cell["dimension"], cell["value"]), scope,
        )  # fmt: skip
    engine.dispose()
    return found


def test_collections_lines_and_cure_list_rows_that_sum_to_the_figures(worked: History) -> None:
    built = _pack(worked)
    cells = list(
        built.area_figures.filter(pl.col("kpi").is_in(list(COLLECTIONS))).iter_rows(named=True)
    )
    assert {c["kpi"] for c in cells} == set(COLLECTIONS)
    assert {c["dimension"] for c in cells} == {"portfolio", "team", "collector", "bucket"}
    nonzero: dict[str, int] = dict.fromkeys(COLLECTIONS, 0)
    for cell in cells:
        found = _drill(worked, cell, true())
        assert found["area"] == "collections"
        assert found["definition_version"] == built.area_definitions[cell["kpi"]]["version"]
        assert found["numerator"] == sum(r["counted"] for r in found["rows"])
        assert found["numerator"] == cell["numerator"], cell
        assert found["denominator"] == cell["denominator"], cell
        assert all("name" not in r and "mobile" not in r for r in found["rows"])
        assert set(found["columns"]) == set(found["rows"][0]) if found["rows"] else True
        nonzero[cell["kpi"]] += bool(found["numerator"])
    # Every KPI has cells with something behind them (no vacuous sums).
    assert all(nonzero.values()), nonzero
    # A collector's line lists only what is attributed to them.
    line = next(c for c in cells if c["dimension"] == "collector"
                and c["kpi"] == "collections_promise_kept_rate" and c["numerator"])  # fmt: skip
    assert {r["by"] for r in _drill(worked, line, true())["rows"]} == {line["value"]}


def test_collections_cells_are_whole_book_and_breakdowns_checked(worked: History) -> None:
    cell = {"as_of": MONTH_ENDS[-1], "kpi": "collections_recovery_rate",
            "dimension": "portfolio", "value": "all"}  # fmt: skip
    with pytest.raises(RefusedError, match="whole-book"):
        _drill(worked, cell, customers.c.branch_id == "B1")
    with pytest.raises(Exception, match="breaks down by bucket"):
        _drill(worked, {**cell, "kpi": "collections_cure_rate"}, true())
    with pytest.raises(Exception, match="not 'bucket'"):
        _drill(worked, {**cell, "dimension": "bucket", "value": "M1"}, true())


@pytest.mark.parametrize("scoped", [False, True])
def test_complaints_on_time_and_past_deadline_sum_to_the_figures(
    worked: History, scoped: bool
) -> None:
    scope = customers.c.branch_id == "B2" if scoped else true()
    built = _pack(worked, scope if scoped else None)
    cells = list(
        built.area_figures.filter(pl.col("kpi").is_in(list(COMPLAINTS))).iter_rows(named=True)
    )
    policy = default_policy()
    clock, cal = policy.relationship.complaints.clock, _calendar(policy)
    nonzero = dict.fromkeys(COMPLAINTS, 0)
    engine = engine_for(worked.url)
    with engine.connect() as conn:
        complex_ = dict(conn.execute(select(complaints.c.complaint_id,
                                            complaints.c.complex)).all())  # fmt: skip
        in_b2 = set(conn.execute(select(customers.c.customer_id)
                                 .where(customers.c.branch_id == "B2")).scalars())  # fmt: skip
    engine.dispose()
    for cell in cells:
        found = _drill(worked, cell, scope)
        assert found["area"] == "relationship" and found["unit"] == "complaints"
        assert found["numerator"] == cell["numerator"], cell
        if cell["kpi"] == "complaint_on_time_rate":
            assert found["denominator"] == len(found["rows"]) == cell["denominator"]
        if cell["dimension"] == "branch":
            assert {r["branch"] for r in found["rows"]} <= {cell["value"]}
        if scoped:
            assert {r["customer_id"] for r in found["rows"]} <= in_b2
        for r in found["rows"]:
            # The deadline shown is the area's clock for that complaint, and what it counts
            # follows from it.
            received = date.fromisoformat(r["received_on"])
            decided = None if r["decided_on"] is None else date.fromisoformat(r["decided_on"])
            facts = ClockFacts(received_on=received, complex=bool(complex_[r["complaint_id"]]),
                               extension_approved_by=None, extension_notice_on=None,
                               decided_on=decided)  # fmt: skip
            due = deadline(facts, clock, cal)
            assert r["deadline"] == due.isoformat()
            if cell["kpi"] == "complaint_on_time_rate":
                assert r["counted"] == int(decided is not None and decided <= due)
            else:
                assert r["counted"] == 1 and due < cell["as_of"]
                assert decided is None or decided > cell["as_of"]
        nonzero[cell["kpi"]] += bool(found["numerator"])
    assert all(nonzero.values()), nonzero


def test_api_and_page_open_a_collections_line_and_a_breached_count(
    worked: History,
    as_user: Any,  # noqa: F811
) -> None:
    built = _pack(worked)
    cell = next(
        c for c in built.area_figures.iter_rows(named=True)
        if c["kpi"] == "collections_recovery_rate" and c["dimension"] == "team"
        and c["numerator"]
    )  # fmt: skip
    query = (f"as_of={cell['as_of']}&kpi={cell['kpi']}&dimension=team"
             f"&value={cell['value']}")  # fmt: skip
    boss = as_user("boss")
    api = boss.get(f"/api/management/drill/area?{query}")
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["area"] == "collections" and body["unit"] == "accounts"
    assert body["numerator"] == cell["numerator"] and body["denominator"] == cell["denominator"]
    assert "opening" in body["amounts"] and body["columns"][-1] == "counted"
    boss.get("/lang/en")
    page = boss.get(f"/management/drill/area?{query}")
    assert page.status_code == 200, page.text
    assert f'<span id="drill-numerator">{int(cell["numerator"])}</span>' in page.text
    assert "Accounts: <span" in page.text and "<th>opening</th>" in page.text
    # A branch's complaints open past their deadline, on the page, listed with their deadline.
    late = next(
        c for c in built.area_figures.iter_rows(named=True)
        if c["kpi"] == "complaints_breached_open" and c["dimension"] == "branch"
        and c["numerator"]
    )  # fmt: skip
    page = boss.get(f"/management/drill/area?as_of={late['as_of']}&kpi={late['kpi']}"
                    f"&dimension=branch&value={late['value']}")  # fmt: skip
    assert page.status_code == 200, page.text
    assert f'<span id="drill-numerator">{int(late["numerator"])}</span>' in page.text
    assert "<th>deadline</th>" in page.text
    # The collections dashboard links its whole-book figures to their rows.
    dashboard = boss.get("/management?from=2026-01-01&to=2026-06-30&view=collections")
    assert "kpi=collections_recovery_rate" in dashboard.text
    # A branch supervisor holds management.drill but sees no collections line.
    refused = as_user("super").get(f"/api/management/drill/area?{query}")
    assert refused.status_code == 403 and "whole-book" in refused.text
