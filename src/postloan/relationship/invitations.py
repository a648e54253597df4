"""Survey targeting and invitations (CR-2): after the events the policy names
(`[relationship.surveys.invitations]`: a collection case closed, a complaint decided), a
customer is invited to a satisfaction survey — if held in one of the policy's tiers (when it
names any), not invited within the cool-down, and lawfully: the channel not opted out of
and, when the policy says so, marketing consent in force (both read by
`consent_facts.contact_facts`: the consent log's latest record, else the imported flag;
collections' opt-outs). A refused invitation is kept naming the rules.

The daily step `relationship.surveys`, set-based per run date: one query per kind of event
(collections' `cases` read by SQL — relationship imports no collections module but
`handover`), one for the consent, one for the opt-outs, one for the cool-down; the rule is one
polars expression (`rules.contact.refused_rules`). Idempotent: from the run's first date the
invitations are derived again (their keys name the customer and the event, not a rebuilt case
id) and an invitation derived again keeps its id (the id the send list and a response's
`invitation_id` name); an answered invitation is never deleted or changed. One invitation per
customer and day: the first event by name. A complaint counts on the run date it was decided,
or — decided between two run dates, or recorded after its date was run — on the first run
date after, within `look_back_days`, unless an invitation already names it."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from sqlalchemy import (
    Connection,
    Date,
    Integer,
    String,
    column,
    delete,
    func,
    insert,
    select,
    table,
)

from postloan.policy import Policy
from postloan.relationship.consent_facts import contact_facts
from postloan.relationship.rules.contact import refused_rules
from postloan.relationship.tables import complaints, survey_invitations, survey_responses
from postloan.relationship.tiers import customers_in_tiers, has_tiers

# collections' cases, the columns read (a table clause: no import of collections' tables)
cases = table(
    "cases", column("case_id", Integer), column("customer_id", String), column("closed_on", Date)
)
INV = survey_invitations.c
EVENTS = {"customer_id": pl.String, "event": pl.String, "event_key": pl.String}


def _events(conn: Connection, after: list[str], day: date, look_back: int) -> pl.DataFrame:
    rows: list[tuple[str, str, str]] = []
    if "case_closed" in after:
        rows += [
            (c, "case_closed", f"case_closed:{c}:{day.isoformat()}")
            for c in conn.execute(
                select(cases.c.customer_id).where(cases.c.closed_on == day).distinct()
            ).scalars()
        ]
    if "complaint_decided" in after:
        decided = [
            (r[0], "complaint_decided", f"complaint_decided:{r[1]}")
            for r in conn.execute(
                select(complaints.c.customer_id, complaints.c.complaint_id).where(
                    complaints.c.decided_on <= day,
                    complaints.c.decided_on >= day - timedelta(days=look_back),
                )
            )
        ]
        # decided earlier and already invited for (or refused): not again
        named = set(
            conn.execute(
                select(INV.event_key).where(INV.event_key.in_([k for _, _, k in decided]))
            ).scalars()
        )
        rows += [r for r in decided if r[2] not in named]
    return pl.DataFrame(rows, schema=EVENTS, orient="row")


def invite_for_dates(conn: Connection, policy: Policy, first: date, days: list[date]) -> int:
    """The daily step (module doc); returns the invitations derived (invited or refused)."""
    cfg = policy.relationship.surveys.invitations
    answered = select(survey_responses.c.invitation_id).where(
        survey_responses.c.invitation_id.is_not(None)
    )
    redo = (INV.invited_on >= first) & INV.invitation_id.not_in(answered)
    # the ids of the rows derived again, by key: a row derived again keeps its id
    known = pl.DataFrame(
        conn.execute(select(INV.event_key, INV.invitation_id).where(redo)).all(),
        schema={"event_key": pl.String, "invitation_id": pl.Int64},
        orient="row",
    )
    conn.execute(delete(survey_invitations).where(redo))
    added = 0
    for day in days:
        found = _events(conn, list(cfg.after), day, cfg.look_back_days)
        if found.is_empty():
            continue
        kept = set(  # answered invitations stay as they are
            conn.execute(
                select(INV.event_key).where(INV.event_key.in_(found["event_key"].to_list()))
            ).scalars()
        )
        found = found.filter(~pl.col("event_key").is_in(list(kept)))
        if found.is_empty():
            continue
        found = found.sort("customer_id", "event", "event_key").unique(
            "customer_id", keep="first", maintain_order=True
        )
        people_ids = found["customer_id"].to_list()
        if cfg.tiers:
            held = (
                set(conn.execute(customers_in_tiers([day], list(cfg.tiers))).scalars())
                if has_tiers(conn)
                else set()
            )
            found = found.filter(pl.col("customer_id").is_in(list(held)))
        since = day - timedelta(days=cfg.cooldown_days)
        recent = set(
            conn.execute(
                select(INV.customer_id).where(
                    INV.status == "invited", INV.invited_on > since, INV.invited_on <= day,
                    INV.customer_id.in_(people_ids),
                )
            ).scalars()
        )  # fmt: skip
        found = found.filter(~pl.col("customer_id").is_in(list(recent)))
        if found.is_empty():
            continue
        people = found.join(
            contact_facts(conn, found["customer_id"].to_list(), day, cfg.channel),
            on="customer_id",
            how="left",
        )
        rows = people.select(
            "customer_id", "event", "event_key",
            pl.lit(day).alias("invited_on"),
            pl.lit(cfg.channel).alias("channel"),
            refused_rules(people, cfg.needs_consent, day).alias("refused_rules"),
        ).with_columns(
            pl.when(pl.col("refused_rules").is_null()).then(pl.lit("invited"))
            .otherwise(pl.lit("refused")).alias("status")
        )  # fmt: skip
        # the same key keeps its id (the ids read by one query before the delete)
        rows = rows.join(known, on="event_key", how="left")
        again = rows.filter(pl.col("invitation_id").is_not_null())
        fresh = rows.filter(pl.col("invitation_id").is_null()).drop("invitation_id")
        if fresh.height and conn.dialect.name == "sqlite":
            # SQLite hands out max(id) + 1, which may be a deleted id a later date re-inserts
            # (dates run out of order): fresh ids above every known one. PostgreSQL's sequence
            # never hands an id out twice.
            top = max(
                conn.execute(select(func.max(INV.invitation_id))).scalar() or 0,
                known["invitation_id"].max() or 0,
            )
            fresh = fresh.with_columns(
                (pl.int_range(1, fresh.height + 1, dtype=pl.Int64) + top).alias("invitation_id")
            )
        for part in (again, fresh):
            if part.height:
                conn.execute(insert(survey_invitations), part.to_dicts())
        added += rows.height
    return added
