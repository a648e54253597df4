"""Contact plans (CR-1): the lawful-contact rule for a planned contact.

Marketing contacts need the customer's marketing consent in force on the day and honour each
channel the customer opted out of (消费者权益保护法 Art. 29; the 2022 bank consumer-protection
rules: a refused channel is not used again). Service contacts (callbacks, notices about the
customer's own accounts) rest on the contract (PIPL Art. 13(2)) and need neither. Written for
this area after the pattern of churn's win-back check, not imported from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.relationship.rules.clock import Refusal

CHANNELS = ("phone", "sms", "email", "app")
PURPOSES = ("service", "marketing")


@dataclass(frozen=True)
class ContactFacts:
    consent: bool | None  # customers.consent_marketing
    consent_date: date | None
    opted_out: frozenset[str]  # channels opted out of by the day


def contact_refusals(purpose: str, channel: str, facts: ContactFacts, day: date) -> list[Refusal]:
    """Every rule a planned contact breaks on `day` (none for a service contact)."""
    if purpose != "marketing":
        return []
    out: list[Refusal] = []
    given = bool(facts.consent) and (facts.consent_date is None or facts.consent_date <= day)
    if not given:
        out.append(Refusal("marketing_consent", "the customer has not consented to marketing"))
    if channel in facts.opted_out:
        out.append(Refusal("channel_opt_out", f"the customer opted out of {channel}"))
    return out


def due(starts_on: date, cadence_days: int, day: date) -> bool:
    """A plan's contacts fall due on its start and every `cadence_days` after."""
    return day >= starts_on and (day - starts_on).days % cadence_days == 0


def refused_rules(people: pl.DataFrame, needs_consent: bool, day: date) -> pl.Expr:
    """The same rule over a whole frame, as one expression: the codes broken, comma-joined
    (null: none). `people` has consent_marketing, consent_date and opted_out (the channel
    used was opted out of by `day`). The opt-out always counts; consent only when needed."""
    given = pl.col("consent_marketing").fill_null(False) & (
        pl.col("consent_date").is_null() | (pl.col("consent_date") <= day)
    )
    codes = [
        pl.when(~given).then(pl.lit("marketing_consent")) if needs_consent else None,
        pl.when(pl.col("opted_out")).then(pl.lit("channel_opt_out")),
    ]
    parts = [c for c in codes if c is not None]
    joined = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)
