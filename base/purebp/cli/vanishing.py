"""``purebp vanishing``: the table of per-layer gradient norms, and its picture.

The numbers come from purebp.study.vanishing; this module parses the options,
prints the table and, with --plot, writes DIR/gradient-norms.svg.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

from purebp._checks import shown_path
from purebp.activations import ACTIVATIONS
from purebp.cli.options import PLOT, SAMPLES, SEED, Parser, int_at_least
from purebp.network import INITS
from purebp.study import plots
from purebp.study.vanishing import CONFIGURATIONS, experiment, first_to_last

DESCRIPTION = ("Print the gradient norm of every layer of a deep network at"
               " initialisation, for several activation:init pairs, on the moons"
               " data with a sigmoid output and bce.")


def configurations(text: str) -> List[Tuple[str, str]]:
    """Parse activation:init pairs.

    >>> configurations("tanh:xavier,relu:he")
    [('tanh', 'xavier'), ('relu', 'he')]
    """
    pairs = []
    for part in text.split(","):
        activation, _, init = part.partition(":")
        if activation not in ACTIVATIONS or init not in INITS:
            raise argparse.ArgumentTypeError(
                f"must be activation:init pairs like tanh:xavier (activations:"
                f" {', '.join(ACTIVATIONS)}; inits: {', '.join(INITS)}), got {part!r}")
        pairs.append((activation, init))
    return pairs


def add_options(parser: Parser) -> None:
    """Add --depth, --width, --samples, --seed, --plot and --configs."""
    parser.add_argument("--depth", type=int_at_least(1), default=10,
                        help="number of hidden layers (default 10)")
    parser.add_argument("--width", type=int_at_least(1), default=16,
                        help="units per hidden layer (default 16)")
    SAMPLES.add(parser, 64, help="moons samples in the batch (default {default})")
    SEED.add(parser, 0, help="seed for the weights and the data (default {default})")
    PLOT.add(parser, help="also write DIR/gradient-norms.svg")
    default = ",".join(f"{activation}:{init}" for activation, init in CONFIGURATIONS)
    parser.add_argument("--configs", type=configurations, default=list(CONFIGURATIONS),
                        help=f"comma-separated activation:init pairs (default {default})")


def ratio_text(ratio: Optional[float]) -> str:
    """Show a first-to-last ratio: n/a when every gradient is 0 (dead units)."""
    return "n/a" if ratio is None else f"{ratio:.1e}"


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Print the per-layer gradient norms table (and write the picture); return 0."""
    stream = sys.stdout if out is None else out
    norms = experiment(args.configs, args.depth, args.width, args.samples, args.seed)
    names, columns = [name for name, _ in norms], [column for _, column in norms]
    cell = max(14, *(len(n) + 2 for n in names))
    print(f"Gradient norm ‖∂loss/∂W‖ per layer at initialisation: {args.depth} hidden"
          f" layers of {args.width}, sigmoid output, bce, {args.samples} moons samples,"
          f" seed {args.seed}", file=stream)
    labels = [f"W{l}" for l in range(args.depth)] + [f"W{args.depth} (out)"]
    width = max(len(label) for label in labels + ["W0 / out"])
    print("layer".ljust(width) + "".join(n.rjust(cell) for n in names), file=stream)
    for l, label in enumerate(labels):
        print(label.ljust(width) + "".join(f"{c[l]:.2e}".rjust(cell) for c in columns),
              file=stream)
    ratios = "".join(ratio_text(first_to_last(c)).rjust(cell) for c in columns)
    print("W0 / out".ljust(width) + ratios, file=stream)
    print("A ratio far below 1 means the first layers barely learn (vanishing);"
          " far above 1 or huge norms mean exploding gradients.", file=stream)
    if args.plot:
        _plot(args.plot, norms, args.depth, args.width)
    return 0


def _plot(folder: str, norms: List[Tuple[str, List[float]]], depth: int, width: int) -> None:
    """Write folder/gradient-norms.svg: one line per configuration, on a log scale."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--plot {shown_path(folder)}: cannot create it:"
                         f" {error.strerror or error}") from None
    # A log scale cannot show 0: a dead layer is drawn at the bottom instead.
    safe: Dict[str, Sequence[float]] = {name: [max(v, 1e-300) for v in column]
                                        for name, column in norms}
    plots.write(os.path.join(folder, "gradient-norms.svg"), plots.line_chart(
        safe, f"Gradient norm per layer at initialisation ({depth} hidden layers of"
              f" {width})", "layer (0 = first weight matrix)", "‖∂loss/∂W‖ (log scale)"))
