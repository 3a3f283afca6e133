"""The old name of purebp.oracle.exact, kept so that existing imports work.

``import purebp.exact`` gives the very module purebp.oracle.exact (not a copy).
"""

import sys

from purebp.oracle import exact

sys.modules[__name__] = exact
