"""Small server-side SVG charts of the dashboard: sparklines and the drift heatmap.

Like :mod:`telltale.report.charts` (whose histograms and bars the feature page reuses), these
return one ``<svg>`` string with every piece of user text escaped, no script and no inline
``style`` (the pages' Content-Security-Policy forbids both); colours are Okabe–Ito.

>>> sparkline_svg([1, 3, None, 2]).count("<polyline")
1
>>> "&lt;b&gt;" in drift_heatmap_svg(["<b>"], ["t0"], [[0.3]], [[True]])
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ["drift_heatmap_svg", "sparkline_svg"]

_BLUE = (0x00, 0x72, 0xB2)  # Okabe–Ito blue: no drift …
_VERMILLION = "#D55E00"  # … and the outline of a flagged cell


def _c(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def sparkline_svg(
    values: Sequence[float | None], *, width: int = 120, height: int = 28, label: str = ""
) -> str:
    """A line through the finite values (gaps where a value is missing), scaled to its range."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label or "trend")}">'
    )
    if not points:
        return head + '<text x="2" y="18" class="muted">no data</text></svg>'
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = high - low or 1.0
    n = max(len(values) - 1, 1)
    runs: list[list[str]] = [[]]
    previous = None
    for i, v in points:
        if previous is not None and i != previous + 1:
            runs.append([])
        x = 2 + (width - 4) * i / n
        y = height - 3 - (height - 6) * (v - low) / span
        runs[-1].append(f"{_c(x)},{_c(y)}")
        previous = i
    lines = "".join(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="#0072B2" stroke-width="1.5"/>'
        if len(run) > 1
        else f'<circle cx="{run[0].split(",")[0]}" cy="{run[0].split(",")[1]}" r="1.5" '
        'fill="#0072B2"/>'
        for run in runs
    )
    return head + f"<title>{escape(label)}</title>" + lines + "</svg>"


def _shade(share: float) -> str:
    share = min(max(share, 0.0), 1.0)
    rgb = [round(255 + (target - 255) * share) for target in _BLUE]
    return "#" + "".join(f"{v:02x}" for v in rgb)


def drift_heatmap_svg(
    features: Sequence[str],
    windows: Sequence[str],
    statistics: Sequence[Sequence[float | None]],
    flagged: Sequence[Sequence[bool]],
    *,
    thresholds: Sequence[float | None] | None = None,
    links: Sequence[str] | None = None,
    pending: Sequence[bool] | None = None,
) -> str:
    """Features (rows) × windows (columns), each cell shaded by its drift statistic relative to
    the feature's threshold (white: none, blue: at or past it) and outlined in vermillion when
    the test flagged it; a grey cell had no data, a pale one is still being computed
    (``pending``, per window). ``links`` are the rows' feature pages."""
    cell_w, cell_h = max(26.0, min(56.0, 640.0 / max(len(windows), 1))), 22.0
    left, top = 150.0, 8.0
    width = int(left + cell_w * max(len(windows), 1) + 10)
    height = int(top + cell_h * max(len(features), 1) + 44)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="drift per feature over time">'
    ]
    for row, feature in enumerate(features):
        y = top + row * cell_h
        name = feature if len(feature) <= 22 else feature[:21] + "…"
        text = (
            f'<text x="{_c(left - 6)}" y="{_c(y + cell_h / 2 + 4)}" text-anchor="end">'
            f"{escape(name)}<title>{escape(feature)}</title></text>"
        )
        if links is not None:
            text = f'<a href="{escape(links[row])}">{text}</a>'
        parts.append(text)
        limit = thresholds[row] if thresholds is not None else None
        for col, window in enumerate(windows):
            value = statistics[row][col]
            x = left + col * cell_w
            if pending is not None and pending[col]:
                fill, tip = "#f4f6f8", f"{feature}, {window}: being computed (reload)"
            elif value is None or not math.isfinite(value):
                fill, tip = "#dddddd", f"{feature}, {window}: no data"
            else:
                share = value / limit if limit else value
                fill = _shade(share)
                tip = f"{feature}, {window}: {value:.4g}" + (
                    f" (threshold {limit:.4g})" if limit else ""
                )
            hit = flagged[row][col]
            outline = f' stroke="{_VERMILLION}" stroke-width="2"' if hit else ' stroke="#ffffff"'
            parts.append(
                f'<rect class="cell" x="{_c(x)}" y="{_c(y)}" width="{_c(cell_w)}" '
                f'height="{_c(cell_h)}" fill="{fill}"{outline}>'
                f"<title>{escape(tip + (' — drift' if hit else ''))}</title></rect>"
            )
    if windows:
        base = top + len(features) * cell_h + 14
        for col in (0, len(windows) - 1):
            anchor = "start" if col == 0 else "end"
            x = left + col * cell_w + (0 if col == 0 else cell_w)
            parts.append(
                f'<text x="{_c(x)}" y="{_c(base)}" text-anchor="{anchor}" class="muted">'
                f"{escape(windows[col])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
