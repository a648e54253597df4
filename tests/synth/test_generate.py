"""The generator's shape: determinism, counts, coverage of every enum, ids, integrity."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from postloan.engine.frames import LOANS
from postloan.ids import is_valid_mobile, is_valid_prc_id
from postloan.ledger import generate_instalments, override_instalments
from postloan.synth import CARD_NAMES, LOAN_NAMES, SyntheticPortfolio, generate
from tests.synth.conftest import AS_OF

FRAMES = ("customers", "loans", "instalments", "cards", "statements", "payments", "events")


def test_same_seed_same_frames() -> None:
    a = generate(accounts=1_500, seed=7, as_of=AS_OF)
    b = generate(accounts=1_500, seed=7, as_of=AS_OF)
    for name in (*FRAMES, "schedule_overrides"):
        assert_frame_equal(getattr(a, name), getattr(b, name))


def test_different_seed_different_frames(sp_small: SyntheticPortfolio) -> None:
    other = generate(accounts=3_000, seed=6, as_of=AS_OF)
    for name in FRAMES:
        assert not getattr(other, name).equals(getattr(sp_small, name)), name


@pytest.mark.parametrize("accounts", [1, 2, 7, 999, 2_500])
def test_exact_account_count(accounts: int) -> None:
    sp = generate(accounts=accounts, seed=3, as_of=AS_OF)
    assert sp.loans.height + sp.cards.height == accounts
    assert sp.customers.height == max(1, round(accounts / 1.4))
    assert sp.portfolio.loans.height == sp.loans.height


def test_ten_thousand_accounts(sp10k: SyntheticPortfolio) -> None:
    assert sp10k.loans.height + sp10k.cards.height == 10_000
    assert 0.68 <= sp10k.loans.height / 10_000 <= 0.72
    assert 7_000 <= sp10k.customers.height <= 7_300
    # every customer owns at least one account
    owners = pl.concat([sp10k.loans["customer_id"], sp10k.cards["customer_id"]]).unique()
    assert owners.len() == sp10k.customers.height


def test_every_enum_and_behaviour_present(sp10k: SyntheticPortfolio) -> None:
    loans = sp10k.loans
    assert set(loans["repayment_method"]) == {
        "equal_installment",
        "equal_principal",
        "interest_only",
    }
    assert set(loans["purpose"]) == {
        "consumer",
        "business",
        "housing",
        "working_capital",
        "fixed_asset",
        "project",
        "other",
    }
    assert set(loans["guarantee"]) == {"unsecured", "mortgage", "pledge", "guarantee"}
    assert set(loans["rate_type"]) == {"fixed", "floating"}
    assert set(loans["behaviour"]) == set(LOAN_NAMES)
    assert set(sp10k.cards["behaviour"]) == set(CARD_NAMES)
    assert set(sp10k.events["type"]) == {
        "application",
        "account_closed",
        "transfer_out",
        "contact",
        "explanation",
        "complaint",
        "lawsuit",
        "bureau_update",
        "income_change",
        "asset_transfer",
    }
    assert loans["product"].n_unique() >= 8
    assert sp10k.customers["branch_id"].n_unique() == 8
    assert sp10k.customers["industry"].n_unique() == 12
    # equal_installment is the most common method
    counts = loans["repayment_method"].value_counts(sort=True)
    assert counts["repayment_method"][0] == "equal_installment"


def test_loan_terms_rates_and_dates(sp10k: SyntheticPortfolio) -> None:
    loans = sp10k.loans
    assert loans["term_months"].mean() >= 24
    assert sp10k.instalments.height / loans.height >= 24  # after early payoffs, too
    assert loans["term_months"].min() == 1
    assert loans["term_months"].max() >= 240
    rate = loans["annual_rate"]
    assert rate.min() >= 3_000_000 and rate.max() <= 24_000_000
    assert (rate % 10_000 == 0).all()  # at most 4 decimals
    assert (loans["principal"] > 0).all()
    assert (loans["principal"] % 100 == 0).all()  # whole yuan
    housing = loans.filter(pl.col("purpose") == "housing")["principal"].median()
    consumer = loans.filter(pl.col("purpose") == "consumer")["principal"].median()
    assert housing > 10 * consumer
    disbursed = loans["disbursement_date"]
    assert disbursed.max() <= AS_OF
    assert disbursed.min() >= AS_OF - timedelta(days=3 * 365)
    explicit = loans["first_due_date"].drop_nulls()
    assert 0.05 < explicit.len() / loans.height < 0.3
    assert (explicit.dt.day() == 31).any()
    assert (
        explicit > loans.filter(pl.col("first_due_date").is_not_null())["disbursement_date"]
    ).all()


def test_instalments_are_the_ledger_schedules_with_payoffs_revised(
    sp_small: SyntheticPortfolio,
) -> None:
    generated = generate_instalments(sp_small.loans.select(list(LOANS)))
    assert_frame_equal(
        override_instalments(generated, sp_small.schedule_overrides), sp_small.instalments
    )
    assert_frame_equal(sp_small.portfolio.instalments, sp_small.instalments)
    payoff = sp_small.loans.filter(pl.col("behaviour") == "early_payoff")["account_id"]
    assert set(sp_small.schedule_overrides["account_id"]) == set(payoff)
    # a revised schedule still repays exactly the principal
    sums = sp_small.instalments.group_by("account_id").agg(pl.col("principal_due").sum())
    joined = sums.join(sp_small.loans.select("account_id", "principal"), on="account_id")
    assert (joined["principal_due"] == joined["principal"]).all()


def test_identities_are_valid_and_unique(sp10k: SyntheticPortfolio) -> None:
    customers = sp10k.customers
    assert all(is_valid_prc_id(s) for s in customers["id_number"])
    assert all(is_valid_mobile(s) for s in customers["phone"])
    assert customers["id_number"].n_unique() == customers.height
    assert customers["phone"].n_unique() == customers.height
    assert customers["customer_id"].n_unique() == customers.height
    birth = customers["id_number"].str.slice(6, 8).str.to_date("%Y%m%d")
    age = birth.map_elements(
        lambda d: AS_OF.year - d.year - ((AS_OF.month, AS_OF.day) < (d.month, d.day)),
        return_dtype=pl.Int64,
    )
    assert age.min() >= 20 and age.max() <= 65
    assert (customers["name"].str.len_chars().is_between(2, 4)).all()
    assert customers["bureau_score"].is_between(350, 950).all()
    assert (customers["monthly_income"] > 0).all()
    assert (customers["total_liabilities"] >= 0).all()
    consent = customers.filter(pl.col("consent_marketing"))
    assert consent["consent_date"].null_count() == 0
    assert consent["consent_date"].max() <= AS_OF


def test_referential_integrity(sp10k: SyntheticPortfolio) -> None:
    customers = set(sp10k.customers["customer_id"])
    accounts = set(sp10k.loans["account_id"]) | set(sp10k.cards["account_id"])
    assert len(accounts) == 10_000
    assert set(sp10k.loans["customer_id"]) <= customers
    assert set(sp10k.cards["customer_id"]) <= customers
    assert set(sp10k.instalments["account_id"]) == set(sp10k.loans["account_id"])
    assert set(sp10k.statements["account_id"]) <= set(sp10k.cards["account_id"])
    assert set(sp10k.payments["account_id"]) <= accounts
    assert set(sp10k.events["customer_id"]) <= customers
    assert set(sp10k.events["account_id"].drop_nulls()) <= accounts
    # an event about an account belongs to the account's owner
    owner = pl.concat(
        [
            sp10k.loans.select("account_id", "customer_id"),
            sp10k.cards.select("account_id", "customer_id"),
        ]
    )
    ev = sp10k.events.drop_nulls("account_id").join(owner, on="account_id", suffix="_owner")
    assert (ev["customer_id"] == ev["customer_id_owner"]).all()


def test_payments(sp10k: SyntheticPortfolio) -> None:
    pay = sp10k.payments
    assert pay["payment_id"].n_unique() == pay.height
    assert pay["payment_id"].is_sorted()
    assert pay["value_date"].max() <= AS_OF
    assert (pay["amount"] > 0).all()
    assert set(pay["channel"]) == {"auto_debit", "transfer", "counter"}
    reversals = pay.filter(pl.col("reverses_payment_id").is_not_null())
    assert 0.003 <= reversals.height / pay.height <= 0.008
    targets = reversals.join(
        pay.select(
            pl.col("payment_id").alias("reverses_payment_id"),
            pl.col("account_id").alias("target_account"),
            pl.col("value_date").alias("target_date"),
            pl.col("amount").alias("target_amount"),
            pl.col("reverses_payment_id").alias("target_reverses"),
        ),
        on="reverses_payment_id",
        how="left",
    )
    assert targets["target_account"].null_count() == 0  # every target exists
    assert (targets["target_account"] == targets["account_id"]).all()
    assert (targets["target_date"] <= targets["value_date"]).all()
    assert (targets["target_amount"] == targets["amount"]).all()
    assert targets["target_reverses"].null_count() == targets.height  # never reverses a reversal
    assert reversals["reverses_payment_id"].n_unique() == reversals.height
    # payments start after the account opened
    opened = pl.concat(
        [
            sp10k.loans.select("account_id", pl.col("disbursement_date").alias("opened")),
            sp10k.cards.select("account_id", pl.col("open_date").alias("opened")),
        ]
    )
    joined = pay.join(opened, on="account_id")
    assert (joined["value_date"] >= joined["opened"]).all()


def test_statements_are_consistent(sp10k: SyntheticPortfolio) -> None:
    st = sp10k.statements.join(sp10k.cards, on="account_id")
    assert (st["minimum_due"] <= st["statement_balance"]).all()
    assert (st["minimum_due"] >= 0).all()
    assert ((st["statement_balance"] == 0) == (st["minimum_due"] == 0)).all()
    assert (st["purchases"] >= 0).all()
    assert (st["due_date"] > st["statement_date"]).all()
    days = (st["due_date"] - st["statement_date"]).dt.total_days()
    assert days.is_between(20, 25).all()
    assert (st["statement_date"] > st["open_date"]).all()
    assert st["statement_date"].max() <= AS_OF
    # one statement a month, on a fixed day per card
    per_card = st.group_by("account_id").agg(
        pl.col("statement_date").dt.day().n_unique().alias("days"),
        (pl.col("statement_date").diff().dt.total_days().max()).alias("gap"),
    )
    assert (per_card["days"] == 1).all()
    assert per_card["gap"].drop_nulls().max() <= 31
    # balances follow the month before: never above previous + purchases + interest
    ordered = st.sort("account_id", "statement_date").with_columns(
        pl.col("statement_balance").shift(1).over("account_id").alias("previous")
    )
    grown = ordered.drop_nulls("previous").filter(
        pl.col("statement_balance") > pl.col("previous") * 1.015 + pl.col("purchases") + 1
    )
    assert grown.height == 0


def test_closed_and_dormant_cards(sp10k: SyntheticPortfolio) -> None:
    cards = sp10k.cards
    closed = cards.filter(pl.col("close_date").is_not_null())
    assert set(closed["behaviour"]) == {"closer"}
    assert closed["close_date"].max() <= AS_OF
    last = sp10k.statements.group_by("account_id").agg(
        pl.col("statement_date").max().alias("last"),
        pl.col("statement_balance").sort_by("statement_date").last().alias("balance"),
    )
    joined = closed.join(last, on="account_id")
    assert joined.height == closed.height
    assert (joined["balance"] == 0).all()
    assert (joined["last"] < joined["close_date"]).all()
    dormant = cards.filter(pl.col("behaviour") == "dormant")["account_id"]
    st = sp10k.statements.filter(pl.col("account_id").is_in(dormant.implode()))
    assert st.height > 0
    assert (st["statement_balance"] == 0).all() and (st["purchases"] == 0).all()
    assert not sp10k.payments["account_id"].is_in(dormant.implode()).any()


def test_events(sp10k: SyntheticPortfolio) -> None:
    ev = sp10k.events
    assert ev["event_id"].n_unique() == ev.height
    assert ev["date"].max() <= AS_OF
    assert ev["date"].min() >= date(2020, 1, 1)
    payoff = sp10k.loans.filter(pl.col("behaviour") == "early_payoff")["account_id"]
    closed = ev.filter(pl.col("type") == "account_closed")["account_id"]
    assert set(payoff) <= set(closed)
    closer = sp10k.cards.filter(pl.col("behaviour") == "closer")["account_id"]
    assert set(closer) <= set(closed)
    assert (ev.filter(pl.col("type") == "application")["amount"] > 0).all()
    reapplied = ev.filter(pl.col("type") == "application")["customer_id"].n_unique()
    assert reapplied > 0.1 * sp10k.customers.height
