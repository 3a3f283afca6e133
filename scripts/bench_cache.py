"""Time compiling the written-out code against loading it from the disk cache.

For each network shape (plain descent and Adam), the medians of
interleaved rounds: ``source(spec)``, ``compile`` of that source, and
``purebp.fast.cache.code_for`` when the file is there (the SHA-256, the
read, the checks and ``marshal.loads``); on CPython also the peak memory
of compiling and of loading (tracemalloc). The cache folder is a fresh
temporary one; nothing is asserted. purebp/docs/speed.md quotes a run.

    python3 scripts/bench_cache.py [--rounds N] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Callable, List, Tuple

from purebp.fast import cache, unrolled
from purebp.optimizers import Adam

SHAPES = [(2, 4, 1), (2, 8, 1), (4, 8, 1), (4, 16, 16, 1), (8, 32, 32, 1), (64, 32, 10),
          (8, 48, 48, 1), (30, 100, 9)]


def parameters(sizes: Tuple[int, ...]) -> int:
    """Return the number of weights and biases of a network of these sizes."""
    return sum(m * (n + 1) for m, n in zip(sizes[1:], sizes[:-1]))


def seconds(run: Callable[[], object]) -> float:
    """Return how long one call of ``run`` takes (after a collection)."""
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def peak(run: Callable[[], object]) -> float:
    """Return the peak traced memory of one call of ``run``, in MB (CPython: PyPy has no tracemalloc)."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    run()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top / 2**20


def row(sizes: Tuple[int, ...], step: str, rounds: int) -> str:
    """Return one line of the table: the medians for one shape and step."""
    code = "gd" if step == "gd" else Adam(0.001).code()
    spec = unrolled.Spec(sizes, "sigmoid", "sigmoid", "half_sse", "mse", code)
    text = unrolled.source(spec)
    name = "<bench>"
    cache.code_for(text, name)  # stores it (when it is long enough)
    times: List[List[float]] = [[], [], []]
    for _ in range(rounds):
        times[0].append(seconds(lambda: unrolled.source(spec)))
        times[1].append(seconds(lambda: compile(text, name, "exec")))
        times[2].append(seconds(lambda: cache.code_for(text, name)))
    source_s, compile_s, load_s = (statistics.median(t) for t in times)
    line = (f"{list(sizes)!s:>16} {step:>4} {parameters(sizes):>6} {len(text):>9} "
            f"{source_s * 1e3:9.2f} {compile_s * 1e3:10.2f} ")
    if len(text) < cache.MIN_SOURCE:
        return line + f"{'(not stored: shorter than MIN_SOURCE)':>21}"
    line += f"{load_s * 1e3:8.2f} {compile_s / load_s:12.1f}"
    if sys.implementation.name == "cpython":
        line += (f" {peak(lambda: compile(text, name, 'exec')):10.1f}"
                 f" {peak(lambda: cache.code_for(text, name)):8.1f}")
    return line


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians)")
    parser.add_argument("--quick", action="store_true", help="the small shapes only")
    args = parser.parse_args(argv)
    shapes = SHAPES[:4] if args.quick else SHAPES
    os.environ[cache.ENV] = tempfile.mkdtemp(prefix="purebp-bench-cache-")
    print(f"{sys.implementation.name} {sys.version.split()[0]}, medians of {args.rounds} rounds")
    print(f"{'sizes':>16} {'step':>4} {'params':>6} {'chars':>9} {'source ms':>9} "
          f"{'compile ms':>10} {'load ms':>8} {'compile/load':>12} {'compile MB':>10} {'load MB':>8}")
    for step in ("gd", "adam"):
        for sizes in shapes:
            print(row(sizes, step, args.rounds))
    shutil.rmtree(os.environ[cache.ENV], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
