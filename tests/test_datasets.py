"""Tests for purebp.datasets: the truth tables, parity, the seeded 2-D data sets, load_csv.

Each generator is checked against what it promises rather than against its
own output: truth tables against Python's bit operators, parity against a
count of ones done with ``bin``, moons / circles / spirals with noise 0
against the curves their docstrings describe. Then the laws (n rows for any
n, one seed one data set), then bad input. load_csv is checked on files
written here, and by a round trip of random numbers.
"""

import inspect
import math
import operator
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import floats, matrices

from purebp import datasets
from purebp.datasets import (
    DATASETS,
    and_,
    circles,
    class_count,
    gaussians,
    load_csv,
    moons,
    or_,
    parity,
    parse_csv,
    quadrants,
    spirals,
    xor,
)

# The tutorial's inputs, in the tutorial's order.
TUTORIAL_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

GENERATORS_2D = (moons, circles, spirals)


# -- truth tables and parity ----------------------------------------------------


@pytest.mark.parametrize("table, rule", [(xor, operator.xor), (and_, operator.and_),
                                         (or_, operator.or_)])
def test_truth_tables_follow_the_bit_operators(table, rule):
    """xor, and_, or_ give the tutorial's four input rows, each with rule(a, b) as target."""
    X, y = table()
    assert X == TUTORIAL_INPUTS
    assert y == [[float(rule(int(a), int(b)))] for a, b in TUTORIAL_INPUTS]
    assert all(type(v) is float for row in X + y for v in row)


@pytest.mark.parametrize("bits", range(1, 7))
def test_parity_lists_every_row_in_counting_order_with_the_odd_count_target(bits):
    """parity(bits) has 2^bits rows counting up (MSB first); target = number of ones mod 2."""
    X, y = parity(bits)
    assert len(X) == len(y) == 2 ** bits
    for i, (row, (target,)) in enumerate(zip(X, y)):
        assert len(row) == bits and all(v in (0.0, 1.0) for v in row)
        assert int("".join(str(int(v)) for v in row), 2) == i
        assert target == bin(i).count("1") % 2


def test_parity_of_two_bits_is_xor_and_default_is_three_bits():
    """parity(2) equals xor(), and parity() defaults to 3 bits (8 rows)."""
    assert parity(2) == xor()
    assert len(parity()[0]) == 8 and len(parity()[0][0]) == 3


@pytest.mark.parametrize("bits, error", [(0, ValueError), (-3, ValueError), (17, ValueError),
                                         (2.0, TypeError), ("3", TypeError), (True, TypeError),
                                         (None, TypeError)])
def test_parity_refuses_bad_bits_naming_them(bits, error):
    """bits < 1, bits > 16 and non-ints are refused with a message naming bits."""
    with pytest.raises(error, match=r"parity: bits"):
        parity(bits)


# -- moons, circles, spirals: geometry with noise 0 --------------------------------


def test_moons_without_noise_lie_on_their_half_circles():
    """noise=0: moon 0 is the upper unit half circle, moon 1 the lower one centred (1, 0.5)."""
    X, y = moons(n=101, noise=0.0, seed=4)
    for (x0, x1), (label,) in zip(X, y):
        if label == 0.0:
            assert math.isclose(math.hypot(x0, x1), 1.0, abs_tol=1e-12) and x1 >= 0.0
        else:
            assert math.isclose(math.hypot(x0 - 1.0, x1 - 0.5), 1.0, abs_tol=1e-12)
            assert x1 <= 0.5


@pytest.mark.parametrize("factor", [0.1, 0.5, 0.9])
def test_circles_without_noise_lie_at_radius_one_and_factor(factor):
    """noise=0: label 0 points are at radius 1, label 1 points at radius factor."""
    X, y = circles(n=100, noise=0.0, factor=factor, seed=2)
    for (x0, x1), (label,) in zip(X, y):
        radius = factor if label == 1.0 else 1.0
        assert math.isclose(math.hypot(x0, x1), radius, abs_tol=1e-12)


@pytest.mark.parametrize("turns", [0.5, 1.5, 3.0])
def test_spirals_without_noise_lie_on_their_arms_within_the_unit_disc(turns):
    """noise=0: every point is within radius 1 at angle 2π·turns·r (+ π for arm 1)."""
    X, y = spirals(n=100, turns=turns, noise=0.0, seed=5)
    for (x0, x1), (label,) in zip(X, y):
        r = math.hypot(x0, x1)
        assert r <= 1.0
        angle = 2.0 * math.pi * turns * r + math.pi * label
        assert math.isclose(x0, r * math.cos(angle), abs_tol=1e-12)
        assert math.isclose(x1, r * math.sin(angle), abs_tol=1e-12)


@pytest.mark.parametrize("generator", GENERATORS_2D)
def test_noise_moves_points_off_the_curve(generator):
    """With noise > 0 the points differ from the noiseless ones drawn with the same seed."""
    clean, _ = generator(n=50, noise=0.0, seed=1)
    noisy, _ = generator(n=50, noise=0.1, seed=1)
    assert clean != noisy


# -- laws: shapes, balance, seeds --------------------------------------------------


@settings(max_examples=15)
@given(generator=st.sampled_from(GENERATORS_2D), n=st.integers(1, 60),
       seed=st.integers(-2**40, 2**40))
def test_any_n_gives_n_rows_of_two_inputs_with_alternating_labels(generator, n, seed):
    """For any n: n rows of 2 finite inputs, one target, label i % 2 (so balanced)."""
    X, y = generator(n=n, seed=seed)
    assert len(X) == len(y) == n
    assert all(len(row) == 2 and all(math.isfinite(v) for v in row) for row in X)
    assert y == [[float(i % 2)] for i in range(n)]
    assert sum(label for (label,) in y) == n // 2


@settings(max_examples=15)
@given(generator=st.sampled_from(GENERATORS_2D), seed=st.integers(0, 2**32))
def test_one_seed_gives_one_data_set(generator, seed):
    """The same seed gives identical data, bit for bit."""
    assert generator(n=30, seed=seed) == generator(n=30, seed=seed)


@settings(max_examples=15)
@given(generator=st.sampled_from(GENERATORS_2D),
       seeds=st.lists(st.integers(0, 2**32), min_size=2, max_size=2, unique=True))
def test_different_seeds_give_different_data(generator, seeds):
    """Two different seeds give different points."""
    first, second = (generator(n=30, seed=s)[0] for s in seeds)
    assert first != second


@pytest.mark.parametrize("generator", GENERATORS_2D)
def test_seed_none_draws_fresh_data(generator):
    """seed=None is not a fixed seed: two calls give different points."""
    assert generator(n=30, seed=None)[0] != generator(n=30, seed=None)[0]


# -- bad arguments -------------------------------------------------------------------


@pytest.mark.parametrize("generator, kwargs, error, message", [
    (moons, {"n": 0}, ValueError, "moons: n must"),
    (circles, {"n": -5}, ValueError, "circles: n must"),
    (spirals, {"n": 2.5}, TypeError, "spirals: n must"),
    (moons, {"noise": -0.1}, ValueError, "moons: noise"),
    (circles, {"noise": -1}, ValueError, "circles: noise"),
    (spirals, {"noise": -1e-9}, ValueError, "spirals: noise"),
    (moons, {"noise": float("nan")}, ValueError, "moons: noise"),
    (moons, {"noise": "0.1"}, TypeError, "moons: noise"),
    (circles, {"factor": 0}, ValueError, "circles: factor"),
    (circles, {"factor": 1}, ValueError, "circles: factor"),
    (circles, {"factor": 1.5}, ValueError, "circles: factor"),
    (circles, {"factor": -0.5}, ValueError, "circles: factor"),
    (circles, {"factor": None}, TypeError, "circles: factor"),
    (spirals, {"turns": 0}, ValueError, "spirals: turns"),
    (spirals, {"turns": -1.5}, ValueError, "spirals: turns"),
    (spirals, {"turns": float("inf")}, ValueError, "spirals: turns"),
    (moons, {"seed": 1.5}, TypeError, "moons: seed"),
    (circles, {"seed": "0"}, TypeError, "circles: seed"),
])
def test_bad_arguments_are_refused_naming_the_argument(generator, kwargs, error, message):
    """Bad n, noise, factor, turns or seed raise ValueError/TypeError naming the argument."""
    with pytest.raises(error, match=message):
        generator(**kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda: moons(n=10 ** 5000), "moons: n must be at most 1,000,000, got an int of about 5001 digits"),
    (lambda: parity(bits=10 ** 5000), "parity: bits must be at most 16 (65,536 rows), got an int of about"),
])
def test_a_size_too_long_to_print_is_refused_in_one_short_line(call, message):
    """An int of 5001 digits (beyond what str() prints) is refused by name, described by its size."""
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value).startswith(message) and len(str(info.value)) < 100


# -- DATASETS -----------------------------------------------------------------------


def test_datasets_maps_each_command_line_name_to_its_generator():
    """DATASETS maps the nine names purebp train takes to the generator functions."""
    assert DATASETS == {"xor": xor, "and": and_, "or": or_, "parity": parity,
                        "moons": moons, "circles": circles, "spirals": spirals,
                        "gaussians": gaussians, "quadrants": quadrants}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_generator_runs_with_its_defaults_only(name):
    """Every generator takes only defaulted arguments and returns matching X and y rows."""
    generator = DATASETS[name]
    assert all(p.default is not inspect.Parameter.empty
               for p in inspect.signature(generator).parameters.values())
    X, y = generator()
    assert len(X) == len(y) > 0 and all(t in (0.0, 1.0) for (t,) in y)


# -- load_csv -------------------------------------------------------------------------


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_csv_skips_a_header_line_and_blank_lines(tmp_path):
    """A non-numeric first line and blank lines are skipped; the last column is y."""
    path = write(tmp_path, "x1,x2,target\n0,0,0\n\n0,1,1\n  ,  \n1,0,1\n1,1,0\n\n")
    X, y = load_csv(path)
    assert X == TUTORIAL_INPUTS
    assert y == [[0.0], [1.0], [1.0], [0.0]]


def test_load_csv_without_a_header_keeps_the_first_line(tmp_path):
    """A first line of numbers is data, not a header."""
    X, y = load_csv(write(tmp_path, "1.5,-2,3e2\n4,5,6\n"))
    assert X == [[1.5, -2.0], [4.0, 5.0]] and y == [[300.0], [6.0]]


def test_load_csv_targets_two_takes_the_last_two_columns(tmp_path):
    """targets=2 splits each row into its first columns (X) and its last two (y)."""
    X, y = load_csv(write(tmp_path, "a,b,c,d\n1,2,3,4\n5,6,7,8\n"), targets=2)
    assert X == [[1.0, 2.0], [5.0, 6.0]] and y == [[3.0, 4.0], [7.0, 8.0]]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_load_csv_reads_back_any_finite_numbers_exactly(tmp_path, data):
    """Numbers written with repr come back exactly, split at the last ``targets`` columns."""
    targets = data.draw(st.integers(1, 3))
    columns = data.draw(st.integers(targets + 1, targets + 4))
    rows = data.draw(matrices(data.draw(st.integers(1, 6)), columns, floats(1e300)))
    path = write(tmp_path, "".join(",".join(map(repr, row)) + "\n" for row in rows))
    X, y = load_csv(path, targets=targets)
    assert X == [row[:-targets] for row in rows]
    assert y == [row[-targets:] for row in rows]


@pytest.mark.parametrize("text, line, words", [
    ("1,2,3\n4,5\n", 2, "2 fields, expected 3"),
    ("h1,h2,h3\n1,2,3\n\n\n4,5,6,7\n", 5, "4 fields, expected 3"),
    ("1,2,3\n4,five,6\n", 2, "field 2 must be a number, got 'five'"),
    ("a,b,c\nd,e,f\n1,2,3\n", 2, "field 1 must be a number, got 'd'"),
    ("1,2,3\nnan,5,6\n", 2, "field 1 must be finite, got 'nan'"),
    ("1,2,inf\n", 1, "field 3 must be finite, got 'inf'"),
    ("1,2,3\n4,5,1e999\n", 2, "field 3 must be finite, got '1e999'"),
    ("a,b\n7\n", 2, "targets must be less than the 1 columns found, to leave an input column, got 1"),
])
def test_load_csv_bad_lines_raise_naming_the_file_and_the_line(tmp_path, text, line, words):
    """A ragged, non-numeric, NaN/inf or too-narrow line raises naming the file and line."""
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load_csv(path)
    message = str(caught.value)
    assert path in message and f"line {line}:" in message and words in message


def test_load_csv_takes_a_pathlib_path(tmp_path):
    """load_csv takes an os.PathLike (a pathlib.Path) as well as a str."""
    X, y = load_csv(pathlib.Path(write(tmp_path, "1,2,0\n3,4,1\n")))
    assert X == [[1.0, 2.0], [3.0, 4.0]] and y == [[0.0], [1.0]]


@pytest.mark.parametrize("name", ["no\nsuch.csv", "tab\there.csv", "end.csv "])
def test_load_csv_shows_an_unusual_file_name_escaped_on_one_line(tmp_path, name):
    """A name with a line break, a tab or a trailing space is shown as its repr, on one line."""
    path = str(tmp_path / name)
    with pytest.raises(ValueError) as caught:
        load_csv(path)
    assert repr(path) in str(caught.value) and "\n" not in str(caught.value)


def test_load_csv_shows_a_long_file_name_by_its_ends(tmp_path):
    """A 5,000-character name is shown by its start and its end, in a message of bounded length."""
    path = str(tmp_path / ("d" * 5000 + ".csv"))
    with pytest.raises(ValueError) as caught:
        load_csv(path)
    message = str(caught.value)
    assert message.startswith(f"load_csv: cannot read {str(tmp_path)[:50]}") and len(message) < 400
    assert f"dddd.csv ({len(path):,} characters)" in message


def test_load_csv_missing_file_names_the_file(tmp_path):
    """A file that does not exist raises ValueError naming it."""
    path = str(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="load_csv: cannot read") as caught:
        load_csv(path)
    assert path in str(caught.value)


@pytest.mark.parametrize("text", ["", "\n\n  \n", "x1,x2,y\n", "x1,x2,y\n\n"])
def test_load_csv_file_without_data_rows_names_the_file(tmp_path, text):
    """An empty file, or one with only a header and blank lines, raises naming the file."""
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="holds no data rows") as caught:
        load_csv(path)
    assert path in str(caught.value)


def test_load_csv_non_utf8_file_names_the_file(tmp_path):
    """A file that is not UTF-8 text raises ValueError naming it, not UnicodeDecodeError."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("1,2,3\n4,5,6\ncaf\u00e9,1,2\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not a UTF-8 text file") as caught:
        load_csv(str(path))
    assert str(path) in str(caught.value)
    assert type(caught.value) is ValueError


@pytest.mark.parametrize("targets, error", [(0, ValueError), (-1, ValueError),
                                            (1.0, TypeError), (True, TypeError)])
def test_load_csv_refuses_bad_targets_naming_them(tmp_path, targets, error):
    """targets must be an int ≥ 1; anything else raises naming targets."""
    with pytest.raises(error, match="load_csv: targets"):
        load_csv(write(tmp_path, "1,2\n"), targets=targets)


def test_load_csv_keeps_the_first_row_of_a_file_with_a_byte_order_mark(tmp_path):
    """A UTF-8 file with a BOM (as Excel writes) loses no data row."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf1,2,0\n3,4,1\n")
    X, y = load_csv(str(path))
    assert X == [[1.0, 2.0], [3.0, 4.0]] and y == [[0.0], [1.0]]



def test_class_count_is_the_largest_class_index_plus_one():
    """Classes 0 … K−1, with gaps allowed below the largest: K; xor's targets are two classes."""
    assert class_count(xor()[1]) == 2
    assert class_count([[3.0], [0.0]]) == 4
    assert class_count([[0.0], [0.0]]) == 1


@pytest.mark.parametrize("label", [-1.0, 0.5, math.nan, math.inf])
def test_class_count_refuses_what_is_no_class_index_naming_the_row(label):
    """A negative, fractional or non-finite target is no class index: ValueError naming its row."""
    with pytest.raises(ValueError, match=r"^targets: row 1 must be a class index"):
        class_count([[1.0], [label]])


def test_class_count_needs_one_column():
    """Two target columns are not class indices."""
    with pytest.raises(ValueError, match="one column"):
        class_count([[0.0, 1.0]])


def test_quadrants_without_noise_label_each_point_by_the_xor_of_its_signs():
    """Noise 0: every point lies in the square, 0.05 or more off both axes, labelled 1
    exactly where x0 and x1 have opposite signs; all four quadrants occur."""
    X, y = quadrants(400, noise=0.0, seed=3)
    assert len(X) == len(y) == 400
    seen = set()
    for (x0, x1), (label,) in zip(X, y):
        assert 0.05 <= abs(x0) <= 1.0 and 0.05 <= abs(x1) <= 1.0
        assert label == (1.0 if x0 * x1 < 0 else 0.0)
        seen.add((x0 > 0, x1 > 0))
    assert len(seen) == 4


def test_gaussians_are_two_clouds_around_their_centres():
    """Class 1 around (0.5, 0.5), class 0 around (−0.5, −0.5): each class's mean is
    within 0.1 of its centre on 2,000 points, and the classes alternate."""
    X, y = gaussians(2000, noise=0.1, seed=5)
    assert [row[0] for row in y[:4]] == [0.0, 1.0, 0.0, 1.0]
    for label, centre in ((0.0, -0.5), (1.0, 0.5)):
        points = [x for x, (t,) in zip(X, y) if t == label]
        for column in (0, 1):
            mean = sum(p[column] for p in points) / len(points)
            assert abs(mean - centre) < 0.1


@pytest.mark.parametrize("generator", [gaussians, quadrants])
def test_the_new_generators_are_seeded_and_check_their_arguments(generator):
    """The same seed gives the same points; another seed others; a bad n or noise is refused."""
    assert generator(50, seed=1) == generator(50, seed=1) != generator(50, seed=2)
    with pytest.raises(ValueError, match="noise must not be negative"):
        generator(10, noise=-1.0)
    with pytest.raises(TypeError, match="n must be an int"):
        generator(1.5)


def test_parse_csv_reads_text_as_load_csv_reads_the_file(tmp_path):
    """A header, blank lines, a byte-order mark: the text gives what the file gives."""
    text = "\ufeffx,y,label\n0.5,1,0\n\n-1,2.5,1\n"
    path = tmp_path / "d.csv"
    path.write_text(text, "utf-8")
    assert parse_csv(text) == load_csv(path) == ([[0.5, 1.0], [-1.0, 2.5]], [[0.0], [1.0]])


@pytest.mark.parametrize("text, message", [
    ("1,2,3\n4,5\n", "the upload, line 2: 2 fields, expected 3 like the first data line"),
    ("1,2,3\n4,x,6\n", "the upload, line 2: field 2 must be a number, got 'x'"),
    ("a,b\n", "the upload holds no data rows"),
    ("1,nan,0\n", "the upload, line 1: field 2 must be finite"),
])
def test_parse_csv_names_the_source_the_line_and_the_field(text, message):
    with pytest.raises(ValueError, match=re.escape(f"parse_csv: {message}")):
        parse_csv(text, source="the upload")


# -- strokes: 8 × 8 images of one stroke -----------------------------------------------------


def test_strokes_are_balanced_one_hot_images_in_torchs_layout():
    X, y = datasets.strokes(40, seed=3)
    assert len(X) == 40 and all(len(image) == 1 and len(image[0]) == 8 and
                                all(len(row) == 8 for row in image[0]) for image in X)
    assert [row.index(1.0) for row in y] == [i % 4 for i in range(40)]
    assert all(sorted(row) == [0.0, 0.0, 0.0, 1.0] for row in y)
    assert datasets.strokes(40, seed=3) == (X, y) != datasets.strokes(40, seed=4)


def test_without_noise_each_stroke_is_3_to_6_pixels_in_its_classs_direction():
    """Found again from the pixels: the lit ones lie on one line with the class's step."""
    X, y = datasets.strokes(200, noise=0.0, seed=1)
    steps = {0: (0, 1), 1: (1, 0), 2: (1, 1), 3: (1, -1)}
    for image, target in zip(X, y):
        lit = sorted((i, j) for i, row in enumerate(image[0]) for j, v in enumerate(row) if v)
        assert 3 <= len(lit) <= 6 and all(v in (0.0, 1.0) for row in image[0] for v in row)
        di, dj = steps[target.index(1.0)]
        if dj < 0:
            lit.sort(key=lambda p: (p[0], -p[1]))
        first = lit[0]
        assert lit == [(first[0] + di * k, first[1] + dj * k) for k in range(len(lit))]


def test_strokes_checks_its_arguments_like_the_others():
    with pytest.raises(ValueError, match="strokes: noise must not be negative, got -1"):
        datasets.strokes(10, noise=-1)
