"""Hardship plans (CR-5) as checked objects: what a plan may be, refused with a named reason.

- cards: an individual instalment plan of at most `card_max_months` (信用卡业务监督管理办法
  Art. 70: at most 5 years); collection stops once it is signed, unless the plan is broken.
- loans: a deferral of at most `loan_max_deferral_months`, or an extension of at most
  `loan_max_extension_months` and never more than the original term (个人贷款管理办法).
- an oral agreement is allowed, but its recording (reference and summary) must be recorded
  and kept until the plan is settled (Art. 70).
- maker-checker: a different user holding the approve action approves or rejects it.

States: proposed → approved (kept: collection paused) | rejected | withdrawn;
approved → broken (collection resumed) | completed. A kept plan is also broken by the daily
run when its account goes quiet — no payment for more than `missed_payment_days` once payments
are due (`missed_plans`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.policy.relationship import Hardship
from postloan.relationship.rules.clock import Refusal

KINDS = ("card_instalment", "loan_deferral", "loan_extension")
FORMS = ("written", "oral")
MAX_TEXT = 1000

# state -> what may follow
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("approved", "rejected", "withdrawn"),
    "approved": ("broken", "completed"),
}


@dataclass(frozen=True)
class PlanDraft:
    kind: str
    account_type: str  # of the account the plan is for: loan | card
    months: int
    form: str  # written | oral
    oral_record: str | None = None  # the recording's reference and summary (oral plans)
    original_term_months: int | None = None  # loans: the original term


def plan_refusals(draft: PlanDraft, limits: Hardship) -> list[Refusal]:
    """Every reason the plan cannot be proposed (empty: it can)."""
    out: list[Refusal] = []
    if draft.kind not in KINDS:
        return [Refusal("kind", f"kind: one of {', '.join(KINDS)}")]
    wanted = "card" if draft.kind == "card_instalment" else "loan"
    if draft.account_type != wanted:
        out.append(
            Refusal(
                "account_type",
                f"a {draft.kind} plan is for a {wanted} account, not a {draft.account_type}",
            )
        )
    if draft.months < 1:
        out.append(Refusal("months", "months: at least 1"))
    cap = {
        "card_instalment": limits.card_max_months,
        "loan_deferral": limits.loan_max_deferral_months,
        "loan_extension": limits.loan_max_extension_months,
    }[draft.kind]
    if draft.months > cap:
        out.append(
            Refusal(
                "over_limit",
                f"{draft.kind}: at most {cap} months by the policy, asked {draft.months}",
            )
        )
    if draft.kind == "loan_extension":
        term = draft.original_term_months
        if term is not None and draft.months > term:
            out.append(
                Refusal(
                    "over_original_term",
                    f"an extension may not exceed the original term ({term} months)",
                )
            )
    if draft.form not in FORMS:
        out.append(Refusal("form", f"form: one of {', '.join(FORMS)}"))
    if draft.form == "oral" and not (draft.oral_record or "").strip():
        out.append(
            Refusal("oral_record", "an oral agreement needs its recording's reference and summary")
        )
    if draft.oral_record is not None and len(draft.oral_record) > MAX_TEXT:
        out.append(Refusal("oral_record", f"oral_record: at most {MAX_TEXT} characters"))
    return out


def transition_refusal(status: str, to: str) -> Refusal | None:
    if to not in TRANSITIONS.get(status, ()):
        return Refusal("state", f"a {status} plan cannot become {to}")
    return None


def approval_refusals(proposer: str, approver: str, may_approve: bool) -> list[Refusal]:
    out: list[Refusal] = []
    if approver == proposer:
        out.append(Refusal("maker_checker", "the proposer may not approve their own plan"))
    if not may_approve:
        out.append(Refusal("not_approver", f"{approver} may not approve hardship plans"))
    return out


def pauses_collection(status: str) -> bool:
    """Collection work stops while the plan is kept (approved, not broken or completed)."""
    return status == "approved"


def missed_plans(kept: pl.DataFrame, day: date, missed_payment_days: int) -> pl.DataFrame:
    """The kept plans broken on `day` by a missed instalment, from the payments.

    `kept`: one row per kept plan — plan_id, kind, months, decided_on and last_paid (the
    latest payment on the plan's account on or before `day` that no reversal cancels; null
    when none). A plan's instalments are due from its approval; a deferral's from the end of
    the deferral (decided_on + months: nothing is due while it runs). It is broken when the
    days since the later of "payments due from" and the last payment exceed
    `missed_payment_days` — counted only once payments are due, so a plan approved yesterday
    is never broken today. Returns the broken rows with `due_from` and `quiet_since` (the day
    the counting started from) and `days_quiet`."""
    due_from = (
        pl.when(pl.col("kind") == "loan_deferral")
        .then(pl.col("decided_on").dt.offset_by(pl.format("{}mo", pl.col("months"))))
        .otherwise(pl.col("decided_on"))
    )
    paid = pl.col("last_paid").fill_null(pl.col("due_from"))
    return (
        kept.with_columns(due_from.alias("due_from"))
        .with_columns(pl.max_horizontal("due_from", paid).alias("quiet_since"))
        .with_columns((pl.lit(day) - pl.col("quiet_since")).dt.total_days().alias("days_quiet"))
        .filter(pl.col("days_quiet") > missed_payment_days)
    )
