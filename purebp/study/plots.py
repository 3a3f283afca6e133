"""Pictures with the standard library only: standalone SVG files and a text chart.

    line_chart(series, title, x_label, y_label, log_y=True, x_values=None)
                                    an SVG line chart (the loss curve, the gradient norms)
    decision_boundary(net, X, y, title, validation=None)
                                    an SVG of a two-input network's output over the
                                    plane, with the training points on top (filled) and
                                    the validation points, if given (hollow)
    heat_maps(maps, title, note="")  an SVG grid of small heat maps (a CNN's filters or
                                    feature maps), one diverging colour scale for all
    sparkline(values, width=60, label="loss")
                                    a one-line text version of a curve (log scale)
    write(path, svg)                write an SVG file atomically
    Classifier                      what decision_boundary takes: anything with forward(X)

Every SVG is a complete XML document with a <title>, two axes, tick labels
and axis labels, and opens in any browser. A legend, when there is one, has
a column of its own right of the plot, so it never covers the data. What
this module does not do:
interactive plots, or anything needing a plotting library.
"""

from __future__ import annotations

import colorsys
import math
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple
from xml.sax.saxutils import escape

from purebp import _checks
from purebp._types import Matrix, Real, RealMatrix
from purebp.files.jsonfile import write_atomic

WIDTH, HEIGHT = 640, 420
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 44, 56
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
#: A legend sits in a column of its own right of the plot, which widens the
#: picture: it never covers data. Its width is estimated from the longest
#: name, at CHAR_WIDTH pixels a character of the 12 px sans-serif font
#: (a generous average, so long names do not run off the edge).
CHAR_WIDTH = 6.5
LEGEND_GAP, LEGEND_KEY = 16, 22
#: Legend rows in one column: as many 18 px rows as the plot is high.
LEGEND_ROWS = (HEIGHT - TOP - BOTTOM) // 18
#: How strongly the decision regions are shaded: light enough for the points.
REGION_OPACITY = 0.18
#: A validation point is a ring this wide; the legend's two point keys are grey.
RING_WIDTH = 1.5
POINT_KEY = "#555555"


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


def colour(k: int) -> str:
    """The colour of series or class k: COLOURS first, then further hues, all different.

    Past the seven of COLOURS the hue turns by the golden angle (about 137.5
    degrees) each time, which keeps any few neighbours far apart.
    """
    if k < len(COLOURS):
        return COLOURS[k]
    hue = ((k - len(COLOURS)) * 137.50776 + 15.0) % 360.0 / 360.0
    lightness = (0.38, 0.52, 0.45)[k % 3]
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.7)
    return "#{:02x}{:02x}{:02x}".format(*(round(255 * v) for v in (r, g, b)))


def dashes(k: int) -> str:
    """The stroke pattern of series k: solid for the first seven, then dashed, then dotted."""
    return ("", ' stroke-dasharray="6 3"', ' stroke-dasharray="2 2"')[(k // len(COLOURS)) % 3]


def _legend_layout(names: Sequence[str]) -> Tuple[int, int]:
    """(rows per column, column width) of a legend for these names."""
    column = LEGEND_KEY + math.ceil(CHAR_WIDTH * max(len(n) for n in names)) + LEGEND_GAP
    return LEGEND_ROWS, column


def _legend_width(names: Sequence[str]) -> int:
    """The width of the legend's columns for these names: 0 for no legend."""
    if not names:
        return 0
    rows, column = _legend_layout(names)
    return LEGEND_GAP + math.ceil(len(names) / rows) * column


def _legend(rows: Sequence[Tuple[str, str]]) -> List[str]:
    """A legend in columns of its own right of the plot: one row per (key, name).

    key is SVG drawn around (0, 0), the middle of the row's left end; each
    row is moved into place by a translate. A column holds LEGEND_ROWS rows,
    the height of the plot; more rows start another column.
    """
    per_column, column = _legend_layout([name for _, name in rows])
    out = ['<g class="legend">']
    for i, (key, name) in enumerate(rows):
        x = WIDTH - RIGHT + LEGEND_GAP + (i // per_column) * column
        y = TOP + 8 + 18 * (i % per_column)
        out.append(f'<g transform="translate({x} {y})">{key}'
                   f'<text x="{LEGEND_KEY}" y="4">{escape(name)}</text></g>')
    out.append("</g>")
    return out


def _frame(title: str, x_label: str, y_label: str, extra_width: int = 0) -> List[str]:
    """The opening of an SVG: header, title, background, axis labels.

    extra_width widens the picture right of the plot (for a legend); the
    plot itself keeps its place and size.
    """
    width = WIDTH + extra_width
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}"'
        f' viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{HEIGHT}" fill="white"/>',
        # centred over the plot, as the x label is, not over plot and legend
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="24" text-anchor="middle"'
        f' font-size="15">{escape(title)}</text>',
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
               log_y: bool = True, x_values: Optional[Sequence[float]] = None,
               legend: Optional[bool] = None) -> str:
    """Return an SVG line chart of one or more named series over x = 0, 1, ... (or x_values).

    legend: whether to name the series in a legend; None (the default) does
    for more than one series, since one is named by the title and y label.
    """
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

    names = list(series) if (len(series) > 1 if legend is None else legend) else []
    out = _frame(title, x_label, y_label, _legend_width(names))
    out += _axes(_nice_ticks(x_low, x_high), x_pos, y_ticks, y_pos, y_text)
    for i, (name, values) in enumerate(series.items()):
        points = " ".join(f"{x_pos(x):.1f},{y_pos(transform(v)):.1f}"
                          for x, v in zip(xs, values) if math.isfinite(v))
        out.append(f'<polyline class="series" fill="none" stroke="{colour(i)}"{dashes(i)}'
                   f' stroke-width="1.5" points="{points}"><title>{escape(name)}</title></polyline>')
    if names:
        out += _legend([(f'<line x1="0" y1="0" x2="{LEGEND_KEY - 6}" y2="0" stroke="{colour(i)}"'
                         f'{dashes(i)} stroke-width="2"/>', name) for i, name in enumerate(names)])
    out.append("</svg>")
    return "\n".join(out) + "\n"


def decision_boundary(net: Classifier, X: RealMatrix, y: RealMatrix,
                      title: str, resolution: int = 50,
                      validation: Optional[Tuple[RealMatrix, RealMatrix]] = None) -> str:
    """Return an SVG of a two-input network's class over the plane, points on top.

    The background shades each cell by the network's class there (output
    above 0.5 for one output, the argmax for several); the training points
    are drawn in the colour of their target class, and a legend right of
    the plot names each class. ``validation=(X_val, y_val)`` adds those
    points as hollow rings in their class's colour (the training points
    stay filled discs), and two legend rows that say which is which.
    """
    if len(X[0]) != 2:
        raise ValueError(f"decision_boundary: X[0] has {len(X[0])} entries, expected 2"
                         " (a point in the plane)")
    X_val, y_val = validation if validation is not None else ([], [])
    if X_val and len(X_val[0]) != 2:
        raise ValueError(f"decision_boundary: validation[0][0] has {len(X_val[0])} entries,"
                         " expected 2 (a point in the plane)")
    xs0 = [row[0] for row in X] + [row[0] for row in X_val]
    xs1 = [row[1] for row in X] + [row[1] for row in X_val]
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
    labels = [label_of(output) for output in net.forward(grid)]
    targets = [label_of(target) for target in y]
    val_targets = [label_of(target) for target in y_val]
    classes = sorted(set(labels) | set(targets) | set(val_targets))
    names = [f"class {k}" + (f" (output {'>' if k else '≤'} 0.5)" if len(y[0]) == 1 else "")
             for k in classes]
    sample_names = ([f"training sample ({len(X)})", f"validation sample ({len(X_val)})"]
                    if validation is not None else [])
    out = _frame(title, "x0", "x1", _legend_width(names + sample_names))
    # Seams: translucent cells that overlap (or leave a hairline between
    # them) show as a grid. So the cells are opaque, a run of equal cells
    # in a row is one rectangle, neighbours overlap by a whole pixel (so
    # each border pixel is covered fully by one of them, antialiased or
    # not), and the whole layer is made translucent at once, by the
    # group's opacity.
    out.append(f'<g class="regions" stroke="none" shape-rendering="crispEdges"'
               f' opacity="{REGION_OPACITY}">')
    cell_w = (WIDTH - LEFT - RIGHT) / resolution
    cell_h = (HEIGHT - TOP - BOTTOM) / resolution
    for j in range(resolution):
        row = labels[j * resolution:(j + 1) * resolution]
        top = HEIGHT - BOTTOM - (j + 1) * cell_h
        start = 0
        for i in range(1, resolution + 1):
            if i < resolution and row[i] == row[start]:
                continue
            # the overlap goes right and down, into the neighbour, never out of the plot
            overlap_w = 1.0 if i < resolution else 0.0
            overlap_h = 1.0 if j > 0 else 0.0
            out.append(f'<rect x="{LEFT + start * cell_w:.2f}" y="{top:.2f}"'
                       f' width="{(i - start) * cell_w + overlap_w:.2f}"'
                       f' height="{cell_h + overlap_h:.2f}" fill="{colour(row[start])}"/>')
            start = i
    out.append("</g>")
    out += _axes(_nice_ticks(lo0, hi0), x_pos, _nice_ticks(lo1, hi1), y_pos, _label)
    out.append('<g class="points" stroke="black" stroke-width="0.5">')
    for row_x, target in zip(X, targets):
        out.append(f'<circle cx="{x_pos(row_x[0]):.1f}" cy="{y_pos(row_x[1]):.1f}" r="3.5"'
                   f' fill="{colour(target)}"/>')
    out.append("</g>")
    if validation is not None:
        # hollow: a ring in the class's colour, so the shading shows through
        out.append(f'<g class="validation-points" fill="none" stroke-width="{RING_WIDTH}">')
        for row_x, target in zip(X_val, val_targets):
            out.append(f'<circle cx="{x_pos(row_x[0]):.1f}" cy="{y_pos(row_x[1]):.1f}"'
                       f' r="3.5" stroke="{colour(target)}"/>')
        out.append("</g>")
    rows = [(f'<rect x="0" y="-7" width="{LEGEND_KEY - 6}" height="14" fill="{colour(k)}"'
             f' opacity="{REGION_OPACITY}"/><circle cx="{(LEGEND_KEY - 6) / 2}" cy="0"'
             f' r="3.5" fill="{colour(k)}" stroke="black" stroke-width="0.5"/>', name)
            for k, name in zip(classes, names)]
    if validation is not None:
        middle = (LEGEND_KEY - 6) / 2
        keys = [f'<circle cx="{middle}" cy="0" r="3.5" fill="{POINT_KEY}" stroke="black"'
                f' stroke-width="0.5"/>',
                f'<circle cx="{middle}" cy="0" r="3.5" fill="none" stroke="{POINT_KEY}"'
                f' stroke-width="{RING_WIDTH}"/>']
        rows += list(zip(keys, sample_names))
    out += _legend(rows)
    out.append("</svg>")
    return "\n".join(out) + "\n"


BARS = "▁▂▃▄▅▆▇█"


#: The diverging scale of heat_maps: orange for the most negative, white for 0,
#: blue for the most positive (it stays apart for the common colour blindnesses).
NEGATIVE, ZERO, POSITIVE = (224, 130, 20), (247, 247, 247), (33, 102, 172)


def _diverging(t: float) -> str:
    """The colour of t in [−1, 1] on the orange–white–blue scale."""
    a, b, u = (ZERO, NEGATIVE, -t) if t < 0 else (ZERO, POSITIVE, t)
    u = min(1.0, max(0.0, u))
    return "#" + "".join(f"{round(x + (y - x) * u):02x}" for x, y in zip(a, b))


def heat_maps(maps: Sequence[Tuple[str, Matrix]], title: str, note: str = "") -> str:
    """Return an SVG with each (name, matrix) as a small heat map, in rows of up to 8.

    One scale for all: 0 is white, the largest |value| of any map full orange
    (negative) or blue (positive), so that maps compare at a glance; ``note``
    goes under the title. Each cell is a square of up to 12 px; each map keeps
    its shape (rows down, columns across).
    """
    if not maps:
        raise ValueError("heat_maps: maps must hold at least one matrix, got none")
    largest = max((abs(v) for _, m in maps for row in m for v in row), default=0.0) or 1.0
    rows_of = max(len(m) for _, m in maps)
    cols_of = max(len(m[0]) for _, m in maps)
    cell = max(2, min(12, 96 // max(rows_of, cols_of)))
    per_row = min(8, len(maps))
    box_w, box_h = cols_of * cell + 16, rows_of * cell + 30
    width = max(360, per_row * box_w + 32)
    height = 70 + ((len(maps) + per_row - 1) // per_row) * box_h + 30
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<text x="{width / 2}" y="40" text-anchor="middle" fill="#555555">{escape(note)}</text>',
    ]
    for k, (name, m) in enumerate(maps):
        x0 = 16 + (k % per_row) * box_w
        y0 = 56 + (k // per_row) * box_h
        out.append(f'<g class="map"><text x="{x0}" y="{y0 + 10}">{escape(name)}</text>')
        for i, row in enumerate(m):
            for j, v in enumerate(row):
                out.append(f'<rect x="{x0 + j * cell}" y="{y0 + 16 + i * cell}" width="{cell}"'
                           f' height="{cell}" fill="{_diverging(v / largest)}"/>')
        out.append(f'<rect x="{x0}" y="{y0 + 16}" width="{len(m[0]) * cell}"'
                   f' height="{len(m) * cell}" fill="none" stroke="#8c959f"/></g>')
    scale_y = height - 22
    out.append(f'<text x="16" y="{scale_y + 10}">{_label(-largest)}</text>')
    for step in range(21):
        out.append(f'<rect x="{70 + step * 8}" y="{scale_y}" width="8" height="10"'
                   f' fill="{_diverging(step / 10 - 1)}"/>')
    out.append(f'<text x="{70 + 21 * 8 + 6}" y="{scale_y + 10}">{_label(largest)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def sparkline(values: Sequence[float], width: int = 60, label: str = "loss") -> str:
    """Return a one-line text chart of values on a log scale, first and last value beside it.

    >>> sparkline([1.0, 0.1, 0.01], width=3)
    'loss 1 █▅▁ 0.01 (log scale)'
    >>> sparkline([0.5, 0.25], width=2, label="validation loss")
    'validation loss 0.5 █▁ 0.25 (log scale)'
    """
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if not finite:
        return f"{label}: no positive values to chart"
    step = max(1, math.ceil(len(values) / width))
    sampled = [values[i] for i in range(0, len(values), step)]
    logs = [math.log10(max(v, min(finite))) for v in sampled]
    low, high = min(logs), max(logs)
    span = (high - low) or 1.0
    bars = "".join(BARS[min(len(BARS) - 1, int((v - low) / span * (len(BARS) - 1) + 0.5))]
                   for v in logs)
    return f"{label} {values[0]:.4g} {bars} {values[-1]:.4g} (log scale)"


def write(path: str, svg: str) -> None:
    """Write an SVG file atomically; ValueError naming the path if it cannot be written."""
    try:
        write_atomic(path, svg)
    except OSError as error:
        raise ValueError(f"plot: cannot write {_checks.shown_path(path)}:"
                         f" {error.strerror or error}") from None
