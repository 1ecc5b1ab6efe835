"""Input checks shared by the helper modules, declared once.

Every public function validates its arguments here first, so that bad input fails with a
message that names the argument and the rule, instead of a silent wrong number or a raw NumPy
or PyTorch error. In the spirit of scikit-learn's ``check_scalar`` and its ``Interval``
constraints, a rule is *declared* by the caller, not re-coded:

* :func:`check_bool`: a ``bool``; :func:`check_option`: one of listed strings;
  :func:`check_seed`: a seed (a non-negative integer); :func:`check_keys`: a dict with
  required and optional keys, none unknown;
* :func:`check_int` and :func:`check_real`: a scalar in an :class:`Interval` (bounds, each end
  open or closed), ``bool`` always rejected; :func:`check_probability` is ``check_real`` on
  ``[0, 1]`` or ``[0, 1)``;
* :func:`check_array`: a real array with its ``ndim`` or exact shape, non-emptiness and
  finiteness; :func:`check_same_shape` for two arrays that go together;
  :func:`check_dims_agree` for sizes of several arguments that must agree;
  :func:`check_size` before allocating a large array; :func:`check_int_array` and
  :func:`check_bool_array` for integer and boolean arrays;
* :func:`check_labels`: class labels (integers, strings, booleans, finite floats), integers
  beyond the range of int64 rejected instead of wrapped or rounded;
* :func:`check_binary`: a 0/1 array (booleans, or numbers 0 and 1);
* :func:`check_boxes` and :func:`find_bad_box`: ``(N, 4)`` corner boxes ``(x1, y1, x2, y2)``
  with finite coordinates, ``x1 <= x2`` and ``y1 <= y2``;
* :func:`check_tensor`: a real tensor kept as it is (dtype and autograd graph), for losses
  written in PyTorch; :func:`check_module`: a ``torch.nn.Module``;
* :func:`as_numpy`: PyTorch tensors become NumPy arrays (detached, on the CPU, float16 and
  bfloat16 upcast), so every array check accepts them, and so does a list or tuple of them.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

T = TypeVar("T")
Closed = Literal["both", "left", "right", "neither"]

_INT64 = np.iinfo(np.int64)


class Shaped(Protocol):
    """Anything with a ``shape``: a NumPy array or a PyTorch tensor."""

    @property
    def shape(self) -> tuple[int, ...]: ...


_NDIM_WORDS = {1: "one-dimensional", 2: "two-dimensional", 3: "three-dimensional"}


@dataclass(frozen=True)
class Interval:
    """The allowed range of a scalar: ``low`` and ``high`` (``None``: unbounded), ends closed or open.

    ``closed`` names the ends that belong to the interval, as scikit-learn's ``Interval`` does:
    ``"both"``, ``"left"``, ``"right"`` or ``"neither"``.
    """

    low: float | None = None
    high: float | None = None
    closed: Closed = "both"

    def __contains__(self, value: float) -> bool:
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        return not (
            self.high is not None and (value > self.high or (value == self.high and not right))
        )

    def describe(self, high_name: str | None = None, *, integer: bool = False) -> str:
        """Return the rule in words: ``at least 1``, ``in [0, 1)``, ``in 1 … d = 3``."""
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.high is None:
            return f"at least {self.low}" if left else f"greater than {self.low}"
        high = f"{high_name} = {self.high}" if high_name else f"{self.high}"
        if self.low is None:
            return f"at most {high}" if right else f"less than {high}"
        if integer and left and right:
            return f"in {self.low} … {high}"
        return f"in {'[' if left else '('}{self.low}, {high}{']' if right else ')'}"


# --- scalars ----------------------------------------------------------------------------------


def check_bool(value: object, name: str) -> bool:
    """Return ``value`` if it is a ``bool`` (or ``numpy.bool_``); anything else is a TypeError."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def check_int(
    value: object,
    name: str,
    interval: Interval | None = None,
    *,
    high_name: str | None = None,
) -> int:
    """Return ``value`` as an ``int`` inside ``interval`` (``bool`` is rejected).

    Raises
    ------
    TypeError
        If ``value`` is not an integer: ``"{name} must be an integer, got float"``.
    ValueError
        If it lies outside ``interval``: ``"{name} must be at least 1, got 0"``; with a
        ``high_name``, the upper bound is named (``"k must lie in 1 … d = 3, got 5"``).
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    result = int(value)
    if interval is not None and result not in interval:
        rule = interval.describe(high_name, integer=True)
        verb = "lie" if rule.startswith("in ") else "be"
        raise ValueError(f"{name} must {verb} {rule}, got {result}")
    return result


def check_real(
    value: object, name: str, interval: Interval | None = None, *, what: str = "a finite number"
) -> float:
    """Return ``value`` as a finite ``float`` inside ``interval`` (``bool`` is rejected).

    Raises
    ------
    TypeError
        If ``value`` is not a real number: ``"{name} must be a real number, got str"``.
    ValueError
        If it is NaN or infinite (``"{name} must be finite, got nan"``), or outside
        ``interval`` (``"{name} must be a finite number greater than 0, got 0.0"``; ``what``
        names the kind of number: ``"an error rate in [0, 1]"``).
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    result = float(value)
    if interval is None:
        if not math.isfinite(result):
            raise ValueError(f"{name} must be finite, got {value}")
        return result
    if not math.isfinite(result) or result not in interval:
        rule = interval.describe()
        rule = f"of {rule}" if rule.startswith("at ") else rule
        raise ValueError(f"{name} must be {what} {rule}, got {value}")
    return result


def check_probability(
    value: object, name: str, *, closed: Closed = "both", what: str = "a finite number"
) -> float:
    """Return ``value`` as a ``float`` in ``[0, 1]`` (or the half-open range ``closed`` names)."""
    return check_real(value, name, Interval(0, 1, closed), what=what)


def check_option(value: object, name: str, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``options``.

    Raises
    ------
    TypeError
        If ``value`` is not a string: ``"{name} must be one of 'a', 'b', got int"``.
    ValueError
        If it is a string not listed: ``"{name} must be one of 'a', 'b', got 'c'"``.
    """
    listed = ", ".join(repr(option) for option in options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {listed}, got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


SEED_MAX = 2**63 - 1  # the largest seed that both NumPy and torch.Generator.manual_seed accept


def check_seed(value: object, name: str = "seed") -> int:
    """Return ``value`` as a seed: an integer in ``0 … 2**63 - 1`` (``bool`` is rejected).

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``True`` and ``1.5`` are not seeds).
    ValueError
        If it is negative or too large for a random generator.
    """
    return check_int(value, name, Interval(0, SEED_MAX), high_name="2**63 - 1")


def check_keys(
    value: object,
    name: str,
    *,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> dict[str, Any]:
    """Return a mapping whose keys are all ``required`` ones and any of the ``optional`` ones.

    An unknown key (a misspelt ``"linear1.bais"``) is an error, not a key silently ignored.

    Raises
    ------
    TypeError
        If ``value`` is not a mapping, or a key is not a string.
    ValueError
        If a required key is missing or a key is unknown; the message names both lists.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{name} must have string keys, got {type(key).__name__} {key!r}")
    missing = [key for key in required if key not in value]
    if missing:
        raise ValueError(f"{name} lacks the key(s) {', '.join(map(repr, missing))}")
    known = set(required) | set(optional)
    unknown = sorted(key for key in value if key not in known)
    if unknown:
        allowed = ", ".join(repr(key) for key in (*required, *optional))
        raise ValueError(
            f"{name} has unknown key(s) {', '.join(map(repr, unknown))}; allowed: {allowed}"
        )
    return dict(value)


def check_size(
    sizes: Sequence[tuple[str, int]], *, limit: int = 2**31, what: str = "elements"
) -> None:
    """Raise ValueError before allocating an array of ``prod(size)`` entries beyond ``limit``.

    ``sizes`` pairs each factor with its argument's name, so that the message names them:
    ``"n = 10**9 gives an (n, n) mask of 10**18 elements, more than 2**31"``.
    """
    total = 1
    for _, size in sizes:
        total *= size
    if total > limit:
        names = " x ".join(f"{label} = {size}" for label, size in sizes)
        raise ValueError(
            f"{names} would need {total} {what}, more than the {limit} this helper allocates"
        )


def check_dims_agree(dims: Sequence[tuple[str, int]], *, what: str = "sizes") -> int:
    """Raise ValueError unless every named size in ``dims`` is the same; return it.

    ``dims`` pairs a description with a size: ``[("query.shape[-1]", 4), ("key.shape[-1]",
    3)]`` gives ``"query.shape[-1] and key.shape[-1] must agree, got 4 and 3"``.
    """
    values = [size for _, size in dims]
    if len(set(values)) > 1:
        labels = ", ".join(label for label, _ in dims[:-1]) + f" and {dims[-1][0]}"
        got = ", ".join(str(v) for v in values[:-1]) + f" and {values[-1]}"
        raise ValueError(f"{labels} must agree ({what}), got {got}")
    return values[0]


# --- arrays -----------------------------------------------------------------------------------


def as_numpy(value: object) -> Any:
    """Return a PyTorch tensor as a NumPy array; anything else unchanged.

    The tensor is detached (``requires_grad`` is fine) and moved to the CPU; float16 and
    bfloat16, which NumPy cannot hold or holds only coarsely, are upcast to float64. torch is
    not imported here: a value can only be a tensor if torch was imported already.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.dtype in (torch.float16, torch.bfloat16):
            tensor = tensor.to(torch.float64)
        return tensor.resolve_conj().resolve_neg().numpy()
    return value


def _asarray(value: object, name: str) -> npt.NDArray[Any]:
    """``np.asarray`` of a tensor, array or nested sequence; a ragged one is a ValueError.

    The items of a list or tuple go through :func:`as_numpy` too, so a list of tensors that
    require grad (or of bfloat16 tensors) is accepted like one tensor.
    """
    value = as_numpy(value)
    torch = sys.modules.get("torch")
    if (
        torch is not None
        and isinstance(value, list | tuple)
        and any(isinstance(item, torch.Tensor) for item in value)
    ):
        value = [as_numpy(item) for item in value]
    try:
        return np.asarray(value)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must be a rectangular array of numbers (nested sequences of equal "
            "lengths), got a ragged nested sequence"
        ) from None


def _check_shape(
    array: npt.NDArray[Any],
    name: str,
    *,
    ndim: int | None,
    min_ndim: int,
    axes: str | None,
    non_empty: bool,
    shape: tuple[int, ...] | None = None,
) -> None:
    """Raise ValueError unless ``array`` has the declared axes (or shape) and is non-empty."""
    if ndim is not None and array.ndim != ndim:
        words = _NDIM_WORDS.get(ndim, f"{ndim}-dimensional")
        label = f" {axes}" if axes else ""
        raise ValueError(f"{name} must be {words}{label}, got shape {array.shape}")
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {array.shape}"
        )
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {array.shape}")
    if non_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")


def check_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int = 0,
    shape: tuple[int, ...] | None = None,
    axes: str | None = None,
    non_empty: bool = False,
    finite: bool = True,
    allow_neg_inf: bool = False,
    allow_bool: bool = False,
    empty_any_dtype: bool = False,
    interval: Interval | None = None,
) -> npt.NDArray[np.float64]:
    """Return ``value`` as a float64 array that follows the declared rules.

    Parameters
    ----------
    value
        An array, a nested sequence of numbers or a PyTorch tensor (see :func:`as_numpy`).
    name
        The argument's name, for the messages.
    ndim, min_ndim
        The exact number of axes, or the least number.
    shape
        The exact shape, such as ``(d_model,)`` for a bias (checked after ``ndim`` and
        ``min_ndim``).
    axes
        Names of the axes for the message, such as ``"(R, M)"``.
    non_empty
        Reject an array with no entries.
    finite
        Reject NaN and infinity; with ``allow_neg_inf``, ``-inf`` is allowed (masked scores).
    allow_bool
        Accept booleans, as 0 and 1.
    empty_any_dtype
        Accept an empty one-dimensional array of any dtype (an empty list, which NumPy makes
        float64, or an empty tensor of another dtype) as an empty float64 array.
    interval
        Every entry must lie in this :class:`Interval` (NaN never does); the message names the
        first entry outside and its index.

    Raises
    ------
    TypeError
        If the values are not real numbers (strings, objects, complex or booleans).
    ValueError
        If the sequence is ragged, or a declared rule fails; the message names ``name``.
    """
    array = _asarray(value, name)
    if empty_any_dtype and array.ndim == 1 and array.size == 0:
        return np.empty(0)
    if not (allow_bool and array.dtype == np.bool_):
        check_real_dtype(array, name)
    _check_shape(
        array, name, ndim=ndim, min_ndim=min_ndim, axes=axes, non_empty=non_empty, shape=shape
    )
    array = array.astype(np.float64, copy=False)
    if finite:
        bad = np.isnan(array) | (np.isposinf(array) if allow_neg_inf else np.isinf(array))
        if bad.any():
            what = "NaN or +inf" if allow_neg_inf else "NaN or infinity"
            raise ValueError(f"{name} must be finite, but it holds {what}")
    if interval is not None:
        _check_in_interval(array, name, interval)
    return array


def _check_in_interval(array: npt.NDArray[np.float64], name: str, interval: Interval) -> None:
    """Raise ValueError naming the first entry of ``array`` outside ``interval`` (NaN is)."""
    inside = np.ones(array.shape, dtype=np.bool_)
    left = interval.closed in ("both", "left")
    right = interval.closed in ("both", "right")
    if interval.low is not None:
        inside &= array >= interval.low if left else array > interval.low
    if interval.high is not None:
        inside &= array <= interval.high if right else array < interval.high
    inside &= ~np.isnan(array)
    if not inside.all():
        index = np.unravel_index(int(np.argmin(inside)), array.shape)
        where = index[0] if array.ndim == 1 else index
        rule = interval.describe()
        verb = "lie" if rule.startswith("in ") else "be"
        raise ValueError(f"{name} must {verb} {rule}, got {array[index]} at index {where}")


def check_same_shape(first: Shaped, second: Shaped, names: tuple[str, str]) -> None:
    """Raise ValueError unless two checked arrays (or tensors) have the same shape.

    ``names`` are the two arguments' names: ``"mu and logvar must have the same shape, got (2,)
    and (1,)"``.
    """
    if tuple(first.shape) != tuple(second.shape):
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {tuple(first.shape)} and "
            f"{tuple(second.shape)}"
        )


def check_tensor(
    value: object, name: str, *, ndim: int | None = None, non_empty: bool = False
) -> torch.Tensor:
    """Return ``value`` as a finite real tensor, keeping a tensor's dtype and autograd graph.

    For losses written in PyTorch, whose gradient must reach the caller's tensors: a tensor is
    returned as it is (not detached, not upcast); an array or nested sequence becomes a tensor.
    ``ndim`` is the exact number of axes; ``non_empty`` rejects an axis of length 0.

    Raises
    ------
    TypeError
        If the values are not real numbers (booleans, complex numbers, strings).
    ValueError
        If the sequence is ragged, has the wrong number of axes or an empty axis, or holds NaN
        or infinity: ``"{name} must not have an empty axis, got shape (1, 0, 2)"``.
    """
    import torch  # the caller has imported it already: this costs nothing

    if isinstance(value, torch.Tensor):
        tensor = value
        if tensor.dtype == torch.bool or tensor.is_complex():
            raise TypeError(f"{name} must be an array of real numbers, got dtype {tensor.dtype}")
    else:
        array = _asarray(value, name)
        check_real_dtype(array, name)
        tensor = torch.as_tensor(array)
    shape = tuple(tensor.shape)
    if ndim is not None and tensor.ndim != ndim:
        words = _NDIM_WORDS.get(ndim, f"{ndim}-dimensional")
        raise ValueError(f"{name} must be {words}, got shape {shape}")
    if non_empty and 0 in shape:
        raise ValueError(f"{name} must not have an empty axis, got shape {shape}")
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor.detach()).all()):
        raise ValueError(f"{name} must be finite, but it holds NaN or infinity")
    return tensor


def check_int_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int = 0,
    axes: str | None = None,
    empty_any_dtype: bool = False,
) -> npt.NDArray[np.int64]:
    """Return ``value`` as an int64 array; booleans, floats and integers beyond int64 are rejected.

    ``ndim``, ``min_ndim`` and ``axes`` are those of :func:`check_array`. With
    ``empty_any_dtype``, an empty array of any dtype (an empty list, which NumPy makes float64)
    is accepted as an empty int64 array: a one-dimensional one when ``ndim`` is given, one of
    any shape (``min_ndim`` still applies) when it is not.

    Raises
    ------
    TypeError
        If the values are not integers.
    ValueError
        If the sequence is ragged, has the wrong number of axes, or holds an integer that
        int64 cannot hold (an unsigned value of 2**63 or more would otherwise wrap around).
    """
    array = _asarray(value, name)
    if empty_any_dtype and array.size == 0 and (array.ndim == 1 or ndim is None):
        array = np.empty(array.shape, np.int64)
    _check_int64_range(value, array, name)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an array of integers, got dtype {array.dtype}")
    _check_shape(array, name, ndim=ndim, min_ndim=min_ndim, axes=axes, non_empty=False)
    return array.astype(np.int64, copy=False)


def check_bool_array(value: object, name: str) -> npt.NDArray[np.bool_]:
    """Return ``value`` as a boolean array; any other dtype is a :class:`TypeError`."""
    array = _asarray(value, name)
    if array.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array, got dtype {array.dtype}")
    return array


def check_binary(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    axes: str | None = None,
    empty_any_dtype: bool = False,
) -> npt.NDArray[np.bool_]:
    """Return a 0/1 array (booleans, or real numbers equal to 0 or 1) as a boolean array.

    ``ndim``, ``axes`` and ``empty_any_dtype`` are those of :func:`check_array`.

    Raises
    ------
    TypeError
        If the values are neither booleans nor real numbers.
    ValueError
        If the sequence is ragged, has the wrong number of axes, or holds anything other than
        0 and 1 (NaN included): ``"{name} must hold only 0 and 1, got 2"``.
    """
    array = check_array(
        value,
        name,
        ndim=ndim,
        axes=axes,
        finite=False,
        allow_bool=True,
        empty_any_dtype=empty_any_dtype,
    )
    wrong = (array != 0) & (array != 1)
    if wrong.any():
        raise ValueError(f"{name} must hold only 0 and 1, got {array[wrong][0]:.17g}")
    return np.asarray(array == 1, dtype=np.bool_)


def check_boxes(value: object, name: str, *, check_values: bool = True) -> npt.NDArray[np.float64]:
    """Return corner boxes ``(x1, y1, x2, y2)`` as a float64 array of shape ``(N, 4)``.

    An empty list (or any empty one-dimensional array) gives shape ``(0, 4)``. With
    ``check_values`` (the default), every box must be valid in the sense of :func:`find_bad_box`;
    without it, only the type and shape are checked (a caller that checks many arrays at once
    calls :func:`find_bad_box` on their concatenation).

    Raises
    ------
    TypeError
        If the values are not real numbers.
    ValueError
        If the sequence is ragged, the shape is not ``(N, 4)`` (``"{name} must have shape
        (N, 4), got shape (2, 3)"``) or a box is not valid (``"{name}: x2 < x1 in box 5"``).
    """
    array = check_array(value, name, finite=False, empty_any_dtype=True)
    if array.ndim == 1 and array.size == 0:
        return np.empty((0, 4))
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got shape {array.shape}")
    if check_values:
        problem = find_bad_box(array)
        if problem is not None:
            raise ValueError(f"{name}: {problem[1]} in box {problem[0]}")
    return array


def find_bad_box(boxes: npt.NDArray[np.float64]) -> tuple[int, str] | None:
    """Return the first row of ``(N, 4)`` ``boxes`` that is not a valid box, and its fault.

    A valid box has finite coordinates, ``x1 <= x2`` and ``y1 <= y2``; the fault is one of
    ``"NaN or infinity"``, ``"x2 < x1"`` and ``"y2 < y1"``. ``None`` if every box is valid.
    """
    finite = np.isfinite(boxes).all(axis=1)
    if not finite.all():
        return int(np.argmin(finite)), "NaN or infinity"
    for bad, what in (
        (boxes[:, 2] < boxes[:, 0], "x2 < x1"),
        (boxes[:, 3] < boxes[:, 1], "y2 < y1"),
    ):
        if bad.any():
            return int(np.argmax(bad)), what
    return None


def check_labels(
    value: object, name: str, *, ndim: int | None = 1, axes: str | None = "(n,)"
) -> npt.NDArray[Any]:
    """Return class labels as an array: integers, booleans, strings or finite floats.

    Integer labels must fit in int64: an unsigned 2**63 or a Python integer beyond int64 is a
    ValueError, not a label that wraps around or rounds to a float.

    Raises
    ------
    TypeError
        If the values are not labels (complex numbers, say, or a mix of strings and numbers).
    ValueError
        If the sequence is ragged, has the wrong number of axes, holds NaN or infinity, or
        holds an integer beyond int64.
    """
    array = _asarray(value, name)
    _check_int64_range(value, array, name)
    if array.dtype.kind not in "biufUSO":
        raise TypeError(f"{name} must hold class labels, got dtype {array.dtype}")
    _check_shape(array, name, ndim=ndim, min_ndim=0, axes=axes, non_empty=False)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{name} must not hold NaN or infinity")
    if array.dtype.kind == "O":
        kinds = {type(item).__name__ for item in array.ravel()}
        comparable = all(isinstance(item, str) for item in array.ravel()) or not any(
            isinstance(item, str) for item in array.ravel()
        )
        if not comparable:
            raise TypeError(f"{name} must hold labels of one comparable kind, got {sorted(kinds)}")
    return array


def _check_int64_range(value: object, array: npt.NDArray[Any], name: str) -> None:
    """Raise ValueError if ``value`` holds an integer that int64 cannot hold."""
    value = as_numpy(value)  # a tensor holds no Python integers (nor does it convert to objects)
    if array.dtype.kind == "u" and array.size and array.max() > _INT64.max:
        raise ValueError(
            f"{name} holds {array.max()}, beyond the int64 range (at most {_INT64.max})"
        )
    if array.dtype.kind in "fO" and not isinstance(value, np.ndarray) and array.size:
        # A Python int beyond int64 turns a list into float64 (rounded) or object.
        items = np.asarray(value, dtype=object).ravel()
        for item in items:
            # bool is an Integral too, but True and False always fit.
            if isinstance(item, numbers.Integral) and not _INT64.min <= int(item) <= _INT64.max:
                raise ValueError(
                    f"{name} holds {item}, beyond the int64 range ({_INT64.min} … {_INT64.max})"
                )


def check_real_dtype(array: npt.NDArray[np.generic], name: str) -> None:
    """Raise :class:`TypeError` unless ``array`` holds real numbers (booleans do not count)."""
    real = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    if not real:
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")


def check_sequence(value: object, name: str, *, what: str = "arrays") -> Sequence[Any]:
    """Return ``value`` if it is a list, tuple or other sequence of ``what``, not one array.

    An array, a tensor, a string and a bytes object are single values, not sequences.
    """
    torch = sys.modules.get("torch")
    single = isinstance(value, np.ndarray | str | bytes) or (
        torch is not None and isinstance(value, torch.Tensor)
    )
    if single or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a sequence (list or tuple) of {what}, got {type(value).__name__}"
        )
    return value


def check_module(value: object, name: str) -> Any:
    """Return ``value`` if it is a ``torch.nn.Module``; anything else is a TypeError.

    torch is not imported here: without torch imported, nothing is a module.
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def check_odd_kernel_size(value: object, name: str = "kernel_size") -> int:
    """Return ``value`` as an odd positive ``int``: a kernel size with a centre pixel."""
    k = check_int(value, name, Interval(1, None))
    if k % 2 == 0:
        raise ValueError(
            f"{name} must be odd for 'same' padding, got {k}: an even kernel has no centre "
            "pixel, so the padding would differ between the two sides"
        )
    return k


def check_each(
    value: object,
    name: str,
    check: Callable[[object, str], T],
    *,
    length: int | None = None,
    what: str = "values",
) -> list[T]:
    """Apply ``check`` to every item of a sequence, naming each ``name[i]``.

    ``check(item, "name[i]")`` is any of the scalar checks, for example
    ``lambda v, n: check_real(v, n, Interval(0, 1, "left"))``.

    Raises
    ------
    TypeError
        If ``value`` is not a list, tuple or 1-d array (a string is not), or if ``check``
        rejects an item's type.
    ValueError
        If ``value`` is empty or not of the given ``length``, or ``check`` rejects an item.
    """
    if not isinstance(value, Sequence | np.ndarray) or isinstance(value, str):
        raise TypeError(f"{name} must be a sequence of {what}, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must hold {length} {what}, got {len(value)}")
    if len(value) == 0:
        raise ValueError(f"{name} must hold at least one of its {what}, got none")
    return [check(item, f"{name}[{i}]") for i, item in enumerate(value)]
