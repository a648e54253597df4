"""Charts of the printable pack as inline SVG, drawn on the server: no script runs in the
printed document (the workbench's CSP allows no inline script, and a stored pack opened from
disk has no library to call), and SVG prints sharp at any size. Presentation attributes only
(`fill`, `stroke`, `font-size`), never `style=""` — the CSP allows no inline style attribute.

Three shapes: lines over months (the KPIs' trend, the vintage curves), and a heatmap (the
roll-rate matrix). Values arrive as fractions; axes are drawn in percent."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6db5", "#d9822b", "#2e9d6a", "#c23b3b", "#7a4fb0", "#5b8d9a", "#a3a13a", "#888")
FONT = 'font-family="sans-serif" font-size="10"'


def _nice_top(value: float) -> float:
    """A round upper bound for the y axis (fractions: 1 %, 2 %, 5 %, 10 %, …)."""
    if value <= 0:
        return 0.01
    for top in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= top:
            return top
    return float(int(value) + 1)


def _pct(value: float) -> str:
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    width: int = 640,
    height: int = 240,
) -> str:
    """Lines of fractions over `labels` (a gap where a value is None), a legend, y in %."""
    left, right, top, bottom = 56, 12, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    y_top = _nice_top(max(values, default=0.0))
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        tick = y_top * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd" stroke-width="0.5"/>'
            f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" text-anchor="end" {FONT}>'
            f"{_pct(tick)}</text>"
        )
    step = max(1, n // 12)
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f"{FONT}>{escape(label)}</text>"
            )
    for s, (name, vs) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        run: list[str] = []
        runs: list[list[str]] = []
        for i, v in enumerate(vs):
            if v is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="1.8" fill="{colour}"/>')
        if run:
            runs.append(run)
        for points in runs:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="1.6"/>'
            )
        lx = left + (s % 4) * (plot_w / 4)
        ly = 10 + (s // 4) * 12
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 7}" width="9" height="9" fill="{colour}"/>'
            f'<text x="{lx + 12:.1f}" y="{ly + 1}" {FONT}>{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: dict[tuple[str, str], float],
    title: str,
    cell_w: int = 64,
    cell_h: int = 22,
) -> str:
    """A rows × columns grid of shares (fractions), each cell shaded by its share and labelled
    in percent; a missing cell is blank."""
    left, top = 72, 22
    width, height = left + cell_w * len(columns) + 8, top + cell_h * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for j, column in enumerate(columns):
        parts.append(
            f'<text x="{left + cell_w * (j + 0.5):.1f}" y="{top - 6}" text-anchor="middle" '
            f"{FONT}>{escape(column)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + cell_h * i
        parts.append(
            f'<text x="{left - 4}" y="{y + cell_h / 2 + 3:.1f}" text-anchor="end" '
            f"{FONT}>{escape(row)}</text>"
        )
        for j, column in enumerate(columns):
            share = cells.get((row, column))
            if share is None:
                continue
            shade = int(244 - 180 * max(0.0, min(share, 1.0)))
            ink = "#fff" if share > 0.6 else "#222"
            parts.append(
                f'<rect x="{left + cell_w * j}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill="rgb({shade},{shade + 6 if shade < 249 else 250},'
                f'{min(shade + 30, 250)})"/>'
                f'<text x="{left + cell_w * (j + 0.5):.1f}" y="{y + cell_h / 2 + 3:.1f}" '
                f'text-anchor="middle" fill="{ink}" {FONT}>{share * 100:.1f}%</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
