"""The oracle: the 50-digit truth, the test vectors, and the checker.

For implementers of other libraries, who test their numbers against purebp's.

    purebp.oracle.exact       every quantity of a case in 50-digit decimals, rounded once
    purebp.oracle.vectors     the versioned test-vector format, the curated and random suites
    purebp.oracle.ops         per-operation cases: one dense layer, activation or loss at a time
    purebp.oracle.tolerance_policy  how far from the truth a correct implementation may land
    purebp.oracle.checker       comparing results with the vectors: reports, check_implementation
    purebp.oracle.diagnosis     which classic mistake a failing case's numbers match
    purebp.oracle.testing     hypothesis strategies and assert_matches (needs hypothesis)

The checker's names are importable from here (``purebp.oracle.compare``,
``purebp.oracle.check_implementation``, ...), and the old module names
``purebp.exact``, ``purebp.vectors`` and ``purebp.testing`` still import.
purebp/docs/vectors.md documents the format and the tolerance policy.
"""

# The checker's public names are the oracle's (purebp.oracle.compare, ...).
from purebp.oracle.checker import *  # noqa: F403
from purebp.oracle.checker import __all__ as __all__
