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
from sqlalchemy import Connection, and_, delete, func, or_, select, update

from postloan.access.tables import consents
from postloan.area import StepContext
from postloan.churn.rules.measures import (
    FOLLOWUP,
    HANDOVER,
    HANDOVER_ACTIONS,
    MarketingFacts,
    Violation,
    check_winback,
    in_holdout,
    planned_measures,
    propose_offers,
    rules_text,
)
from postloan.churn.tables import churn_episodes, churn_identified, churn_measures, churn_offers
from postloan.collections.handover import (
    Handover,
    hand_over,
    handover_states,
    opted_out_channels_on,
    withdraw_open,
)
from postloan.errors import ConflictError, NotFoundError
from postloan.policy import Policy
from postloan.store.schema import customers
from postloan.store.values import stored_date

SOURCE = "churn"
KEY = ("customer_id", "entered_on", "grade", "kind", "channel")
# What a re-derivation may change in an untouched measure (and so in its offers).
REFRESHED = ("created_on", "branch_id", "status", "refused_rules", "refusal_detail")


@dataclass(frozen=True)
class MeasuresResult:
    wanted: int
    created: int
    withdrawn: int


def handover_key(customer_id: str, entered_on: date, grade: int) -> str:
    return f"{customer_id}|{entered_on.isoformat()}|{grade}"


def graded_episodes(conn: Connection, first: date) -> pl.DataFrame:
    """Per pool episode identified on or after `first`: the first churn date at each grade,
    with that date's row (branch, amounts, rules, reason, evidence)."""
    i, e = churn_identified.c, churn_episodes.c
    rows = conn.execute(
        select(i.customer_id, e.entered_on, i.as_of, i.grade, i.branch_id, i.overdue_amount,
               i.max_dpd, i.open_accounts, i.suggested_reason, i.evidence, i.loan_overdue,
               i.card_default, i.closed_not_reapplied, i.transferred_out, i.inactive)
        .select_from(churn_identified.join(churn_episodes, and_(
            e.customer_id == i.customer_id, i.as_of >= e.entered_on,
            or_(e.left_on.is_(None), i.as_of < e.left_on))))
        # Episodes with an identified date from `first` on: still open, or left after it.
        .where(or_(e.left_on.is_(None), e.left_on > first))
    ).all()  # fmt: skip
    schema = {"customer_id": pl.String, "entered_on": pl.Date, "as_of": pl.Date,
              "grade": pl.Int64, "branch_id": pl.String, "overdue_amount": pl.Int64,
              "max_dpd": pl.Int64, "open_accounts": pl.Int64, "suggested_reason": pl.String,
              "evidence": pl.String, "loan_overdue": pl.Boolean, "card_default": pl.Boolean,
              "closed_not_reapplied": pl.Boolean, "transferred_out": pl.Boolean,
              "inactive": pl.Boolean}  # fmt: skip
    frame = pl.DataFrame(
        [(r[0], stored_date(r[1]), stored_date(r[2]), *r[3:]) for r in rows],
        schema=schema, orient="row",
    )  # fmt: skip
    return (
        frame.sort("as_of")
        .group_by("customer_id", "entered_on", "grade", maintain_order=True)
        .first()
        .rename({"as_of": "created_on"})
        .sort("customer_id", "entered_on", "grade")
    )


def _closed_on(row: dict[str, Any]) -> date | None:
    if row["open_accounts"] > 0:
        return None
    ev = json.loads(row["evidence"] or "{}")
    found = [(ev.get("closed_not_reapplied") or {}).get("closed_on"),
             (ev.get("transferred_out") or {}).get("transfer_out_on")]  # fmt: skip
    days = [date.fromisoformat(d) for d in found if d]
    return max(days) if days else row["created_on"]


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


def facts_for(conn: Connection, wanted: pl.DataFrame) -> dict[tuple[str, date], MarketingFacts]:
    """MarketingFacts per (customer, created_on) of the win-back rows of `wanted`."""
    rows = wanted.filter(pl.col("grade") > 1).to_dicts()
    ids = sorted({r["customer_id"] for r in rows})
    records, imported = _consents(conn, ids), _imported(conn, ids)
    opted: dict[date, dict[str, frozenset[str]]] = {}
    out: dict[tuple[str, date], MarketingFacts] = {}
    for r in rows:
        day = r["created_on"]
        if day not in opted:
            opted[day] = opted_out_channels_on(
                conn, [x["customer_id"] for x in rows if x["created_on"] == day], day
            )
        given, since = consent_on(records.get(r["customer_id"], []),
                                  imported.get(r["customer_id"], (False, None)), day)  # fmt: skip
        out[(r["customer_id"], day)] = MarketingFacts(
            given, since, opted[day].get(r["customer_id"], frozenset()), _closed_on(r)
        )
    return out


def _detail(violations: list[Violation]) -> str | None:
    return "; ".join(f"{v.rule}: {v.message}" for v in violations) or None


def wanted_measures(conn: Connection, first: date, policy: Policy) -> list[dict[str, Any]]:
    """The measures the episodes identified from `first` on call for (module doc)."""
    graded = graded_episodes(conn, first)
    held = [in_holdout(c, d, policy) for c, d in
            zip(graded["customer_id"], graded["entered_on"], strict=True)]  # fmt: skip
    graded = graded.filter(~pl.Series(held, dtype=pl.Boolean))
    facts = facts_for(conn, graded)
    out = []
    for r in graded.to_dicts():
        for planned in planned_measures(r["grade"], policy):
            broken = []
            if r["grade"] > 1:
                broken = check_winback(planned.kind, planned.channel,
                                       facts[(r["customer_id"], r["created_on"])])  # fmt: skip
            out.append({
                "customer_id": r["customer_id"], "entered_on": r["entered_on"],
                "grade": r["grade"], "kind": planned.kind, "channel": planned.channel,
                "created_on": r["created_on"], "branch_id": r["branch_id"],
                "status": "refused" if broken else "open",
                "refused_rules": rules_text(broken) or None, "refusal_detail": _detail(broken),
                "_row": r,
            })  # fmt: skip
    return out


def _untouched(conn: Connection, first: date) -> dict[tuple[Any, ...], int]:
    """Stored measures created from `first` on that nobody has worked: {key: measure_id}."""
    m, o = churn_measures.c, churn_offers.c
    decided = select(o.measure_id).where(o.status != "proposed")
    rows = conn.execute(
        select(m.measure_id, *(m[k] for k in KEY)).where(
            m.created_on >= first, m.done_at.is_(None), m.status.in_(("open", "refused")),
            m.measure_id.not_in(decided),
        )
    ).all()  # fmt: skip
    # A hand-over collections has decided is worked too (its state lives in collections).
    decided_handovers = {k for k, v in handover_states(conn, SOURCE).items() if v != "open"}
    return {(r.customer_id, stored_date(r.entered_on), int(r.grade), r.kind, r.channel):
            int(r.measure_id) for r in rows
            if handover_key(r.customer_id, stored_date(r.entered_on), int(r.grade))
            not in decided_handovers or r.kind != HANDOVER}  # fmt: skip


def _offers(measure_id: int, r: dict[str, Any], policy: Policy) -> list[dict[str, Any]]:
    from postloan.churn.rules.frames import RULES

    held = [k for k in RULES if r[k]]
    return [{"measure_id": measure_id, "kind": o.kind, "terms": o.terms_json(),
             "basis": o.basis_json(), "status": "proposed"}
            for o in propose_offers(held, r["suggested_reason"], int(r["overdue_amount"]),
                                    policy)]  # fmt: skip


def reconcile(conn: Connection, first: date, policy: Policy) -> MeasuresResult:
    """Create, refresh or withdraw the step's measures from `first` on (module doc)."""
    wanted = wanted_measures(conn, first, policy)
    untouched = _untouched(conn, first)
    m = churn_measures.c
    stored_rows = conn.execute(
        select(m.measure_id, *(m[k] for k in KEY), *(m[k] for k in REFRESHED)).where(
            m.customer_id.in_(sorted({w["customer_id"] for w in wanted}) or [""])
        )
    ).all()
    existing: dict[tuple[Any, ...], int] = {}
    as_stored: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for r in stored_rows:
        key = (r.customer_id, stored_date(r.entered_on), int(r.grade), r.kind, r.channel)
        existing[key] = int(r.measure_id)
        as_stored[key] = tuple(
            stored_date(r._mapping[k]) if k == "created_on" else r._mapping[k] for k in REFRESHED
        )
    keys = {tuple(w[k] for k in KEY) for w in wanted}
    gone = [mid for key, mid in untouched.items() if key not in keys]
    _drop(conn, gone, [key for key, mid in untouched.items() if key not in keys])
    created = 0
    handovers: list[Handover] = []
    for w in wanted:
        key = tuple(w[k] for k in KEY)
        values = {k: v for k, v in w.items() if not k.startswith("_")}
        mid = existing.get(key)
        if mid is None:
            pk = conn.execute(churn_measures.insert().values(**values)).inserted_primary_key
            assert pk is not None
            mid = int(pk[0])
            created += 1
        elif key in untouched:
            if as_stored.get(key) == tuple(values[k] for k in REFRESHED):
                continue  # derived again, the same: nothing to write (most live episodes)
            conn.execute(update(churn_measures).where(m.measure_id == mid).values(**values))
            conn.execute(delete(churn_offers).where(churn_offers.c.measure_id == mid))
        else:
            continue  # worked: stays as it is
        if w["kind"] == FOLLOWUP and w["status"] == "open":
            conn.execute(churn_offers.insert(), _offers(mid, w["_row"], policy))
        if w["kind"] == HANDOVER:
            r = w["_row"]
            basis = {
                "grade": 1,
                "rules": [k for k in KIND_RULES if r[k]],
                "identified_on": r["created_on"].isoformat(),
                "policy": policy.version,
            }
            handovers.append(Handover(
                SOURCE, handover_key(r["customer_id"], r["entered_on"], 1), r["customer_id"],
                r["created_on"], HANDOVER_ACTIONS, int(r["overdue_amount"]), int(r["max_dpd"]),
                json.dumps(basis, sort_keys=True)))  # fmt: skip
    if handovers:
        ids = hand_over(conn, handovers)
        for h in handovers:
            conn.execute(
                update(churn_measures)
                .where(m.customer_id == h.customer_id, m.kind == HANDOVER,
                       m.entered_on == date.fromisoformat(h.source_key.split("|")[1]))
                .values(handover_id=ids[h.source_key])
            )  # fmt: skip
    return MeasuresResult(len(wanted), created, len(gone))


KIND_RULES = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out",
              "inactive")  # fmt: skip


def _drop(conn: Connection, ids: list[int], keys: list[tuple[Any, ...]]) -> None:
    if not ids:
        return
    conn.execute(delete(churn_offers).where(churn_offers.c.measure_id.in_(ids)))
    conn.execute(delete(churn_measures).where(churn_measures.c.measure_id.in_(ids)))
    withdraw_open(conn, SOURCE, [handover_key(k[0], k[1], k[2]) for k in keys
                                 if k[3] == HANDOVER])  # fmt: skip


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
