"""Write-off and asset disposal rules (OD-10), pure: a proposed disposal's amounts and effective
date, and which cured case closures a disposal explains (the store side: `disposals`)."""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.collections.errors import RecordInvalid
from postloan.collections.rules import MAX_AMOUNT

DISPOSAL_KINDS = ("write_off", "asset_disposal")


# The cases' close_reason for a case closed because its accounts were taken out of the books.
CASE_CLOSE_REASON = {"write_off": "written_off", "asset_disposal": "disposed"}


def closure_labels(
    closed: pl.DataFrame, gone: pl.DataFrame, days: list[date], before: date | None
) -> pl.DataFrame:
    """Which cases closed as `cured` on `days` closed because their accounts left the books:
    case_id, close_reason (`CASE_CLOSE_REASON`; `disposed` when any of its accounts was an
    asset disposal). Pure: `closed` (case_id, closed_on, account_id: the cured closures and
    their accounts), `gone` (`disposed_accounts` on the last day), `before` the stored date
    before the first day. A disposal explains a closure when it took effect after the stored
    date before the closing date and on or before the closing date."""
    previous = pl.DataFrame(
        {"closed_on": days, "previous": [before, *days[:-1]]},
        schema={"closed_on": pl.Date, "previous": pl.Date},
    )
    disposed = (
        closed.join(previous, on="closed_on", how="left")
        .join(gone, on="account_id", how="inner")
        .filter(
            (pl.col("effective_on") <= pl.col("closed_on"))
            & (pl.col("previous").is_null() | (pl.col("effective_on") > pl.col("previous")))
        )
        .group_by("case_id")
        .agg((pl.col("kind") == "asset_disposal").any().alias("disposed"))
    )
    return disposed.select(
        "case_id",
        pl.when(pl.col("disposed"))
        .then(pl.lit(CASE_CLOSE_REASON["asset_disposal"]))
        .otherwise(pl.lit(CASE_CLOSE_REASON["write_off"]))
        .alias("close_reason"),
    )


def check_after_latest(where: str, effective_on: date, latest: date | None) -> None:
    """A disposal takes effect on a business date not yet run: reported dates stay as they are."""
    if latest is not None and effective_on <= latest:
        raise RecordInvalid(
            f"{where}: effective_on: must be after the latest stored business date ({latest}); "
            "dates already run are not restated",
            "effective_on",
        )


def check_amounts(
    where: str, kind: str, *, outstanding_principal: int, overdue_interest: int,
    principal: int | None, interest: int | None, fee: int, proceeds: int | None,
    counterparty: str | None,
) -> tuple[int, int]:  # fmt: skip
    """The principal and interest a proposed disposal takes out of the books — by default the
    account's outstanding principal and overdue interest — checked with the fee, proceeds and
    counterparty: at most the outstanding principal, something to take out, and proceeds (and
    a counterparty) only for an asset disposal, which must have proceeds."""
    principal = outstanding_principal if principal is None else principal
    interest = overdue_interest if interest is None else interest
    if not 0 <= principal <= outstanding_principal:
        raise RecordInvalid(
            f"{where}: principal: must be between 0 and the outstanding principal "
            f"({outstanding_principal})",
            "principal",
        )
    for field, value in (("interest", interest), ("fee", fee)):
        if not 0 <= value <= MAX_AMOUNT:
            raise RecordInvalid(f"{where}: {field}: must be 0 or more", field)
    if principal + interest + fee <= 0:
        raise RecordInvalid(f"{where}: principal: nothing to take out of the books", "principal")
    if kind == "asset_disposal":
        if proceeds is None or not 0 <= proceeds <= MAX_AMOUNT:
            raise RecordInvalid(f"{where}: proceeds: the price received (0 or more)", "proceeds")
    elif proceeds is not None or counterparty is not None:
        field = "proceeds" if proceeds is not None else "counterparty"
        raise RecordInvalid(f"{where}: {field}: only an asset disposal has one", field)
    return principal, interest
