"""Drill-down of the other areas' figures in the pack (`management.area_drill`) on the
hand-built history with churn, complaints and survey answers (tests/management/area_data.py),
on SQLite and PostgreSQL: every drillable cell's rows add up to the area's own figure (count,
balance, CSAT's numerator and answers, NPS as the mean of ±1), in the caller's scope; the
definition version named is the area's; unknown figures and breakdowns are refused naming
why; the API and the page are audited, and only roles with `management.drill` get them."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select, true

from postloan.access.tables import audit_log
from postloan.errors import InvalidError, NotFoundError
from postloan.management import area_drill
from postloan.policy.loader import default_policy
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.management.test_area_figures import _pack, loaded  # noqa: F401
from tests.management.test_pages import app, as_user  # noqa: F401

DRILLED = ("churn_", "complaints_received", "csat", "nps")


def _drillable_cells(built: Any) -> list[dict[str, Any]]:
    rows = built.area_figures.filter(
        pl.col("kpi").str.starts_with("churn_") | pl.col("kpi").is_in(list(DRILLED[1:]))
    )
    return list(rows.iter_rows(named=True))


def _check(found: dict[str, Any], cell: dict[str, Any]) -> None:
    rows = found["rows"]
    assert found["numerator"] == sum(r["counted"] for r in rows)
    if cell["kpi"] == "nps":
        assert found["denominator"] == len(rows) == cell["denominator"]
        assert math.isclose(found["numerator"] / len(rows), cell["ratio"], abs_tol=1e-12)
    else:
        assert found["numerator"] == cell["numerator"], cell
    if cell["kpi"] == "csat":
        assert found["denominator"] == len(rows) == cell["denominator"]
    if cell["dimension"] == "branch":
        assert {r["branch"] for r in rows} <= {cell["value"]}


def test_every_drillable_area_cell_lists_rows_that_sum_to_it(loaded: Any) -> None:  # noqa: F811
    history, _ = loaded
    built = _pack(history)
    cells = _drillable_cells(built)
    kinds = {c["kpi"] for c in cells}
    assert {"churn_any_customers", "churn_inactive_balance", "complaints_received", "csat",
            "nps"} <= kinds  # fmt: skip
    nonzero = 0
    engine = engine_for(history.url)
    with engine.connect() as conn:
        for cell in cells:
            found = area_drill.drill(
                conn,
                default_policy(),
                (cell["as_of"], cell["kpi"], cell["dimension"], cell["value"]),
                true(),
            )
            _check(found, cell)
            assert found["definition_version"] == built.area_definitions[cell["kpi"]]["version"]
            assert found["area"] == built.area_definitions[cell["kpi"]]["area"]
            nonzero += bool(found["rows"])
    engine.dispose()
    assert nonzero > len(cells) // 2  # the history gives most cells rows to list


def test_a_branch_scope_lists_its_branch_only(loaded: Any) -> None:  # noqa: F811
    history, _ = loaded
    scope = customers.c.branch_id == "B2"
    built = _pack(history, scope)
    engine = engine_for(history.url)
    with engine.connect() as conn:
        for cell in _drillable_cells(built):
            if cell["dimension"] != "portfolio":
                continue
            found = area_drill.drill(
                conn, default_policy(), (cell["as_of"], cell["kpi"], "portfolio", "all"), scope
            )
            _check(found, cell)
            owners = {r["customer_id"] for r in found["rows"]}
            branches = set(
                conn.execute(
                    select(customers.c.branch_id).where(customers.c.customer_id.in_(owners))
                ).scalars()
            )
            assert branches <= {"B2"}
    engine.dispose()


def test_unknown_cells_and_breakdowns_are_refused_naming_why(loaded: Any) -> None:  # noqa: F811
    history, _ = loaded
    engine = engine_for(history.url)
    day = date(2026, 6, 30)
    with engine.connect() as conn:
        for kpi in ("no_such", "churn_no_such_customers"):
            with pytest.raises(NotFoundError):
                area_drill.drill(conn, default_policy(), (day, kpi, "portfolio", "all"), true())
        with pytest.raises(InvalidError, match="branch only"):
            area_drill.drill(conn, default_policy(), (day, "csat", "collector", "x"), true())
        with pytest.raises(InvalidError, match="break down by"):
            area_drill.drill(conn, default_policy(), (day, "nps", "product", "x"), true())
    engine.dispose()
    # Every area that gives figures opens them (`Area.kpi_drill`); management gives none.
    assert all(area_drill.drillable(a) for a in ("churn", "relationship", "collections"))
    assert not area_drill.drillable("management")


def test_api_and_page_are_audited_scoped_and_refused_without_the_action(
    loaded: Any,  # noqa: F811
    as_user: Any,  # noqa: F811
) -> None:
    history, _ = loaded
    built = _pack(history)
    cell = next(
        c for c in _drillable_cells(built)
        if c["kpi"] == "churn_any_balance" and c["dimension"] == "branch" and c["numerator"]
    )  # fmt: skip
    query = f"as_of={cell['as_of']}&kpi={cell['kpi']}&dimension=branch&value={cell['value']}"
    boss = as_user("boss")
    api = boss.get(f"/api/management/drill/area?{query}")
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["numerator"] == cell["numerator"] and body["unit"] == "customers"
    assert all("name" not in r and "id_number" not in r for r in body["rows"])
    boss.get("/lang/en")
    page = boss.get(f"/management/drill/area?{query}")
    assert page.status_code == 200, page.text
    assert f'<span id="drill-numerator">{int(cell["numerator"])}</span>' in page.text
    dashboard = boss.get("/management?from=2026-01-01&to=2026-06-30&view=retention")
    assert 'class="area-drill" href="/management/drill/area?as_of=2026-06-30' in dashboard.text
    bad = boss.get("/management/drill/area?as_of=2026-06-30&kpi=csat&dimension=team")
    assert bad.status_code == 422 and "branch only" in bad.text
    engine = engine_for(history.url)
    with engine.connect() as conn:
        targets = conn.execute(
            select(audit_log.c.target_id).where(audit_log.c.action == "management.drill")
        ).scalars().all()  # fmt: skip
    engine.dispose()
    wanted = f"{cell['as_of']}/{cell['kpi']}/branch={cell['value']}"
    assert targets.count(wanted) == 2  # the API's and the page's
    # A branch supervisor's list is their branch's; a collector may not drill.
    super_ = as_user("super").get(f"/api/management/drill/area?as_of={cell['as_of']}"
                                  f"&kpi={cell['kpi']}")  # fmt: skip
    assert super_.status_code == 200
    assert {r["branch"] for r in super_.json()["rows"]} <= {"B1"}
    assert as_user("coll").get(f"/api/management/drill/area?{query}").status_code == 403
