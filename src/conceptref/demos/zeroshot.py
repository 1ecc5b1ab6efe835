"""The worked example of :doc:`/concepts/zero-shot-learning`: classes described by attributes.

:func:`make_attribute_data` makes a seeded synthetic set of classes, each described by a
signature of binary attributes, with the last classes unseen in training;
:func:`ridge_fit` fits the page's attribute predictor, a ridge regression from inputs to
attributes (checked against scikit-learn's ``Ridge`` in ``tests/test_zeroshot.py``). The
formulas that score the predictions (cosine scores, per-class accuracy, the harmonic mean,
calibrated stacking, the seen-unseen curve) are in :mod:`conceptref.zeroshot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from conceptref._random import numpy_rng
from conceptref._validation import (
    Interval,
    check_array,
    check_bool_array,
    check_dims_agree,
    check_int,
    check_int_array,
    check_real,
    check_size,
)

__all__ = ["AttributeData", "make_attribute_data", "ridge_fit"]


@dataclass(frozen=True)
class AttributeData:
    """A synthetic data set whose classes are described by binary attributes.

    Made by :func:`make_attribute_data`. Every array is indexed by sample (``x``, ``y``,
    ``train``) or by class (``signatures``, ``seen``).
    """

    x: npt.NDArray[np.float64]
    """Inputs, shape ``(n, d)``."""

    y: npt.NDArray[np.intp]
    """Class of each input, shape ``(n,)``, in ``0 … k-1``."""

    signatures: npt.NDArray[np.float64]
    """Attribute signature of each class, entries ``±1``, shape ``(k, a)``."""

    seen: npt.NDArray[np.bool_]
    """``True`` for the seen classes, shape ``(k,)``: the first ``k - n_unseen`` classes."""

    train: npt.NDArray[np.bool_]
    """``True`` for the training samples, shape ``(n,)``: half of each seen class. The other
    half of each seen class and every sample of an unseen class are test samples."""

    def __post_init__(self) -> None:
        x = np.array(check_array(self.x, "x", ndim=2, non_empty=True))
        y = np.array(check_int_array(self.y, "y", ndim=1), dtype=np.intp)
        signatures = np.array(check_array(self.signatures, "signatures", ndim=2, non_empty=True))
        seen = np.array(check_bool_array(self.seen, "seen"))
        train = np.array(check_bool_array(self.train, "train"))
        check_dims_agree([("len(x)", len(x)), ("len(y)", len(y)), ("len(train)", len(train))])
        check_dims_agree([("len(signatures)", len(signatures)), ("len(seen)", len(seen))])
        if len(y) and (y.min() < 0 or y.max() >= len(signatures)):
            raise ValueError(f"y must lie in 0 … {len(signatures) - 1} (one class per signature)")
        for name, array in (("x", x), ("y", y), ("signatures", signatures), ("seen", seen),
                            ("train", train)):  # fmt: skip
            object.__setattr__(self, name, array)


def make_attribute_data(
    seed: int = 0,
    *,
    n_classes: int = 16,
    n_unseen: int = 4,
    n_attributes: int = 12,
    n_features: int = 40,
    n_per_class: int = 60,
    class_noise: float = 1.0,
    noise: float = 1.0,
) -> AttributeData:
    r"""Make a seeded synthetic set of classes described by attributes.

    Each class :math:`c` has a random signature :math:`a_c \in \{-1, 1\}^{A}` and an input of
    class :math:`c` is

    .. math:: x = W^\top a_c + b_c + \varepsilon, \qquad
              W_{jk} \sim \mathcal N(0, 1/A),\ b_c \sim \mathcal N(0, \sigma_b^2 I),\
              \varepsilon \sim \mathcal N(0, \sigma^2 I).

    The attributes are shared by all classes through :math:`W`, so a predictor of the
    attributes learned on some classes carries over to others. The offset :math:`b_c` is
    specific to each class: a predictor fitted on the seen classes can learn their offsets by
    heart, which makes it more confident on seen classes than on unseen ones, the bias that
    the generalized setting exposes.

    Parameters
    ----------
    seed
        Seed of NumPy's ``default_rng`` (a non-negative integer); NumPy's global state is not
        touched.
    n_classes
        Number of classes :math:`k` (at least 2).
    n_unseen
        How many of them (the last ones) are unseen: ``1 <= n_unseen < n_classes``.
    n_attributes
        Number of binary attributes :math:`A`.
    n_features
        Input dimension :math:`d`.
    n_per_class
        Samples per class (at least 2; half of each seen class is for training).
    class_noise
        Standard deviation :math:`\sigma_b` of the class offsets.
    noise
        Standard deviation :math:`\sigma` of the per-sample noise.

    Returns
    -------
    AttributeData
        Inputs, labels, signatures, the seen-class mask and the training mask.

    Raises
    ------
    TypeError
        If a count or the seed is not an integer, or a noise level not a real number.
    ValueError
        If a count is out of range or a noise level is negative or not finite.

    Examples
    --------
    >>> from conceptref.demos.zeroshot import make_attribute_data
    >>> data = make_attribute_data(seed=0)
    >>> data.x.shape, data.signatures.shape, int(data.seen.sum()), int(data.train.sum())
    ((960, 40), (16, 12), 12, 360)
    """
    rng = numpy_rng(seed)
    k = check_int(n_classes, "n_classes", Interval(2, None))
    unseen = check_int(n_unseen, "n_unseen", Interval(1, None))
    if unseen >= k:
        raise ValueError(f"n_unseen must be smaller than n_classes ({k}), got {unseen}")
    a = check_int(n_attributes, "n_attributes", Interval(1, None))
    d = check_int(n_features, "n_features", Interval(1, None))
    per_class = check_int(n_per_class, "n_per_class", Interval(2, None))
    sigma_b = check_real(class_noise, "class_noise", Interval(0, None))
    sigma = check_real(noise, "noise", Interval(0, None))
    check_size([("n_classes", k), ("n_per_class", per_class), ("n_features", d)])
    check_size([("n_classes", k), ("n_attributes", a)])
    check_size([("n_attributes", a), ("n_features", d)])

    signatures = rng.choice([-1.0, 1.0], size=(k, a))  # (k, A)
    mixing = rng.standard_normal((a, d)) / math.sqrt(a)  # (A, d)
    with np.errstate(over="ignore"):
        offsets = sigma_b * rng.standard_normal((k, d))  # (k, d)
    y = np.repeat(np.arange(k), per_class)  # (n,)
    with np.errstate(over="ignore", invalid="ignore"):
        x = signatures[y] @ mixing + offsets[y] + sigma * rng.standard_normal((k * per_class, d))
    if not np.isfinite(x).all():
        raise ValueError("class_noise or noise is too large: the inputs overflow float64")
    seen = np.arange(k) < k - unseen  # (k,)
    first_half = np.tile(np.arange(per_class) < per_class // 2, k)  # (n,)
    return AttributeData(
        x=x, y=y.astype(np.intp), signatures=signatures, seen=seen, train=seen[y] & first_half
    )


def ridge_fit(
    x: npt.ArrayLike, targets: npt.ArrayLike, alpha: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r"""Ridge regression with an unpenalized intercept, in closed form.

    .. math:: \min_{W, b}\ \lVert X W + \mathbf 1 b^\top - T \rVert_F^2
              + \alpha \lVert W \rVert_F^2
              \quad\Longrightarrow\quad
              W = (X_c^\top X_c + \alpha I)^{-1} X_c^\top T_c, \qquad
              b = \bar t - W^\top \bar x,

    with :math:`X_c, T_c` the column-centred inputs and targets and :math:`\bar x, \bar t` their
    means. This is the objective of scikit-learn's ``Ridge(alpha, fit_intercept=True)``.

    Parameters
    ----------
    x
        Inputs of shape ``(n, d)``.
    targets
        Targets of shape ``(n, m)`` (here: the attribute signature of each sample's class).
    alpha
        Penalty :math:`\alpha > 0`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(coef, intercept)`` of shapes ``(d, m)`` and ``(m,)``; predictions are
        ``x @ coef + intercept``.

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If ``x`` or ``targets`` is not two-dimensional, empty, or not finite, if they differ in
        length, or if ``alpha`` is not a finite number greater than 0.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.demos.zeroshot import ridge_fit
    >>> coef, intercept = ridge_fit([[0.0], [1.0], [2.0]], [[1.0], [3.0], [5.0]], alpha=1e-9)
    >>> np.round(coef, 6).tolist(), np.round(intercept, 6).tolist()
    ([[2.0]], [1.0])
    """
    inputs = check_array(x, "x", ndim=2, non_empty=True)
    outputs = check_array(targets, "targets", ndim=2, non_empty=True)
    if len(inputs) != len(outputs):
        raise ValueError(
            f"x and targets must have the same number of rows, got {len(inputs)} and {len(outputs)}"
        )
    penalty = check_real(alpha, "alpha", Interval(0, None, "neither"))
    check_size([("the columns of x", inputs.shape[1]), ("the columns of x", inputs.shape[1])])
    with np.errstate(over="ignore", invalid="ignore"):
        x_mean, t_mean = inputs.mean(axis=0), outputs.mean(axis=0)  # (d,), (m,)
        xc, tc = inputs - x_mean, outputs - t_mean
        gram = xc.T @ xc + penalty * np.eye(inputs.shape[1])  # (d, d)
        moment = xc.T @ tc  # (d, m)
    if not (np.isfinite(gram).all() and np.isfinite(moment).all()):
        raise ValueError("x or targets is too large: the sums of squares overflow float64")
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            coef = np.linalg.solve(gram, moment)  # (d, m)
            intercept = t_mean - x_mean @ coef
    except np.linalg.LinAlgError:
        coef = np.full_like(moment, np.nan)
        intercept = np.full(outputs.shape[1], np.nan)
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise ValueError(
            f"alpha = {penalty} is too small for x: the penalized system is singular in float64"
        )
    return coef, intercept
