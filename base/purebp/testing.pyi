# Type information for the old name of purebp.oracle.testing (see testing.py).
from purebp.oracle.testing import *  # noqa: F403
