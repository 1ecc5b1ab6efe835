"""Helpers shared by the test modules (importable as ``helpers``: pytest's ``pythonpath``)."""

from __future__ import annotations

import contextlib
import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest
import torch

ATOL = 1e-12  # float64 results against their oracle
F64 = torch.float64
# float32 results are compared with a tolerance relative to float32's resolution.
TOLERANCE = {torch.float64: {"rtol": 0, "atol": ATOL}, torch.float32: {"rtol": 1e-5, "atol": 1e-5}}


class lazy:
    """A class or function of an oracle library, imported on first use.

    pytest imports every test module in every worker before running a test; the heavy oracle
    libraries (transformers above all) are imported only by the worker that runs a test using
    them: ``GPT2Config = lazy("transformers", "GPT2Config")``, or a whole module:
    ``skm = lazy("sklearn.metrics")``.
    """

    def __init__(self, module: str, name: str | None = None) -> None:
        self._module, self._name = module, name

    @functools.cached_property
    def _target(self) -> Any:
        import warnings

        with warnings.catch_warnings():
            # An oracle's import may warn about optional backends it does not find.
            warnings.simplefilter("ignore")
            module = importlib.import_module(self._module)
            return module if self._name is None else getattr(module, self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            # pytest's collection looks for markers and fixtures on every module global: that
            # is no use of the oracle, so it does not import it.
            raise AttributeError(attribute)
        return getattr(self._target, attribute)


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


# --- generated bad input ----------------------------------------------------------------------
# Values of the wrong kind, or of the right kind with hostile contents. A property built by
# `hostile_input_test` puts one of them in place of one argument of a valid call: the helper must
# raise ValueError or TypeError, or return a result with no NaN or infinity in it.
# Each function listed gets a third of the profile's examples: the properties cover every public
# function of every module, so they are many; `nox -s fuzz` still runs 20 times as many.
HOSTILE_SHARE = 3


def _hostile_values():
    import numpy as np
    from hypothesis import strategies as st

    floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
    return st.one_of(
        st.none(),
        st.booleans(),
        st.text(max_size=3),
        st.binary(max_size=2),
        floats,
        st.integers(-(2**70), 2**70),
        st.complex_numbers(max_magnitude=1e3),
        st.lists(floats, max_size=3),
        st.lists(st.lists(st.integers(-3, 3), max_size=3), max_size=3),
        st.sampled_from(
            [
                [],
                (),
                {},
                {"unknown": 1},
                object(),
                np.array([]),
                np.zeros((0, 3)),
                np.zeros((2, 0)),
                np.array(["a", "b"]),
                np.array([1 + 2j]),
                np.array([np.nan, 1.0]),
                np.array([[np.inf]]),
                np.array([1e308, -1e308]),
                np.array([1e-320, 5e-324]),
                np.ones((1, 1, 1, 1, 1)),
                np.arange(6).reshape(2, 3)[:, ::2],
                torch.tensor([1.0, 2.0], requires_grad=True),
                torch.tensor([[True, False]]),
                torch.ones(2, 3, dtype=torch.bfloat16),
                torch.ones(3, 2).t(),
            ]
        ),
    )


def _non_finite(value: Any) -> bool:
    """Whether a result holds NaN or infinity anywhere (arrays, tensors, tuples, dataclasses)."""
    import dataclasses

    import numpy as np

    if isinstance(value, torch.Tensor):
        return value.is_floating_point() and not bool(torch.isfinite(value.detach()).all())
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and not np.isfinite(value).all()
    if isinstance(value, float | np.floating):
        return not np.isfinite(value)
    if isinstance(value, list | tuple):
        return any(_non_finite(item) for item in value)
    if isinstance(value, dict):
        return any(_non_finite(item) for item in value.values())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_non_finite(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


@contextlib.contextmanager
def _memory_cap(extra: int = 2**31):
    """Cap the address space at its current size plus ``extra`` bytes during a hostile call.

    A helper that tries to allocate a huge array then fails with MemoryError (a failed test)
    instead of exhausting the machine.
    """
    import resource

    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    current = pages * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = current + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def hostile(function: Callable[..., Any], *, allow_non_finite: bool = False, **valid_kwargs: Any):
    """One function for the generated bad-input property: a valid call by keyword.

    ``allow_non_finite`` for a helper whose correct result may hold infinities (``-inf`` for
    masked logits).
    """
    name = getattr(function, "__qualname__", repr(function))
    return pytest.param(function, valid_kwargs, allow_non_finite, id=name)


def hostile_input_test(cases: list[Any]) -> Callable[..., None]:
    """Return a property: one argument of a valid call replaced by a generated hostile value.

    The call must raise exactly ValueError or TypeError (or a subclass of them), or return a
    result without NaN or infinity. Bind it in a test module: ``test_hostile_input =
    hostile_input_test(HOSTILE)``; the ``fuzz`` profile runs it with 20x as many examples.
    """
    import warnings

    from hypothesis import given, settings
    from hypothesis import strategies as st

    # The loaded profile decides (tests/conftest.py): a share of its examples for each function.
    examples = max(1, settings.default.max_examples // HOSTILE_SHARE)

    @pytest.mark.parametrize(("function", "valid_kwargs", "allow_non_finite"), cases)
    @settings(max_examples=examples)
    @given(data=st.data())
    def test(function, valid_kwargs, allow_non_finite, data) -> None:
        argument = data.draw(st.sampled_from(sorted(valid_kwargs)), label="argument")
        value = data.draw(_hostile_values(), label="value")
        kwargs = {**valid_kwargs, argument: value}
        try:
            with warnings.catch_warnings(), _memory_cap():
                warnings.simplefilter("error")  # a RuntimeWarning (overflow) is not an answer
                result = function(**kwargs)
        except (ValueError, TypeError):
            return
        except Exception as error:  # noqa: BLE001
            # Report without the traceback: its frames would keep the failed call's (perhaps
            # huge) arrays alive while hypothesis shrinks the example.
            message = f"{argument}={value!r} raised {type(error).__name__}: {error}"
            error.__traceback__ = None
            del error
            raise AssertionError(message) from None
        assert allow_non_finite or not _non_finite(result), (
            f"{argument}={value!r} gave a non-finite result without an error: {result!r}"
        )

    test.__doc__ = "Hostile input gives ValueError/TypeError or a finite result, nothing else."
    return test
