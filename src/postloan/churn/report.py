"""The churn KPIs of a period over the customers in a scope (`rules.kpis` for the figures and
their 口径), and their JSON form — shared by `postloan report churn` and the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, true

from postloan.churn import read
from postloan.churn.rules.frames import RULES
from postloan.churn.rules.kpis import ChurnKpis, churn_kpis, month_ends
from postloan.errors import InvalidError
from postloan.money import format_amount

MAX_DAYS = 3 * 366  # a report spans at most three years (bounded work per request)


def churn_report(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool] | None = None
) -> ChurnKpis:
    if start > end:
        raise InvalidError("from: must be on or before to", field="from")
    if (end - start).days > MAX_DAYS:
        raise InvalidError(f"to: a report spans at most {MAX_DAYS} days", field="to")
    where = true() if scope is None else scope
    snapshots = month_ends(read.churn_dates_between(conn, start, end))
    return churn_kpis(
        start,
        end,
        snapshots,
        read.kpi_identified(conn, snapshots, where),
        read.kpi_base(conn, snapshots, where),
        read.kpi_episodes(conn, start, end, where),
    )


_AMOUNTS = ("outstanding", *(f"{k}_balance" for k in (*RULES, "any")))


def as_json(kpis: ChurnKpis, win_back: dict[str, Any] | None = None) -> dict[str, Any]:
    """Amounts as 2-decimal strings, dates ISO; rates as fractions (null: no base). `win_back`:
    `churn.evaluation.win_back_rates` of the period (treated vs holdout)."""
    rates = [
        {k: (format_amount(int(v)) if k in _AMOUNTS and v is not None else
             v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
        for row in kpis.rates.iter_rows(named=True)
    ]  # fmt: skip
    return {
        "date_from": kpis.date_from.isoformat(),
        "date_to": kpis.date_to.isoformat(),
        "rates": rates,
        "flows": list(kpis.flows.iter_rows(named=True)),
        "win_back_rate": (win_back or {}).get("win_back_rate", kpis.win_back_rate),
        "win_back": win_back,
        "notes": {
            "rates": "per month on its last churn date; base = customers with an account "
            "opened by then, balance base = outstanding principal of open accounts; branch "
            "'*' is all branches",
            "win_back_rate": "exits in the period whose exit was a win-back (re-applied, new "
            "account, resumed) over all exits; `win_back` splits it by arm: treated episodes "
            "(got the measures) and the random holdout (none); null: no exit",
        },
    }
