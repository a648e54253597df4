"""Measures per grade (CH-6) and the win-back contact policy — pure rules, no database.

- `holdout_draw` / `in_holdout`: an episode's side in the evaluation (CH-7). The draw is a
  BLAKE2b hash of (seed, customer, episode start): the same on every machine and in every
  re-run, so an episode keeps its side; holdout episodes get no measure.
- `planned_measures`: what each (episode, grade) gets: level 1 → a hand-over to collections
  (`recovery_handover`: special recovery team, legal proposal, asset preservation, negotiated
  plan); level 2 → an account manager's follow-up with offers (`winback_followup`); level 3 →
  a callback / SMS about new products (`winback_callback`, one per channel).
- `check_winback`: a win-back contact is marketing. The rules it breaks, each named (like the
  collections contact policy names its rules):
  - `marketing_consent`: no marketing consent on the day (PIPL Art. 13/14: a separate basis
    for marketing; 消费者权益保护法 Art. 29: no commercial messages without consent);
  - `channel_opt_out`: the customer opted out of this channel (消费者权益保护法 Art. 29);
  - `closed_relationship`: every account is closed and the consent predates the closure — the
    data of an ended relationship is kept (storage) but not used for marketing without a new
    basis (PIPL Art. 47: delete when the purpose is achieved; Art. 24 automated marketing):
    a consent given on or after the closure date is that new basis.
  Level-1 hand-overs are recovery of a debt, not marketing: collections' own contact policy
  applies to the contacts it makes.
- `propose_offers`: the level-2 offers from the policy, each with its basis (rule and evidence).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from postloan.policy import Policy

HANDOVER, FOLLOWUP, CALLBACK = "recovery_handover", "winback_followup", "winback_callback"
KINDS: tuple[str, ...] = (HANDOVER, FOLLOWUP, CALLBACK)
KIND_OF_GRADE = {1: HANDOVER, 2: FOLLOWUP, 3: CALLBACK}
MARKETING_KINDS = (FOLLOWUP, CALLBACK)
# What collections is asked to do for a level-1 customer (seed 000, 一级流失客户管理措施).
HANDOVER_ACTIONS: tuple[str, ...] = (
    "special_recovery_team", "legal_proposal", "asset_preservation", "negotiated_plan",
)  # fmt: skip
HANDOVER_CHANNEL = "collections"  # a hand-over's "channel": the collections area
OFFER_KINDS: tuple[str, ...] = ("rate_discount", "term_extension", "limit_increase")
_SCALE = float(2**64)


def holdout_draw(customer_id: str, entered_on: date, seed: int) -> float:
    """The episode's uniform draw in [0, 1): the same for the same (seed, customer, start)."""
    key = f"churn|{seed}|{customer_id}|{entered_on.isoformat()}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


def in_holdout(customer_id: str, entered_on: date, policy: Policy) -> bool:
    m = policy.churn.measures
    return holdout_draw(customer_id, entered_on, m.holdout_seed) < m.holdout_share


@dataclass(frozen=True)
class Planned:
    kind: str
    channel: str


def planned_measures(grade: int, policy: Policy) -> list[Planned]:
    """The measures an episode gets when it reaches `grade` (module doc)."""
    m = policy.churn.measures
    if grade == 1:
        return [Planned(HANDOVER, HANDOVER_CHANNEL)]
    if grade == 2:
        return [Planned(FOLLOWUP, m.level2_channel)]
    if grade == 3:
        return [Planned(CALLBACK, ch) for ch in m.level3_channels]
    raise ValueError(f"grade: 1, 2 or 3, not {grade!r}")


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str  # English, for logs and the API; screens word it from `params`
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class MarketingFacts:
    """What the contact policy reads about a customer on the day of the contact."""

    consent: bool  # the latest marketing consent on the day (records, else the import flag)
    consent_since: date | None  # when that consent was given (None: unknown)
    opted_out: frozenset[str]  # channels opted out of on the day
    closed_on: date | None  # every account closed: the last closure; else None


def check_winback(kind: str, channel: str, facts: MarketingFacts) -> list[Violation]:
    """Every rule a win-back contact of `kind` over `channel` breaks (module doc); none for a
    hand-over (not marketing)."""
    if kind not in MARKETING_KINDS:
        return []
    out: list[Violation] = []
    if not facts.consent:
        out.append(Violation("marketing_consent", "the customer has not consented to marketing"))
    if channel in facts.opted_out:
        out.append(Violation("channel_opt_out", f"the customer opted out of {channel}",
                             {"channel": channel}))  # fmt: skip
    if (
        facts.consent
        and facts.closed_on is not None
        and (facts.consent_since is None or facts.consent_since < facts.closed_on)
    ):
        out.append(
            Violation(
                "closed_relationship",
                f"every account closed on {facts.closed_on}; the marketing consent predates "
                "the closure: a new consent is needed to use the data",
                {"closed_on": facts.closed_on.isoformat()},
            )
        )
    return out


def rules_text(violations: Iterable[Violation]) -> str:
    return ",".join(v.rule for v in violations)


@dataclass(frozen=True)
class Offer:
    kind: str
    terms: dict[str, int]
    basis: dict[str, Any]  # the policy rule, the grade, the evidence it read

    def basis_json(self) -> str:
        return json.dumps(self.basis, sort_keys=True, ensure_ascii=False)

    def terms_json(self) -> str:
        return json.dumps(self.terms, sort_keys=True)


def propose_offers(
    rules: Iterable[str], reason: str | None, overdue_amount: int, policy: Policy
) -> list[Offer]:
    """The level-2 offers for a customer (CH-6: better rate, longer term, higher limit), each
    with the policy rule that proposed it:

    - `price_sensitive` → `rate_discount`: the reason is competition or policy (rates), or the
      business was transferred out — a better rate answers a better offer elsewhere;
    - `capacity_strain` → `term_extension`: an overdue rule holds (loan or card) — a longer term
      lowers the instalment;
    - `good_standing` → `limit_increase`: nothing overdue on the day (closed, dormant) — more
      room brings use back.
    So at least one offer always comes out.
    """
    held = sorted(set(rules))
    o = policy.churn.measures.offers
    basis = {"grade": 2, "rules": held, "reason": reason, "overdue_amount": overdue_amount,
             "policy": policy.version}  # fmt: skip
    out: list[Offer] = []
    if reason in ("competition", "policy") or "transferred_out" in held:
        out.append(Offer("rate_discount", {"rate_discount_bps": o.rate_discount_bps},
                         {**basis, "rule": "price_sensitive"}))  # fmt: skip
    if {"loan_overdue", "card_default"} & set(held) or overdue_amount > 0:
        out.append(Offer("term_extension", {"term_extra_months": o.term_extra_months},
                         {**basis, "rule": "capacity_strain"}))  # fmt: skip
    else:
        out.append(Offer("limit_increase", {"limit_increase_percent": o.limit_increase_percent},
                         {**basis, "rule": "good_standing"}))  # fmt: skip
    return out
