"""Settings shared by every test module.

Hypothesis profiles: no test sets ``max_examples`` itself, so the profile alone decides how many
generated cases each property sees. ``default`` keeps plain ``nox`` fast and reproducible;
``fuzz`` (``nox -s fuzz``, or ``HYPOTHESIS_PROFILE=fuzz pytest``) runs 20 times as many, with
fresh random draws on every run.
"""

from __future__ import annotations

import doctest
import os

import pytest
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run each docstring example on its own, as a reader who copies it into a fresh interpreter.

    ``--doctest-modules`` would hand an example its module's namespace, so that it could use
    names it never imports. Here every example starts from an empty namespace instead: it must
    import what it uses. (Docstring examples run here only; Sphinx's doctest builder runs the
    pages, see docs/conf.py.)
    """
    for item in items:
        test = getattr(item, "dtest", None)  # doctest items only
        if isinstance(test, doctest.DocTest):
            test.globs = {"__name__": test.globs.get("__name__", "__main__")}
