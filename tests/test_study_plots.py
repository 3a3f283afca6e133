"""Tests for purebp.study.plots and the --plot options: valid SVG with a title, axes and labels."""

import math
import os
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purebp import Network, cli
from purebp.datasets import moons
from purebp.study import plots

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg_text):
    """Parse an SVG text as XML and return its root (fails on invalid XML)."""
    root = ET.fromstring(svg_text.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return root


def has_title_axes_and_labels(root, title):
    """The SVG has the <title>, both axis lines, tick labels and both axis labels."""
    assert root.find(f"{SVG}title").text == title
    lines = {line.get("class") for line in root.iter(f"{SVG}line")}
    assert {"x-axis", "y-axis"} <= lines
    texts = {t.get("class") for t in root.iter(f"{SVG}text")}
    assert {"x-label", "y-label"} <= texts
    tick_labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") is None]
    assert len(tick_labels) >= 4


@settings(max_examples=40)
@given(st.lists(st.floats(1e-12, 1e6), min_size=1, max_size=200))
def test_line_chart_is_valid_svg_for_any_positive_series(values):
    """Any positive series gives a parseable SVG with its title and axes, points inside the plot."""
    root = parse(plots.line_chart({"loss": values}, "A & B <loss>", "epoch", "loss"))
    has_title_axes_and_labels(root, "A & B <loss>")
    (line,) = root.iter(f"{SVG}polyline")
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    assert len(points) == len(values)
    assert all(plots.LEFT - 0.1 <= x <= plots.WIDTH - plots.RIGHT + 0.1 for x, _ in points)
    assert all(plots.TOP - 0.1 <= y <= plots.HEIGHT - plots.BOTTOM + 0.1 for _, y in points)


def test_log_scale_puts_a_tenfold_drop_at_equal_steps():
    """On the log scale 1, 0.1, 0.01 are equally spaced and decreasing upwards in y."""
    root = parse(plots.line_chart({"loss": [1.0, 0.1, 0.01]}, "t", "x", "y"))
    ys = [float(p.split(",")[1]) for p in next(root.iter(f"{SVG}polyline")).get("points").split()]
    assert ys[0] < ys[1] < ys[2]
    assert ys[1] - ys[0] == pytest.approx(ys[2] - ys[1], abs=0.2)


def test_decision_boundary_shades_the_plane_and_draws_every_point():
    """The decision-boundary SVG has one circle per sample and the title and axes."""
    X, y = moons(n=30, seed=1)
    net = Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=0)
    root = parse(plots.decision_boundary(net, X, y, "boundary", resolution=10))
    has_title_axes_and_labels(root, "boundary")
    assert len(list(group(root, "points").iter(f"{SVG}circle"))) == 30
    assert len(list(group(root, "regions").iter(f"{SVG}rect"))) >= 1


def group(root, name):
    """The <g class=name> of an SVG."""
    (found,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == name]
    return found


def plot_box(root):
    """(left, top, right, bottom) of the plot: where the two axis lines run."""
    lines = {line.get("class"): line for line in root.iter(f"{SVG}line")}
    x_axis, y_axis = lines["x-axis"], lines["y-axis"]
    return (float(y_axis.get("x1")), float(y_axis.get("y1")),
            float(x_axis.get("x2")), float(x_axis.get("y1")))


def legend_rows(root):
    """[(x, y, name, key elements)] for each row of the legend."""
    rows = []
    for row in group(root, "legend"):
        x, y = map(float, row.get("transform")[len("translate("):-1].split())
        (text,) = row.iter(f"{SVG}text")
        rows.append((x + float(text.get("x")), y, text.text, [e for e in row if e is not text]))
    return rows


def test_a_legend_sits_right_of_the_plot_and_never_over_the_data():
    """With several series the names are in a column right of the plot, inside the picture."""
    names = ["sigmoid:normal", "a much longer configuration name", "relu:he"]
    svg = plots.line_chart({n: [10.0 ** -k for k in range(i, i + 5)] for i, n in enumerate(names)},
                           "t", "layer", "norm")
    root = parse(svg)
    left, top, right, bottom = plot_box(root)
    for line in root.iter(f"{SVG}polyline"):
        points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        assert all(left - 0.1 <= x <= right + 0.1 and top - 0.1 <= y <= bottom + 0.1
                   for x, y in points)
    rows = legend_rows(root)
    assert [name for _, _, name, _ in rows] == names
    # 6 px a character is more than the average width of 12 px sans-serif
    assert all(x > right and x + 6 * len(name) <= float(root.get("width"))
               for x, _, name, _ in rows)
    strokes = [keys[0].get("stroke") for _, _, _, keys in rows]
    assert strokes == [line.get("stroke") for line in root.iter(f"{SVG}polyline")]


def test_one_series_has_no_legend():
    """A single series is named by the title and the y label: no legend, the usual width."""
    root = parse(plots.line_chart({"loss": [1.0, 0.5]}, "t", "epoch", "loss"))
    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"]
    assert float(root.get("width")) == plots.WIDTH


def covered(rects, x, y):
    """Whether the point (x, y) lies inside one of the (x, y, width, height) rectangles."""
    return any(rx <= x <= rx + w and ry <= y <= ry + h for rx, ry, w, h in rects)


@pytest.mark.parametrize("resolution", [7, 10, 50])
def test_decision_regions_are_opaque_cells_made_translucent_once(resolution):
    """No seams: the cells cover every point of the plot, cell borders too, and only their group is
    translucent, so where two cells overlap the shade does not double."""
    X, y = moons(n=40, seed=2)
    net = Network([2, 6, 1], "tanh", "sigmoid", "bce", seed=3)
    net.train(X, y, epochs=200, learning_rate=0.5)
    root = parse(plots.decision_boundary(net, X, y, "boundary", resolution=resolution))
    regions = group(root, "regions")
    assert 0 < float(regions.get("opacity")) < 1
    rects = []
    for rect in regions.iter(f"{SVG}rect"):
        assert rect.get("opacity") is None and rect.get("fill-opacity") is None
        rects.append(tuple(float(rect.get(k)) for k in ("x", "y", "width", "height")))
    assert len({rect.get("fill") for rect in regions.iter(f"{SVG}rect")}) == 2
    left, top, right, bottom = plot_box(root)
    cell_w, cell_h = (right - left) / resolution, (bottom - top) / resolution
    # the cells' borders, where a seam would show, and the points between them
    xs = [left + k * cell_w / 2 for k in range(2 * resolution + 1)]
    ys = [top + k * cell_h / 2 for k in range(2 * resolution + 1)]
    missed = [(x, y) for x in xs for y in ys if not covered(rects, x, y)]
    assert missed == []
    assert all(left - 0.01 <= x and x + w <= right + 0.01 and top - 0.01 <= y and y + h <= bottom + 0.01
               for x, y, w, h in rects)


def test_the_decision_boundary_legend_names_each_class_in_its_colour():
    """One legend row per class, in the colour of that class's points; outside the plot."""
    X, y = moons(n=30, seed=1)
    net = Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=0)
    root = parse(plots.decision_boundary(net, X, y, "boundary", resolution=10))
    rows = legend_rows(root)
    assert [name for _, _, name, _ in rows] == ["class 0 (output ≤ 0.5)", "class 1 (output > 0.5)"]
    point_colour = {}
    for circle, target in zip(group(root, "points").iter(f"{SVG}circle"), y):
        point_colour.setdefault(int(target[0]), set()).add(circle.get("fill"))
    assert [{keys[0].get("fill")} for _, _, _, keys in rows] == [point_colour[0], point_colour[1]]
    right = plot_box(root)[2]
    assert all(x > right for x, _, _, _ in rows)


def test_with_several_outputs_the_legend_lists_every_class_by_argmax():
    """Three one-hot classes give three legend rows, class 0 to class 2."""
    X = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    net = Network([2, 3, 3], "tanh", "sigmoid", "mse", seed=0)
    rows = legend_rows(parse(plots.decision_boundary(net, X, y, "three", resolution=8)))
    assert [name for _, _, name, _ in rows] == ["class 0", "class 1", "class 2"]


def test_decision_boundary_refuses_other_than_two_inputs():
    """Three inputs cannot be drawn in the plane: ValueError naming the count."""
    net = Network([3, 2, 1], seed=0)
    with pytest.raises(ValueError, match=r"decision_boundary: X\[0\] has 3 entries, expected 2"):
        plots.decision_boundary(net, [[0, 0, 0]], [[0]], "t")


def test_decision_boundary_takes_tuples_of_ints():
    """XOR written as tuples of ints draws the same SVG as the same data as lists of floats."""
    net = Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=0)
    as_tuples = plots.decision_boundary(net, ((0, 0), (0, 1), (1, 0), (1, 1)),
                                        ((0,), (1,), (1,), (0,)), "xor", resolution=4)
    as_floats = plots.decision_boundary(net, [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
                                        [[0.0], [1.0], [1.0], [0.0]], "xor", resolution=4)
    assert as_tuples == as_floats


def test_line_chart_refuses_series_without_values():
    """No series, or only empty ones, is refused by the argument's name, showing what came."""
    for series in ({}, {"loss": []}):
        with pytest.raises(ValueError, match=r"line_chart: series must hold at least one value, got"):
            plots.line_chart(series, "t", "x", "y")


def test_sparkline_falls_with_the_loss():
    """The text chart starts high and ends low for a falling loss, with both values shown."""
    values = [math.exp(-k / 10) for k in range(100)]
    line = plots.sparkline(values, width=20)
    bars = line.split()[2]
    assert bars[0] == "█" and bars[-1] == "▁" and len(bars) == 20
    assert line.startswith("loss 1 ") and line.endswith("(log scale)")


def test_train_plot_writes_both_svgs_and_a_text_chart(capsys, tmp_path):
    """purebp train --plot writes loss.svg and decision-boundary.svg and prints the text chart."""
    folder = tmp_path / "pics"
    assert cli.main(["train", "--data", "moons", "--n", "40", "--layers", "2,4,1",
                     "--activation", "tanh", "--loss", "bce", "--epochs", "20", "--lr", "0.5",
                     "--plot", str(folder)]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("loss ") and line.endswith("(log scale)")
               for line in out.splitlines())
    for name in ("loss.svg", "decision-boundary.svg"):
        with open(folder / name, encoding="utf-8") as handle:
            root = parse(handle.read())
        assert root.find(f"{SVG}title").text


def test_train_plot_skips_the_boundary_for_other_than_two_inputs(capsys, tmp_path):
    """With three inputs only loss.svg is written."""
    folder = tmp_path / "pics"
    assert cli.main(["train", "--data", "parity", "--epochs", "5", "--plot", str(folder),
                     "--quiet"]) == 0
    assert sorted(os.listdir(folder)) == ["loss.svg"]


def test_vanishing_plot_writes_a_chart_with_one_line_per_configuration(capsys, tmp_path):
    """purebp vanishing --plot writes gradient-norms.svg with a series per activation:init."""
    assert cli.main(["vanishing", "--depth", "3", "--width", "4", "--samples", "8",
                     "--configs", "sigmoid:normal,relu:he", "--plot", str(tmp_path)]) == 0
    with open(tmp_path / "gradient-norms.svg", encoding="utf-8") as handle:
        root = parse(handle.read())
    has_title_axes_and_labels(root, root.find(f"{SVG}title").text)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2


def test_plot_into_an_unwritable_place_is_one_line_and_exit_2(capsys, tmp_path):
    """--plot under a regular file cannot be created: exit 2, one line."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = cli.main(["vanishing", "--depth", "2", "--samples", "4", "--plot",
                     str(blocker / "sub")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--plot" in err


@pytest.mark.parametrize("count", [8, 15, 30])
def test_every_series_has_its_own_colour_and_pattern_and_the_legend_fits(count):
    """Past the seven base colours series still differ, and a long legend wraps into columns
    that stay inside the picture."""
    series = {f"configuration {i}": [1.0 + i, 2.0 + i] for i in range(count)}
    root = parse(plots.line_chart(series, "t", "x", "y"))
    lines = list(root.iter(f"{SVG}polyline"))
    looks = {(line.get("stroke"), line.get("stroke-dasharray")) for line in lines}
    assert len({line.get("stroke") for line in lines}) == count and len(looks) == count
    rows = legend_rows(root)
    assert len(rows) == count
    width, height = float(root.get("width")), float(root.get("height"))
    assert all(0 < y < height and x + 6 * len(name) <= width for x, y, name, _ in rows)
    assert len({(x, y) for x, y, _, _ in rows}) == count  # no two rows on top of each other


def test_twenty_five_classes_get_twenty_five_colours_and_legend_rows_inside_the_picture():
    """A decision boundary of many one-hot classes: a colour each, every legend row visible."""
    K = 25
    X = [[math.cos(k), math.sin(k)] for k in range(K)]
    y = [[1.0 if j == k else 0.0 for j in range(K)] for k in range(K)]
    net = Network([2, 4, K], "tanh", "sigmoid", "mse", seed=0)
    root = parse(plots.decision_boundary(net, X, y, "many", resolution=6))
    points = [c.get("fill") for c in group(root, "points").iter(f"{SVG}circle")]
    assert len(set(points)) == K
    rows = legend_rows(root)
    assert [name for _, _, name, _ in rows] == [f"class {k}" for k in range(K)]
    height, width = float(root.get("height")), float(root.get("width"))
    assert all(0 < y < height and x + 6 * len(name) <= width for x, y, name, _ in rows)


def test_the_title_is_centred_over_the_plot_like_the_x_label():
    """A legend widens the picture, not the plot: the title stays over the plot's middle."""
    root = parse(plots.line_chart({"a": [1.0, 2.0], "b": [2.0, 3.0]}, "t", "x", "y"))
    left, _, right, _ = plot_box(root)
    texts = list(root.iter(f"{SVG}text"))
    title = next(t for t in texts if t.text == "t")
    x_label = next(t for t in texts if t.get("class") == "x-label")
    assert float(title.get("x")) == float(x_label.get("x")) == (left + right) / 2


def test_vanishing_names_a_single_configuration_in_the_picture(tmp_path):
    """With one --configs pair the picture still says which it is."""
    assert cli.main(["vanishing", "--depth", "2", "--width", "3", "--samples", "4",
                     "--configs", "relu:he", "--plot", str(tmp_path)]) == 0
    root = parse((tmp_path / "gradient-norms.svg").read_text(encoding="utf-8"))
    assert [name for _, _, name, _ in legend_rows(root)] == ["relu:he"]
