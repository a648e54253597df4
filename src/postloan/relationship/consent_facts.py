"""The lawful-contact facts of many customers on a day, as one frame (for the contact plans'
and the survey invitations' daily derivation — no per-customer loop): marketing consent in
force and whether a channel was opted out of.

- Consent: the latest record of the consent log (`access.consent`: purpose marketing,
  recorded before the day ends in China) wins — a grant or a withdrawal, e.g. a customer who
  refused further contact on a planned call (`contact_plans.complete`); without one, the
  lender's imported flag and its date (`customers.consent_marketing`, `consent_date`), as
  `access.consent.has_consent` reads it.
- Opt-outs: collections' per-channel opt-outs since the day or earlier
  (`collections.handover.opt_out_rows`, the one collections module relationship imports)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
from sqlalchemy import Connection, select

from postloan.access.consent import Purpose
from postloan.access.tables import consents
from postloan.calendar import PRC_TZ
from postloan.collections.handover import opt_out_rows
from postloan.store.schema import customers
from postloan.store.values import stored_date

FACTS = {
    "customer_id": pl.String,
    "consent_marketing": pl.Boolean,
    "consent_date": pl.Date,
    "opted_out": pl.Boolean,
}
CHUNK = 5000


def contact_facts(conn: Connection, ids: list[str], day: date, channel: str) -> pl.DataFrame:
    """One row per customer of `ids` (stored ones): consent_marketing and consent_date as the
    lawful-contact rule (`rules.contact.refused_rules`) reads them — a consent-log record of
    the day or before replaces the imported flag (granted: in force; withdrawn: none) — and
    `opted_out` of `channel` on `day`."""
    ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PRC_TZ)
    people: list[tuple[str, bool | None, date | None]] = []
    logged: list[tuple[str, bool, datetime, int]] = []
    opted: set[str] = set()
    c, k = customers.c, consents.c
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        chosen = select(c.customer_id).where(c.customer_id.in_(part))
        people += [
            (r[0], r[1], None if r[2] is None else stored_date(r[2]))
            for r in conn.execute(
                select(c.customer_id, c.consent_marketing, c.consent_date).where(
                    c.customer_id.in_(part)
                )
            )
        ]
        logged += [
            (r[0], bool(r[1]), r[2], int(r[3]))
            for r in conn.execute(
                select(k.customer_id, k.granted, k.at, k.consent_id).where(
                    k.customer_id.in_(part), k.purpose == Purpose.MARKETING.value, k.at < ends
                )
            )
        ]
        opted |= {cid for cid, ch, on in opt_out_rows(conn, chosen) if ch == channel and on <= day}
    frame = pl.DataFrame(
        people,
        schema={"customer_id": pl.String, "consent_marketing": pl.Boolean, "consent_date": pl.Date},
        orient="row",
    )
    latest = (
        pl.DataFrame(
            [
                (cid, granted, i)
                for cid, granted, _, i in sorted(logged, key=lambda r: (r[2], r[3]))
            ],
            schema={"customer_id": pl.String, "_granted": pl.Boolean, "_order": pl.Int64},
            orient="row",
        )
        .group_by("customer_id", maintain_order=True)
        .last()
        .drop("_order")
    )
    return (
        frame.join(latest, on="customer_id", how="left")
        .with_columns(
            pl.coalesce("_granted", "consent_marketing").alias("consent_marketing"),
            pl.when(pl.col("_granted").is_null())
            .then(pl.col("consent_date"))
            .alias("consent_date"),
            pl.col("customer_id").is_in(list(opted)).alias("opted_out"),
        )
        .select(list(FACTS))
    )
