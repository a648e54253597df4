"""Measures per grade (CH-6) as work: the daily step that creates them, and the officer's side
(complete a task, accept or decline an offer). Rules are `churn.rules.measures`.

The step (`run_measures`, after `churn.identify`) derives, for every pool episode still
identified on or after the run's first date, the first churn date at each grade it reached;
an episode outside the holdout gets that grade's measures (`planned_measures`) once per
(episode, grade, kind, channel), dated that first date (`created_on`). A win-back contact
(levels 2 and 3) is checked against the contact policy as of `created_on` — marketing consent
(`access.consent` records, else the customer's imported flag), the channel opt-outs
collections honours (`collections.handover.opted_out_channels_on`) and a closed relationship
(every account closed: the closure of rule (c) or the transfer of rule (d)) — and is created
`refused` naming the rules it breaks. A level-1 measure is handed over to collections through
`collections.handover.hand_over` (never its tables). A level-2 follow-up that is open gets the
policy's offers, each with its basis.

Replays: what the step derived and nobody has worked (status open or refused, no offer decided,
hand-over still open) is derived again — the same row (its id stays) when still wanted, gone
when not — so running dates in any order, or again, leaves the same rows. Worked measures stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select, and_, bindparam, delete, func, or_, select, update

from postloan.access.tables import consents
from postloan.area import StepContext
from postloan.churn.rules.measures import (
    FOLLOWUP,
    HANDOVER,
    HANDOVER_ACTIONS,
    MarketingFacts,
    Violation,
    check_winback,
    held_out,
    offer_frame,
    planned_measures,
    rules_text,
    winback_refusals,
)
from postloan.churn.tables import (
    churn_episodes,
    churn_grades,
    churn_identified,
    churn_measures,
    churn_offers,
)
from postloan.collections.handover import (
    Handover,
    hand_over,
    handover_rows,
    handover_states,
    opt_out_rows,
    opted_out_channels_on,
    withdraw_open,
)
from postloan.errors import ConflictError, NotFoundError
from postloan.policy import Policy
from postloan.store.rows import read_frame
from postloan.store.schema import customers
from postloan.store.values import stored_date

SOURCE = "churn"
KEY = ("customer_id", "entered_on", "grade", "kind", "channel")
# What a re-derivation may change in an untouched measure (and so in its offers).
REFRESHED = ("created_on", "branch_id", "status", "refused_rules", "refusal_detail")
KIND_RULES = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out",
              "inactive")  # fmt: skip


@dataclass(frozen=True)
class MeasuresResult:
    wanted: int
    created: int
    withdrawn: int


def handover_key(customer_id: str, entered_on: date, grade: int) -> str:
    return f"{customer_id}|{entered_on.isoformat()}|{grade}"


def _key_expr() -> pl.Expr:
    """`handover_key` over a frame."""
    return pl.concat_str(pl.col("customer_id"), pl.col("entered_on").dt.to_string("%Y-%m-%d"),
                         pl.col("grade").cast(pl.String), separator="|")  # fmt: skip


def _live(first: date) -> Select[tuple[str]]:
    """The customers with a pool episode identified on or after `first` (open, or left after)."""
    e = churn_episodes.c
    return select(e.customer_id).where(or_(e.left_on.is_(None), e.left_on > first))


GRADED = {"customer_id": pl.String, "entered_on": pl.Date, "created_on": pl.Date,
          "grade": pl.Int64, "branch_id": pl.String, "overdue_amount": pl.Int64,
          "max_dpd": pl.Int64, "open_accounts": pl.Int64, "suggested_reason": pl.String,
          "evidence": pl.String, **dict.fromkeys(KIND_RULES, pl.Boolean)}  # fmt: skip


def graded_episodes(conn: Connection, first: date) -> pl.DataFrame:
    """Per pool episode identified on or after `first`: the first churn date at each grade
    (`created_on`, kept in `churn_grades` by `churn.identify`), with that date's row (branch,
    amounts, rules, reason, evidence)."""
    i, e, g = churn_identified.c, churn_episodes.c, churn_grades.c
    query = (
        select(g.customer_id, g.entered_on, g.first_on, g.grade, i.branch_id,
               i.overdue_amount, i.max_dpd, i.open_accounts, i.suggested_reason, i.evidence,
               *(i[k] for k in KIND_RULES))
        .select_from(churn_grades.join(churn_episodes, and_(
            e.customer_id == g.customer_id, e.entered_on == g.entered_on))
            .join(churn_identified, and_(i.customer_id == g.customer_id,
                                         i.as_of == g.first_on)))
        # Episodes with an identified date from `first` on: still open, or left after it.
        .where(or_(e.left_on.is_(None), e.left_on > first))
    )  # fmt: skip
    return read_frame(conn, query, GRADED).sort("customer_id", "entered_on", "grade")


def _closed_on(row: dict[str, Any]) -> date | None:
    if row["open_accounts"] > 0:
        return None
    ev = json.loads(row["evidence"] or "{}")
    found = [(ev.get("closed_not_reapplied") or {}).get("closed_on"),
             (ev.get("transferred_out") or {}).get("transfer_out_on")]  # fmt: skip
    days = [date.fromisoformat(d) for d in found if d]
    return max(days) if days else row["created_on"]


def _closed_on_expr() -> pl.Expr:
    """`_closed_on` over a frame: every account closed → the last closure or transfer out in
    the evidence, else the day itself."""
    ev = pl.col("evidence")
    closure = ev.str.json_path_match("$.closed_not_reapplied.closed_on").str.to_date()
    transfer = ev.str.json_path_match("$.transferred_out.transfer_out_on").str.to_date()
    return (
        pl.when(pl.col("open_accounts") > 0)
        .then(pl.lit(None, dtype=pl.Date))
        .otherwise(pl.max_horizontal(closure, transfer).fill_null(pl.col("created_on")))
    )


def _consents(conn: Connection, ids: list[str]) -> dict[str, list[tuple[datetime, int, bool]]]:
    out: dict[str, list[tuple[datetime, int, bool]]] = {}
    c = consents.c
    for start in range(0, len(ids), 500):
        for r in conn.execute(
            select(c.customer_id, c.at, c.consent_id, c.granted).where(
                c.customer_id.in_(ids[start : start + 500]), c.purpose == "marketing"
            )
        ):
            at = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
            out.setdefault(r.customer_id, []).append((at, int(r.consent_id), bool(r.granted)))
    return out


def _imported(conn: Connection, ids: list[str]) -> dict[str, tuple[bool, date | None]]:
    out: dict[str, tuple[bool, date | None]] = {}
    for start in range(0, len(ids), 500):
        for r in conn.execute(
            select(customers.c.customer_id, customers.c.consent_marketing,
                   customers.c.consent_date)
            .where(customers.c.customer_id.in_(ids[start : start + 500]))
        ):  # fmt: skip
            since = stored_date(r.consent_date) if r.consent_date is not None else None
            out[r.customer_id] = (bool(r.consent_marketing), since)
    return out


def consent_on(
    records: list[tuple[datetime, int, bool]], imported: tuple[bool, date | None], day: date
) -> tuple[bool, date | None]:
    """(consent, since) for marketing at the end of `day`: the latest record by then (by time,
    then insertion), else the imported flag (given by its consent date, if any)."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    before = [r for r in records if r[0] < end]
    if before:
        at, _, granted = max(before)
        return granted, at.date()
    flag, since = imported
    if since is not None and since > day:
        return False, None
    return flag, since


def _utc(at: datetime) -> datetime:
    """A stored instant as naive UTC (SQLite gives naive UTC, PostgreSQL aware)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def marketing_facts(conn: Connection, days: pl.DataFrame, first: date) -> pl.DataFrame:
    """`consent_on` and `_closed_on` for every (customer_id, created_on) row of `days` (which
    also has `open_accounts` and `evidence`): adds `consent`, `consent_since`, `closed_on`."""
    live = _live(first)
    c, cu = consents.c, customers.c
    records = pl.DataFrame(
        [(r[0], _utc(r[1]), int(r[2]), bool(r[3])) for r in conn.execute(
            select(c.customer_id, c.at, c.consent_id, c.granted)
            .where(c.purpose == "marketing", c.customer_id.in_(live)))],
        schema={"customer_id": pl.String, "at": pl.Datetime("us"), "consent_id": pl.Int64,
                "granted": pl.Boolean}, orient="row",
    )  # fmt: skip
    imported = read_frame(  # one row per pool customer: no Row per record
        conn,
        select(cu.customer_id, cu.consent_marketing, cu.consent_date)
        .where(cu.customer_id.in_(live)),
        {"customer_id": pl.String, "flag": pl.Boolean, "flag_since": pl.Date},
    ).with_columns(pl.col("flag").fill_null(False))  # fmt: skip
    keys = days.select("customer_id", "created_on").unique()
    latest = (
        keys.join(records, on="customer_id")
        # Records up to the end of the day, the latest by time then insertion.
        .filter(pl.col("at") < pl.col("created_on").cast(pl.Datetime("us")) + pl.duration(days=1))
        .sort("at", "consent_id")
        .group_by("customer_id", "created_on")
        .agg(pl.col("granted").last(), pl.col("at").last().dt.date().alias("at_day"))
    )  # fmt: skip
    facts = keys.join(latest, on=["customer_id", "created_on"], how="left").join(
        imported, on="customer_id", how="left"
    )
    later = pl.col("flag_since").is_not_null() & (pl.col("flag_since") > pl.col("created_on"))
    facts = facts.select(
        "customer_id", "created_on",
        pl.when(pl.col("granted").is_not_null()).then(pl.col("granted"))
        .when(later).then(pl.lit(False)).otherwise(pl.col("flag").fill_null(False))
        .alias("consent"),
        pl.when(pl.col("granted").is_not_null()).then(pl.col("at_day"))
        .when(later).then(pl.lit(None, dtype=pl.Date)).otherwise(pl.col("flag_since"))
        .alias("consent_since"),
    )  # fmt: skip
    return days.join(facts, on=["customer_id", "created_on"], how="left").with_columns(
        _closed_on_expr().alias("closed_on")
    )


def _plan(policy: Policy) -> pl.DataFrame:
    """(grade, kind, channel): what each grade gets (`planned_measures`)."""
    return pl.DataFrame(
        [(g, p.kind, p.channel) for g in (1, 2, 3) for p in planned_measures(g, policy)],
        schema={"grade": pl.Int64, "kind": pl.String, "channel": pl.String}, orient="row",
    )  # fmt: skip


def wanted_measures(conn: Connection, first: date, policy: Policy) -> pl.DataFrame:
    """The measures the episodes identified from `first` on call for (module doc): one row per
    (episode, grade, kind, channel) with its status and refusal, and the graded row's columns
    (offers and hand-overs read them)."""
    graded = graded_episodes(conn, first)
    graded = graded.filter(~held_out(graded["customer_id"], graded["entered_on"], policy))
    wanted = marketing_facts(conn, graded, first).join(_plan(policy), on="grade")
    opted = pl.DataFrame(
        opt_out_rows(conn, _live(first)),
        schema={"customer_id": pl.String, "channel": pl.String, "since": pl.Date}, orient="row",
    )  # fmt: skip
    hits = (
        wanted.select("customer_id", "channel", "created_on")
        .join(opted, on=["customer_id", "channel"])
        .filter(pl.col("since") <= pl.col("created_on"))
        .select("customer_id", "channel", "created_on").unique()
        .with_columns(pl.lit(True).alias("opted_out"))
    )  # fmt: skip
    wanted = wanted.join(hits, on=["customer_id", "channel", "created_on"], how="left")
    return winback_refusals(wanted).sort(*KEY)


STORED = {"measure_id": pl.Int64, "customer_id": pl.String, "entered_on": pl.Date,
          "grade": pl.Int64, "kind": pl.String, "channel": pl.String, "created_on": pl.Date,
          "branch_id": pl.String, "status": pl.String, "refused_rules": pl.String,
          "refusal_detail": pl.String, "handover_id": pl.Int64, "done": pl.Boolean,
          "offer_decided": pl.Boolean}  # fmt: skip


def _stored(conn: Connection, first: date) -> pl.DataFrame:
    """The stored measures a re-derivation from `first` may meet: created from `first` on, or
    of a customer with an episode identified from `first` on; with whether they were worked.
    Read without a Row per measure (`store.rows`): at a million accounts they are many."""
    m, o = churn_measures.c, churn_offers.c
    decided = select(o.measure_id).where(o.status != "proposed")
    query = (
        select(m.measure_id, m.customer_id, m.entered_on, m.grade, m.kind, m.channel,
               m.created_on, m.branch_id, m.status, m.refused_rules, m.refusal_detail,
               m.handover_id, m.done_at.is_not(None), m.measure_id.in_(decided))
        .where(or_(m.created_on >= first, m.customer_id.in_(_live(first))))
    )  # fmt: skip
    return read_frame(conn, query, STORED)


def _untouched(stored: pl.DataFrame, first: date, decided_handovers: list[str]) -> pl.Expr:
    """Stored measures created from `first` on that nobody has worked: not done, no offer
    decided, and (a hand-over) not decided in collections, whose state lives there."""
    return (
        (pl.col("created_on") >= first) & ~pl.col("done")
        & pl.col("status").is_in(["open", "refused"]) & ~pl.col("offer_decided")
        & ~((pl.col("kind") == HANDOVER) & _key_expr().is_in(decided_handovers))
    )  # fmt: skip


def _update(conn: Connection, changed: pl.DataFrame) -> None:
    if changed.height == 0:
        return
    conn.execute(
        update(churn_measures).where(churn_measures.c.measure_id == bindparam("mid"))
        .values({k: bindparam(f"v_{k}") for k in REFRESHED}),
        [{"mid": r["measure_id"], **{f"v_{k}": r[k] for k in REFRESHED}}
         for r in changed.select("measure_id", *REFRESHED).to_dicts()],
    )  # fmt: skip


def _refresh_offers(conn: Connection, targets: pl.DataFrame, refreshable: pl.Series,
                    first: date, policy: Policy) -> None:  # fmt: skip
    """Make the proposed offers of the open follow-ups `targets` (with `measure_id`) what the
    policy proposes now, touching only measures whose offers differ; `refreshable` are the
    measures whose stored offers may be replaced (untouched: none decided)."""
    o, m = churn_offers.c, churn_measures.c
    wanted = offer_frame(targets, KIND_RULES, policy)
    met = select(m.measure_id).where(or_(m.created_on >= first, m.customer_id.in_(_live(first))))
    stored = pl.DataFrame(
        [tuple(r) for r in conn.execute(
            select(o.measure_id, o.kind, o.terms, o.basis)
            .where(o.status == "proposed", o.measure_id.in_(met)))],
        schema={"measure_id": pl.Int64, "kind": pl.String, "terms": pl.String,
                "basis": pl.String}, orient="row",
    ).filter(pl.col("measure_id").is_in(refreshable.implode()))  # fmt: skip

    def signature(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.sort("measure_id", "kind")
            .group_by("measure_id", maintain_order=True)
            .agg(pl.concat_str("kind", "terms", "basis", separator="\x1f").alias("sig"))
        )

    both = signature(wanted).join(signature(stored), on="measure_id", how="full",
                                  suffix="_stored", coalesce=True)  # fmt: skip
    redo = both.filter(pl.col("sig").ne_missing(pl.col("sig_stored")))["measure_id"]
    if redo.len() == 0:
        return
    ids = redo.to_list()
    for start in range(0, len(ids), 1000):
        conn.execute(delete(churn_offers).where(o.measure_id.in_(ids[start : start + 1000])))
    rows = wanted.filter(pl.col("measure_id").is_in(redo.implode()))
    if rows.height:
        conn.execute(churn_offers.insert(),
                     rows.with_columns(pl.lit("proposed").alias("status")).to_dicts())  # fmt: skip


def _handovers(conn: Connection, wanted: pl.DataFrame, policy: Policy) -> dict[str, int]:
    """Hand the level-1 measures `wanted` (with `handover_key`) over to collections — only
    those not handed over yet or handed over differently (an open one is refreshed; a decided
    one stays). Returns {handover_key: handover_id} for every key of `wanted`."""
    rows = wanted.select(
        "key", "customer_id", "created_on", "overdue_amount", "max_dpd",
        pl.struct(  # key-sorted JSON: why collections is asked
            pl.lit(1, dtype=pl.Int64).alias("grade"),
            pl.col("created_on").dt.to_string("%Y-%m-%d").alias("identified_on"),
            pl.lit(policy.version).alias("policy"),
            pl.concat_list([pl.when(pl.col(k)).then(pl.lit(k)) for k in KIND_RULES])
            .list.drop_nulls().alias("rules"),
        ).struct.json_encode().alias("basis"),
    )  # fmt: skip
    known = pl.DataFrame(
        handover_rows(conn, SOURCE),
        schema={"key": pl.String, "handover_id": pl.Int64, "state": pl.String,
                "handed_on": pl.Date, "actions": pl.String, "amount": pl.Int64,
                "dpd": pl.Int64, "why": pl.String}, orient="row",
    )  # fmt: skip
    actions = ",".join(HANDOVER_ACTIONS)
    joined = rows.join(known, on="key", how="left")
    stale = joined.filter(
        pl.col("handover_id").is_null()
        | ((pl.col("state") == "open") & (
            pl.col("handed_on").ne_missing(pl.col("created_on"))
            | pl.col("actions").ne_missing(pl.lit(actions))
            | pl.col("amount").ne_missing(pl.col("overdue_amount"))
            | pl.col("dpd").ne_missing(pl.col("max_dpd"))
            | pl.col("why").ne_missing(pl.col("basis"))))
    )  # fmt: skip
    out = {k: int(v) for k, v in joined.drop_nulls("handover_id")
           .select("key", "handover_id").iter_rows()}  # fmt: skip
    if stale.height:
        out.update(hand_over(conn, [
            Handover(SOURCE, r["key"], r["customer_id"], r["created_on"], HANDOVER_ACTIONS,
                     int(r["overdue_amount"]), int(r["max_dpd"]), r["basis"])
            for r in stale.to_dicts()]))  # fmt: skip
    return out


def reconcile(conn: Connection, first: date, policy: Policy) -> MeasuresResult:
    """Create, refresh or withdraw the step's measures from `first` on (module doc). Set-based:
    the wanted and the stored measures are joined as frames; only the difference is written."""
    wanted = wanted_measures(conn, first, policy)
    stored = _stored(conn, first)
    decided = [k for k, v in handover_states(conn, SOURCE).items() if v != "open"]
    stored = stored.with_columns(_untouched(stored, first, decided).alias("untouched"))
    keys = list(KEY)
    gone = stored.filter("untouched").join(wanted, on=keys, how="anti")
    _drop(conn, gone)
    both = wanted.join(stored.select("measure_id", *keys, "untouched", "handover_id",
                                     *(pl.col(k).alias(f"{k}_stored") for k in REFRESHED)),
                       on=keys, how="left")  # fmt: skip
    new = both.filter(pl.col("measure_id").is_null())
    differs = pl.any_horizontal(*(pl.col(k).ne_missing(pl.col(f"{k}_stored")) for k in REFRESHED))
    _update(conn, both.filter(pl.col("untouched").fill_null(False) & differs))
    if new.height:
        # The new rows' ids: those past the largest id before the insert (ids only grow, and
        # the run holds the store's write lock) — not the whole of `_stored` read again.
        mc = churn_measures.c
        before = conn.execute(select(func.coalesce(func.max(mc.measure_id), 0))).scalar_one()
        conn.execute(churn_measures.insert(), new.select(*KEY, *REFRESHED).to_dicts())
        ids = read_frame(
            conn,
            select(mc.measure_id, *(mc[k] for k in keys)).where(mc.measure_id > before),
            {"measure_id": pl.Int64, **{k: STORED[k] for k in keys}},
        )
        both = both.drop("measure_id").join(ids, on=keys, how="left")
    live = both.filter(pl.col("untouched").fill_null(True))  # new or untouched: re-derivable
    _refresh_offers(
        conn, live.filter((pl.col("kind") == FOLLOWUP) & (pl.col("status") == "open")),
        live["measure_id"], first, policy,
    )  # fmt: skip
    level1 = live.filter(pl.col("kind") == HANDOVER).with_columns(_key_expr().alias("key"))
    if level1.height:
        handed = _handovers(conn, level1, policy)
        fix = level1.with_columns(
            pl.col("key").replace_strict(handed, default=None, return_dtype=pl.Int64).alias("hid")
        ).filter(pl.col("hid").is_not_null() & pl.col("hid").ne_missing(pl.col("handover_id")))
        if fix.height:
            conn.execute(
                update(churn_measures).where(churn_measures.c.measure_id == bindparam("mid"))
                .values(handover_id=bindparam("hid")),
                fix.select(pl.col("measure_id").alias("mid"), "hid").to_dicts(),
            )  # fmt: skip
    return MeasuresResult(wanted.height, new.height, gone.height)


def _drop(conn: Connection, gone: pl.DataFrame) -> None:
    if gone.height == 0:
        return
    ids = gone["measure_id"].to_list()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        conn.execute(delete(churn_offers).where(churn_offers.c.measure_id.in_(chunk)))
        conn.execute(delete(churn_measures).where(churn_measures.c.measure_id.in_(chunk)))
    withdraw_open(conn, SOURCE, gone.filter(pl.col("kind") == HANDOVER)
                  .select(_key_expr().alias("key"))["key"].to_list())  # fmt: skip


def run_measures(ctx: StepContext) -> MeasuresResult:
    """The daily-run step after `churn.identify` (module doc)."""
    return reconcile(ctx.conn, ctx.first, ctx.policy)


# --- the officer's side ------------------------------------------------------------------------

OUTCOMES = ("reached", "not_reached", "interested", "declined", "reapplied", "no_answer")


def complete_measure(
    conn: Connection, measure_id: int, outcome: str, note: str | None, *, user: str,
    now: datetime, policy: Policy,
) -> dict[str, Any]:  # fmt: skip
    """Record the outcome of a win-back task. The contact is checked again as of now (consent
    withdrawn, a new opt-out): a contact the policy refuses raises ContactPolicyRefused naming
    the rules, and the measure stays open. Audited."""
    from postloan.access import audit

    row = conn.execute(select(churn_measures).where(churn_measures.c.measure_id == measure_id)
                       ).first()  # fmt: skip
    if row is None:
        raise NotFoundError(f"measure {measure_id}: not found", field="measure_id")
    if row.kind == HANDOVER:
        raise ConflictError(f"measure {measure_id}: worked in collections (hand-over)",
                            field="measure_id")  # fmt: skip
    if row.status != "open":
        raise ConflictError(f"measure {measure_id}: {row.status}", field="status")
    day = now.date()
    records = _consents(conn, [row.customer_id]).get(row.customer_id, [])
    imported = _imported(conn, [row.customer_id]).get(row.customer_id, (False, None))
    given, since = consent_on(records, imported, day)
    ident = conn.execute(
        select(churn_identified).where(churn_identified.c.customer_id == row.customer_id,
                                       churn_identified.c.as_of == row.created_on)
    ).first()  # fmt: skip
    closed = _closed_on({**ident._mapping, "created_on": stored_date(row.created_on)}) \
        if ident is not None else None  # fmt: skip
    opted = opted_out_channels_on(conn, [row.customer_id], day).get(row.customer_id, frozenset())
    broken = check_winback(row.kind, row.channel, MarketingFacts(given, since, opted, closed))
    if broken:
        audit.record(
            conn,
            actor=user,
            action="churn.measure.refused",
            target_type="measure",
            target_id=str(measure_id),
            detail={"rules": rules_text(broken)},
            now=now,
        )
        raise ContactPolicyRefused(broken)
    conn.execute(
        update(churn_measures)
        .where(churn_measures.c.measure_id == measure_id)
        .values(status="done", outcome=outcome, note=note, done_by=user, done_at=now)
    )
    audit.record(
        conn,
        actor=user,
        action="churn.measure.done",
        target_type="measure",
        target_id=str(measure_id),
        detail={"outcome": outcome, "customer_id": row.customer_id},
        now=now,
    )
    return {"measure_id": measure_id, "status": "done", "outcome": outcome}


class ContactPolicyRefused(ConflictError):
    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations),
                         field="measure_id")  # fmt: skip


def decide_offer(
    conn: Connection, offer_id: int, accept: bool, note: str, *, user: str, now: datetime
) -> dict[str, Any]:
    """Accept or decline a proposed offer, with the officer's reason. Audited."""
    from postloan.access import audit

    row = conn.execute(select(churn_offers).where(churn_offers.c.offer_id == offer_id)).first()
    if row is None:
        raise NotFoundError(f"offer {offer_id}: not found", field="offer_id")
    if row.status != "proposed":
        raise ConflictError(f"offer {offer_id}: already {row.status}", field="status")
    status = "accepted" if accept else "declined"
    conn.execute(
        update(churn_offers)
        .where(churn_offers.c.offer_id == offer_id)
        .values(status=status, decided_by=user, decided_at=now, note=note)
    )
    audit.record(
        conn,
        actor=user,
        action=f"churn.offer.{'accept' if accept else 'decline'}",
        target_type="offer",
        target_id=str(offer_id),
        detail={"kind": row.kind, "note": note, "measure_id": row.measure_id},
        now=now,
    )
    return {"offer_id": offer_id, "status": status}


def measure_counts(conn: Connection) -> dict[str, int]:
    m = churn_measures.c
    return {f"{k}:{s}": int(n) for k, s, n in conn.execute(
        select(m.kind, m.status, func.count()).group_by(m.kind, m.status))}  # fmt: skip
