"""Measures per grade (CH-6) and the win-back contact policy — pure rules, no database.

- `holdout_draw` / `in_holdout`: an episode's side in the evaluation (CH-7). The draw is a
  64-bit FNV-1a hash of "churn|seed|customer|episode start" (UTF-8), mixed by MurmurHash3's
  finaliser (FNV alone spreads the last bytes poorly) and scaled to [0, 1): the same on every
  machine and in every re-run, so an episode keeps its side; holdout episodes get no measure.
  `holdout_draws` / `held_out` compute it for a whole frame (numpy, one pass per key byte).
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

`winback_refusals` and `offer_frame` are the same two rules over a whole frame of measures (the
daily step's path: no per-customer Python); `check_winback` and `propose_offers` are their
plain one-customer readings, which the screens use and the tests compare the frames against.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

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
_FNV_OFFSET, _FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
_MIX1, _MIX2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
_MASK = 2**64 - 1


def holdout_draw(customer_id: str, entered_on: date, seed: int) -> float:
    """The episode's uniform draw in [0, 1): the same for the same (seed, customer, start).
    The plain reading of `holdout_draws` (module doc)."""
    h = _FNV_OFFSET
    for byte in f"churn|{seed}|{customer_id}|{entered_on.isoformat()}".encode():
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    for mult in (_MIX1, _MIX2):
        h = ((h ^ (h >> 33)) * mult) & _MASK
    h ^= h >> 33
    return (h >> 11) / 2.0**53  # the top 53 bits: every draw exact in a double


def in_holdout(customer_id: str, entered_on: date, policy: Policy) -> bool:
    m = policy.churn.measures
    return holdout_draw(customer_id, entered_on, m.holdout_seed) < m.holdout_share


def holdout_draws(customer_ids: pl.Series, entered_on: pl.Series, seed: int) -> np.ndarray:
    """`holdout_draw` of every (customer, episode start), without a Python loop per episode."""
    keys = pl.select(pl.concat_str(
        pl.lit(f"churn|{seed}|"), pl.lit(customer_ids).cast(pl.String), pl.lit("|"),
        pl.lit(entered_on).dt.to_string("%Y-%m-%d"))).to_series()  # fmt: skip
    lengths = keys.str.len_bytes().to_numpy()
    n = keys.len()
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return np.zeros(0)
    width = int(lengths.max())
    raw = np.array(keys.cast(pl.Binary).to_list(), dtype=f"S{width}")
    matrix = raw.view(np.uint8).reshape(n, width).astype(np.uint64)
    prime = np.uint64(_FNV_PRIME)
    with np.errstate(over="ignore"):  # unsigned products wrap modulo 2**64, as FNV wants
        for j in range(width):
            h = np.where(lengths > j, (h ^ matrix[:, j]) * prime, h)
        for mult in (_MIX1, _MIX2):
            h = (h ^ (h >> np.uint64(33))) * np.uint64(mult)
        h ^= h >> np.uint64(33)
    return (h >> np.uint64(11)).astype(np.float64) / 2.0**53


def held_out(customer_ids: pl.Series, entered_on: pl.Series, policy: Policy) -> pl.Series:
    """`in_holdout` of every (customer, episode start) (Boolean series)."""
    m = policy.churn.measures
    return pl.Series("held_out", holdout_draws(customer_ids, entered_on, m.holdout_seed)
                     < m.holdout_share, dtype=pl.Boolean)  # fmt: skip


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

    # Compact, key-sorted JSON: the text `offer_frame` writes for the same offer, so a re-run
    # that derives the same offer finds it unchanged.
    def basis_json(self) -> str:
        return json.dumps(self.basis, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def terms_json(self) -> str:
        return json.dumps(self.terms, sort_keys=True, separators=(",", ":"))


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


# --- the same rules over frames (the daily step) ------------------------------------------------

_CLOSED_TEXT = (
    "; the marketing consent predates the closure: a new consent is needed to use the data"
)


def winback_refusals(frame: pl.DataFrame) -> pl.DataFrame:
    """`check_winback` for every row of `frame` (columns `kind`, `channel`, `consent`,
    `consent_since`, `opted_out` — this row's channel opted out on the day — and `closed_on`):
    adds `refused_rules` (comma-separated, None when allowed), `refusal_detail` and `status`
    (refused | open), the text `check_winback` gives."""
    marketing = pl.col("kind").is_in(MARKETING_KINDS)
    consent = pl.col("consent").fill_null(False)
    since, closed = pl.col("consent_since"), pl.col("closed_on")
    broken = {
        "marketing_consent": marketing & ~consent,
        "channel_opt_out": marketing & pl.col("opted_out").fill_null(False),
        "closed_relationship": marketing & consent & closed.is_not_null()
        & (since.is_null() | (since < closed)),
    }  # fmt: skip
    text = {
        "marketing_consent": pl.lit("marketing_consent: the customer has not consented to "
                                    "marketing"),
        "channel_opt_out": pl.concat_str(pl.lit("channel_opt_out: the customer opted out of "),
                                         pl.col("channel")),
        "closed_relationship": pl.concat_str(
            pl.lit("closed_relationship: every account closed on "),
            closed.dt.to_string("%Y-%m-%d"), pl.lit(_CLOSED_TEXT)),
    }  # fmt: skip
    rules = pl.concat_list([pl.when(b).then(pl.lit(n)) for n, b in broken.items()])
    details = pl.concat_list([pl.when(b).then(text[n]) for n, b in broken.items()])
    any_broken = pl.any_horizontal(*broken.values())
    return frame.with_columns(
        pl.when(any_broken).then(rules.list.drop_nulls().list.join(",")).alias("refused_rules"),
        pl.when(any_broken).then(details.list.drop_nulls().list.join("; "))
        .alias("refusal_detail"),
        pl.when(any_broken).then(pl.lit("refused")).otherwise(pl.lit("open")).alias("status"),
    )  # fmt: skip


def offer_frame(frame: pl.DataFrame, rules: tuple[str, ...], policy: Policy) -> pl.DataFrame:
    """`propose_offers` for every row of `frame` (columns `measure_id`, one boolean per rule in
    `rules`, `suggested_reason`, `overdue_amount`): one row per offer — `measure_id`, `kind`,
    `terms`, `basis` (the JSON `Offer` writes)."""
    o = policy.churn.measures.offers
    held = pl.concat_list([pl.when(pl.col(r)).then(pl.lit(r)) for r in sorted(rules)])
    reason, amount = pl.col("suggested_reason"), pl.col("overdue_amount")
    base = frame.select(
        "measure_id",
        held.list.drop_nulls().alias("rules"),
        reason.alias("reason"),
        amount.alias("overdue_amount"),
        (reason.is_in(["competition", "policy"]).fill_null(False)
         | pl.col("transferred_out")).alias("price"),
        (pl.col("loan_overdue") | pl.col("card_default") | (amount > 0)).alias("strain"),
    )  # fmt: skip

    def offers(which: pl.Expr, kind: str, rule: str, term: str, value: int) -> pl.DataFrame:
        return base.filter(which).select(
            "measure_id",
            pl.lit(kind).alias("kind"),
            pl.lit(json.dumps({term: value}, separators=(",", ":"))).alias("terms"),
            pl.struct(  # key-sorted, as `Offer.basis_json`
                pl.lit(2, dtype=pl.Int64).alias("grade"), "overdue_amount",
                pl.lit(policy.version).alias("policy"), "reason", pl.lit(rule).alias("rule"),
                "rules",
            ).struct.json_encode().alias("basis"),
        )  # fmt: skip

    return pl.concat([
        offers(pl.col("price"), "rate_discount", "price_sensitive", "rate_discount_bps",
               o.rate_discount_bps),
        offers(pl.col("strain"), "term_extension", "capacity_strain", "term_extra_months",
               o.term_extra_months),
        offers(~pl.col("strain"), "limit_increase", "good_standing", "limit_increase_percent",
               o.limit_increase_percent),
    ]).sort("measure_id", "kind")  # fmt: skip
