"""Shared test set-up: the hypothesis profiles, and a cache folder of the suite's own.

Two profiles:
  ci   derandomized (the same examples every run), more examples; chosen
       when the CI environment variable is set, as it is in .ci/run.
  dev  random examples, fewer of them, for quick local runs (the default).
  thorough  random examples, 2000 each, for a deep search before a release.
Pick one by hand with HYPOTHESIS_PROFILE=ci|dev|thorough.

The written-out code's disk cache (purebp.fast.cache) goes to a temporary
folder made here and removed at exit: PUREBP_CACHE_DIR is set before any
test runs, so neither the tests nor the command-line runs they start as
subprocesses (which inherit the environment) write to the user's cache.
The cache stays on, so the suite runs the code path users get.
"""

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

os.environ["PUREBP_CACHE_DIR"] = tempfile.mkdtemp(prefix="purebp-test-cache-")
atexit.register(shutil.rmtree, os.environ["PUREBP_CACHE_DIR"], ignore_errors=True)

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,  # shared CI machines are noisy; a slow example is no failure
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
