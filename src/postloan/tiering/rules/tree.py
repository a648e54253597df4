"""LY-3 decision tree, first part: fit a scikit-learn classification tree on integer features
and export its splits as readable rules that reproduce its predictions exactly.

Why integers: a fitted tree compares `float32(x) <= threshold` (scikit-learn casts X to float32;
thresholds are float64 midpoints). For an integer x with |x| < 2**24 (exact in float32) that is
`x <= floor(threshold)`, so each rule reads "max_dpd <= 30" and gives the tree's answer for
every input, not just the training rows. Features outside that range are refused at fit time.

Adopted (`[tiering.tree]`, after a second person's approval: `tiering.adoption`), the rules
label each customer on each date from the same features (`features_of`); a customer labelled
`npl` qualifies for at least the policy's `npl_floor` (`tree_floor`) — before hysteresis, so
the tree only ever makes a tier riskier and never contradicts a floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from postloan.policy import Policy
from postloan.policy.tiering import TIERS, TREE_FEATURES, TierTree
from postloan.tiering.rules.classify import tier_of_rank, tier_rank

EXACT = 2**24  # integers below this are exact in float32


@dataclass(frozen=True)
class Condition:
    feature: str
    op: str  # "<=" or ">"
    value: int

    def text(self) -> str:
        return f"{self.feature} {self.op} {self.value}"


@dataclass(frozen=True)
class Rule:
    """A leaf: every condition holds → `label` (`samples` training rows reached it)."""

    conditions: tuple[Condition, ...]
    label: str
    samples: int

    def text(self) -> str:
        when = " and ".join(c.text() for c in self.conditions) or "always"
        return f"if {when} then {self.label}"


def _check(features: pl.DataFrame) -> np.ndarray:
    for name, kind in features.schema.items():
        if not kind.is_integer():
            raise ValueError(f"feature {name!r} must be an integer column, not {kind}")
    values = features.to_numpy().astype(np.int64)
    if values.size and np.abs(values).max() >= EXACT:
        raise ValueError(f"features must lie within ±{EXACT - 1} (exact in float32)")
    return values


def fit_rules(
    features: pl.DataFrame,
    labels: pl.Series,
    max_depth: int = 3,
    min_samples_leaf: int = 20,
    seed: int = 0,
) -> tuple[list[Rule], object]:
    """Fit a tree (deterministic: `seed`) and return its leaves as rules, and the fitted tree."""
    from sklearn.tree import DecisionTreeClassifier

    x = _check(features)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=seed)  # fmt: skip
    tree.fit(x, labels.cast(pl.String).to_numpy())
    t = tree.tree_
    names, classes = features.columns, [str(c) for c in tree.classes_]
    rules: list[Rule] = []

    def walk(node: int, path: tuple[Condition, ...]) -> None:
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == right:  # a leaf
            label = classes[int(np.argmax(t.value[node][0]))]
            rules.append(Rule(path, label, int(t.n_node_samples[node])))
            return
        name, cut = names[int(t.feature[node])], math.floor(float(t.threshold[node]))
        walk(left, (*path, Condition(name, "<=", cut)))
        walk(right, (*path, Condition(name, ">", cut)))

    walk(0, ())
    return rules, tree


def apply_rules(rules: list[Rule], features: pl.DataFrame) -> pl.Series:
    """The label of each row by the rules (vectorised; exactly one rule holds per row)."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(rules):
        holds: pl.Expr = pl.lit(True)
        for c in rule.conditions:
            col = pl.col(c.feature)
            holds = holds & (col <= c.value if c.op == "<=" else col > c.value)
        expr = pl.when(holds).then(pl.lit(rule.label)).otherwise(expr)
    return features.select(expr.alias("label")).to_series()


def features_of(frame: pl.DataFrame) -> pl.DataFrame:
    """The tree's integer features (TREE_FEATURES) of rows holding credit_status, capacity,
    max_dpd, times_late and the RFM scores: classes as ranks (0 best), DPD capped inside the
    float32-exact range."""
    return frame.select(
        pl.col("max_dpd").clip(0, 99_999).cast(pl.Int64),
        pl.col("times_late").clip(0, 99_999).cast(pl.Int64),
        pl.col("credit_status").replace_strict(["good", "average", "poor"], [0, 1, 2],
                                               return_dtype=pl.Int64).alias("credit_rank"),
        pl.col("capacity").replace_strict(["strong", "average", "weak"], [0, 1, 2],
                                          return_dtype=pl.Int64).alias("capacity_rank"),
        pl.col("rfm_r").cast(pl.Int64), pl.col("rfm_f").cast(pl.Int64),
        pl.col("rfm_m").cast(pl.Int64),
    ).select(list(TREE_FEATURES))  # fmt: skip


def adopted_rules(tree: TierTree) -> list[Rule]:
    """The policy's rules as `Rule`s (no training counts: the policy keeps what they say)."""
    return [Rule(tuple(Condition(c.feature, c.op, c.value) for c in r.conditions), r.label, 0)
            for r in tree.rules]  # fmt: skip


def tree_floor(frame: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """`frame` (qualified_tier and the features' sources) with its qualified tier lowered to
    the tree's `npl_floor` where the adopted rules say `npl` (unchanged without rules)."""
    tree = policy.tiering.tree
    if not tree.rules or frame.height == 0:
        return frame
    npl = apply_rules(adopted_rules(tree), features_of(frame)) == "npl"
    floor = pl.when(pl.lit(npl)).then(pl.lit(TIERS.index(tree.npl_floor))).otherwise(0)
    return frame.with_columns(
        tier_of_rank(pl.max_horizontal(tier_rank("qualified_tier"), floor)).alias("qualified_tier")
    )
