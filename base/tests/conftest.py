"""Shared test set-up: the hypothesis profiles.

Two profiles:
  ci   derandomized (the same examples every run), more examples; chosen
       when the CI environment variable is set, as it is in .ci/run.
  dev  random examples, fewer of them, for quick local runs (the default).
  thorough  random examples, 2000 each, for a deep search before a release.
Pick one by hand with HYPOTHESIS_PROFILE=ci|dev|thorough.
"""

import os

from hypothesis import HealthCheck, settings

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
