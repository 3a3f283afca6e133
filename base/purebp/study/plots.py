"""Pictures with the standard library only: standalone SVG files and a text chart.

    line_chart(series, title, x_label, y_label, log_y=True, x_values=None)
                                    an SVG line chart (the loss curve, the gradient norms)
    decision_boundary(net, X, y, title)   an SVG of a two-input network's output over
                                    the plane, with the training points on top
    sparkline(values, width=60)     a one-line text version of a curve (log scale)
    write(path, svg)                write an SVG file atomically
    Classifier                      what decision_boundary takes: anything with forward(X)

Every SVG is a complete XML document with a <title>, two axes, tick labels
and axis labels, and opens in any browser. What this module does not do:
interactive plots, or anything needing a plotting library.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Protocol, Sequence
from xml.sax.saxutils import escape

from purebp import _checks
from purebp._types import Matrix, Real, RealMatrix
from purebp.files.jsonfile import write_atomic

WIDTH, HEIGHT = 640, 420
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 44, 56
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


class Classifier(Protocol):
    """What decision_boundary draws: a network with ``forward(X)``, one output row per input row."""

    def forward(self, X: Matrix) -> Matrix: ...


def _nice_ticks(low: float, high: float, count: int = 5) -> List[float]:
    """About ``count`` round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _label(v: float) -> str:
    return f"{v:g}"


def _frame(title: str, x_label: str, y_label: str) -> List[str]:
    """The opening of an SVG: header, title, background, axis labels."""
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<text class="x-label" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 14}"'
        f' text-anchor="middle">{escape(x_label)}</text>',
        f'<text class="y-label" x="18" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle"'
        f' transform="rotate(-90 18 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_label)}</text>',
    ]


def _axes(x_ticks: Sequence[float], x_pos: Callable[[float], float], y_ticks: Sequence[float],
          y_pos: Callable[[float], float], y_text: Callable[[float], str]) -> List[str]:
    """Both axes with their ticks and tick labels."""
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    out = ['<g class="axes" stroke="black" stroke-width="1">',
           f'<line class="x-axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
           f'<line class="y-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>', "</g>",
           '<g class="ticks" font-size="11">']
    for t in x_ticks:
        x = x_pos(t)
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">{_label(t)}</text>')
    for t in y_ticks:
        y = y_pos(t)
        out.append(f'<line x1="{LEFT - 5}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="black"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{y_text(t)}</text>')
    out.append("</g>")
    return out


def line_chart(series: Dict[str, Sequence[float]], title: str, x_label: str, y_label: str,
               log_y: bool = True, x_values: Optional[Sequence[float]] = None) -> str:
    """Return an SVG line chart of one or more named series over x = 0, 1, ... (or x_values)."""
    if not series or not any(len(v) for v in series.values()):
        raise ValueError(f"line_chart: series must hold at least one value,"
                         f" got {_checks._short_repr(series)}")
    longest = max(len(v) for v in series.values())
    xs: List[float] = list(x_values) if x_values is not None else list(range(longest))
    finite = [v for vs in series.values() for v in vs if math.isfinite(v)]
    low: float
    high: float
    y_text: Callable[[float], str]
    if log_y:
        positive = [v for v in finite if v > 0] or [1.0]
        # powers of ten, as ints: the ticks and labels are 1e-3, 1e-2, ...
        low_power = math.floor(math.log10(min(positive)))
        high_power = math.ceil(math.log10(max(positive)))
        if high_power == low_power:
            high_power = low_power + 1
        low, high = low_power, high_power

        def transform(v: float) -> float:
            return math.log10(max(v, 10.0 ** low_power))
        y_ticks = [float(p) for p in range(low_power, high_power + 1)]
        step = max(1, len(y_ticks) // 8)
        y_ticks = y_ticks[::step]

        def power_label(t: float) -> str:
            return f"1e{int(t)}"
        y_text = power_label
    else:
        low, high = min(finite or [0.0]), max(finite or [1.0])
        y_ticks = _nice_ticks(low, high)
        low, high = min(low, y_ticks[0]), max(high, y_ticks[-1])

        def transform(v: float) -> float:
            return v
        y_text = _label
    x_low, x_high = min(xs), max(xs) if len(xs) > 1 else min(xs) + 1

    def x_pos(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * (WIDTH - LEFT - RIGHT)

    def y_pos(t: float) -> float:
        return HEIGHT - BOTTOM - (t - low) / (high - low) * (HEIGHT - TOP - BOTTOM)

    out = _frame(title, x_label, y_label)
    out += _axes(_nice_ticks(x_low, x_high), x_pos, y_ticks, y_pos, y_text)
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{x_pos(x):.1f},{y_pos(transform(v)):.1f}"
                          for x, v in zip(xs, values) if math.isfinite(v))
        out.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.5"'
                   f' points="{points}"><title>{escape(name)}</title></polyline>')
        if len(series) > 1:
            y = TOP + 14 * i
            out.append(f'<text x="{WIDTH - RIGHT - 4}" y="{y + 4}" text-anchor="end"'
                       f' fill="{colour}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def decision_boundary(net: Classifier, X: RealMatrix, y: RealMatrix,
                      title: str, resolution: int = 50) -> str:
    """Return an SVG of a two-input network's class over the plane, points on top.

    The background shades each cell by the network's output there (the
    first output, or the argmax class for several); the training points are
    drawn in the colour of their target class.
    """
    if len(X[0]) != 2:
        raise ValueError(f"decision_boundary: X[0] has {len(X[0])} entries, expected 2"
                         " (a point in the plane)")
    xs0, xs1 = [row[0] for row in X], [row[1] for row in X]
    pad0 = (max(xs0) - min(xs0)) * 0.1 or 0.5
    pad1 = (max(xs1) - min(xs1)) * 0.1 or 0.5
    lo0, hi0, lo1, hi1 = min(xs0) - pad0, max(xs0) + pad0, min(xs1) - pad1, max(xs1) + pad1

    def x_pos(v: Real) -> float:
        return LEFT + (v - lo0) / (hi0 - lo0) * (WIDTH - LEFT - RIGHT)

    def y_pos(v: Real) -> float:
        return HEIGHT - BOTTOM - (v - lo1) / (hi1 - lo1) * (HEIGHT - TOP - BOTTOM)

    def label_of(row: Sequence[Real]) -> int:
        return int(row[0] > 0.5) if len(row) == 1 else row.index(max(row))

    grid = [[lo0 + (i + 0.5) * (hi0 - lo0) / resolution, lo1 + (j + 0.5) * (hi1 - lo1) / resolution]
            for j in range(resolution) for i in range(resolution)]
    outputs = net.forward(grid)
    cell_w = (WIDTH - LEFT - RIGHT) / resolution
    cell_h = (HEIGHT - TOP - BOTTOM) / resolution
    out = _frame(title, "x0", "x1")
    out.append('<g class="regions" stroke="none" shape-rendering="crispEdges">')
    for point, output in zip(grid, outputs):
        colour = COLOURS[label_of(output) % len(COLOURS)]
        out.append(f'<rect x="{x_pos(point[0]) - cell_w / 2:.1f}" y="{y_pos(point[1]) - cell_h / 2:.1f}"'
                   f' width="{cell_w + 0.5:.1f}" height="{cell_h + 0.5:.1f}" fill="{colour}"'
                   ' fill-opacity="0.18"/>')
    out.append("</g>")
    out += _axes(_nice_ticks(lo0, hi0), x_pos, _nice_ticks(lo1, hi1), y_pos, _label)
    out.append('<g class="points" stroke="black" stroke-width="0.5">')
    for row, target in zip(X, y):
        colour = COLOURS[label_of(target) % len(COLOURS)]
        out.append(f'<circle cx="{x_pos(row[0]):.1f}" cy="{y_pos(row[1]):.1f}" r="3.5"'
                   f' fill="{colour}"/>')
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """Return a one-line text chart of values on a log scale, first and last value beside it.

    >>> sparkline([1.0, 0.1, 0.01], width=3)
    'loss 1 █▅▁ 0.01 (log scale)'
    """
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if not finite:
        return "loss: no positive values to chart"
    step = max(1, math.ceil(len(values) / width))
    sampled = [values[i] for i in range(0, len(values), step)]
    logs = [math.log10(max(v, min(finite))) for v in sampled]
    low, high = min(logs), max(logs)
    span = (high - low) or 1.0
    bars = "".join(BARS[min(len(BARS) - 1, int((v - low) / span * (len(BARS) - 1) + 0.5))]
                   for v in logs)
    return f"loss {values[0]:.4g} {bars} {values[-1]:.4g} (log scale)"


def write(path: str, svg: str) -> None:
    """Write an SVG file atomically; ValueError naming the path if it cannot be written."""
    try:
        write_atomic(path, svg)
    except OSError as error:
        raise ValueError(f"plot: cannot write {_checks.shown_path(path)}:"
                         f" {error.strerror or error}") from None
