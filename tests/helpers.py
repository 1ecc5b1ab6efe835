"""Helpers shared by the test modules (importable as ``helpers``: pytest's ``pythonpath``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import torch

ATOL = 1e-12  # float64 results against their oracle
F64 = torch.float64
# float32 results are compared with a tolerance relative to float32's resolution.
TOLERANCE = {torch.float64: {"rtol": 0, "atol": ATOL}, torch.float32: {"rtol": 1e-5, "atol": 1e-5}}

BAD_INPUT_FIELDS = ("function", "args", "kwargs", "error", "match")


def bad(
    function: Callable[..., Any], *args: Any, error: type[Exception], match: str, **kwargs: Any
):
    """One rule for bad input: the call, and the exception and message fragment it must give."""
    name = getattr(function, "__qualname__", repr(function))
    return pytest.param(function, args, kwargs, error, match, id=f"{name}: {match}")


def bad_input_test(cases: list[Any]) -> Callable[..., None]:
    """Return a test that runs every ``bad(...)`` case and expects its exact exception.

    A test module binds it to a name, ``test_bad_input_raises_a_clear_error =
    bad_input_test(BAD_INPUT)``, and pytest collects one test per case.
    """

    @pytest.mark.parametrize(BAD_INPUT_FIELDS, cases)
    def test(function, args, kwargs, error, match) -> None:
        with pytest.raises(error, match=re.escape(match)) as raised:
            function(*args, **kwargs)
        assert type(raised.value) is error, (
            f"expected exactly {error.__name__}, got {raised.value!r}"
        )

    test.__doc__ = "Bad input raises the exact exception, with a message naming the argument."
    return test
