"""Inline SVG charts for the HTML report, built as compact strings (no JavaScript, no network).

Every builder returns one ``<svg>`` element to paste into HTML as is: user text (column names,
category values, class labels) is escaped here, coordinates are rounded to 0.1 px and numbers
in tooltips to 4 significant digits, so a report with hundreds of charts stays small. Colours
and fonts come from the page's CSS classes (``ref``, ``cur``, ``grid``...), which keeps the
markup short; the reference is blue and the current data orange (Okabe–Ito palette).

>>> svg = bar_svg(["a", "b"], [0.5, 0.5], [0.9, 0.1])
>>> svg.startswith("<svg") and svg.count("<rect class=\\"bar") == 4
True
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from html import escape

__all__ = [
    "ChartError",
    "bar_svg",
    "format_number",
    "format_share",
    "heatmap_svg",
    "histogram_svg",
    "nice_ticks",
]

_WIDTH = 560
_LEFT = 52  # room for y tick labels
_RIGHT = 14
_TOP = 30  # room for the legend
_BOTTOM = 40  # room for x tick labels and the axis title
_MAX_LABEL = 22  # characters of a category label shown before it is cut


class ChartError(ValueError):
    """The chart data cannot be drawn (wrong lengths, non-numeric or non-finite values)."""


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """A number in at most ~4 significant digits, readable: ``1,234,567``, ``0.3142``, ``1.2e-05``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e12 or magnitude < 1e-3:
        return f"{value:.3e}".replace("e-0", "e-").replace("e+0", "e+")
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def format_share(share: float) -> str:
    """A share (0–1) as a percentage: ``28%``, ``5.0%``, ``0.0012%``."""
    pct = share * 100
    if pct == 0:
        return "0%"
    if abs(pct) >= 10:
        return f"{pct:.0f}%"
    if abs(pct) >= 1:
        return f"{pct:.1f}%"
    return f"{pct:.2g}%"


def _c(value: float) -> str:
    """A coordinate rounded to 0.1 px, without a trailing ``.0``."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick positions (1, 2, 2.5, 5 × 10ⁿ apart) covering ``[low, high]``, about ``count``."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw * 0.999:
            step = multiple * magnitude
            break
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _tick_label(value: float, step: float) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size and step >= size / 10:
            return f"{value / size:.3g}{suffix}"
    if magnitude < 1e-3:
        return f"{value:.0e}".replace("e-0", "e-")
    return f"{value:.4g}"


def _pct_tick(value: float) -> str:
    pct = value * 100
    return f"{pct:.0f}%" if pct == round(pct) else f"{pct:.2g}%"


_DAY = 86400.0
_TIME_STEPS: tuple[float, ...] = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_TIME_STEPS += (7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600)


def _time_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], str]:
    """Ticks on epoch seconds (UTC): round times, and a strftime format that fits their step."""
    span = high - low
    if span <= 0:
        return [low], "%Y-%m-%d %H:%M"
    if span > 60 * _DAY:
        start = dt.datetime.fromtimestamp(low, dt.timezone.utc)
        months = span / (30.44 * _DAY)
        every = next((m for m in (1, 2, 3, 6, 12, 24, 60, 120) if months / m <= count), 240)
        index = start.year * 12 + start.month  # the first month start after `low`
        index += (-index) % every
        ticks = []
        while True:
            year, month = divmod(index, 12)
            moment = dt.datetime(year, month + 1, 1, tzinfo=dt.timezone.utc).timestamp()
            if moment > high:
                break
            if moment >= low:
                ticks.append(moment)
            index += every
        return ticks, "%Y" if every >= 12 else "%Y-%m"
    step = next((s for s in _TIME_STEPS if span / s <= count), 0.0)
    if step == 0.0:
        step = _DAY * 7 * math.ceil(span / (_DAY * 7 * count))
    ticks = [i * step for i in range(math.ceil(low / step), math.floor(high / step) + 1)]
    fmt = "%Y-%m-%d" if step >= _DAY else "%m-%d %H:%M" if step >= 60 else "%H:%M:%S"
    return ticks, fmt


def _time_label(value: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    try:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return format_number(value)


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _floats(
    values: object, name: str, *, length: int | None = None, allow_none: bool = False
) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ChartError(f"{name} must be a list of numbers")
    out: list[float] = []
    for value in values:
        if value is None and allow_none:  # a share JSON could not hold (NaN): draw nothing
            out.append(0.0)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ChartError(f"{name} holds a non-number: {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise ChartError(f"{name} holds a non-finite value")
        out.append(number)
    if length is not None and len(out) != length:
        raise ChartError(f"{name} has {len(out)} values, expected {length}")
    return out


def _sides(reference: object, current: object, length: int) -> list[tuple[str, str, list[float]]]:
    sides = [
        (css, name, _floats(values, name, length=length, allow_none=True))
        for css, name, values in (("ref", "reference", reference), ("cur", "current", current))
        if values is not None
    ]
    if not sides:
        raise ChartError("neither reference nor current values to draw")
    return sides


def _short(label: str, limit: int = _MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Pieces
# --------------------------------------------------------------------------------------------


def _open(width: int, height: int, label: str) -> list[str]:
    text = escape(label)
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{text}"><title>{text}</title>'
    ]


def _legend(parts: list[str], sides: Sequence[tuple[str, str, object]], right: float) -> None:
    x = right
    for css, name, _ in reversed(sides):
        x -= 8 + 6.2 * len(name) + 22
        if css == "ref":
            parts.append(f'<rect class="ref" x="{_c(x)}" y="8" width="14" height="10"/>')
        else:
            parts.append(f'<rect class="cur-key" x="{_c(x)}" y="8" width="14" height="10"/>')
        parts.append(f'<text x="{_c(x + 19)}" y="17">{name}</text>')


def _histogram_path(xs: Sequence[tuple[float, float]], ys: Sequence[float], base: float) -> str:
    out = [f"M{_c(xs[0][0])},{_c(base)}"]
    previous = xs[0][0]
    for (x0, x1), y in zip(xs, ys, strict=True):
        if x0 != previous:
            out.append(f"V{_c(base)}H{_c(x0)}")
        out.append(f"V{_c(y)}H{_c(x1)}")
        previous = x1
    out.append(f"V{_c(base)}")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def histogram_svg(
    edges: object,
    reference: object,
    current: object,
    *,
    label: str = "",
    time_axis: bool = False,
    height: int = 230,
) -> str:
    """Overlaid histograms: the reference as a filled blue area, the current as an orange step.

    The data are JSON lists, checked here (:class:`ChartError` if unusable); a side that is
    ``None`` is left out. ``edges`` has one more entry than each list of shares. Bins of unequal width are drawn as
    densities (share / width) so their areas stay comparable; the tooltip of each bin gives the
    shares on both sides. ``time_axis`` reads the edges as epoch seconds and labels dates (UTC).
    """
    bounds = _floats(edges, "edges")
    if len(bounds) < 2:
        raise ChartError("a histogram needs at least two edges")
    if any(b < a for a, b in itertools.pairwise(bounds)):
        raise ChartError("histogram edges must not decrease")
    sides = _sides(reference, current, len(bounds) - 1)
    widths = [b - a for a, b in itertools.pairwise(bounds)]
    density = min(widths) > 0 and max(widths) > min(widths) * 1.01
    low, high = bounds[0], bounds[-1]
    if high == low:  # a constant column: one bin of zero width
        low, high = low - 0.5, high + 0.5

    def heights(shares: list[float]) -> list[float]:
        return [s / w for s, w in zip(shares, widths, strict=True)] if density else shares

    top = max((max(heights(values)) for _, _, values in sides), default=0.0)
    y_ticks = nice_ticks(0.0, top if top > 0 else 1.0, 4)
    y_max = max(y_ticks[-1], top) if y_ticks else 1.0
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    base = _TOP + plot_h

    def x_of(v: float) -> float:
        return _LEFT + (v - low) / (high - low) * plot_w

    def y_of(v: float) -> float:
        return base - v / y_max * plot_h

    xs: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(bounds):
        x0, x1 = x_of(a), x_of(b)
        if x1 - x0 < 2:  # keep zero-width bins visible
            middle = (x0 + x1) / 2
            x0, x1 = middle - 1, middle + 1
        xs.append((x0, x1))

    parts = _open(_WIDTH, height, label or "histogram")
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else y_max
    for tick in y_ticks:
        y = _c(y_of(tick))
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y}" y2="{y}"/>')
        text = _pct_tick(tick) if not density else _tick_label(tick, y_step)
        parts.append(f'<text class="yt" x="{_LEFT - 5}" y="{y}" dy="4">{text}</text>')
    parts.append(f'<text x="4" y="14">{"density" if density else "share of rows"}</text>')

    if time_axis:
        x_ticks, fmt = _time_ticks(low, high)
        x_labels = [_time_label(t, fmt) for t in x_ticks]
    else:
        x_ticks = nice_ticks(low, high, 5)
        x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
        x_labels = [_tick_label(t, x_step) for t in x_ticks]
    for tick, text in zip(x_ticks, x_labels, strict=True):
        x = _c(x_of(tick))
        parts.append(f'<line class="axis" x1="{x}" x2="{x}" y1="{_c(base)}" y2="{_c(base + 4)}"/>')
        parts.append(f'<text class="xt" x="{x}" y="{_c(base + 16)}">{escape(text)}</text>')
    parts.append(
        f'<line class="axis" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{_c(base)}" y2="{_c(base)}"/>'
    )
    if label:
        parts.append(
            f'<text class="xt" x="{_c(_LEFT + plot_w / 2)}" y="{height - 4}">'
            f"{escape(_short(label, 60))}</text>"
        )

    for css, _, values in sides:
        path = _histogram_path(xs, [y_of(h) for h in heights(values)], base)
        parts.append(f'<path class="{css}" d="{path}{"Z" if css == "ref" else ""}"/>')

    def edge_text(v: float) -> str:
        return _time_label(v) if time_axis else format_number(v)

    for i, (x0, x1) in enumerate(xs):
        shares = [(name, values[i]) for _, name, values in sides]
        if not any(share for _, share in shares):
            continue
        close = "]" if i == len(xs) - 1 else ")"
        tip = f"[{edge_text(bounds[i])}, {edge_text(bounds[i + 1])}{close}: " + ", ".join(
            f"{name} {format_share(share)}" for name, share in shares
        )
        parts.append(
            f'<rect class="hit" x="{_c(x0)}" y="{_TOP}" width="{_c(x1 - x0)}" '
            f'height="{_c(plot_h)}"><title>{escape(tip)}</title></rect>'
        )
    _legend(parts, sides, _WIDTH - _RIGHT)
    parts.append("</svg>")
    return "".join(parts)


def bar_svg(
    categories: object,
    reference: object,
    current: object,
    *,
    label: str = "",
) -> str:
    """Grouped horizontal bars: per category, the reference share (blue) above the current (orange).

    Long category names are cut in the axis label and given in full in the tooltips.
    """
    if isinstance(categories, (str, bytes)) or not isinstance(categories, Sequence):
        raise ChartError("categories must be a list")
    names = ["(missing)" if c is None else str(c) for c in categories]
    if not names:
        raise ChartError("no categories to draw")
    sides = _sides(reference, current, len(names))
    row, bar = 26.0, 10.0 if len(sides) == 2 else 16.0
    left = 156
    plot_w = _WIDTH - left - _RIGHT - 8
    height = int(_TOP + row * len(names) + 30)
    base = _TOP + row * len(names)
    top = max(max(values) for _, _, values in sides)
    ticks = nice_ticks(0.0, top if top > 0 else 1.0, 4)
    x_max = max(ticks[-1], top) if ticks else 1.0

    def x_of(v: float) -> float:
        return left + max(v, 0.0) / x_max * plot_w

    parts = _open(_WIDTH, height, label or "category shares")
    for tick in ticks:
        x = _c(x_of(tick))
        parts.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{_TOP}" y2="{_c(base)}"/>')
        parts.append(f'<text class="xt" x="{x}" y="{_c(base + 15)}">{_pct_tick(tick)}</text>')
    parts.append(f'<text x="{left}" y="{height - 2}">share of rows</text>')
    for i, name in enumerate(names):
        y = _TOP + i * row + (row - bar * len(sides)) / 2
        full = escape(name)
        parts.append(
            f'<text class="yt" x="{left - 6}" y="{_c(_TOP + i * row + row / 2)}" dy="4">'
            f"<title>{full}</title>{escape(_short(name))}</text>"
        )
        for j, (css, side, values) in enumerate(sides):
            share = values[i]
            width = max(x_of(share) - left, 0.0 if share <= 0 else 1.0)
            parts.append(
                f'<rect class="bar {css}" x="{left}" y="{_c(y + j * bar)}" width="{_c(width)}" '
                f'height="{_c(bar - 1)}"><title>{full} — {side}: {format_share(share)}</title></rect>'
            )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{_TOP}" y2="{_c(base)}"/>')
    _legend(parts, sides, _WIDTH - _RIGHT)
    parts.append("</svg>")
    return "".join(parts)


def _blend(share: float) -> str:
    """White to the reference blue (#0072B2) by ``share`` in [0, 1]."""
    share = min(max(share, 0.0), 1.0)
    rgb = [round(255 + (target - 255) * share) for target in (0x00, 0x72, 0xB2)]
    return "#" + "".join(f"{v:02x}" for v in rgb)


def _compact(count: float) -> str:
    if count >= 1e6:
        return f"{count / 1e6:.3g}M"
    if count >= 1e4:
        return f"{count / 1e3:.3g}k"
    return f"{count:.4g}"


def heatmap_svg(labels: object, matrix: object, *, label: str = "") -> str:
    """A confusion matrix: rows are actual classes, columns predicted classes.

    Cells are shaded by their share of the actual class (row), so matrices of different sizes
    compare; counts are written in the cells while they fit, and every cell has a tooltip.
    """
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or not labels:
        raise ChartError("a confusion matrix needs a list of labels")
    names = [str(name) for name in labels]
    n = len(names)
    if isinstance(matrix, (str, bytes)) or not isinstance(matrix, Sequence) or len(matrix) != n:
        raise ChartError(f"a confusion matrix for {n} labels needs {n} rows")
    rows = [_floats(r, "confusion matrix row", length=n) for r in matrix]
    cell = max(min(56.0, 336.0 / n), 6.0)
    left, top = 104.0, 44.0
    size = cell * n
    width, height = int(left + size + 10), int(top + size + 10)
    parts = _open(width, height, label or "confusion matrix")
    parts.append(f'<text x="{_c(left + size / 2)}" y="12" class="xt">predicted</text>')
    parts.append(f'<text x="4" y="{_c(top - 6)}">actual ↓</text>')
    show_labels = cell >= 12
    for i, name in enumerate(names):
        centre = _c(left + (i + 0.5) * cell)
        if show_labels:
            short = escape(_short(name, max(int(cell / 7), 3)))
            parts.append(f'<text class="xt" x="{centre}" y="{_c(top - 6)}">{short}</text>')
            parts.append(
                f'<text class="yt" x="{_c(left - 6)}" y="{_c(top + (i + 0.5) * cell)}" dy="4">'
                f"{escape(_short(name, 14))}</text>"
            )
    for i, row in enumerate(rows):
        total = sum(row)
        for j, count in enumerate(row):
            share = count / total if total > 0 else 0.0
            x, y = left + j * cell, top + i * cell
            tip = (
                f"actual {names[i]}, predicted {names[j]}: {format_number(count)} "
                f"({format_share(share)} of actual {names[i]})"
            )
            parts.append(
                f'<rect x="{_c(x)}" y="{_c(y)}" width="{_c(cell)}" height="{_c(cell)}" '
                f'fill="{_blend(share)}" class="cell"><title>{escape(tip)}</title></rect>'
            )
            if n <= 8:
                css = "cv light" if share > 0.55 else "cv"
                parts.append(
                    f'<text class="{css}" x="{_c(x + cell / 2)}" y="{_c(y + cell / 2)}" dy="4">'
                    f"{_compact(count)}</text>"
                )
    parts.append("</svg>")
    return "".join(parts)
