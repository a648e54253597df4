"""Tracking and evaluation of the measures (CH-7) against the random holdout, and the win-back
rate of the KPIs. Statistics are `churn.rules.evaluation`; this module reads the store.

Per (episode, grade) the measure kind is that of the grade (`KIND_OF_GRADE`), its arm the
episode's holdout draw (`in_holdout`): the comparison is by assignment (see the rules' doc).
An episode-grade is *evaluated* on `as_of` when its window — `evaluation_days` after the first
churn date at the grade (`created_on`) — has passed. Outcomes in the window (created_on, +days]:

- repayment: `repaid` (any payment, not a reversal), `paid_amount` and `payments` (frequency),
  `still_overdue` (an overdue rule still holds on the episode's last churn date in the window);
- business recovery: `won_back` (the episode left the pool re-applied, with a new account or
  resumed), `reapplied` (an `application` event), `new_amount` (principal / limit of accounts
  opened);
- satisfaction: `complained` (a `complaint` event; surveys when they exist are events too).

Rates (proportions) get Newcombe intervals; amounts are means per episode. The primary outcome
is `repaid` for the level-1 hand-over (recovery) and `won_back` for the win-back contacts.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, select

from postloan.churn.measures import graded_episodes
from postloan.churn.rules.evaluation import effect, verdict, z_value
from postloan.churn.rules.measures import HANDOVER, KIND_OF_GRADE, KINDS, held_out
from postloan.churn.tables import churn_episodes, churn_identified
from postloan.policy import Policy
from postloan.store import schema
from postloan.store.values import stored_date

WIN_BACK_EXITS = ("reapplied", "new_account", "resumed")
RATES = ("won_back", "reapplied", "repaid", "still_overdue", "complained")
MEANS = ("paid_amount", "payments", "new_amount")


def primary_outcome(kind: str) -> str:
    return "repaid" if kind == HANDOVER else "won_back"


def _facts(conn: Connection, ids: list[str], start: date, end: date) -> dict[str, pl.DataFrame]:
    ev, lo, ca, pay = schema.events, schema.loans, schema.cards, schema.payments
    payments: list[Any] = []
    events: list[Any] = []
    opened: list[Any] = []
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        for owner, key in ((lo, lo.c.loan_id), (ca, ca.c.card_id)):
            payments += conn.execute(
                select(owner.c.customer_id, pay.c.value_date, pay.c.amount)
                .select_from(pay.join(owner, key == pay.c.account_id))
                .where(owner.c.customer_id.in_(part), pay.c.reverses_payment_id.is_(None),
                       pay.c.value_date > start, pay.c.value_date <= end)
            ).all()  # fmt: skip
        events += conn.execute(
            select(ev.c.customer_id, ev.c.date, ev.c.type).where(
                ev.c.customer_id.in_(part), ev.c.type.in_(("application", "complaint")),
                ev.c.date > start, ev.c.date <= end)
        ).all()  # fmt: skip
        opened += conn.execute(
            select(lo.c.customer_id, lo.c.disbursement_date, lo.c.principal).where(
                lo.c.customer_id.in_(part), lo.c.disbursement_date > start,
                lo.c.disbursement_date <= end)
        ).all()  # fmt: skip
        opened += conn.execute(
            select(ca.c.customer_id, ca.c.open_date, ca.c.credit_limit).where(
                ca.c.customer_id.in_(part), ca.c.open_date > start, ca.c.open_date <= end)
        ).all()  # fmt: skip

    def frame(rows: list[Any], third: str, kind: Any) -> pl.DataFrame:
        return pl.DataFrame([(r[0], stored_date(r[1]), r[2]) for r in rows],
                            schema={"customer_id": pl.String, "date": pl.Date, third: kind},
                            orient="row")  # fmt: skip

    return {"payments": frame(payments, "amount", pl.Int64),
            "events": frame(events, "type", pl.String),
            "opened": frame(opened, "amount", pl.Int64)}  # fmt: skip


def outcomes(conn: Connection, as_of: date, policy: Policy,
             scope: ColumnElement[bool] | None = None) -> pl.DataFrame:  # fmt: skip
    """One row per evaluated (episode, grade): kind, arm and every outcome (module doc)."""
    days = policy.churn.measures.evaluation_days
    graded = graded_episodes(conn, date(1900, 1, 1)).filter(
        pl.col("created_on") + pl.duration(days=days) <= as_of
    )
    if scope is not None:
        allowed = set(conn.execute(select(schema.customers.c.customer_id).where(scope))
                      .scalars())  # fmt: skip
        graded = graded.filter(pl.col("customer_id").is_in(list(allowed)))
    empty = pl.DataFrame(schema={"kind": pl.String, "arm": pl.String,
                                 **{k: pl.Int64 for k in (*RATES, *MEANS)}})  # fmt: skip
    if graded.height == 0:
        return empty
    held = held_out(graded["customer_id"], graded["entered_on"], policy)
    base = graded.select("customer_id", "entered_on", "grade", "created_on").with_columns(
        pl.col("grade").replace_strict(KIND_OF_GRADE, return_dtype=pl.String).alias("kind"),
        pl.when(held).then(pl.lit("holdout")).otherwise(pl.lit("treated")).alias("arm"),
        (pl.col("created_on") + pl.duration(days=days)).alias("until"),
    )
    ids = sorted(set(base["customer_id"]))
    start, end = base["created_on"].min(), base["until"].max()
    facts = _facts(conn, ids, start, end)  # type: ignore[arg-type]
    e = churn_episodes.c
    eps = pl.DataFrame(
        [(r[0], stored_date(r[1]), stored_date(r[2]) if r[2] else None, r[3])
         for r in conn.execute(select(e.customer_id, e.entered_on, e.left_on, e.exit_reason))],
        schema={"customer_id": pl.String, "entered_on": pl.Date, "left_on": pl.Date,
                "exit_reason": pl.String}, orient="row",
    )  # fmt: skip
    i = churn_identified.c
    overdue = pl.DataFrame(
        [(r[0], stored_date(r[1]), bool(r[2] or r[3])) for r in conn.execute(
            select(i.customer_id, i.as_of, i.loan_overdue, i.card_default)
            .where(i.customer_id.in_(ids) if len(ids) <= 500 else i.as_of >= start))],
        schema={"customer_id": pl.String, "as_of": pl.Date, "overdue": pl.Boolean},
        orient="row",
    )  # fmt: skip
    key = ["customer_id", "entered_on", "grade"]

    def within(frame: pl.DataFrame, on: str = "date") -> pl.DataFrame:
        return (
            base.select(*key, "created_on", "until")
            .join(frame, on="customer_id")
            .filter((pl.col(on) > pl.col("created_on")) & (pl.col(on) <= pl.col("until")))
        )

    pay = (
        within(facts["payments"])
        .group_by(key)
        .agg(pl.len().alias("payments"), pl.col("amount").sum().alias("paid_amount"))
    )
    ev = (
        within(facts["events"])
        .group_by(key)
        .agg(
            (pl.col("type") == "application").any().alias("reapplied"),
            (pl.col("type") == "complaint").any().alias("complained"),
        )
    )
    new = within(facts["opened"]).group_by(key).agg(pl.col("amount").sum().alias("new_amount"))
    last = (
        within(overdue, "as_of")
        .sort("as_of")
        .group_by(key)
        .last()
        .select(*key, pl.col("overdue").alias("still_overdue"))
    )
    won = base.select(*key, "until").join(eps, on=["customer_id", "entered_on"]).select(
        *key, (pl.col("left_on").is_not_null() & (pl.col("left_on") <= pl.col("until"))
               & pl.col("exit_reason").is_in(WIN_BACK_EXITS)).alias("won_back"))  # fmt: skip
    out = base
    for part in (pay, ev, new, last, won):
        out = out.join(part, on=key, how="left")
    return out.with_columns(
        pl.col("payments", "paid_amount", "new_amount").fill_null(0).cast(pl.Int64),
        pl.col("reapplied", "complained", "still_overdue", "won_back")
        .fill_null(False)
        .cast(pl.Int64),
        (pl.col("payments").fill_null(0) > 0).cast(pl.Int64).alias("repaid"),
    ).sort(key)


def evaluate(conn: Connection, as_of: date, policy: Policy,
             scope: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Per measure kind: n per arm, every outcome's rates or means, the effect with its
    interval, and keep/adjust from the primary outcome."""
    m = policy.churn.measures
    z = z_value(m.confidence)
    rows = outcomes(conn, as_of, policy, scope)
    out = []
    for kind in KINDS:
        mine = rows.filter(pl.col("kind") == kind)
        arms = {a: mine.filter(pl.col("arm") == a) for a in ("treated", "holdout")}
        effects = {o: effect(o, (int(arms["treated"][o].sum()), arms["treated"].height),
                             (int(arms["holdout"][o].sum()), arms["holdout"].height), z)
                   for o in RATES}  # fmt: skip
        flag, why = verdict(effects[primary_outcome(kind)], m.min_arm_size)
        means = {o: {a: (float(arms[a][o].mean()) if arms[a].height else None)  # type: ignore[arg-type]
                     for a in arms} for o in MEANS}  # fmt: skip
        out.append({"kind": kind, "primary": primary_outcome(kind),
                    "treated_n": arms["treated"].height, "holdout_n": arms["holdout"].height,
                    "effects": {o: asdict(e) for o, e in effects.items()}, "means": means,
                    "flag": flag, "why": why})  # fmt: skip
    return out


def win_back_rates(conn: Connection, start: date, end: date, policy: Policy,
                   scope: ColumnElement[bool] | None = None) -> dict[str, Any]:  # fmt: skip
    """Among pool episodes that exited in [start, end]: the share whose exit was a win-back
    (re-applied, new account, resumed), for treated and holdout episodes and overall."""
    e = churn_episodes.c
    q = select(e.customer_id, e.entered_on, e.exit_reason).where(
        e.left_on >= start, e.left_on <= end
    )
    if scope is not None:
        q = q.where(e.customer_id.in_(select(schema.customers.c.customer_id).where(scope)))
    exits = pl.DataFrame(
        [(r[0], stored_date(r[1]), r[2]) for r in conn.execute(q)],
        schema={"customer_id": pl.String, "entered_on": pl.Date, "exit_reason": pl.String},
        orient="row",
    )  # fmt: skip
    held = held_out(exits["customer_id"], exits["entered_on"], policy)
    counts = {"treated": [0, 0], "holdout": [0, 0]}
    for arm, mask in (("holdout", held), ("treated", ~held)):
        mine = exits.filter(mask)
        counts[arm] = [int(mine["exit_reason"].is_in(list(WIN_BACK_EXITS)).sum()), mine.height]
    won, n = (
        counts["treated"][0] + counts["holdout"][0],
        counts["treated"][1] + counts["holdout"][1],
    )
    return {
        "win_back_rate": won / n if n else None,
        "treated": {"exits": counts["treated"][1], "won_back": counts["treated"][0],
                    "rate": counts["treated"][0] / counts["treated"][1]
                    if counts["treated"][1] else None},
        "holdout": {"exits": counts["holdout"][1], "won_back": counts["holdout"][0],
                    "rate": counts["holdout"][0] / counts["holdout"][1]
                    if counts["holdout"][1] else None},
    }  # fmt: skip


def evaluation_horizon(as_of: date, policy: Policy) -> date:
    """The latest first-churn date an evaluated measure can have on `as_of`."""
    return as_of - timedelta(days=policy.churn.measures.evaluation_days)
