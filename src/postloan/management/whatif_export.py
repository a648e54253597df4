"""The policy what-if as files people use: an Excel workbook (a sheet `about` with the range,
both policy versions, the stored runs, the notes and the areas not replayed; one sheet per
figure, in force / candidate / difference side by side, header row and keys frozen) or one CSV
of every figure in long form (area, figure, key, measure, in_force, candidate, diff)."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from postloan.errors import InvalidError
from postloan.management.whatif import WhatIf

_BOLD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDE4EE")
_DIFF_FILL = PatternFill("solid", fgColor="FFF2CC")


def about_rows(found: WhatIf) -> list[tuple[str, str]]:
    rows = [
        ("from", found.start.isoformat()),
        ("to", found.end.isoformat()),
        ("dates", str(len(found.dates))),
        ("in_force_version", found.in_force_version),
        ("candidate_version", found.candidate_version),
        ("not_replayed", ", ".join(found.not_replayed)),
    ]
    rows += [(f"stored {s['as_of']}", f"runs {s['runs']} policy {s['policy_versions']}")
             for s in found.stored]  # fmt: skip
    rows += [(f"note ({area})", note) for area, notes in found.notes.items() for note in notes]
    return rows


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def workbook_bytes(found: WhatIf) -> bytes:
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "about"
    about.append(("item", "value"))
    for row in about_rows(found):
        about.append(row)
    for cell in about[1]:
        cell.font, cell.fill = _BOLD, _FILL
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 80
    for figure in found.figures:
        sheet = book.create_sheet(f"{figure.area}.{figure.name}"[:31])
        sheet.append(list(figure.table.columns))
        for row in figure.table.iter_rows():
            sheet.append([_value(v) for v in row])
        for cell in sheet[1]:
            cell.font, cell.fill = _BOLD, _DIFF_FILL if cell.value.endswith("_diff") else _FILL
        for i, name in enumerate(figure.table.columns, start=1):
            letter = sheet.cell(row=1, column=i).column_letter
            sheet.column_dimensions[letter].width = max(12, len(name) + 2)
            if name.endswith("ratio_in_force") or "ratio_" in name:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "0.00%"
            elif figure.table.schema[name].is_integer():
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "#,##0"
        sheet.freeze_panes = sheet.cell(row=2, column=len(figure.keys) + 1)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def write(found: WhatIf, path: Path) -> None:
    """The workbook (.xlsx) or the long CSV (.csv), by the file's extension."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        path.write_bytes(workbook_bytes(found))
    elif suffix == ".csv":
        found.long().write_csv(path)
    else:
        raise InvalidError("--out must end in .xlsx or .csv", field="out")
