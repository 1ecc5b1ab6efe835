r"""Bias, variance and the other gaps between error rates, in practice and in theory.

This module is the reference implementation behind the page :doc:`/concepts/bias-vs-variance`.
It covers the two views of bias and variance that the page puts side by side.

*In practice* (Ng, *Machine Learning Yearning*) one compares error rates measured on a ladder of
data sets. Human-level error stands in for the Bayes (optimal) error, which is usually unknown,
and each step up the ladder is a gap with its own remedy:

=====================  ===================  ============================================
gap                    from → to            what it measures
=====================  ===================  ============================================
avoidable bias         human → train        the model does not fit its training data
variance               train → train-dev    it does not generalize to unseen data
data mismatch          train-dev → dev      dev data come from a different distribution
dev overfitting        dev → test           hyperparameters were tuned to the dev set
=====================  ===================  ============================================

The *training-dev* set is drawn from the training distribution but not trained on, so it
separates variance from data mismatch. Without it, variance is simply dev - train.
:func:`diagnose` computes these gaps and names the largest one.

*In theory* (Geman, Bienenstock and Doursat, 1992; Hastie, Tibshirani and Friedman, *The
Elements of Statistical Learning*, §7.3) the expected squared error of a learned predictor
:math:`\hat f` at an input :math:`x`, over training sets and over the noise in a fresh target
:math:`y = f(x) + \varepsilon` with :math:`\operatorname{Var}\varepsilon = \sigma^2`, splits into
three terms:

.. math:: \mathbb{E}\big[(y - \hat f(x))^2\big]
          = \underbrace{\big(\mathbb{E}\hat f(x) - f(x)\big)^2}_{\text{bias}^2}
          + \underbrace{\mathbb{E}\big[(\hat f(x) - \mathbb{E}\hat f(x))^2\big]}_{\text{variance}}
          + \underbrace{\sigma^2}_{\text{noise}} .

:func:`polynomial_fits` fits polynomials of several degrees to many noisy training sets, and
:func:`bias_variance_decomposition` estimates the three terms from those fits, together with the
error measured directly against fresh noisy targets.

``tests/test_diagnosis.py`` checks :func:`diagnose` on worked scenarios and algebraic properties,
:func:`polynomial_fits` against :class:`numpy.polynomial.Polynomial`, :func:`numpy.polyfit` and
scikit-learn's :class:`~sklearn.linear_model.LinearRegression` on polynomial features, and
:func:`bias_variance_decomposition` against :func:`numpy.var`, against the closed-form bias and
variance of least squares, and against a direct Monte-Carlo measurement of the expected error.
All arrays are float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.polynomial import polynomial as P

from conceptref._random import numpy_rng
from conceptref._validation import (
    Interval,
    check_array,
    check_each,
    check_int,
    check_probability,
    check_real,
    check_size,
)

__all__ = [
    "GAPS",
    "BiasVariance",
    "Diagnosis",
    "bias_variance_decomposition",
    "diagnose",
    "polynomial_fits",
]

GAPS = ("avoidable bias", "variance", "data mismatch", "dev overfitting")
"""The names of the gaps, in the order used to break ties in :attr:`Diagnosis.largest_gap`."""

_ADVICE = {
    "avoidable bias": (
        "Reduce avoidable bias: use a bigger model, train longer, try a better optimizer or "
        "architecture, or weaken the regularization."
    ),
    "variance": (
        "Reduce variance: get more training data, add regularization or early stopping, or use "
        "a smaller model."
    ),
    "data mismatch": (
        "Reduce data mismatch: find out by error analysis how the training and dev data differ, "
        "then make the training data more like the dev and test data, for example by collecting "
        "or synthesizing such examples."
    ),
    "dev overfitting": (
        "Reduce overfitting to the dev set: get a bigger dev set and stop tuning on the one you "
        "have."
    ),
}

_TIE = 1e-12  # gaps closer than this count as equal (0.05 - 0.01 vs 0.09 - 0.05, say)


@dataclass(frozen=True)
class Diagnosis:
    r"""Error rates on the ladder of data sets and the gaps between them; see :func:`diagnose`.

    Constructing it directly checks the rates just as :func:`diagnose` does (``human``,
    ``train`` and ``dev`` are required); the gaps are properties derived from them. The gaps are
    differences of the rates as given, with no clipping: a gap may be negative.
    """

    human: float
    """Human-level error, the proxy for the Bayes (optimal) error rate."""

    train: float
    """Error on the training set."""

    dev: float
    """Error on the dev (validation) set."""

    train_dev: float | None = None
    """Error on the training-dev set (training distribution, not trained on), if measured."""

    test: float | None = None
    """Error on the test set, if measured."""

    def __post_init__(self) -> None:
        for name in ("human", "train", "dev", "train_dev", "test"):
            value = getattr(self, name)
            if value is not None or name in ("human", "train", "dev"):
                object.__setattr__(self, name, check_probability(value, name, what="an error rate"))

    @property
    def avoidable_bias(self) -> float:
        """``train - human``. Negative means human-level error overestimates the Bayes error."""
        return self.train - self.human

    @property
    def variance(self) -> float:
        """``train_dev - train`` when ``train_dev`` is given, else ``dev - train``."""
        return (self.dev if self.train_dev is None else self.train_dev) - self.train

    @property
    def data_mismatch(self) -> float | None:
        """``dev - train_dev``; ``None`` without ``train_dev``."""
        return None if self.train_dev is None else self.dev - self.train_dev

    @property
    def dev_overfitting(self) -> float | None:
        """``test - dev``; ``None`` without ``test``."""
        return None if self.test is None else self.test - self.dev

    def gaps(self) -> dict[str, float]:
        """Return the gaps that the given rates define, by name, in the order of :data:`GAPS`.

        ``"data mismatch"`` appears only with ``train_dev``, ``"dev overfitting"`` only with
        ``test``.
        """
        present = {
            "avoidable bias": self.avoidable_bias,
            "variance": self.variance,
            "data mismatch": self.data_mismatch,
            "dev overfitting": self.dev_overfitting,
        }
        return {name: value for name, value in present.items() if value is not None}

    @property
    def largest_gap(self) -> str:
        """The name of the largest gap, one of :data:`GAPS`.

        Gaps within ``1e-12`` of each other count as tied (so that float rounding in, say,
        ``0.05 - 0.01`` against ``0.09 - 0.05`` does not decide), and ties go to the gap that
        comes first in ``avoidable bias, variance, data mismatch, dev overfitting``: the order
        in which the problems are usually worked on. The largest gap is named even when every
        gap is zero or negative.
        """
        gaps = self.gaps()
        top = max(gaps.values())
        return next(name for name, value in gaps.items() if value >= top - _TIE)

    @property
    def advice(self) -> str:
        """One sentence on how to shrink the :attr:`largest_gap`."""
        return _ADVICE[self.largest_gap]

    def summary(self) -> str:
        """Return a small table of the error rates, each with its gap from the row above.

        Rates and gaps print as percentages with two decimals (a fraction rounded to four
        decimals); gaps carry a sign. Rows for ``train-dev`` and ``test`` appear only when
        those rates are given. The last line names the :attr:`largest_gap`.

        Examples
        --------
        >>> from conceptref.diagnosis import diagnose
        >>> print(diagnose(human=0.01, train=0.015, train_dev=0.02, dev=0.10).summary())
        set          error      gap
        human        1.00%
        train        1.50%   +0.50%  avoidable bias
        train-dev    2.00%   +0.50%  variance
        dev         10.00%   +8.00%  data mismatch
        largest gap: data mismatch
        """
        rows: list[tuple[str, float, float | None, str]] = [("human", self.human, None, "")]
        rows.append(("train", self.train, self.avoidable_bias, "avoidable bias"))
        if self.train_dev is not None:
            rows.append(("train-dev", self.train_dev, self.variance, "variance"))
            rows.append(("dev", self.dev, self.data_mismatch, "data mismatch"))
        else:
            rows.append(("dev", self.dev, self.variance, "variance"))
        if self.test is not None:
            rows.append(("test", self.test, self.dev_overfitting, "dev overfitting"))
        lines = [f"{'set':<9}{'error':>9}{'gap':>9}"]
        for name, rate, gap, label in rows:
            line = f"{name:<9}{_percent(rate):>9}"
            if gap is not None:
                line += f"{_percent(gap, sign=True):>9}  {label}"
            lines.append(line)
        lines.append(f"largest gap: {self.largest_gap}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def diagnose(
    *,
    human: float,
    train: float,
    dev: float,
    train_dev: float | None = None,
    test: float | None = None,
) -> Diagnosis:
    r"""Split the error on the dev (and test) set into avoidable bias, variance and the rest.

    .. math::

       \text{avoidable bias} &= E_\text{train} - E_\text{human}, \\
       \text{variance} &= E_\text{train-dev} - E_\text{train}, \\
       \text{data mismatch} &= E_\text{dev} - E_\text{train-dev}, \\
       \text{dev overfitting} &= E_\text{test} - E_\text{dev},

    where :math:`E_\text{human}`, human-level error, stands in for the Bayes error. Without a
    training-dev set, variance is :math:`E_\text{dev} - E_\text{train}` and there is no data
    mismatch term; without a test error there is no dev-overfitting term. The gaps add up to the
    whole climb from human-level error to the last rate given.

    Gaps are reported as they are, negative ones included. A negative avoidable bias (the model
    beats the humans on its training set) says the proxy for the Bayes error is too pessimistic,
    or that the model memorizes its training set; a negative variance or data mismatch usually
    means the sets are too small to measure the gap.

    Parameters
    ----------
    human
        Human-level error rate, a fraction in [0, 1]. Required.
    train
        Training-set error rate in [0, 1]. Required.
    dev
        Dev-set error rate in [0, 1]. Required.
    train_dev
        Optional training-dev error rate in [0, 1]: data from the training distribution that
        the model was not trained on.
    test
        Optional test-set error rate in [0, 1].

    Returns
    -------
    Diagnosis
        The rates, the gaps, the name of the largest gap (:attr:`Diagnosis.largest_gap`) and
        advice for it (:attr:`Diagnosis.advice`).

    Raises
    ------
    TypeError
        If a rate is not a real number (booleans and strings included).
    ValueError
        If a rate is NaN, infinite, or outside
        [0, 1] (pass 0.08, not 8, for 8 %).

    See Also
    --------
    bias_variance_decomposition : the statistical bias-variance decomposition.

    References
    ----------
    A. Ng, *Machine Learning Yearning*, draft, 2018: the chapters on bias and variance, on
    comparing to human-level performance, and on training and testing on different
    distributions.

    Examples
    --------
    >>> from conceptref.diagnosis import diagnose
    >>> d = diagnose(human=0.01, train=0.08, dev=0.10)
    >>> round(d.avoidable_bias, 4), round(d.variance, 4)
    (0.07, 0.02)
    >>> d.largest_gap
    'avoidable bias'
    >>> print(d)
    set          error      gap
    human        1.00%
    train        8.00%   +7.00%  avoidable bias
    dev         10.00%   +2.00%  variance
    largest gap: avoidable bias
    >>> d = diagnose(human=0.01, train=0.02, train_dev=0.025, dev=0.03, test=0.07)
    >>> {name: round(gap, 4) for name, gap in d.gaps().items()}
    {'avoidable bias': 0.01, 'variance': 0.005, 'data mismatch': 0.005, 'dev overfitting': 0.04}
    >>> d.advice
    'Reduce overfitting to the dev set: get a bigger dev set and stop tuning on the one you have.'
    """
    return Diagnosis(human=human, train=train, dev=dev, train_dev=train_dev, test=test)


@dataclass(frozen=True)
class BiasVariance:
    r"""The terms of the bias-variance decomposition, from :func:`bias_variance_decomposition`.

    All terms are averages over the ``M`` test inputs. Constructing it directly checks that
    each term is a finite number of at least 0; ``expected_error`` is derived.
    """

    bias_squared: float
    r"""Squared bias, :math:`\frac1M \sum_x (\bar y(x) - f(x))^2`."""

    variance: float
    r"""Variance, :math:`\frac1M \sum_x \frac1R \sum_r (\hat y_r(x) - \bar y(x))^2`."""

    noise: float
    r"""Irreducible noise :math:`\sigma^2`, as given."""

    measured_error: float | None = None
    """Mean squared error against fresh noisy targets, when they were given; else ``None``."""

    def __post_init__(self) -> None:
        for name in ("bias_squared", "variance", "noise"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, Interval(0, None)))
        if self.measured_error is not None:
            measured = check_real(self.measured_error, "measured_error", Interval(0, None))
            object.__setattr__(self, "measured_error", measured)

    @property
    def expected_error(self) -> float:
        """``bias_squared + variance + noise``: the expected squared error on a fresh target."""
        return self.bias_squared + self.variance + self.noise


def bias_variance_decomposition(
    predictions: npt.ArrayLike,
    truth: npt.ArrayLike,
    noise_variance: float,
    *,
    targets: npt.ArrayLike | None = None,
) -> BiasVariance:
    r"""Estimate squared bias and variance from models fit on many resampled training sets.

    Row ``r`` of ``predictions`` holds the predictions :math:`\hat y_r(x)` of the model trained
    on the ``r``-th training set, at ``M`` fixed test inputs :math:`x`. With
    :math:`\bar y(x) = \frac1R \sum_r \hat y_r(x)` the average prediction,

    .. math:: \text{bias}^2 = \frac1M \sum_x \big(\bar y(x) - f(x)\big)^2, \qquad
              \text{variance} = \frac1M \sum_x \frac1R \sum_r \big(\hat y_r(x) - \bar y(x)\big)^2,

    and the expected squared error on a fresh target :math:`y = f(x) + \varepsilon` is
    :math:`\text{bias}^2 + \text{variance} + \sigma^2`.

    The variance divides by :math:`R`, not :math:`R - 1`, so that the decomposition of the
    noise-free error holds exactly on the sample:
    :math:`\frac1{RM}\sum_{r,x} (\hat y_r(x) - f(x))^2 = \text{bias}^2 + \text{variance}`.
    Each term on its own is a slightly biased estimate of its population value (the squared
    mean carries :math:`1/R` of the variance, which the divisor :math:`R` removes from the
    variance term); their sum is not.
    The :math:`\sigma^2` term can only be checked by measurement: pass fresh noisy ``targets``
    (drawn independently of the training sets) and compare ``measured_error`` with
    ``expected_error``. The two differ by sampling error alone, with standard deviation about
    :math:`\sqrt{(2\sigma^4 + 4\sigma^2 e)/(RM)}`, where :math:`e = \text{bias}^2 +
    \text{variance}` (the noise itself, and its cross term with the model's error); with
    :math:`RM` in the tens of thousands they agree to within 1 or 2 %.

    Parameters
    ----------
    predictions
        Array of shape ``(R, M)``: ``R >= 2`` models, each evaluated at the same ``M`` inputs.
    truth
        The noise-free target :math:`f(x)` at those inputs, shape ``(M,)``.
    noise_variance
        The noise variance :math:`\sigma^2 \ge 0` of the targets.
    targets
        Optional fresh noisy targets :math:`f(x) + \varepsilon`, shape ``(R, M)``: one
        independent draw for each model and input.

    Returns
    -------
    BiasVariance
        ``bias_squared``, ``variance``, ``noise``, their sum ``expected_error``, and
        ``measured_error`` (the mean of :math:`(\hat y_r(x) - y_{r,x})^2`, or ``None``).

    Raises
    ------
    TypeError
        If an array is not numeric, or ``noise_variance`` is not a real number.
    ValueError
        If ``predictions`` is not two-dimensional with at least 2 rows and 1 column, if
        ``truth`` is not one-dimensional of length ``M``, if ``targets`` does not have the shape
        of ``predictions``, if an array holds NaN or infinity, if ``noise_variance`` is
        negative or not finite, or if the squared errors overflow float64.

    See Also
    --------
    polynomial_fits : the predictions of polynomial fits on resampled training sets.
    diagnose : bias and variance read off measured error rates.

    References
    ----------
    S. Geman, E. Bienenstock and R. Doursat, "Neural networks and the bias/variance dilemma",
    Neural Computation 4(1), 1992.

    T. Hastie, R. Tibshirani and J. Friedman, *The Elements of Statistical Learning*, 2nd ed.,
    Springer, 2009, section 7.3.

    Examples
    --------
    Two models that miss :math:`f = (0, 0)` by +1 and by -1 at both points: the average
    prediction is right (no bias), the spread is all variance.

    >>> from conceptref.diagnosis import bias_variance_decomposition
    >>> bv = bias_variance_decomposition([[1.0, 1.0], [-1.0, -1.0]], [0.0, 0.0], 0.25)
    >>> bv.bias_squared, bv.variance, bv.noise, bv.expected_error
    (0.0, 1.0, 0.25, 1.25)

    Polynomials of degree 1, 3 and 9 fit to :math:`\sin 2\pi x` plus noise
    (:math:`\sigma = 0.3`) on 2,000 training sets of 20 points: the line is all bias, degree 9
    is mostly variance. Each row prints degree, bias², variance, their sum with
    :math:`\sigma^2 = 0.09`, and the error measured against fresh targets, which agrees with
    the sum to within 2 %.

    >>> import numpy as np
    >>> from conceptref.diagnosis import polynomial_fits
    >>> f = lambda x: np.sin(2 * np.pi * x)
    >>> x_train, x_test = np.linspace(0, 1, 20), np.linspace(0, 1, 25)
    >>> fits = polynomial_fits(
    ...     f, x_train, x_test, [1, 3, 9], noise_std=0.3, repeats=2000, seed=0
    ... )  # (D, R, M)
    >>> rng = np.random.default_rng(1)  # fresh targets, independent of the training sets
    >>> fresh = f(x_test) + rng.normal(0.0, 0.3, size=fits.shape[1:])  # (R, M)
    >>> for degree, fit in zip([1, 3, 9], fits):
    ...     bv = bias_variance_decomposition(fit, f(x_test), 0.3**2, targets=fresh)
    ...     terms = (bv.bias_squared, bv.variance, bv.expected_error, bv.measured_error)
    ...     print(degree, *[round(v, 4) for v in terms], abs(terms[3] / terms[2] - 1) < 0.02)
    1 0.2246 0.0088 0.3234 0.3251 True
    3 0.0058 0.0176 0.1134 0.1124 True
    9 0.0 0.0451 0.1351 0.1343 True
    """
    preds = check_array(predictions, "predictions", ndim=2, axes="(R, M)")
    r, m = preds.shape
    if r < 2:
        raise ValueError(
            f"predictions must hold at least 2 models (rows, R >= 2), got shape {preds.shape}"
        )
    if m < 1:
        raise ValueError(
            f"predictions must hold at least one test input (column), got shape {preds.shape}"
        )
    f = check_array(truth, "truth", ndim=1, axes="(M,)")
    if len(f) != m:
        raise ValueError(
            "predictions and truth must cover the same M test inputs: "
            f"predictions has shape {preds.shape}, truth has shape {f.shape}"
        )
    sigma2 = check_real(noise_variance, "noise_variance", Interval(0, None))
    measured = None
    if targets is not None:
        y = check_array(targets, "targets")
        if y.shape != preds.shape:
            raise ValueError(
                "targets must have the shape of predictions (R, M): "
                f"predictions has shape {preds.shape}, targets has shape {y.shape}"
            )
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            measured = float(np.mean((preds - y) ** 2))

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mean = preds.mean(axis=0)  # (M,) average prediction over training sets
        bias_squared = float(np.mean((mean - f) ** 2))
        variance = float(np.mean((preds - mean) ** 2))  # 1/R within each column, then 1/M
    terms = (bias_squared, variance, sigma2 + bias_squared + variance, measured or 0.0)
    if not all(np.isfinite(terms)):
        raise ValueError(
            "the squared errors overflow float64: predictions, truth or targets are too large "
            "to square; rescale them"
        )
    return BiasVariance(
        bias_squared=bias_squared, variance=variance, noise=sigma2, measured_error=measured
    )


def polynomial_fits(
    f: Callable[[npt.NDArray[np.float64]], npt.ArrayLike],
    x_train: npt.ArrayLike,
    x_test: npt.ArrayLike,
    degrees: Sequence[int],
    *,
    noise_std: float,
    repeats: int,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    r"""Fit polynomials of several degrees to ``repeats`` noisy training sets and predict.

    Training set :math:`r` has the fixed inputs ``x_train`` and the targets
    :math:`y_{r,i} = f(x_i) + \varepsilon_{r,i}` with independent
    :math:`\varepsilon_{r,i} \sim \mathcal N(0, \sigma^2)`. Each degree :math:`d` gets the
    least-squares polynomial

    .. math:: \hat f_{r,d} = \operatorname*{arg\,min}_{\deg p \le d}
              \sum_i \big(p(x_i) - y_{r,i}\big)^2,

    computed as :meth:`numpy.polynomial.Polynomial.fit` does (inputs mapped to [-1, 1] first,
    which keeps the problem well conditioned), for all training sets at once. Every degree sees
    the same training sets, so differences between degrees are not sampling noise.

    The noise is drawn in one call, ``numpy.random.default_rng(seed).normal(0.0, noise_std,
    size=(repeats, n))``: the same ``seed`` gives the same training sets, and the caller's own
    random state is not touched.

    Parameters
    ----------
    f
        The true function: maps an array of inputs to an array of the same shape.
    x_train
        Training inputs, shape ``(n,)``, finite and not all equal.
    x_test
        Inputs to predict at, shape ``(M,)``, ``M >= 1``.
    degrees
        The polynomial degrees ``D`` to fit, each a non-negative integer smaller than the
        number of distinct training inputs.
    noise_std
        Standard deviation :math:`\sigma \ge 0` of the noise on the training targets.
    repeats
        Number of training sets ``R``, at least 2.
    seed
        Seed of the generator that draws the noise, a non-negative integer.

    Returns
    -------
    numpy.ndarray
        Float64 predictions of shape ``(len(degrees), R, M)``; ``[k, r]`` holds the fit of
        degree ``degrees[k]`` on training set ``r``, evaluated at ``x_test``.

    Raises
    ------
    TypeError
        If ``f`` is not callable, an array is not numeric, ``degrees`` is not a sequence of
        integers, ``noise_std`` is not a real number, or ``repeats`` or ``seed`` is not an
        integer.
    ValueError
        If ``x_train`` or ``x_test`` is not one-dimensional, is empty or holds NaN or infinity,
        if ``x_train`` has all inputs equal, if ``f`` does not return one finite value per
        input, if ``degrees`` is empty or a degree is negative, too high for the number of
        distinct training inputs, or too high to fit stably, if ``noise_std`` is negative or
        not finite, if ``repeats`` is less than 2, if ``seed`` is negative, if the noise or
        the predictions would hold more than ``2**25`` values, or if a prediction overflows
        float64 (``x_test`` far outside ``x_train``).

    See Also
    --------
    bias_variance_decomposition : turn the predictions into squared bias and variance.
    numpy.polynomial.Polynomial.fit : the fit for a single training set.

    Examples
    --------
    Without noise, every training set is the same, and a line through :math:`x^2` on
    :math:`0, 1, 2` is :math:`2x - 1/3`:

    >>> import numpy as np
    >>> from conceptref.diagnosis import polynomial_fits
    >>> fits = polynomial_fits(np.square, [0, 1, 2], [1.5], [1, 2], noise_std=0, repeats=2)
    >>> fits.shape
    (2, 2, 1)
    >>> [round(v, 4) for v in fits[:, 0, 0].tolist()]
    [2.6667, 2.25]
    """
    if not callable(f):
        raise TypeError(f"f must be callable (the true function), got {type(f).__name__}")
    x = check_array(x_train, "x_train", ndim=1, non_empty=True)
    t = check_array(x_test, "x_test", ndim=1, non_empty=True)
    n_distinct = len(np.unique(x))
    if n_distinct < 2:
        raise ValueError("x_train must hold at least 2 distinct inputs")
    degs = check_each(degrees, "degrees", _degree, what="integers")
    for k, degree in enumerate(degs):
        if degree >= n_distinct:
            raise ValueError(
                f"degrees[{k}] = {degree} needs at least {degree + 1} distinct training inputs, "
                f"x_train has {n_distinct}"
            )
    sigma = check_real(noise_std, "noise_std", Interval(0, None))
    r = check_int(repeats, "repeats", Interval(2, None))
    for sizes in (
        [("repeats", r), ("len(x_train)", len(x))],
        [("len(degrees)", len(degs)), ("repeats", r), ("len(x_test)", len(t))],
    ):
        check_size(sizes, limit=2**25, what="float64 values")
    rng = numpy_rng(seed)
    clean = check_array(f(x.copy()), "f(x_train)")
    if clean.shape != x.shape:
        raise ValueError(
            f"f must return one value per input: f(x_train) has shape {clean.shape}, "
            f"x_train has shape {x.shape}"
        )

    y = clean + rng.normal(0.0, sigma, size=(r, len(x)))  # (R, n) noisy training targets
    lo, hi = x.min(), x.max()
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        x_scaled = (2.0 * x - (lo + hi)) / (hi - lo)  # (n,) in [-1, 1], as Polynomial.fit does
        t_scaled = (2.0 * t - (lo + hi)) / (hi - lo)  # (M,)
    if not (np.isfinite(x_scaled).all() and np.isfinite(t_scaled).all()):
        raise ValueError(
            "x_train and x_test are too large: mapping them onto [-1, 1] overflows float64; "
            "rescale them"
        )
    out = np.empty((len(degs), r, len(t)), dtype=np.float64)  # (D, R, M)
    for k, degree in enumerate(degs):
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.RankWarning)
            try:
                coef = P.polyfit(x_scaled, y.T, degree)  # (degree + 1, R)
            except np.exceptions.RankWarning:
                raise ValueError(
                    f"degrees[{k}] = {degree} is too high to fit stably on {len(x)} training "
                    "inputs (the least-squares problem is numerically rank deficient)"
                ) from None
        with np.errstate(over="ignore", invalid="ignore"):
            out[k] = P.polyval(t_scaled, coef)  # (R, M)
        if not np.isfinite(out[k]).all():
            raise ValueError(
                f"the fits of degrees[{k}] = {degree} overflow float64 at x_test: its inputs lie "
                "too far outside x_train for that degree; rescale x_test"
            )
    return out


def _percent(value: float, *, sign: bool = False) -> str:
    """Format a fraction as a percentage with two decimals (``0.0712`` → ``7.12%``)."""
    percent = round(100.0 * value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{percent:+.2f}%" if sign else f"{percent:.2f}%"


def _degree(value: object, name: str) -> int:
    """Check a polynomial degree: an integer of at least 0."""
    return check_int(value, name, Interval(0, None))
