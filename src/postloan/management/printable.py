"""The printable monthly management pack (issue 16 item 5): one self-contained HTML document
per month and language — the month's figures, the trend of the twelve months up to it, the
roll-rate matrix and vintage curves as inline SVG (`svg`), breakdowns by branch and product,
the staff ranking against targets, the other areas' figures, dormant cards and the
definitions, with its provenance (definitions and policy versions, runs, when generated).

Print CSS (A4, page breaks before each part, table headers repeated on every page) is
embedded in the document so a stored pack opened from disk prints the same. The workbench
serves it under a Content-Security-Policy that allows exactly that style element
(`content_security_policy`: its SHA-256) and no script at all.

Rendered with the area's own template (`templates/management/print.html`) through Jinja
directly — the daily run's step renders it too, and the area's core imports no shell."""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from postloan.management import svg
from postloan.management.messages import MESSAGES
from postloan.management.service import Pack

HERE = Path(__file__).parent
LANGS = ("zh-CN", "en")
BREAKDOWNS = ("branch", "product", "team")
SUMMARY_KPIS = ("npl_ratio", "overdue_rate", "overdue_rate_lagged", "dpd30_ratio", "loss_rate")

PRINT_CSS = """\
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; font-size: 10pt;
  color: #222; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 12pt; margin: 10pt 0 4pt; border-bottom: 1px solid #999; }
.meta { color: #555; font-size: 8.5pt; }
.part { break-before: page; page-break-before: always; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; font-size: 8.5pt; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; text-align: left; }
th { background: #e8edf3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; }
tr, figure, svg { break-inside: avoid; page-break-inside: avoid; }
td.miss { color: #b00020; font-weight: bold; }
figure { margin: 4pt 0; }
figcaption { font-weight: bold; font-size: 9pt; }
svg.chart { max-width: 100%; height: auto; }
@media screen { body { padding: 12px; } .part { border-top: 2px dashed #ccc; margin-top: 16px; } }
"""


def _style_hash() -> str:
    digest = hashlib.sha256(PRINT_CSS.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def content_security_policy() -> str:
    """The CSP a printable pack is served under: nothing but its own style element."""
    return (
        f"default-src 'none'; style-src '{_style_hash()}'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _yuan(value: float | None) -> str:
    return "-" if value is None else f"{value / 100:,.2f}"


def _names(pack: Pack, lang: str, kpis: list[str]) -> dict[str, str]:
    label = "name_zh" if lang == "zh-CN" else "name_en"
    out = {}
    for k in kpis:
        if k in pack.definitions:
            out[k] = pack.definitions[k][label]
        elif k in pack.area_definitions:
            out[k] = pack.area_definitions[k][label]
        else:
            out[k] = MESSAGES[lang].get(f"management.kpi.{k}", k)
    return out


def _definition_rows(pack: Pack, label: str) -> list[dict[str, Any]]:
    """Every definition in the pack (the policy's, then the other areas') as one line of 口径."""
    rows = []
    for k, d in pack.definitions.items():
        numerator = d["numerator"]
        if numerator == "dpd_at_least":
            numerator += f" ≥{d['min_dpd']}"
        lag = f" ({d['lag_months']}m)" if d["lag_months"] else ""
        text = (
            f"{numerator} ÷ {d['denominator']} · {d['basis']} · {d['timing']}{lag} · "
            f"{d['status']} · {d['period']}"
        )
        rows.append({"kpi": k, "name": d[label], "version": d["version"], "text": text})
    for k, d in pack.area_definitions.items():
        text = f"[{d['area']}] {d['numerator']} ÷ {d['denominator']} · {d['basis']} · {d['period']}"
        rows.append({"kpi": k, "name": d[label], "version": d["version"], "text": text})
    return rows


def context(pack: Pack, lang: str, generated: datetime, run_id: int | None) -> dict[str, Any]:
    """What the template shows, prepared here (numbers as text, charts as SVG)."""
    t = MESSAGES[lang]
    months = pack.months["month"].to_list()
    last, last_day = months[-1], pack.months["as_of"][-1]
    kpis = [k for k in SUMMARY_KPIS if k in pack.definitions] + [
        k for k in pack.definitions if k not in SUMMARY_KPIS
    ]
    flows = ["c_m1_rate", "cure_rate"]
    names = _names(pack, lang, [*kpis, *flows, *pack.area_definitions])
    whole = pack.figures.filter(pl.col("dimension") == "portfolio").sort("as_of")
    rows = whole.to_dicts()
    now, before = rows[-1], (rows[-2] if len(rows) > 1 else None)
    summary = []
    for k in [*kpis, *flows]:
        change = None
        if before is not None and now[k] is not None and before[k] is not None:
            change = now[k] - before[k]
        shown = "-" if change is None else f"{change * 100:+.2f} pp"
        summary.append({"kpi": k, "name": names[k], "value": _percent(now[k]), "change": shown})
    trend = svg.line_chart(
        months,
        [(names[k], whole[k].to_list()) for k in SUMMARY_KPIS if k in whole.columns],
        t["management.trend"],
    )
    roll = pack.roll.filter((pl.col("dimension") == "portfolio") & (pl.col("as_of") == last_day))
    froms = list(dict.fromkeys(roll["from_bucket"].to_list()))
    tos = list(dict.fromkeys([*froms, *roll["to_bucket"].to_list()]))
    heat = (
        svg.heatmap(
            froms,
            tos,
            {(r["from_bucket"], r["to_bucket"]): r["share"] for r in roll.iter_rows(named=True)},
            t["management.roll"],
        )
        if roll.height
        else None
    )
    curves = pack.vintage.filter(pl.col("dpd") == pack.vintage["dpd"].min())
    vintage = None
    if curves.height:
        top = int(curves["mob"].max() or 0)  # type: ignore[arg-type]
        series = []
        for (cohort,), part in curves.group_by(["cohort"], maintain_order=True):
            values: list[float | None] = [None] * (top + 1)
            for r in part.iter_rows(named=True):
                values[r["mob"]] = r["rate"]
            series.append((str(cohort), values))
        vintage = svg.line_chart(
            [str(m) for m in range(top + 1)], series[-12:], t["management.vintage"]
        )
    breakdowns = []
    for dimension in BREAKDOWNS:
        part = pack.figures.filter(
            (pl.col("dimension") == dimension) & (pl.col("as_of") == last_day)
        ).sort("value")
        breakdowns.append(
            {
                "dimension": dimension,
                "title": t[f"management.dim.{dimension}"],
                "rows": [
                    {
                        "value": r["value"],
                        "accounts": f"{r['accounts']:,}",
                        "outstanding": _yuan(r["outstanding_principal"]),
                        "figures": [_percent(r[k]) for k in SUMMARY_KPIS if k in r],
                    }
                    for r in part.iter_rows(named=True)
                ],
            }
        )
    targets = list(dict.fromkeys(c.removesuffix("_target") for c in pack.staff.columns
                                 if c.endswith("_target")))  # fmt: skip
    staff = [
        {
            "dimension": t[f"management.dim.{r['dimension']}"],
            "value": r["value"],
            "rank": "-" if r.get("rank") is None else r["rank"],
            "cells": [
                {
                    "figure": _percent(r.get(k)),
                    "target": _percent(r.get(f"{k}_target")),
                    "miss": r.get(f"{k}_met") is False,
                }
                for k in targets
            ],
            "met": f"{r.get('targets_met', 0)}/{r.get('targets_applicable', 0)}",
        }
        for r in pack.staff.iter_rows(named=True)
    ]
    area_rows = []
    label = "name_zh" if lang == "zh-CN" else "name_en"
    for r in pack.area_figures.filter(
        (pl.col("dimension") == "portfolio") & (pl.col("month") == last)
    ).iter_rows(named=True):
        d = pack.area_definitions.get(r["kpi"], {})
        basis = d.get("basis", "count")
        shown = "-" if r["ratio"] is None else (
            f"{r['ratio'] * 100:.1f}" if basis == "score" else _percent(r["ratio"])
        )  # fmt: skip
        number = _yuan if basis == "amount" else (lambda v: "-" if v is None else f"{v:,.0f}")
        area_rows.append(
            {
                "area": t.get(f"management.area.{r['area']}", r["area"]),
                "name": d.get(label, r["kpi"]),
                "version": r["definition_version"],
                "numerator": number(r["numerator"]),
                "denominator": number(r["denominator"]),
                "figure": shown,
            }
        )
    dormant = pack.dormant.filter(pl.col("month") == last).to_dicts()
    return {
        "lang": lang,
        "t": t,
        "css": PRINT_CSS,
        "month": last,
        "as_of": last_day.isoformat(),
        "period": f"{months[0]} – {last}",
        "generated": generated.isoformat(timespec="seconds"),
        "run_id": run_id,
        "pack": pack,
        "runs": "; ".join(f"{m}: {','.join(map(str, ids))}" for m, ids in pack.runs.items()),
        "summary": summary,
        "trend": trend,
        "heat": heat,
        "vintage": vintage,
        "breakdowns": breakdowns,
        "summary_names": [names[k] for k in SUMMARY_KPIS if k in pack.definitions],
        "staff_kpis": [names.get(k, k) for k in targets],
        "staff": staff,
        "area_rows": area_rows,
        "dormant": dormant[0] if dormant else None,
        "definitions": _definition_rows(pack, label),
    }


def render(pack: Pack, lang: str, generated: datetime, run_id: int | None = None) -> str:
    """The month's printable pack (the pack's last month) as one HTML document."""
    lang = lang if lang in LANGS else "zh-CN"
    return _ENV.get_template("management/print.html").render(context(pack, lang, generated, run_id))


def month_start(day: date, months: int) -> date:
    """The first day of the month `months - 1` months before `day`'s (a pack of `months`
    months ending with `day`'s)."""
    index = day.year * 12 + day.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)
