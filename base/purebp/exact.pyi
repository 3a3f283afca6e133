# Type information for the old name of purebp.oracle.exact (see exact.py).
from purebp.oracle.exact import *  # noqa: F403
