"""Legal action rules (OD-8), pure: a matter's stage transitions and close reasons, the evidence a
stage still needs, the limitation period, and the proposals' failed-contact days and candidates
(the store side: `legal_matters`, `legal_proposals`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

import polars as pl

from postloan.collections.errors import RecordConflict, RecordInvalid
from postloan.policy.legal import LEGAL_STAGES, Legal
from postloan.policy.model import Contact

STAGES = (*LEGAL_STAGES, "closed")


# Forward only. Skips the law allows, explicitly:
# - lawsuit → enforcement: property preservation is an application the creditor *may* make
#   (Civil Procedure Law Art. 103), not a step every suit goes through;
# - any stage → closed: the creditor may stop at any point — the debt repaid, a settlement
#   (a mediation statement or an enforcement settlement, 执行和解), or withdrawing the suit
#   (撤诉). Closing before enforcement takes one of EARLY_CLOSE_REASONS.
# Not allowed: enforcement before a lawsuit (it needs an effective judgment or other
# enforceable instrument) and going back (a new matter is a new proposal).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "lawyer_letter": ("lawsuit", "closed"),
    "lawsuit": ("property_preservation", "enforcement", "closed"),
    "property_preservation": ("enforcement", "closed"),
    "enforcement": ("closed",),
}


EARLY_CLOSE_REASONS = ("repaid", "settled", "withdrawn")


# Enforcement ends when it has collected (enforced) or the court ends it for want of assets
# (终结本次执行: uncollectable) — then write-off is the usual next step.
CLOSE_REASONS = (*EARLY_CLOSE_REASONS, "enforced", "uncollectable")


def check_transition(matter_id: int, stage: str, to: str) -> None:
    """A matter at `stage` may move to `to` only as TRANSITIONS allows (`closed` has none)."""
    allowed = TRANSITIONS[stage]
    if to not in allowed:
        raise RecordConflict(
            f"legal matter {matter_id}: stage: cannot go from {stage} to {to} "
            f"(allowed: {', '.join(allowed)})",
            "stage",
        )


def check_close_reason(matter_id: int, stage: str, to: str, close_reason: str | None) -> None:
    """Closing takes a reason — from enforcement any of CLOSE_REASONS, earlier one of
    EARLY_CLOSE_REASONS; moving to any other stage takes none."""
    if to == "closed":
        reasons = CLOSE_REASONS if stage == "enforcement" else EARLY_CLOSE_REASONS
        if close_reason not in reasons:
            raise RecordInvalid(
                f"legal matter {matter_id}: close_reason: closing from {stage} takes one of "
                f"{', '.join(reasons)}, not {close_reason!r}",
                "close_reason",
            )
    elif close_reason is not None:
        raise RecordInvalid(
            f"legal matter {matter_id}: close_reason: only when closing", "close_reason"
        )


def _source(rules: Legal, item: str, documented: Mapping[str, int], logged: bool) -> str | None:
    if item in documented:
        return f"document:{documented[item]}"
    if logged and item in rules.contact_log_evidence:
        return "contact_log"
    return None


def missing_evidence(
    rules: Legal, stage: str, documented: Collection[str], logged: bool
) -> list[str]:
    """The evidence items needed to enter `stage` that are not on file: neither a document of
    that kind (`documented`) nor — when the episode's contact log has a contact (`logged`) —
    an item the contact log provides."""
    return [
        item
        for item in rules.items_for(stage)
        if item not in documented and not (logged and item in rules.contact_log_evidence)
    ]


def evidence_sources(
    rules: Legal, documented: Mapping[str, int], logged: bool
) -> list[dict[str, Any]]:
    """Every stage's evidence items: stage, item, present, source (`document:<id>` — the first
    document of that kind in `documented` — `contact_log` or None)."""
    out = []
    for stage in LEGAL_STAGES:
        for item in rules.items_for(stage):
            source = _source(rules, item, documented, logged)
            out.append({"stage": stage, "item": item, "present": source is not None,
                        "source": source})  # fmt: skip
    return out


def limitation_ends(last_demand: date | None, years: int) -> date | None:
    """The end of the limitation period: `years` after the last demand for payment (Civil Code
    Art. 188/195: a demand restarts it); from a 29 February, the 28th."""
    if last_demand is None:
        return None
    try:
        return last_demand.replace(year=last_demand.year + years)
    except ValueError:  # 29 February
        return last_demand.replace(year=last_demand.year + years, day=28)


PROPOSALS = {
    "customer_id": pl.String, "case_opened_on": pl.Date, "proposed_on": pl.Date,
    "max_dpd": pl.Int64, "failed_contacts": pl.Int64, "overdue_amount": pl.Int64,
}  # fmt: skip


def episode_contact_days(frame: pl.DataFrame, contact: Contact) -> pl.DataFrame:
    """Contacts dated on their jurisdiction's calendar (one zone per jurisdiction code), kept
    when inside their case episode (on or after it opened, before it closed): customer_id,
    case_opened_on, on, sorted. Pure: `frame` has customer_id, case_opened_on, closed_on,
    at (UTC), jurisdiction (a code of the contact policy, never null)."""
    default_zone = contact.rules_for(None).timezone
    on = pl.col("at").dt.convert_time_zone(default_zone).dt.date()
    for code in sorted(set(frame["jurisdiction"].to_list())):
        zone = contact.rules_for(code).timezone
        if zone != default_zone:
            local = pl.col("at").dt.convert_time_zone(zone).dt.date()
            on = pl.when(pl.col("jurisdiction") == code).then(local).otherwise(on)
    return (
        frame.with_columns(on.alias("on"))
        .filter(
            (pl.col("on") >= pl.col("case_opened_on"))
            & (pl.col("closed_on").is_null() | (pl.col("on") < pl.col("closed_on")))
        )
        .select("customer_id", "case_opened_on", "on")
        .sort("customer_id", "case_opened_on", "on")
    )


def legal_candidates(
    qualifying: pl.DataFrame, failed: pl.DataFrame, min_failed: int
) -> pl.DataFrame:
    """The first qualifying date of each episode on which it has had `min_failed` failed
    contacts (PROPOSALS). Pure: `qualifying` from `_qualifying_days`, `failed` from
    `failed_contacts` (sorted).

    Failed contacts only accumulate within an episode, so the episode qualifies from the date
    of its N-th failed contact on: no (date × contact) product is needed."""
    episode = ["customer_id", "case_opened_on"]
    if min_failed > 0:
        nth = (
            failed.group_by(episode)
            .agg(pl.col("on").sort().get(min_failed - 1, null_on_oob=True).alias("from"))
            .filter(pl.col("from").is_not_null())
        )
        qualifying = qualifying.join(nth, on=episode, how="inner").filter(
            pl.col("as_of") >= pl.col("from")
        )
    first = (
        qualifying.sort([*episode, "as_of"])
        .group_by(episode, maintain_order=True)
        .first()
        .select(*episode, pl.col("as_of").alias("proposed_on"), "max_dpd", "overdue_amount")
    )
    counted = (
        first.join(failed, on=episode, how="inner")
        .filter(pl.col("on") <= pl.col("proposed_on"))
        .group_by(episode)
        .agg(pl.len().alias("failed_contacts"))
    )
    return (
        first.join(counted, on=episode, how="left")
        .with_columns(pl.col("failed_contacts").fill_null(0))
        .select(list(PROPOSALS))
        .cast(PROPOSALS)  # type: ignore[arg-type]
        .sort(episode)
    )


def check_not_before(where: str, on: date, start: date, what: str) -> None:
    """A proposal is accepted, and a matter moves on, no earlier than the proposal was made or
    the current stage began (`start`; `what` names it in the message)."""
    if on < start:
        raise RecordInvalid(f"{where}: on: {on} is before {what} ({start})", "on")


def check_decline_note(proposal_id: int, note: str) -> None:
    """Declining a proposal takes a reason."""
    if not note or not note.strip():
        raise RecordInvalid(f"legal proposal {proposal_id}: note: a reason is required", "note")
