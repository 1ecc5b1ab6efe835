"""Input checks shared by the helper modules.

Every public function validates its arguments here first, so that bad input fails with a
message that names the argument, instead of a silent wrong number or a raw NumPy error.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import numpy.typing as npt


def as_real_array(value: npt.ArrayLike, name: str, *, min_ndim: int = 0) -> npt.NDArray[np.float64]:
    """Return ``value`` as a finite float64 array with at least ``min_ndim`` dimensions.

    Raises
    ------
    TypeError
        If ``value`` is not an array of real numbers (strings, objects, complex or booleans).
    ValueError
        If it has too few dimensions or holds NaN or infinity.
    """
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array of numbers: {error}") from None
    check_real_dtype(array, name)
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {array.shape}"
        )
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, but it holds NaN or infinity")
    return array


def check_real_dtype(array: npt.NDArray[np.generic], name: str) -> None:
    """Raise :class:`TypeError` unless ``array`` holds real numbers (booleans do not count)."""
    real = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    if not real:
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")


def as_bool_array(value: npt.ArrayLike, name: str) -> npt.NDArray[np.bool_]:
    """Return ``value`` as a boolean array; any other dtype is a :class:`TypeError`."""
    array = np.asarray(value)
    if array.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array, got dtype {array.dtype}")
    return array


def as_int(value: object, name: str, *, minimum: int) -> int:
    """Return ``value`` as an ``int`` of at least ``minimum`` (``bool`` is rejected)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def as_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` of at least 1 (``bool`` is rejected)."""
    return as_int(value, name, minimum=1)


def as_finite_float(value: object, name: str) -> float:
    """Return ``value`` as a finite ``float`` (``bool`` is rejected)."""
    result = _as_float(value, name)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value}")
    return result


def as_positive_float(value: object, name: str) -> float:
    """Return ``value`` as a finite ``float`` greater than 0 (``bool`` is rejected)."""
    result = _as_float(value, name)
    if not math.isfinite(result) or result <= 0:
        raise ValueError(f"{name} must be a finite number greater than 0, got {value}")
    return result


def as_non_negative_float(value: object, name: str) -> float:
    """Return ``value`` as a finite ``float`` of at least 0 (``bool`` is rejected)."""
    result = _as_float(value, name)
    if not math.isfinite(result) or result < 0:
        raise ValueError(f"{name} must be a finite number of at least 0, got {value}")
    return result


def _as_float(value: object, name: str) -> float:
    """Return ``value`` as a ``float``, which may still be NaN or infinite."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)
