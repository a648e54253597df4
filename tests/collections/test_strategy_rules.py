"""The pure strategy totals, without a database: spells by stage, strategy and arm, with the
cure and recovery rates (a stage with no overdue amount at entry has no recovery rate)."""

from __future__ import annotations

import polars as pl

from postloan.collections.rules.strategies import strategy_totals


def test_strategy_totals_by_stage_strategy_and_arm() -> None:
    outcomes = pl.DataFrame(
        {
            "stage": ["early", "early", "early", "late"],
            "strategy": ["sms", "sms", "call", "visit"],
            "arm": ["champion", "champion", "challenger", "champion"],
            "cured": [True, False, True, False],
            "overdue_at_entry": [100, 300, 50, 0],
            "recovered": [100, 50, 20, 0],
        }
    )
    out = strategy_totals(outcomes)
    assert out.select("stage", "strategy", "spells", "cured", "recovered").rows() == [
        ("early", "call", 1, 1, 20),
        ("early", "sms", 2, 1, 150),
        ("late", "visit", 1, 0, 0),
    ]
    assert out["cure_rate"].to_list() == [1.0, 0.5, 0.0]
    # 20/50, 150/400; no overdue amount at entry: no rate.
    assert out["recovery_rate"].to_list() == [0.4, 0.375, None]
