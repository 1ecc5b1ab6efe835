"""Settings shared by every test module.

Hypothesis profiles: no test sets ``max_examples`` itself, so the profile alone decides how many
generated cases each property sees. ``default`` keeps plain ``nox`` fast and reproducible;
``fuzz`` (``nox -s fuzz``, or ``HYPOTHESIS_PROFILE=fuzz pytest``) runs 20 times as many, with
fresh random draws on every run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 30
FUZZ_FACTOR = 20

settings.register_profile(
    "default",
    max_examples=DEFAULT_EXAMPLES,
    deadline=None,
    derandomize=True,
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=DEFAULT_EXAMPLES * FUZZ_FACTOR,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
