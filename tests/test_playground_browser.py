"""The playground's page in a real browser: headless Chromium, driven by Playwright.

The server runs in this process on a free port (purebp.playground.server, as
``purebp playground`` starts it); Chromium is Debian's (/usr/bin/chromium, or
the one $PUREBP_CHROMIUM names) and Playwright for Python drives it. Without
either the tests skip, unless $PUREBP_BROWSER_TESTS is "required" (CI sets it,
so that CI cannot pass without having run them).

What the page shows is read from the page (text, the weight lines' values),
and checked against purebp run here in Python with the same settings, never
against the server's own answers.
"""

import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ElementTree

import pytest

from purebp import datasets, optimizers
from purebp.network import Network
from purebp.oracle import check_files, purebp_results
from purebp.playground.server import make_server, url_of

CHROMIUM = os.environ.get("PUREBP_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("PUREBP_BROWSER_TESTS") == "required"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _missing():
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401  (Playwright for Python, imported lazily)
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


MISSING = _missing()
if MISSING is not None:
    if REQUIRED:
        raise RuntimeError(f"PUREBP_BROWSER_TESTS=required, but {MISSING}")
    pytest.skip(MISSING, allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402  (after the skip above)


@pytest.fixture(scope="module")
def served():
    """(the page's URL, the server's live sessions)."""
    httpd, sessions = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield url_of(httpd), sessions
    httpd.shutdown()
    sessions.close_all()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(served):
    return served[0]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield chromium
        chromium.close()


class Page:
    """One page of the playground, with what its console said."""

    def __init__(self, browser, url, width=1280, height=800, scale=1):
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           device_scale_factor=scale, accept_downloads=True)
        self.page = self.context.new_page()
        self.console = []
        self.page.on("console", lambda message: self.console.append((message.type, message.text)))
        self.page.on("pageerror", lambda error: self.console.append(("pageerror", str(error))))
        self.page.goto(url)
        self.settle()
        assert self.text("#epoch") == "0"

    def settle(self):
        """Wait until the page's queue of user actions is done, and the page has a state."""
        self.page.wait_for_function("() => typeof state === 'object' && state !== null")
        self.page.evaluate("async () => { await queue; }")

    def text(self, selector):
        return self.page.text_content(selector).strip()

    def choose(self, selector, value):
        self.page.select_option(selector, value)
        self.settle()

    def type_in(self, selector, value):
        self.page.fill(selector, value)
        self.page.locator(selector).blur()  # a number field says "change" when left
        self.settle()

    def click(self, selector):
        self.page.click(selector)
        self.settle()

    def shown_weights(self):
        """The value of every weight line w-L-I-J, as weights[L][I][J]."""
        found = self.page.eval_on_selector_all(
            "line.weight", "lines => lines.map(l => [l.id, l.getAttribute('data-value')])")
        weights = {}
        for name, value in found:
            _, layer, i, j = name.split("-")
            weights.setdefault(int(layer), {}).setdefault(int(i), {})[int(j)] = float(value)
        return [[[row[j] for j in sorted(row)] for _, row in sorted(layer.items())]
                for _, layer in sorted(weights.items())]

    def errors(self):
        return [entry for entry in self.console if entry[0] in ("error", "warning", "pageerror")]

    def close(self):
        self.page.goto("about:blank")  # the page goes away: it ends its session
        self.context.close()


@pytest.fixture
def page(browser, server):
    opened = Page(browser, server)
    yield opened
    opened.close()


def trained_in_python(data, seed, optimizer, epochs, samples=200, noise=0.1, split=0.3,
                      hidden=(4, 2), batch_size=10):
    """The playground's documented recipe, done here: the data set from the seed, shuffled
    with random.Random(seed), the first round(n·split) held out; Network with the page's
    defaults (tanh, sigmoid output, bce, Xavier) trained ``epochs`` epochs."""
    X, y = {"xor": datasets.quadrants, "circles": datasets.circles}[data](
        samples, noise=noise, seed=seed)
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    train = order[round(len(X) * split):]
    net = Network([2, *hidden, 1], activation="tanh", output_activation="sigmoid", loss="bce",
                  init="xavier", seed=seed)
    net.train([X[i] for i in train], [y[i] for i in train], epochs, optimizer=optimizer,
              batch_size=batch_size, log=None)
    return net


def test_leaving_the_page_ends_its_session(browser, served):
    url, sessions = served
    before = len(sessions)
    opened = Page(browser, url)
    assert len(sessions) == before + 1
    opened.page.goto("about:blank")
    opened.page.wait_for_timeout(200)
    for _ in range(50):  # the beacon may land a moment after the page has gone
        if len(sessions) == before:
            break
        opened.page.wait_for_timeout(100)
    assert len(sessions) == before
    opened.close()


def test_the_page_loads_with_its_controls_and_no_console_errors(page):
    for name in ("play", "pause", "step", "reset", "epoch", "loss-train", "loss-validation",
                 "boundary", "network", "explain-panel"):
        assert page.page.locator(f"#{name}").count() == 1, name
    assert page.text("#loss-train") != "–" and float(page.text("#loss-train")) > 0
    assert page.page.is_disabled("#pause") and page.page.is_enabled("#play")
    # the defaults: 2 inputs, hidden 4 and 2, 1 output, every weight drawn
    assert page.page.locator("line.weight").count() == 2 * 4 + 4 * 2 + 2 * 1
    assert page.page.locator("#n-3-0").count() == 1
    assert page.errors() == []


def test_play_runs_the_epochs_and_the_loss_falls_on_xor(page):
    page.choose("#data", "xor")
    start = float(page.text("#loss-train"))
    page.click("#play")
    assert page.page.is_enabled("#pause") and page.page.is_disabled("#play")
    page.page.wait_for_function("() => Number(document.getElementById('epoch').textContent) >= 150",
                                timeout=60_000)
    page.click("#pause")
    epoch = int(page.text("#epoch"))
    now = float(page.text("#loss-train"))
    assert epoch >= 150 and now < 0.6 * start, (epoch, start, now)
    # paused: the counter stands still
    page.page.wait_for_timeout(500)
    page.settle()
    assert int(page.text("#epoch")) == epoch
    assert page.errors() == []


def test_one_step_shows_the_weights_of_network_trained_one_step_in_python(page):
    page.choose("#data", "xor")
    page.choose("#optimizer", "adam")
    page.type_in("#seed", "3")
    before = page.shown_weights()
    assert before == trained_in_python("xor", 3, optimizers.Adam(lr=0.03), 0).weights
    page.click("#step")
    assert page.text("#epoch") == "1"
    assert page.shown_weights() == trained_in_python("xor", 3, optimizers.Adam(lr=0.03), 1).weights
    page.click("#step")
    two = trained_in_python("xor", 3, optimizers.Adam(lr=0.03), 2)
    assert page.text("#epoch") == "2" and page.shown_weights() == two.weights
    # the readout is the loss of that network on the training points, to 4 decimals
    X, y = datasets.quadrants(200, noise=0.1, seed=3)
    order = list(range(200))
    random.Random(3).shuffle(order)
    loss = two.loss([X[i] for i in order[60:]], [y[i] for i in order[60:]])
    assert page.text("#loss-train") == f"{loss:.4f}"
    assert page.errors() == []


def shown(v):
    """A number as the page writes it: 4 decimals, or JavaScript's toExponential(3)."""
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.4f}"
    mantissa, exponent = f"{v:.3e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def test_hovering_a_weight_shows_its_value_and_gradient(page):
    page.choose("#data", "xor")
    page.click("#step")
    page.page.hover("#w-1-2-1")
    tip = page.text("#tooltip")
    net = trained_in_python("xor", 0, optimizers.SGD(lr=0.03), 1)
    X, y = datasets.quadrants(200, noise=0.1, seed=0)
    order = list(range(200))
    random.Random(0).shuffle(order)
    train = order[60:]
    gradient = net.gradients([X[i] for i in train], [y[i] for i in train])["weights"][1][2][1]
    assert tip.startswith("W2[2][1]: from unit 2 of layer 1 to unit 1 of layer 2")
    assert f"weight: {shown(net.weights[1][2][1])}" in tip
    assert f"gradient now, on all training points: {shown(gradient)}" in tip


def test_clicking_a_weight_opens_its_equations_with_the_numbers(page):
    page.choose("#data", "xor")
    page.click("#step")
    weight = page.shown_weights()[0][1][2]
    page.page.click("#w-0-1-2")
    page.page.wait_for_selector("#explain-body li")
    assert page.page.is_visible("#explain-panel")
    assert page.text("#explain-title").startswith("W1[1][2]")
    body = page.text("#explain-body")
    # the forward pass, the deltas and the update, tagged with the docs' equation ids
    # (docs/backprop.md: F1 F2 forward, L the loss, BP2 the hidden delta, BP4 the gradient;
    # optimizers.md: S the SGD step)
    for tag in ("(F1)", "(F2)", "(L)", "(BP2)", "(BP4)", "(S)"):
        assert tag in body, (tag, body[:2000])
    assert "W1[1][2]" in body
    assert f"after the step {weight:.4f}" in page.text("#explain-meta")
    # a weight into the output: its delta is the output's own, (BP1)
    page.page.click("#w-2-1-0")
    page.page.wait_for_function(
        "() => document.getElementById('explain-title').textContent.startsWith('W3[1][0]')"
        " && document.querySelector('#explain-body li') !== null")
    assert "(BP1)" in page.text("#explain-body")
    page.click("#explain-close")
    assert page.page.is_hidden("#explain-panel")
    assert page.errors() == []


def test_clicking_a_neuron_opens_its_forward_value_and_delta(page):
    page.click("#step")
    page.page.click("#n-1-0")
    page.page.wait_for_selector("#explain-body li")
    assert page.text("#explain-title").startswith("unit 0 of layer 1")
    body = page.text("#explain-body")
    assert "(F1)" in body and "(BP2)" in body and "b1[0]" in body
    assert page.errors() == []


def test_changing_the_layers_redraws_the_network_and_the_boundary(page):
    picture = page.page.get_attribute("#boundary-map", "href")
    page.click("#add-layer")                       # hidden 4, 2, 2
    assert page.page.locator("#n-3-1").count() == 1 and page.page.locator("#n-4-0").count() == 1
    assert page.page.locator("line.weight").count() == 2 * 4 + 4 * 2 + 2 * 2 + 2 * 1
    page.click("#add-neuron-1")                    # hidden 5, 2, 2
    assert page.page.locator("#n-1-4").count() == 1
    assert page.page.locator("line.weight").count() == 2 * 5 + 5 * 2 + 2 * 2 + 2 * 1
    page.click("#remove-layer")
    page.click("#remove-layer")                    # hidden 5
    assert page.page.locator("#n-2-0").count() == 1 and page.page.locator("#n-3-0").count() == 0
    assert page.page.locator("line.weight").count() == 2 * 5 + 5 * 1
    assert page.text("#layer-count") == "1 hidden layer"
    assert page.page.get_attribute("#boundary-map", "href") != picture
    assert page.text("#epoch") == "0"
    assert page.errors() == []


def test_six_hidden_layers_fit_and_their_seven_gradient_lines_are_all_named(page):
    for _ in range(4):
        page.click("#add-layer")
    assert page.page.is_disabled("#add-layer") and page.text("#layer-count") == "6 hidden layers"
    page.click("#step")
    legend = page.page.eval_on_selector_all(
        "#gradient-chart text", "texts => texts.filter(t => /^W\\d$/.test(t.textContent))"
        ".map(t => { const b = t.getBBox(); return [t.textContent, b.x + b.width]; })")
    width = float(page.page.get_attribute("#gradient-chart", "viewBox").split()[2])
    assert [name for name, _ in legend] == [f"W{k}" for k in range(1, 8)]
    assert all(right <= width for _, right in legend), legend


def test_a_bad_value_shows_a_message_and_leaves_the_session_as_it_was(page):
    page.click("#step")
    page.click("#step")
    weights = page.shown_weights()
    page.type_in("#weight-decay", "-1")
    assert "config.weight_decay must be at least 0, got -1" in page.text("#message")
    assert page.text("#epoch") == "2" and page.shown_weights() == weights
    assert page.page.input_value("#weight-decay") == "0"   # the control is put back
    page.click("#step")                                    # and the session goes on
    assert page.text("#epoch") == "3" and page.text("#message") == ""
    assert [entry for entry in page.errors() if "400" not in entry[1]] == []


def test_quick_changes_are_all_kept(page):
    """Three quick clicks are three neurons more; a second setting sent before the first
    one's answer came is not undone by that answer."""
    for _ in range(3):
        page.page.click("#add-neuron-1")
    page.page.select_option("#optimizer", "adam")
    page.page.select_option("#activation", "relu")
    page.settle()
    assert page.page.locator("#n-1-6").count() == 1 and page.page.locator("#n-1-7").count() == 0
    assert page.page.input_value("#activation") == "relu"
    assert page.page.evaluate("[state.config.hidden, state.config.activation, state.config.optimizer]") \
        == [[7, 2], "relu", "adam"]


def test_choosing_my_csv_file_without_a_file_asks_for_one_and_changes_nothing(page):
    page.choose("#data", "moons")
    page.choose("#data", "csv")
    assert "Choose a CSV file" in page.text("#message")
    assert page.page.input_value("#data") == "moons"
    page.choose("#activation", "sigmoid")   # and the settings still go through
    assert page.page.evaluate("[state.config.data, state.config.activation]") == ["moons", "sigmoid"]


def test_a_csv_file_of_points_is_trained_on(page, tmp_path):
    rows = ["x,y,label"] + [f"{x / 10},{y / 10},{int(x * y > 0)}"
                            for x in range(-5, 6) for y in range(-5, 6) if x and y]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.page.set_input_files("#csv-file", str(path))
    page.page.wait_for_function("() => state.config.data === 'csv'")
    page.settle()
    assert page.page.input_value("#data") == "csv"
    assert page.page.locator("#points-train circle").count() + \
        page.page.locator("#points-validation circle").count() == len(rows) - 1
    bad = tmp_path / "labels.csv"
    bad.write_text("x,y,label\n1,2,7\n", encoding="utf-8")
    page.page.set_input_files("#csv-file", str(bad))
    page.page.wait_for_function("() => document.getElementById('message').textContent !== ''")
    assert "config.csv's label in data row 1 must be 0 or 1, got 7.0" in page.text("#message")
    assert page.page.locator("#points-train circle").count() + \
        page.page.locator("#points-validation circle").count() == len(rows) - 1


def test_the_exported_model_file_loads_into_network_with_the_shown_weights(page, tmp_path):
    page.click("#step")
    with page.page.expect_download() as download:
        page.page.click("#export-model")
    path = tmp_path / "model.json"
    download.value.save_as(path)
    net = Network.load(path)
    assert net.weights == page.shown_weights() and net.epochs_trained == 1


def test_the_exported_test_vector_passes_purebp_check(page, tmp_path):
    page.choose("#data", "xor")
    page.choose("#optimizer", "momentum")
    page.click("#step")
    with page.page.expect_download() as download:
        page.page.click("#export-vector")
    suite, results = tmp_path / "vectors", tmp_path / "results"
    suite.mkdir()
    results.mkdir()
    download.value.save_as(suite / "playground.json")
    (case,) = json.loads((suite / "playground.json").read_text("utf-8"))["cases"]
    assert case["parameters"]["weights"] == page.shown_weights()
    # the results from another implementation: JavaScript's, where node is installed
    node = shutil.which("node")
    if node is not None:
        done = subprocess.run([node, str(ROOT / "examples" / "js" / "backprop.js"), str(suite),
                               str(results)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    else:
        (results / f"{case['id']}.json").write_text(
            json.dumps({"id": case["id"], "results": purebp_results(case)}), "utf-8")
    report = check_files(str(suite), str(results))
    assert report.passed, report.table(failures_only=True)
    check = subprocess.run([sys.executable, "-m", "purebp", "check", str(suite), str(results)],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_pictures_export_as_one_svg_file(page, tmp_path):
    page.click("#step")
    with page.page.expect_download() as download:
        page.page.click("#export-svg")
    path = tmp_path / "pictures.svg"
    download.value.save_as(path)
    root = ElementTree.parse(path).getroot()
    svg = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{svg}svg"
    images = [image.get("href") for image in root.iter(f"{svg}image")]
    # the boundary, and each node's picture (2 inputs, 4 + 2 hidden, 1 output)
    assert len(images) == 1 + 2 + 4 + 2 + 1
    assert all(href.startswith("data:image/png;base64,") for href in images)
    assert len([line for line in root.iter(f"{svg}line") if line.get("class") == "weight"]) == 18


@pytest.mark.parametrize("width, height, scale", [(1280, 800, 1), (640, 400, 2)])
def test_the_page_fits_its_width_at_1280_by_800_and_at_200_percent(browser, server,
                                                                   width, height, scale):
    """No sideways scrolling at 1280×800, nor at 200% zoom of it (640×400 CSS pixels)."""
    opened = Page(browser, server, width, height, scale)
    try:
        assert opened.page.evaluate("document.documentElement.scrollWidth") <= width
        for name in ("play", "step", "boundary", "network"):
            box = opened.page.locator(f"#{name}").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, name
    finally:
        opened.close()
