"""One playground session: its settings, its data, its Network, training in a thread.

    parse_config(raw)           the settings a page sends, checked, defaults filled in
    Session(config)             the data and the network those settings make, paused
      .play() .pause() .step() .reset() .configure(raw)
      .state()                  everything the page draws, as JSON-ready values
      .explain(kind, ...)       the equations of the last step for one weight or neuron
      .model_file()             the network as a model file (what Network.load reads)
      .vector_case()            the network and its last batch as a test-vector file

Training is purebp's own: ``Network.train`` for one epoch at a time, with the
optimizers of purebp.optimizers, in a background thread. The equations the
page shows come from ``purebp.study.explain``, on the very step that was
taken: the epoch is replayed in the readable code (``Network._step``, batch
by batch, from the state saved before it) up to its last batch, and that
batch's step is traced. The replay takes the same bits as the fast path's
epoch (purebp/docs/speed.md); tests/test_playground_session.py checks that
the traced step ends on the network's parameters.

What a page may ask for is bounded before any work: at most MAX_POINTS data
points, MAX_HIDDEN_LAYERS hidden layers of at most MAX_UNITS units each (as
TensorFlow Playground: 6 and 8), a CSV of at most MAX_CSV_CHARACTERS.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from purebp import _checks, datasets, optimizers
from purebp._types import Matrix
from purebp.activations import ACTIVATIONS
from purebp.errors import DivergenceError
from purebp.files import model
from purebp.losses import LOSSES
from purebp.network import INITS, Network
from purebp.oracle import vectors
from purebp.study import explain as study

OP = "playground"

#: The most points a data set may have (generated or uploaded), and the fewest generated.
MAX_POINTS = 2000
MIN_POINTS = 10
#: The most hidden layers, and units in one (TensorFlow Playground's limits).
MAX_HIDDEN_LAYERS = 6
MAX_UNITS = 8
#: The longest CSV text an upload may be: 2,000 rows of three long numbers.
MAX_CSV_CHARACTERS = 200_000
#: The largest |x| or |y| of an uploaded point (far larger ones overflow the pictures).
MAX_COORDINATE = 1e6
#: The largest seed: the page's JavaScript holds integers exactly up to 2**53 − 1.
MAX_SEED = 2 ** 53 - 1
#: The heat maps' resolutions: GRID × GRID points over the data's square for the
#: decision boundary, NEURON_GRID × NEURON_GRID for each neuron's small picture.
GRID = 40
NEURON_GRID = 20
#: The most samples of the last batch the explain panel and the test-vector case hold.
EXPLAINED_SAMPLES = 3
VECTOR_SAMPLES = 32
#: Epochs kept in the loss and gradient histories (older ones are thinned out).
HISTORY = 2000

#: The data sets by the page's names: TensorFlow Playground's, as purebp.datasets makes them.
DATA: Dict[str, Callable[..., datasets.Data]] = {
    "xor": datasets.quadrants, "circles": datasets.circles, "moons": datasets.moons,
    "spirals": datasets.spirals, "gaussians": datasets.gaussians}

#: The optimizers by the page's names; "momentum" is SGD with momentum 0.9.
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw")
#: The settings a session takes on without starting again: TensorFlow Playground, too,
#: keeps training when its learning rate or regularisation rate changes.
LIVE = ("optimizer", "learning_rate", "weight_decay")

DEFAULTS: Dict[str, Any] = {
    "data": "circles", "csv": None, "samples": 200, "noise": 0.1, "validation_split": 0.3,
    "batch_size": 10, "hidden": [4, 2], "activation": "tanh", "loss": "bce",
    "output_activation": "sigmoid", "init": "xavier", "optimizer": "sgd",
    "learning_rate": 0.03, "weight_decay": 0.0, "seed": 0,
}


def parse_config(raw: object) -> Dict[str, Any]:
    """Return the settings ``raw`` (a JSON object) asks for, checked, with the defaults filled in.

    ValueError or TypeError name the setting (``config.noise must ...``);
    the network's and optimizer's own checks run when Session builds them.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise TypeError(f"{OP}: config must be a JSON object, got {_checks._describe(raw)}")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{OP}: unknown config key {_checks._short_repr(unknown[0])}; expected"
                         f" one of {', '.join(DEFAULTS)}")
    c = dict(DEFAULTS, **raw)
    out: Dict[str, Any] = {}
    out["data"] = _checks.name(OP, "config.data", c["data"], (*DATA, "csv"))
    if out["data"] == "csv":
        if not isinstance(c["csv"], str):
            raise TypeError(f"{OP}: config.csv must be the text of a CSV file with data 'csv',"
                            f" got {_checks._describe(c['csv'])}")
        if len(c["csv"]) > MAX_CSV_CHARACTERS:
            raise ValueError(f"{OP}: config.csv must be at most {MAX_CSV_CHARACTERS:,}"
                             f" characters, got {len(c['csv']):,}")
        out["csv"] = c["csv"]
    else:
        out["csv"] = None
    out["samples"] = _checks.size(OP, "config.samples", c["samples"])
    if not MIN_POINTS <= out["samples"] <= MAX_POINTS:
        raise ValueError(f"{OP}: config.samples must be from {MIN_POINTS} to {MAX_POINTS},"
                         f" got {out['samples']}")
    out["noise"] = _between("config.noise", c["noise"], 0.0, 1.0)
    out["validation_split"] = _between("config.validation_split", c["validation_split"], 0.0, 0.9)
    out["batch_size"] = (None if c["batch_size"] is None
                         else _checks.size(OP, "config.batch_size", c["batch_size"]))
    hidden = c["hidden"]
    if isinstance(hidden, (str, bytes)) or not _checks.is_sequence(hidden):
        raise TypeError(f"{OP}: config.hidden must be a list of layer sizes like [4, 2],"
                        f" got {_checks._describe(hidden)}")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"{OP}: config.hidden must hold at most {MAX_HIDDEN_LAYERS} layers,"
                         f" got {len(hidden)}")
    out["hidden"] = [_checks.size(OP, f"config.hidden[{i}]", h) for i, h in enumerate(hidden)]
    for i, h in enumerate(out["hidden"]):
        if h > MAX_UNITS:
            raise ValueError(f"{OP}: config.hidden[{i}] must be at most {MAX_UNITS} units, got {h}")
    out["activation"] = _checks.name(OP, "config.activation", c["activation"],
                                     tuple(a for a in ACTIVATIONS if a != "softmax"))
    out["loss"] = _checks.name(OP, "config.loss", c["loss"], tuple(LOSSES))
    needed = LOSSES[out["loss"]].output_activation
    out["output_activation"] = needed or _checks.name(
        OP, "config.output_activation", c["output_activation"],
        tuple(a for a in ACTIVATIONS if a != "softmax"))
    out["init"] = _checks.name(OP, "config.init", c["init"], tuple(INITS))
    out["optimizer"] = _checks.name(OP, "config.optimizer", c["optimizer"], OPTIMIZERS)
    out["learning_rate"] = _checks.learning_rate(OP, c["learning_rate"])
    out["weight_decay"] = _between("config.weight_decay", c["weight_decay"], 0.0, math.inf)
    seed = _checks.seed(OP, c["seed"])
    if seed is None or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{OP}: config.seed must be an int from 0 to {MAX_SEED}, got"
                         f" {_checks._short_repr(seed)}")
    out["seed"] = seed
    return out


def _between(name: str, value: object, low: float, high: float) -> float:
    v = _checks.real_number(OP, name, value)
    if not low <= v <= high:
        wanted = f"from {low:g} to {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise ValueError(f"{OP}: {name} must be {wanted}, got {_checks._short_repr(value)}")
    return v


def make_optimizer(config: Dict[str, Any]) -> optimizers.Optimizer:
    """Return the optimizer the settings name, with their learning rate and weight decay."""
    name, lr, wd = config["optimizer"], config["learning_rate"], config["weight_decay"]
    if name == "momentum":
        return optimizers.SGD(lr=lr, momentum=0.9, weight_decay=wd)
    return optimizers.by_name(name, lr=lr, weight_decay=wd)


def make_data(config: Dict[str, Any]) -> Tuple[Matrix, Matrix, Matrix, Matrix]:
    """Return (X, y, X_val, y_val): the data set, shuffled with the seed, split for validation.

    Targets are one column of 0/1 labels, or two one-hot columns for cross_entropy.
    """
    if config["data"] == "csv":
        X, y = datasets.parse_csv(config["csv"], source="config.csv")
        if len(X) > MAX_POINTS:
            raise ValueError(f"{OP}: config.csv must hold at most {MAX_POINTS} rows, got {len(X)}")
        if len(X[0]) != 2:
            raise ValueError(f"{OP}: config.csv must have three columns x, y, label, got"
                             f" {len(X[0]) + 1}")
        for i, (label,) in enumerate(y):
            if label not in (0.0, 1.0):
                raise ValueError(f"{OP}: config.csv's label in data row {i + 1} must be 0 or 1,"
                                 f" got {label!r}")
        for i, row in enumerate(X):
            for name, v in zip("xy", row):
                if not -MAX_COORDINATE <= v <= MAX_COORDINATE:
                    raise ValueError(f"{OP}: config.csv's {name} in data row {i + 1} must be"
                                     f" from {-MAX_COORDINATE:g} to {MAX_COORDINATE:g}, got {v!r}")
    else:
        X, y = DATA[config["data"]](config["samples"], noise=config["noise"], seed=config["seed"])
    order = list(range(len(X)))
    random.Random(config["seed"]).shuffle(order)
    held_out = min(len(X) - 1, round(len(X) * config["validation_split"]))
    val, train = order[:held_out], order[held_out:]
    if config["loss"] == "cross_entropy":
        y = [[1.0 - t, t] for (t,) in y]
    return ([X[i] for i in train], [y[i] for i in train],
            [X[i] for i in val], [y[i] for i in val])


def make_network(config: Dict[str, Any]) -> Network:
    """Return the Network the settings describe: 2 inputs, the hidden layers, 1 output (2 for
    cross_entropy), weights drawn from the seed."""
    outputs = 2 if config["loss"] == "cross_entropy" else 1
    return Network([2, *config["hidden"], outputs], activation=config["activation"],
                   output_activation=config["output_activation"], loss=config["loss"],
                   init=config["init"], seed=config["seed"])


class _Turns:
    """One epoch at a time, over all sessions; a page's Step goes before the playing ones.

    With many sessions playing at once, Python's GIL would share one core among
    all their threads, and every answer would wait behind them all. Taking turns,
    a Step waits for the one epoch under way at most (the limits keep an epoch
    under about half a second), and an answer that needs no epoch waits for at
    most its own session's. Always take a turn before a session's lock.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._busy = False
        self._steps_waiting = 0

    @contextlib.contextmanager
    def turn(self, step: bool) -> Iterator[None]:
        with self._changed:
            self._steps_waiting += step
            while self._busy or (not step and self._steps_waiting):
                self._changed.wait()
            self._steps_waiting -= step
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._changed.notify_all()


_TURNS = _Turns()


class Session:
    """A page's network and data, trained one epoch at a time in a background thread.

    Every method takes the session's lock, so the page's requests and the
    training thread see the network between epochs only. ``touched`` is the
    monotonic time of the last request (the server ends idle sessions).
    """

    def __init__(self, raw_config: object) -> None:
        #: The server's name for this session (purebp.playground.server sets it).
        self.id: Optional[str] = None
        self._lock = threading.RLock()
        self._running = threading.Event()
        self._closed = threading.Event()
        self.touched = time.monotonic()
        self._build(parse_config(raw_config))
        self._thread = threading.Thread(target=self._train_while_running, daemon=True,
                                        name="purebp-playground")
        self._thread.start()

    # -- settings, data, network ------------------------------------------------

    def _build(self, config: Dict[str, Any]) -> None:
        """Make everything from checked settings; raise, changing nothing, if they are unusable."""
        X, y, X_val, y_val = make_data(config)
        net = make_network(config)
        optimizer = make_optimizer(config)
        if config["batch_size"] is not None and config["batch_size"] > len(X):
            points = f"{len(X)} training point{'' if len(X) == 1 else 's'}"
            raise ValueError(f"{OP}: config.batch_size must be at most the {points}, got"
                             f" {config['batch_size']} (choose a smaller batch, or full batch)")
        # nothing above raised: the session takes it all
        self.config, self.net, self.optimizer = config, net, optimizer
        self.X, self.y, self.X_val, self.y_val = X, y, X_val, y_val
        self.viewer = make_network(config)  # draws the pictures from a copy of the parameters
        self.version = getattr(self, "version", 0) + 1
        self.message: Optional[str] = None
        self._before_last: Optional[Tuple[Any, ...]] = None  # the state before the last epoch
        self._explained: Optional[Tuple[int, Dict[str, Any]]] = None
        self.history: Dict[str, List[Any]] = {"epoch": [], "train": [], "validation": [],
                                              "accuracy_train": [], "accuracy_validation": []}
        self.gradient_history: Dict[str, List[Any]] = {"epoch": [], "norms": []}
        self._record()

    def configure(self, raw_config: object) -> Dict[str, Any]:
        """Take new settings; on a bad one raise and change nothing.

        A change of the optimizer's settings only (LIVE) goes on from where the
        network is, running or not; with the same optimizer its state goes on
        too (only lr or weight decay change, as when torch's param_groups are
        edited). Any other change rebuilds everything: paused, epoch 0.
        """
        config = parse_config(raw_config)
        with self._lock:
            if all(config[key] == self.config[key] for key in config if key not in LIVE):
                optimizer = make_optimizer(config)
                if config["optimizer"] == self.config["optimizer"]:
                    optimizer.take_state(self.optimizer)
                self.config, self.optimizer = config, optimizer
                self.net.optimizer = optimizer  # what a model file exports from now on
                self.version += 1
                return self.state()
            self._running.clear()
            self._build(config)
            return self.state()

    def reset(self) -> Dict[str, Any]:
        """Start again from the same settings: the same data, the network drawn anew from the seed."""
        with self._lock:
            self._running.clear()
            self._build(self.config)
            return self.state()

    # -- training -----------------------------------------------------------------

    def play(self) -> Dict[str, Any]:
        with self._lock:
            self.message = None
            self._running.set()
            self.version += 1
            return self.state()

    def pause(self) -> Dict[str, Any]:
        with self._lock:
            self._running.clear()
            self.version += 1
            return self.state()

    def step(self) -> Dict[str, Any]:
        """Pause, then train exactly one epoch (TensorFlow Playground's step)."""
        with _TURNS.turn(step=True), self._lock:
            self._running.clear()
            self._epoch()
        return self.state()

    def close(self) -> None:
        """Stop the training thread for good."""
        self._closed.set()
        self._running.set()  # wake it, so that it sees it is closed

    def _train_while_running(self) -> None:
        while not self._closed.is_set():
            self._running.wait()
            with _TURNS.turn(step=False), self._lock:
                if self._running.is_set() and not self._closed.is_set():
                    self._epoch()
            time.sleep(0.002)  # let a waiting request take the lock

    def _epoch(self) -> None:
        """Train one epoch with Network.train; a diverging one is undone and said, and pauses."""
        net = self.net
        # what the step starts from, the optimizer's arguments and state included (the
        # settings may change before the step is explained)
        before = (net.weights, net.biases, net.rng.getstate(), self.optimizer.copy())
        try:
            net.train(self.X, self.y, 1, optimizer=self.optimizer,
                      batch_size=self.config["batch_size"], log=None)
        except DivergenceError as error:
            self._running.clear()
            self.message = f"{error} Training paused; press Reset to start again."
            self.version += 1
            return
        self._before_last = before
        self._explained = None
        self.version += 1
        self._record()

    def _record(self) -> None:
        """Add the losses and gradient norms at the current parameters to the histories."""
        net = self.net
        loss, accuracy = net._validate(self.X, self.y)
        val_loss, val_accuracy = net._validate(self.X_val, self.y_val) if self.X_val else (None, None)
        h = self.history
        for key, value in (("epoch", net.epochs_trained), ("train", loss),
                           ("validation", val_loss), ("accuracy_train", accuracy),
                           ("accuracy_validation", val_accuracy)):
            h[key].append(value)
        grads = net.gradients(self.X, self.y)
        self.gradients = grads
        self.gradient_history["epoch"].append(net.epochs_trained)
        self.gradient_history["norms"].append([_norm(W) for W in grads["weights"]])
        if len(h["epoch"]) > HISTORY:  # keep every other old entry
            for series in (*h.values(), *self.gradient_history.values()):
                series[:] = series[:HISTORY // 2:2] + series[HISTORY // 2:]

    # -- what the page draws ----------------------------------------------------

    def state(self) -> Dict[str, Any]:
        """Return everything the page draws (purebp/docs/playground.md lists the fields)."""
        with self._lock:
            self.touched = time.monotonic()
            net, grads = self.net, self.gradients
            domain = _domain(self.X + self.X_val)
            self.viewer.weights, self.viewer.biases = net.weights, net.biases
            _, activations = self.viewer._forward(_grid(domain, GRID))
            column = 1 if self.config["loss"] == "cross_entropy" else 0
            boundary = [_picture(min(1.0, max(0.0, row[column]))) for row in activations[-1]]
            _, activations = self.viewer._forward(_grid(domain, NEURON_GRID))
            neurons = [[[_picture(row[c]) for row in a] for c in range(len(a[0]))]
                       for a in activations[1:]]
            names = [net.activation] * (net.depth - 1) + [net.output_activation]
            h = self.history
            return {
                "session": self.id, "version": self.version,
                "running": self._running.is_set(), "epoch": net.epochs_trained,
                "loss_train": h["train"][-1], "loss_validation": h["validation"][-1],
                "accuracy_train": h["accuracy_train"][-1],
                "accuracy_validation": h["accuracy_validation"][-1],
                "history": {"epoch": h["epoch"], "train": h["train"],
                            "validation": h["validation"]},
                "config": {k: v for k, v in self.config.items() if k != "csv"},
                "sizes": net.sizes, "activations": names,
                "weights": net.weights, "biases": [b[0] for b in net.biases],
                "gradients": {"weights": grads["weights"],
                              "biases": [b[0] for b in grads["biases"]]},
                "gradient_norms": self.gradient_history["norms"][-1],
                "gradient_history": self.gradient_history,
                "domain": {"x": list(domain[0]), "y": list(domain[1])}, "grid": GRID,
                "neuron_grid": NEURON_GRID, "boundary": boundary, "neurons": neurons,
                "neuron_ranges": [list(_RANGES.get(name, (-1.0, 1.0))) for name in names],
                "points": {"train": _points(self.X, self.y), "validation": _points(self.X_val, self.y_val)},
                "message": self.message,
            }

    # -- the equations of the last step -------------------------------------------

    def _last_step(self) -> Dict[str, Any]:
        """Replay the last epoch in the readable code up to its last batch; return that step.

        Returns {"net", "optimizer", "X", "y", "rows"}: a network and optimizer as
        they were before the last step, and the last batch (rows of the training set).
        """
        if self._before_last is None:
            raise ValueError(f"{OP}: there is no last step to explain yet; press step or play")
        if self._explained is not None and self._explained[0] == self.version:
            return self._explained[1]
        weights, biases, rng_state, optimizer = self._before_last
        twin = make_network(self.config)
        twin.weights, twin.biases = weights, biases
        twin.rng.setstate(rng_state)
        step = optimizer.copy()
        n, batch_size = len(self.X), self.config["batch_size"]
        batches = [list(range(n))] if batch_size is None else twin._batches(n, batch_size)
        for rows in batches[:-1]:
            twin._step([self.X[i] for i in rows], [self.y[i] for i in rows], step)
        last = {"net": twin, "optimizer": step, "rows": batches[-1],
                "X": [self.X[i] for i in batches[-1]], "y": [self.y[i] for i in batches[-1]]}
        self._explained = (self.version, last)
        return last

    def explain(self, kind: str, layer: int, first: int, second: Optional[int] = None
                ) -> Dict[str, Any]:
        """Return the equations of the last step that made one weight or one neuron's numbers.

        kind "weight": W{layer+1}[first][second], that is weights[layer][first][second];
        kind "neuron": unit ``first`` of layer ``layer`` (1 … L; its bias b{layer}[first]).
        The lines are purebp.study.explain's (the docs' equation ids as tags), those
        whose left-hand side is this entry, or feeds it, for the batch's first
        EXPLAINED_SAMPLES samples.
        """
        with self._lock:
            self.touched = time.monotonic()
            net = self.net
            kind = _checks.name(OP, "kind", kind, ("weight", "neuron"))
            L = net.depth
            if kind == "weight":
                layer = _index("layer", layer, L)
                first = _index("from", first, net.sizes[layer])
                second = _index("to", _required(second), net.sizes[layer + 1])
                k, unit = layer + 1, second
                entry = f"W{k}[{first}][{second}]"
                heads = {f"∂E/∂{entry}", entry}
                source = f"input x{first + 1}" if layer == 0 else f"unit {first} of layer {layer}"
                title = f"{entry}: the weight from {source} to unit {second} of layer {k}"
            else:
                k = _index("layer", layer, L + 1)
                if k == 0:
                    raise ValueError(f"{OP}: layer of a neuron must be from 1 to {L} (layer 0 is"
                                     f" the input, which has no equations), got 0")
                unit = _index("unit", first, net.sizes[k])
                entry = f"b{k}[{unit}]"
                heads = {f"∂E/∂{entry}", entry}
                title = (f"unit {unit} of layer {k}: its pre-activation, activation, delta and"
                         f" bias {entry}")
            last = self._last_step()
            shown = min(EXPLAINED_SAMPLES, len(last["rows"]))
            for r in range(shown):
                heads |= {f"z{k}[{r}][{unit}]", f"a{k}[{r}][{unit}]", f"δ{k}[{r}][{unit}]"}
                if kind == "weight" and k > 1:
                    heads.add(f"a{k - 1}[{r}][{first}]")
            lines = study.explain(last["net"], last["X"], last["y"], None,
                                  max_entries=_entries(net.sizes, shown),
                                  optimizer=last["optimizer"])
            chosen = [line for line in lines
                      if line.section == "Loss" or _head(line.text) in heads
                      or line.text.startswith(("(A3) 1 − β1^t", "(A3) 1 − β2^t"))]
            gradient = next(line.value for line in chosen if _head(line.text) == f"∂E/∂{entry}")
            if kind == "weight":
                to = _required(second)
                updated = net.weights[layer][first][to]
                before = last["net"].weights[layer][first][to]
            else:
                updated = net.biases[k - 1][0][unit]
                before = last["net"].biases[k - 1][0][unit]
            return {
                "title": title, "entry": entry, "epoch": net.epochs_trained, "value": before,
                "gradient": gradient, "updated": updated,
                "lines": [{"section": line.section, "tag": line.tag, "text": line.text,
                           "value": line.value} for line in chosen],
                "note": (f"the last step of epoch {net.epochs_trained}: a batch of"
                         f" {len(last['rows'])} samples, the first {shown} shown"),
            }

    # -- exports ------------------------------------------------------------------

    def model_file(self) -> str:
        """Return the network as a model file's text (Network.load reads it)."""
        with self._lock:
            self.touched = time.monotonic()
            run = {"playground": {k: v for k, v in self.config.items() if k != "csv"}}
            return json.dumps(model.to_dict(self.net, run), indent=1, allow_nan=False) + "\n"

    def vector_case(self) -> str:
        """Return a test-vector file of one case: the network as it is, one step of its
        optimizer (fresh: a case holds no optimizer state) on the last batch, or on the
        first training samples before any step, at most VECTOR_SAMPLES of them."""
        with self._lock:
            self.touched = time.monotonic()
            net = self.net
            rows = (self._last_step()["rows"] if self._before_last is not None
                    else list(range(len(self.X))))[:VECTOR_SAMPLES]
            optimizer = make_optimizer(self.config)
            case = vectors._case(
                f"playground-epoch-{net.epochs_trained}",
                f"purebp playground: {self.config['data']} at epoch {net.epochs_trained},"
                f" one {self.config['optimizer']} step on {len(rows)} samples",
                net, [self.X[i] for i in rows], [self.y[i] for i in rows],
                optimizer.lr, steps=1,
                optimizer=None if self.config["optimizer"] == "sgd" and not self.config["weight_decay"]
                else optimizer)
        return vectors.dump([vectors.complete(case)])


#: Each activation's range, for the neuron pictures' colour scale (unbounded: ±1 shown).
_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _norm(W: Matrix) -> float:
    return math.sqrt(math.fsum(w * w for row in W for w in row))


def _picture(v: float) -> float:
    """A value for a picture: 4 significant digits (the exact numbers are in the panel)."""
    return float(f"{v:.4g}") if math.isfinite(v) else 0.0


def _points(X: Matrix, y: Matrix) -> List[List[float]]:
    return [[x0, x1, t[-1]] for (x0, x1), t in zip(X, y)]


def _domain(X: Matrix) -> Tuple[Tuple[float, float], Tuple[float, float]]:
    """The square the pictures show: every point, with a margin, centred on the data."""
    xs, ys = [r[0] for r in X], [r[1] for r in X]
    half = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9) / 2 * 1.15
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return (cx - half, cx + half), (cy - half, cy + half)


def _grid(domain: Tuple[Tuple[float, float], Tuple[float, float]], size: int) -> Matrix:
    """size × size points (cell centres), row by row from the top (largest y), left to right."""
    (x0, x1), (y0, y1) = domain
    return [[x0 + (x1 - x0) * (j + 0.5) / size, y1 - (y1 - y0) * (i + 0.5) / size]
            for i in range(size) for j in range(size)]


def _index(name: str, value: object, size: int) -> int:
    index = _checks.count(OP, name, value)
    if index >= size:
        raise ValueError(f"{OP}: {name} must be from 0 to {size - 1}, got {index}")
    return index


def _required(value: Optional[int]) -> int:
    if value is None:
        raise TypeError(f"{OP}: to must be given for a weight (with from), got none")
    return value


def _entries(sizes: List[int], samples: int) -> int:
    """explain's max_entries that covers every weight and the first samples' units."""
    return max(max(a * b for a, b in zip(sizes[:-1], sizes[1:])), samples * max(sizes), 1)


def _head(text: str) -> str:
    """The left-hand side of one of explain's lines: "(BP4) ∂E/∂W1[0][2] = …" → "∂E/∂W1[0][2]"."""
    rest = text.split(") ", 1)[1] if text.startswith("(") else text
    for stop in (" =", " ←", ":"):
        rest = rest.split(stop, 1)[0]
    return rest
