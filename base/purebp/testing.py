"""The old name of purebp.oracle.testing, kept so that existing imports work.

``import purebp.testing`` gives the very module purebp.oracle.testing (not a copy).
"""

import sys

from purebp.oracle import testing

sys.modules[__name__] = testing
