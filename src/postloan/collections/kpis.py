"""Collection KPIs (KPI-1) for a period, for the portfolio, each team and each collector.

The period runs from `start` to `end` (business dates). Its *opening* is the last stored status
date before `start` (or `start` itself when none is stored before it), its *closing* the last
stored date up to `end`. The opening overdue pool (逾期存量) is every account overdue at the
opening. Definitions (DOMAIN.md "Metrics"):

- **recovery rate (清收率)** = cash recovered on the pool in the period ÷ the pool's opening
  overdue amount. Cash = payments dated after the opening up to the closing, less reversals of
  them dated in the period; per account at most its opening overdue amount (money paid ahead
  of schedule is not a recovery of the overdue stock);
- **overdue reduction rate (压降率)** = (opening overdue − closing overdue) ÷ opening, over the
  same pool, split per account so write-offs cannot flatter it: an account written off or
  disposed of by the closing leaves the pool — what cash did not recover of it counts as
  `write_off` or `transfer`; otherwise cash explains the reduction first, a restructured
  account's remaining reduction is `restructuring`, anything else `other` (and an account whose
  overdue grew counts negative in `other`);
- **collection cost ratio** = cost ÷ amount recovered (pool cash + recoveries on written-off
  accounts): legal costs incurred in the period plus contacts made × the policy's unit cost;
- **promise-kept rate** = promises decided kept in the period ÷ those decided kept or broken;
- **cure rate by bucket (出催率)** = opening outstanding principal of the accounts in bucket k
  that are current at the closing ÷ opening principal in bucket k;
- **contacts per case** = contacts made in the period ÷ cases open at some time in it.

Attribution: a customer's figures go to the collector who last held them up to the closing
(`reassignments`: allocate/reallocate/reassign give it to `to_user_id`, a release leaves it
with `from_user_id`), their team is the collector's `users.team`; contacts and promises go to
whoever recorded them. Customers no collector held are in the portfolio line only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import ColumnElement, Connection, and_, or_, select

from postloan.access.permissions import scope_for
from postloan.access.scope import customer_scope_clause
from postloan.access.tables import users
from postloan.access.users import User
from postloan.collections.actions import CollectionsAction
from postloan.collections.casework_tables import reassignments
from postloan.collections.disposals import disposals_in_period, recoveries_after_disposal
from postloan.collections.legal_matters import legal_costs_in_period
from postloan.collections.rules.kpis import (
    HOLDER_LOG,
    STATUS,
    cost_rows,
    cure_by_bucket,
    kpi_table,
    last_holders,
    net_cash,
    reduction_pool,
    visible_lines,
)
from postloan.collections.rules.kpis import KPI_COLUMNS as KPI_COLUMNS
from postloan.collections.rules.kpis import REDUCTION_PARTS as REDUCTION_PARTS
from postloan.collections.rules.kpis import account_reduction as account_reduction
from postloan.collections.strategies import strategy_results
from postloan.collections.tables import cases, contacts, promises
from postloan.errors import InvalidError
from postloan.money import parse_amount
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.rows import read_frame
from postloan.store.schema import account_status, payments


class KpiError(InvalidError):
    """The period cannot be reported (no stored status in it, dates reversed); `field` names
    the bound at fault (`to` or `from`). An invalid request: the API answers 422."""


@dataclass(frozen=True)
class CollectionKpis:
    start: date
    end: date
    opening: date
    closing: date
    # One row per level (portfolio | team | collector) and key: see `KPI_COLUMNS`.
    table: pl.DataFrame
    cure_by_bucket: pl.DataFrame  # bucket, opening_principal, cured_principal, cure_rate
    strategies: pl.DataFrame  # collections.strategies.strategy_results


def _period_dates(conn: Connection, start: date, end: date) -> tuple[date, date]:
    if end < start:
        raise KpiError(f"to: {end} is before from ({start})", "to")
    closing = latest_stored_date(conn, on_or_before=end)
    if closing is None or closing < start:
        raise KpiError(
            f"from/to: no stored status between {start} and {end}; run those dates", "from"
        )
    opening = latest_stored_date(conn, before=start)
    return (opening if opening is not None else start), closing


def _status(conn: Connection, day: date) -> pl.DataFrame:
    s = account_status.c
    query = select(s.account_id, s.customer_id, s.outstanding_principal, s.overdue_amount, s.dpd,
                   s.bucket, s.restructured).where(s.as_of == day)  # fmt: skip
    return read_frame(conn, query, STATUS)  # every account: no Row per record


def _cash(conn: Connection, accounts: list[str], after: date, upto: date) -> pl.DataFrame:
    """Net cash per account dated in (after, upto]: payments, less reversals dated in the
    period of payments dated in it."""
    if not accounts:
        return pl.DataFrame(schema={"account_id": pl.String, "cash": pl.Int64})
    p = payments.alias("p")
    r = payments.alias("r")
    query = (
        select(p.c.account_id, p.c.amount, r.c.payment_id.is_not(None))
        .outerjoin(r, and_(r.c.reverses_payment_id == p.c.payment_id, r.c.value_date <= upto))
        .where(p.c.value_date > after, p.c.value_date <= upto, p.c.reverses_payment_id.is_(None),
               p.c.account_id.in_(select(account_status.c.account_id).where(
                   account_status.c.as_of == after, account_status.c.overdue_amount > 0)))
    )  # fmt: skip
    types = {"account_id": pl.String, "amount": pl.Int64, "reversed": pl.Boolean}
    return net_cash(read_frame(conn, query, types))


def _holders(conn: Connection, closing: date) -> pl.DataFrame:
    """customer_id → collector (user id) who last held the customer up to the closing."""
    log = reassignments.c
    end = datetime.combine(closing + timedelta(days=1), time(), tzinfo=ZoneInfo("UTC"))
    rows = conn.execute(
        select(log.customer_id, log.kind, log.from_user_id, log.to_user_id)
        .where(or_(log.business_date <= closing, and_(log.business_date.is_(None), log.at < end)))
        .order_by(log.customer_id, log.at, log.log_id)
    ).all()  # fmt: skip
    return last_holders(pl.DataFrame([tuple(r) for r in rows], schema=HOLDER_LOG, orient="row"))


def _people(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(select(users.c.user_id, users.c.username, users.c.team)).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"user_id": pl.Int64, "collector": pl.String, "team": pl.String},
        orient="row",
    ).with_columns(pl.col("team").fill_null("(no team)"))


def _local_bounds(policy: Policy, opening: date, closing: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(policy.contact.jurisdictions[policy.contact.default_jurisdiction].timezone)
    start = datetime.combine(opening + timedelta(days=1), time(), tzinfo=zone)
    return start, datetime.combine(closing + timedelta(days=1), time(), tzinfo=zone)


@dataclass(frozen=True)
class KpiInputs:
    """What a period's KPIs are summed from (the frames `rules.kpis.kpi_table` and
    `cure_by_bucket` take), kept so a figure can be opened into its rows
    (`pack_drill`) from the very frames it was summed from."""

    opening: date
    closing: date
    by_customer: pl.DataFrame  # the pool's accounts: `account_reduction` + collector, team
    later: pl.DataFrame  # recoveries on written-off accounts with their holder
    costs: pl.DataFrame  # `cost_rows`
    promises: pl.DataFrame  # promise_id, customer_id, status, by
    contacts: pl.DataFrame  # contact_id, customer_id, by
    cases: pl.DataFrame  # the cases open in the period with their holder
    before: pl.DataFrame  # STATUS at the opening
    after: pl.DataFrame  # STATUS at the closing
    disposals: pl.DataFrame  # disposals in the period
    overdue_buckets: list[str]


def kpi_inputs(conn: Connection, start: date, end: date, policy: Policy) -> KpiInputs:
    """The period's frames (module doc for the definitions)."""
    opening, closing = _period_dates(conn, start, end)
    before, after = _status(conn, opening), _status(conn, closing)
    pool = before.filter(pl.col("overdue_amount") > 0)
    disposals = disposals_in_period(conn, opening + timedelta(days=1), closing)
    earlier = disposals_in_period(conn, date(1900, 1, 1), opening)
    pool = pool.join(earlier.select("account_id"), on="account_id", how="anti")  # already gone
    cash = _cash(conn, pool["account_id"].to_list(), opening, closing)
    per_account = account_reduction(reduction_pool(pool, after, cash, disposals))

    holders = _holders(conn, closing).join(_people(conn), on="user_id", how="left")
    by_customer = per_account.join(holders, on="customer_id", how="left")

    costs = _costs(conn, policy, opening, closing)
    later = recoveries_after_disposal(conn, opening + timedelta(days=1), closing)
    later = later.join(holders, on="customer_id", how="left")
    promises_frame = _promises(conn, opening, closing)
    contact_frame, case_frame = _contacts_and_cases(conn, policy, opening, closing, holders)
    return KpiInputs(
        opening, closing, by_customer, later, costs, promises_frame, contact_frame, case_frame,
        before, after, disposals, [b.name for b in policy.dpd_buckets if b.min_dpd > 0],
    )  # fmt: skip


def collection_kpis(
    conn: Connection, start: date, end: date, policy: Policy,
    strategy_scope: ColumnElement[bool] | None = None,
) -> CollectionKpis:  # fmt: skip
    """The period's KPIs (module doc); `strategy_scope` limits the strategy comparison to the
    customers a clause over `customers` selects."""
    found = kpi_inputs(conn, start, end, policy)
    table = kpi_table(found.by_customer, found.later, found.costs, found.promises,
                      found.contacts, found.cases)  # fmt: skip
    return CollectionKpis(
        start, end, found.opening, found.closing, table,
        cure_by_bucket(found.before, found.after, found.overdue_buckets, found.disposals),
        strategy_results(conn, start, end, strategy_scope),
    )  # fmt: skip


def _costs(conn: Connection, policy: Policy, opening: date, closing: date) -> pl.DataFrame:
    """Cost rows: collector (who incurred it: the contact's recorder, the matter's owner),
    customer_id, amount, item (which contact or legal cost)."""
    unit = {ch: parse_amount(str(c)) for ch, c in policy.kpi.contact_costs.items()}
    start, end = _local_bounds(policy, opening, closing)
    made = conn.execute(
        select(contacts.c.customer_id, contacts.c.recorded_by, contacts.c.channel,
               contacts.c.contact_id)
        .where(contacts.c.at >= start, contacts.c.at < end)
    ).all()  # fmt: skip
    legal = legal_costs_in_period(conn, opening + timedelta(days=1), closing).with_columns(
        pl.format("legal cost {} ({})", "cost_id", "category").alias("item")
    )
    contact_rows = pl.DataFrame(
        [tuple(r) for r in made],
        schema={
            "customer_id": pl.String,
            "by": pl.String,
            "channel": pl.String,
            "contact_id": pl.Int64,
        },
        orient="row",
    ).with_columns(pl.format("contact {} ({})", "contact_id", "channel").alias("item"))
    return cost_rows(contact_rows, unit, legal)


def _promises(conn: Connection, opening: date, closing: date) -> pl.DataFrame:
    rows = conn.execute(
        select(promises.c.promise_id, contacts.c.customer_id, promises.c.status,
               contacts.c.recorded_by)
        .join(contacts, contacts.c.contact_id == promises.c.contact_id)
        .where(promises.c.status.in_(("kept", "broken")),
               promises.c.decided_on > opening, promises.c.decided_on <= closing)
    ).all()  # fmt: skip
    schema = {"promise_id": pl.Int64, "customer_id": pl.String, "status": pl.String,
              "by": pl.String}  # fmt: skip
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _contacts_and_cases(
    conn: Connection, policy: Policy, opening: date, closing: date, holders: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    start, end = _local_bounds(policy, opening, closing)
    made = conn.execute(
        select(contacts.c.contact_id, contacts.c.customer_id, contacts.c.recorded_by)
        .where(contacts.c.at >= start, contacts.c.at < end)
    ).all()  # fmt: skip
    open_in_period = conn.execute(
        select(cases.c.customer_id).where(
            cases.c.opened_on <= closing,
            or_(cases.c.closed_on.is_(None), cases.c.closed_on > opening),
        )
    ).scalars()
    contact_frame = pl.DataFrame(
        [tuple(r) for r in made],
        schema={"contact_id": pl.Int64, "customer_id": pl.String, "by": pl.String},
        orient="row",
    )
    case_frame = pl.DataFrame(
        {"customer_id": list(open_in_period)}, schema={"customer_id": pl.String}
    )
    return contact_frame, case_frame.join(holders, on="customer_id", how="left")


def kpis_for(
    conn: Connection, user: User, start: date, end: date, policy: Policy
) -> tuple[CollectionKpis, pl.DataFrame]:
    """The period's KPIs and the lines `user` may see (the API and the workbench): head-office
    roles every line, a branch role its branch's teams and collectors, a collector their own
    line; the strategy comparison counts only the customers in the user's scope."""
    result = collection_kpis(
        conn, start, end, policy, customer_scope_clause(user, CollectionsAction.REPORT_COLLECTIONS)
    )
    scope = scope_for(user.role, CollectionsAction.REPORT_COLLECTIONS)
    branch_people: list[tuple[str, str | None]] = []
    if scope == "branch":
        branch_people = [
            (r.username, r.team)
            for r in conn.execute(
                select(users.c.username, users.c.team).where(users.c.branch_id == user.branch_id)
            )
        ]
    return result, visible_lines(result.table, scope, user.username, branch_people)
