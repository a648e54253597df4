"""Rich rendering of summaries for the terminal."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.table import Table

from postloan.money import format_amount
from postloan.reports.summary import PortfolioSummary

CLASS_LABELS = {
    "normal": "normal 正常",
    "special_mention": "special mention 关注",
    "substandard": "substandard 次级",
    "doubtful": "doubtful 可疑",
    "loss": "loss 损失",
}


def _money(cents: int) -> str:
    whole, frac = format_amount(cents).split(".")
    return f"{int(whole):,}.{frac}"


def print_summary(
    console: Console, summary: PortfolioSummary, as_of: date, policy_version: str
) -> None:
    buckets = Table(title=f"Portfolio as of {as_of} — by DPD bucket (逾期分档)")
    for col in ("bucket", "accounts", "outstanding principal", "overdue amount"):
        buckets.add_column(col, justify="left" if col == "bucket" else "right")
    for row in summary.by_bucket.iter_rows(named=True):
        buckets.add_row(
            row["bucket"],
            f"{row['accounts']:,}",
            _money(row["outstanding_principal"]),
            _money(row["overdue_amount"]),
        )
    buckets.add_row(
        "total",
        f"{summary.accounts:,}",
        _money(summary.outstanding_principal),
        _money(summary.overdue_amount),
        style="bold",
    )
    console.print(buckets)

    classes = Table(title="By five-category class (五级分类)")
    for col in ("class", "accounts", "outstanding principal"):
        classes.add_column(col, justify="left" if col == "class" else "right")
    for row in summary.by_class.iter_rows(named=True):
        classes.add_row(
            CLASS_LABELS.get(row["risk_class"], row["risk_class"]),
            f"{row['accounts']:,}",
            _money(row["outstanding_principal"]),
        )
    console.print(classes)
    console.print(
        f"DPD30+ ratio: [bold]{summary.dpd30_ratio:.2%}[/]   "
        f"NPL ratio (不良率): [bold]{summary.npl_ratio:.2%}[/]   "
        f"policy {policy_version[:12]}"
    )
