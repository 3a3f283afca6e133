"""The old name of purebp.oracle.vectors, kept so that existing imports work.

``import purebp.vectors`` gives the very module purebp.oracle.vectors (not a copy).
"""

import sys

from purebp.oracle import vectors

sys.modules[__name__] = vectors
