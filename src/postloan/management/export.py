"""The pack as files people use (issue 16 item 5): an Excel workbook — one sheet per breakdown,
bold headers, number formats (amounts in yuan, ratios as percentages), frozen header rows and
key columns — and CSV or Parquet, one file per section. Every file names the definitions
version, the policy version and the runs it was computed from (the workbook's first sheet; the
folders' `pack.json`). Aggregates only: no account, no customer."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from postloan.management.rules.pack import DIMENSIONS
from postloan.management.service import Pack

AMOUNT_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
COUNT_FORMAT = "#,##0"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
KEY_COLUMNS = (
    "month",
    "as_of",
    "dimension",
    "value",
    "cohort",
    "mob",
    "dpd",
    "from_bucket",
    "to_bucket",
)
AMOUNTS = (
    "outstanding_principal",
    "overdue_amount",
    "disbursed_amount",
    "principal_recovered",
    "interest_recovered",
    "balance",
    "from_balance",
    "ever_principal",
    "cohort_principal",
    "c_m1_numerator",
    "c_m1_denominator",
    "cure_numerator",
    "cure_denominator",
)


AREA_TEXT = ("area", "kpi", "basis")
AREA_NUMBERS = ("numerator_shown", "denominator_shown")
AREA_RATES = ("ratio", "low", "high")


def column_kind(name: str, pack: Pack) -> Literal["amount", "rate", "count", "text", "number"]:
    """How a column's numbers are shown: amounts (minor units → yuan), rates, counts; the
    areas' sheet: numbers already in yuan or counts (by the row's basis), ratios."""
    kpis = pack.definitions
    if name in AREA_TEXT:
        return "text"
    if name in AREA_NUMBERS:
        return "number"
    if name in AREA_RATES:
        return "rate"
    if (
        name in kpis
        or name.endswith("_rate")
        or name in ("share", "rate", "dormant_share", "limit")
    ):
        return "rate"
    if name in AMOUNTS:
        return "amount"
    base = name.removesuffix("_numerator").removesuffix("_denominator")
    if base in kpis:
        return "amount" if kpis[base]["basis"] == "amount" else "count"
    if name in KEY_COLUMNS:
        return "text"
    return "count"


def _sheet_frames(pack: Pack) -> dict[str, pl.DataFrame]:
    """Sheet name → its frame: the figures one sheet per breakdown, then the other sections."""
    sheets: dict[str, pl.DataFrame] = {}
    lead = ["month", "as_of", "dimension", "value"]
    for dimension in DIMENSIONS:
        part = pack.figures.filter(pl.col("dimension") == dimension)
        sheets[dimension] = part.select(*lead, *[c for c in part.columns if c not in lead])
    sheets["roll"] = pack.roll.select(
        "month",
        "as_of",
        "dimension",
        "value",
        "from_bucket",
        "to_bucket",
        "accounts",
        "balance",
        "from_balance",
        "share",
    )
    sheets["vintage"] = pack.vintage
    sheets["dormant"] = pack.dormant
    sheets["staff"] = pack.staff
    sheets["areas"] = area_sheet(pack)
    return sheets


def area_sheet(pack: Pack) -> pl.DataFrame:
    """Other areas' figures for the workbook: amounts (basis `amount`) in yuan, counts as
    they are, in `numerator_shown` / `denominator_shown`; the basis named on each row."""
    basis = {k: d.get("basis", "count") for k, d in pack.area_definitions.items()}
    rows = pack.area_figures.with_columns(
        pl.col("kpi").replace_strict(basis, default="count", return_dtype=pl.String).alias("basis")
    )
    yuan = pl.when(pl.col("basis") == "amount").then(100.0).otherwise(1.0)
    return rows.select(
        "month", "as_of", "area", "kpi", "dimension", "value", "basis",
        (pl.col("numerator") / yuan).alias("numerator_shown"),
        (pl.col("denominator") / yuan).alias("denominator_shown"),
        "ratio", "low", "high", "definition_version",
    )  # fmt: skip


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "amount":
        return value / 100  # minor units (分) → yuan for the reader; the API keeps 分
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def workbook_bytes(pack: Pack) -> bytes:
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "pack"
    about.append(["from", pack.date_from.isoformat()])
    about.append(["to", pack.date_to.isoformat()])
    about.append(["policy_version", pack.policy_version])
    about.append(["definitions_version", pack.definitions_version])
    about.append(["runs", json.dumps(pack.runs)])
    about.append([])
    about.append(
        [
            "kpi",
            "version",
            "name_zh",
            "name_en",
            "numerator",
            "min_dpd",
            "denominator",
            "basis",
            "timing",
            "lag_months",
            "status",
            "period",
        ]
    )
    for cell in about[about.max_row]:
        cell.font = _HEADER_FONT
    for kpi, d in pack.definitions.items():
        about.append(
            [
                kpi,
                d["version"],
                d["name_zh"],
                d["name_en"],
                d["numerator"],
                d["min_dpd"],
                d["denominator"],
                d["basis"],
                d["timing"],
                d["lag_months"],
                d["status"],
                d["period"],
            ]
        )
    about.column_dimensions["A"].width = 22
    for name, frame in _sheet_frames(pack).items():
        sheet = book.create_sheet(name[:31])
        kinds = [column_kind(c, pack) for c in frame.columns]
        sheet.append(frame.columns)
        for cell in sheet[1]:
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        for row in frame.iter_rows():
            sheet.append([_cell(v, k) for v, k in zip(row, kinds, strict=True)])
        formats = {
            "amount": AMOUNT_FORMAT,
            "rate": RATE_FORMAT,
            "count": COUNT_FORMAT,
            "number": AMOUNT_FORMAT,
        }
        for index, kind in enumerate(kinds, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(
                12, min(28, len(frame.columns[index - 1]) + 2)
            )
            if kind in formats:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = formats[kind]
        keys = sum(1 for c in frame.columns if c in KEY_COLUMNS)
        sheet.freeze_panes = sheet.cell(row=2, column=keys + 1)  # header row and key columns
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def write_tables(pack: Pack, folder: Path, fmt: Literal["csv", "parquet"]) -> list[Path]:
    """One file per section (amounts in minor units, as the API) and `pack.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in {
        "figures": pack.figures,
        "roll": pack.roll,
        "vintage": pack.vintage,
        "dormant": pack.dormant,
        "staff": pack.staff,
        "area_figures": pack.area_figures,
    }.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
        written.append(path)
    meta = folder / "pack.json"
    meta.write_text(
        json.dumps(
            {
                "from": pack.date_from.isoformat(),
                "to": pack.date_to.isoformat(),
                "policy_version": pack.policy_version,
                "definitions_version": pack.definitions_version,
                "definitions": pack.definitions,
                "runs": pack.runs,
                "left_out": pack.left_out,
                "area_definitions": pack.area_definitions,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return [*written, meta]
