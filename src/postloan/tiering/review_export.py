"""The review page's figures as an Excel workbook (`GET /api/tiering/review.xlsx`, the download
link on `/tiering/review`): the back-test per month and tier, the roll rates per DPD bucket,
the loss rates and — when the page showed one — the what-if of typed cut-offs, one sheet per
table, the same figures the API's `review`, `rolls` and `whatif` answers hold.

Every sheet: a bold header row of the columns' names in the reader's language (zh-CN or
English; the `columns` sheet pairs each with the API's field name, for a program reading the
file), number formats (amounts in yuan
from minor units, rates as percentages, counts with separators), dates as ISO text, the header
row and the key columns (month, date, tier, bucket) frozen. The first sheet names the window,
the policy in force and, with a what-if, the candidate's version and the cut-offs changed.
Amount columns are left out for a reader without account access (as the page leaves them out).
Aggregates only: no customer appears.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from postloan.tiering.card import AMOUNTS
from postloan.tiering.messages import MESSAGES

AMOUNT_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
COUNT_FORMAT = "#,##0"
KEYS = ("month", "as_of", "tier", "bucket", "stored", "candidate_tier")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")

# Each table's columns in order (the API's field names); amounts are dropped without access.
BACKTEST = ("month", "as_of", "tier", "customers", "balance", "npl_balance", "npl_rate",
            "next_as_of", "next_npl_rate", "next_churn_rate")  # fmt: skip
ROLLS = ("month", "as_of", "tier", "bucket", "customers", "balance", "rolled_balance",
         "next_as_of", "roll_rate")  # fmt: skip
LOSSES = ("month", "as_of", "tier", "customers", "balance", "removed_balance", "loss_balance",
          "written_off_balance", "next_as_of", "loss_rate")  # fmt: skip
MOVED = ("as_of", "customers", "moved")
MATRIX = ("stored", "candidate_tier", "customers")  # "candidate" is the what-if's side name


@dataclass(frozen=True)
class ReviewFigures:
    """What the workbook holds: the window, the policy in force, the three tables (rows as
    `report.review` and `report.roll_and_loss` give them) and an optional what-if
    (`report.what_if`) with the cut-offs it changed (name → (in force, candidate))."""

    date_from: str
    date_to: str
    policy_version: str
    shows_accounts: bool
    backtest: list[dict[str, Any]]
    rolls: list[dict[str, Any]]
    losses: list[dict[str, Any]]
    what_if: dict[str, Any] | None = None
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)
    lang: str = "zh-CN"

    def label(self, name: str) -> str:
        """A column's name in the workbook's language."""
        texts = MESSAGES.get(self.lang, MESSAGES["zh-CN"])
        return texts.get(f"tiering.col.{name}", name)


def kind_of(name: str) -> Literal["amount", "rate", "count", "text"]:
    if name in AMOUNTS:
        return "amount"
    if name.endswith("_rate"):
        return "rate"
    if name in ("customers", "moved"):
        return "count"
    return "text"


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "amount":
        return value / 100  # minor units (分) → yuan for the reader; the API keeps 分
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _table(book: Workbook, name: str, columns: Sequence[str], rows: list[dict[str, Any]],
           figures: ReviewFigures, legend: list[tuple[str, str, str]]) -> None:  # fmt: skip
    shown = [c for c in columns if figures.shows_accounts or kind_of(c) != "amount"]
    sheet: Worksheet = book.create_sheet(name[:31])
    labels = [figures.label(c) for c in shown]
    sheet.append(labels)
    legend += [(name, label, c) for label, c in zip(labels, shown, strict=True)]
    for cell in sheet[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    kinds = [kind_of(c) for c in shown]
    for row in rows:
        sheet.append([_cell(row.get(c), k) for c, k in zip(shown, kinds, strict=True)])
    formats = {"amount": AMOUNT_FORMAT, "rate": RATE_FORMAT, "count": COUNT_FORMAT}
    for index, (label, kind) in enumerate(zip(labels, kinds, strict=True), start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, min(28, 2 * len(label) + 2))
        if kind in formats:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = formats[kind]
    keys = sum(1 for c in shown if c in KEYS)
    sheet.freeze_panes = sheet.cell(row=2, column=keys + 1)  # header row and key columns


def workbook_bytes(figures: ReviewFigures) -> bytes:
    """The workbook (module doc): `review`, then `backtest`, `rolls`, `losses`, with a
    what-if `whatif_moved`, `whatif_matrix`, `whatif_in_force`, `whatif_candidate`, and last
    `columns` (sheet, column name, API field)."""
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "review"
    about.append(["from", figures.date_from])
    about.append(["to", figures.date_to])
    about.append(["policy_version", figures.policy_version])
    about.append(["amounts", "yuan" if figures.shows_accounts else "withheld (no account access)"])
    w = figures.what_if
    if w is not None:
        about.append(["candidate_version", w["version"]])
        about.append([])
        about.append(["cut_off", "in_force", "candidate"])
        for cell in about[about.max_row]:
            cell.font = _HEADER_FONT
        for name, (now, then) in figures.changed.items():
            about.append([f"tiering.{name}", now, then])
    about.column_dimensions["A"].width = 44
    about.column_dimensions["B"].width = 24
    legend: list[tuple[str, str, str]] = []
    _table(book, "backtest", BACKTEST, figures.backtest, figures, legend)
    _table(book, "rolls", ROLLS, figures.rolls, figures, legend)
    _table(book, "losses", LOSSES, figures.losses, figures, legend)
    if w is not None:
        matrix = [{"stored": c["stored"], "candidate_tier": c["candidate"],
                   "customers": c["customers"]} for c in w["transitions"]]  # fmt: skip
        _table(book, "whatif_moved", MOVED, w["moved"], figures, legend)
        _table(book, "whatif_matrix", MATRIX, matrix, figures, legend)
        _table(book, "whatif_in_force", BACKTEST, w["current"], figures, legend)
        _table(book, "whatif_candidate", BACKTEST, w["candidate"], figures, legend)
    columns = book.create_sheet("columns")
    columns.append([figures.label(n) for n in ("sheet", "label", "field")])
    for cell in columns[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for row in legend:
        columns.append(list(row))
    for letter, width in (("A", 18), ("B", 40), ("C", 24)):
        columns.column_dimensions[letter].width = width
    columns.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
