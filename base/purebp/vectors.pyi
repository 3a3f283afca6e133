# Type information for the old name of purebp.oracle.vectors (see vectors.py).
from purebp.oracle.vectors import *  # noqa: F403
