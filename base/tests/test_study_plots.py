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
    assert len(list(root.iter(f"{SVG}circle"))) == 30
    assert len(list(root.iter(f"{SVG}rect"))) == 1 + 10 * 10


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
