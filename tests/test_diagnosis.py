"""conceptref.diagnosis on worked scenarios, against closed forms, Monte Carlo and scikit-learn."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.polynomial import Polynomial

from conceptref.diagnosis import (
    GAPS,
    BiasVariance,
    Diagnosis,
    bias_variance_decomposition,
    diagnose,
    polynomial_fits,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

LinearRegression = lazy("sklearn.linear_model", "LinearRegression")
make_pipeline = lazy("sklearn.pipeline", "make_pipeline")
PolynomialFeatures = lazy("sklearn.preprocessing", "PolynomialFeatures")

ATOL = 1e-12
SEEDS = range(3)


def sine(x):
    return np.sin(2 * np.pi * x)


# The scenarios of the page: rates, then the expected gaps (avoidable bias, variance,
# data mismatch, dev overfitting) and the largest gap.
SCENARIOS = {
    "high avoidable bias": (
        {"human": 0.01, "train": 0.15, "dev": 0.16},
        (0.14, 0.01, None, None),
        "avoidable bias",
    ),
    "high variance": (
        {"human": 0.005, "train": 0.01, "dev": 0.11},
        (0.005, 0.10, None, None),
        "variance",
    ),
    "bias and variance": (
        {"human": 0.01, "train": 0.15, "dev": 0.30},
        (0.14, 0.15, None, None),
        "variance",
    ),
    "data mismatch": (
        {"human": 0.01, "train": 0.02, "train_dev": 0.025, "dev": 0.10},
        (0.01, 0.005, 0.075, None),
        "data mismatch",
    ),
    "dev overfitting": (
        {"human": 0.01, "train": 0.02, "train_dev": 0.025, "dev": 0.03, "test": 0.07},
        (0.01, 0.005, 0.005, 0.04),
        "dev overfitting",
    ),
    "test without train-dev": (
        {"human": 0.02, "train": 0.03, "dev": 0.05, "test": 0.051},
        (0.01, 0.02, None, 0.001),
        "variance",
    ),
    "model beats the humans": (
        {"human": 0.05, "train": 0.02, "dev": 0.10},
        (-0.03, 0.08, None, None),
        "variance",
    ),
    "dev better than train-dev": (
        {"human": 0.0, "train": 0.1, "train_dev": 0.2, "dev": 0.15},
        (0.1, 0.1, -0.05, None),
        "avoidable bias",
    ),
    # 0.05 - 0.03 exceeds 0.03 - 0.01 in floating point; the tie still goes to the bias.
    "tie in decimals": ({"human": 0.01, "train": 0.03, "dev": 0.05}, (0.02, 0.02, None, None), "avoidable bias"),
    "all gaps zero": ({"human": 0.0, "train": 0.0, "dev": 0.0}, (0.0, 0.0, None, None), "avoidable bias"),
    "every rate 1": (
        {"human": 1.0, "train": 1.0, "train_dev": 1.0, "dev": 1.0, "test": 1.0},
        (0.0, 0.0, 0.0, 0.0),
        "avoidable bias",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("rates", "expected", "largest"), SCENARIOS.values(), ids=SCENARIOS)
def test_diagnose_worked_scenarios(rates, expected, largest):
    d = diagnose(**rates)
    got = (d.avoidable_bias, d.variance, d.data_mismatch, d.dev_overfitting)
    for value, want in zip(got, expected, strict=True):
        assert value == (None if want is None else pytest.approx(want, abs=ATOL))
    assert d.largest_gap == largest
    assert list(d.gaps()) == [
        name for name, want in zip(GAPS, expected, strict=True) if want is not None
    ]
    assert d.gaps() == pytest.approx(
        {name: want for name, want in zip(GAPS, expected, strict=True) if want is not None},
        abs=ATOL,
    )
    assert d.advice.startswith("Reduce " + {"dev overfitting": "overfitting"}.get(largest, largest))
    assert (d.human, d.train, d.dev) == (rates["human"], rates["train"], rates["dev"])
    assert (d.train_dev, d.test) == (rates.get("train_dev"), rates.get("test"))


def test_tie_in_decimals_is_a_tie_in_floating_point_too():
    assert 0.05 - 0.03 > 0.03 - 0.01  # the reason for the tolerance
    assert diagnose(human=0.01, train=0.03, dev=0.05).largest_gap == "avoidable bias"
    assert diagnose(human=0.01, train=0.03, dev=0.0501).largest_gap == "variance"


def test_advice_names_the_remedies():
    def advice(**rates):
        return diagnose(**rates).advice

    assert "bigger model" in advice(human=0.0, train=0.2, dev=0.21)
    assert "more training data" in advice(human=0.0, train=0.01, dev=0.2)
    assert "synthesizing" in advice(human=0.0, train=0.01, train_dev=0.02, dev=0.2)
    assert "bigger dev set" in advice(human=0.0, train=0.01, dev=0.02, test=0.2)
    assert len({advice(human=0.0, train=0.5, dev=0.5), advice(human=0.0, train=0.0, dev=0.5)}) == 2


def test_summary_table():
    d = diagnose(human=0.02, train=0.01, train_dev=0.011, dev=0.03, test=0.029)
    assert str(d) == d.summary()
    assert d.summary().splitlines() == [
        "set          error      gap",
        "human        2.00%",
        "train        1.00%   -1.00%  avoidable bias",
        "train-dev    1.10%   +0.10%  variance",
        "dev          3.00%   +1.90%  data mismatch",
        "test         2.90%   -0.10%  dev overfitting",
        "largest gap: data mismatch",
    ]
    # A gap that rounds to zero prints as +0.00%, never -0.00%.
    assert "+0.00%  variance" in diagnose(human=0.0, train=0.5, dev=0.49999).summary()
    assert "100.00%" in diagnose(human=0.0, train=1.0, dev=1.0).summary()


def test_diagnosis_is_frozen_and_checked_on_construction():
    d = Diagnosis(human=0.01, train=0.08, dev=0.1)
    assert d == diagnose(human=0.01, train=0.08, dev=0.1)
    with pytest.raises(AttributeError):
        d.train = 0.5
    assert isinstance(diagnose(human=np.float32(0.25), train=0, dev=1).human, float)


rate = st.floats(0.0, 1.0)


@given(
    human=rate,
    train=rate,
    dev=rate,
    train_dev=st.none() | rate,
    test=st.none() | rate,
)
def test_gaps_add_up_and_the_largest_is_largest(human, train, dev, train_dev, test):
    d = diagnose(human=human, train=train, dev=dev, train_dev=train_dev, test=test)
    gaps = d.gaps()
    last = dev if test is None else test
    assert sum(gaps.values()) == pytest.approx(last - human, abs=1e-12)
    assert d.variance == pytest.approx((dev if train_dev is None else train_dev) - train)
    assert ("data mismatch" in gaps) == (train_dev is not None)
    assert ("dev overfitting" in gaps) == (test is not None)
    assert all(gaps[d.largest_gap] >= value - 1e-12 for value in gaps.values())
    earlier = list(gaps)[: list(gaps).index(d.largest_gap)]
    assert all(gaps[name] < gaps[d.largest_gap] - 1e-12 for name in earlier)
    assert d.summary().splitlines()[-1] == f"largest gap: {d.largest_gap}"


# --- the statistical decomposition ---------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("r", "m"), [(2, 1), (5, 3), (50, 40)])
def test_decomposition_matches_numpy_and_a_hand_computation(seed, r, m):
    rng = np.random.default_rng(seed)
    predictions = rng.normal(size=(r, m))
    truth = rng.normal(size=m)
    bv = bias_variance_decomposition(predictions, truth, 0.3)
    assert bv.variance == pytest.approx(np.var(predictions, axis=0).mean(), abs=ATOL)
    bias_squared = 0.0
    for j in range(m):
        average = sum(predictions[i, j] for i in range(r)) / r
        bias_squared += (average - truth[j]) ** 2 / m
    assert bv.bias_squared == pytest.approx(bias_squared, abs=ATOL)
    assert bv.noise == 0.3
    assert bv.expected_error == pytest.approx(bias_squared + bv.variance + 0.3, abs=ATOL)
    assert bv.measured_error is None
    # The noise-free error splits exactly into bias² + variance (variance with 1/R).
    noise_free = np.mean((predictions - truth) ** 2)
    assert bv.bias_squared + bv.variance == pytest.approx(noise_free, abs=ATOL)


finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@given(
    predictions=hnp.arrays(
        np.float64, st.tuples(st.integers(2, 6), st.integers(1, 5)), elements=finite
    ),
    shift=finite,
    data=st.data(),
)
def test_decomposition_properties(predictions, shift, data):
    truth = data.draw(hnp.arrays(np.float64, predictions.shape[1], elements=finite))
    bv = bias_variance_decomposition(predictions, truth, 0.0)
    assert bv.bias_squared >= 0
    assert bv.variance >= 0
    noise_free = np.mean((predictions - truth) ** 2)
    assert bv.bias_squared + bv.variance == pytest.approx(noise_free, rel=1e-9, abs=1e-9)
    # The order of the training sets does not matter, nor does a common shift.
    perm = np.array(data.draw(st.permutations(range(len(predictions)))))
    permuted = bias_variance_decomposition(predictions[perm], truth, 0.0)
    assert permuted.bias_squared == pytest.approx(bv.bias_squared, rel=1e-9, abs=1e-9)
    assert permuted.variance == pytest.approx(bv.variance, rel=1e-9, abs=1e-9)
    shifted = bias_variance_decomposition(predictions + shift, truth + shift, 0.0)
    assert shifted.bias_squared == pytest.approx(bv.bias_squared, rel=1e-6, abs=1e-6)
    assert shifted.variance == pytest.approx(bv.variance, rel=1e-6, abs=1e-6)
    # Identical models have no variance.
    same = bias_variance_decomposition(np.tile(predictions[0], (3, 1)), truth, 0.0)
    assert same.variance == pytest.approx(0.0, abs=1e-20)


def test_measured_error_is_the_mean_squared_error_against_the_targets():
    predictions = np.array([[1.0, 2.0], [3.0, 4.0]])
    targets = np.array([[0.0, 2.0], [3.0, 6.0]])
    bv = bias_variance_decomposition(predictions, [2.0, 3.0], 0.5, targets=targets)
    assert bv.measured_error == pytest.approx((1.0 + 0.0 + 0.0 + 4.0) / 4)
    assert (bv.bias_squared, bv.variance, bv.expected_error) == (0.0, 1.0, 1.5)


def closed_form(x_train, x_test, f, degree, sigma):
    """Mean and variance of the least-squares polynomial fit at x_test, over the noise.

    With design matrix X (n, p) and features phi(x0), the fit at x0 is h(x0) · y with
    h(x0) = X (XᵀX)⁻¹ phi(x0): its mean is h(x0) · f(x_train), its variance sigma² |h(x0)|².
    """
    design = np.vander(x_train, degree + 1, increasing=True)  # (n, p)
    features = np.vander(x_test, degree + 1, increasing=True)  # (M, p)
    hat = features @ np.linalg.pinv(design)  # (M, n): row i is h(x_test[i])
    return hat @ f(x_train), sigma**2 * np.sum(hat**2, axis=1)


@pytest.mark.parametrize("degree", [0, 1, 3, 5])
def test_decomposition_of_polynomial_fits_matches_the_closed_form(degree):
    sigma, n, r = 0.3, 12, 20_000
    x_train = np.linspace(0, 1, n)
    x_test = np.linspace(-0.05, 1.05, 23)
    (fits,) = polynomial_fits(
        sine, x_train, x_test, [degree], noise_std=sigma, repeats=r, seed=degree
    )
    bv = bias_variance_decomposition(fits, sine(x_test), sigma**2)

    mean, variance = closed_form(x_train, x_test, sine, degree, sigma)
    assert bv.variance == pytest.approx(variance.mean(), rel=0.03)
    # The sample bias² overestimates the true one by variance / R on average.
    assert bv.bias_squared == pytest.approx(np.mean((mean - sine(x_test)) ** 2), rel=0.03, abs=1e-4)

    # In-sample, the average variance is sigma² (degree + 1) / n (the trace of the hat matrix).
    (fits,) = polynomial_fits(
        sine, x_train, x_train, [degree], noise_std=sigma, repeats=r, seed=degree + 100
    )
    _, variance = closed_form(x_train, x_train, sine, degree, sigma)
    assert variance.mean() == pytest.approx(sigma**2 * (degree + 1) / n, abs=ATOL)
    in_sample = bias_variance_decomposition(fits, sine(x_train), sigma**2)
    assert in_sample.variance == pytest.approx(sigma**2 * (degree + 1) / n, rel=0.03)


@pytest.mark.parametrize("seed", range(2))
def test_three_terms_add_up_to_the_measured_error(seed):
    # Monte Carlo: fresh noisy targets, one per model and input, measure the expected error.
    sigma, r = 0.3, 10_000
    x_train, x_test = np.linspace(0, 1, 20), np.linspace(0, 1, 25)
    fits = polynomial_fits(sine, x_train, x_test, [1, 3, 9], noise_std=sigma, repeats=r, seed=seed)
    rng = np.random.default_rng(seed + 100)  # the fresh targets, independent of the fits
    for fit in fits:
        targets = sine(x_test) + rng.normal(0.0, sigma, size=fit.shape)
        bv = bias_variance_decomposition(fit, sine(x_test), sigma**2, targets=targets)
        assert bv.measured_error == pytest.approx(np.mean((fit - targets) ** 2), abs=ATOL)
        assert bv.expected_error == pytest.approx(bv.measured_error, rel=0.01)


def test_page_example_agrees_to_two_percent():
    # The example of the page and of the docstring: R = 2000 training sets, M = 25 inputs.
    for seed in range(5):
        x_train, x_test = np.linspace(0, 1, 20), np.linspace(0, 1, 25)
        fits = polynomial_fits(
            sine, x_train, x_test, [1, 3, 9], noise_std=0.3, repeats=2000, seed=seed
        )
        rng = np.random.default_rng(seed + 1)  # as on the page: fits seed 0, fresh noise seed 1
        fresh = sine(x_test) + rng.normal(0.0, 0.3, size=fits.shape[1:])
        for fit in fits:
            bv = bias_variance_decomposition(fit, sine(x_test), 0.09, targets=fresh)
            assert bv.expected_error == pytest.approx(bv.measured_error, rel=0.02)


def test_bias_falls_and_variance_rises_with_the_degree():
    x_train, x_test = np.linspace(0, 1, 20), np.linspace(0, 1, 25)
    degrees = [0, 1, 3, 9]
    fits = polynomial_fits(sine, x_train, x_test, degrees, noise_std=0.3, repeats=2000, seed=0)
    terms = [bias_variance_decomposition(fit, sine(x_test), 0.09) for fit in fits]
    assert all(a.bias_squared > b.bias_squared for a, b in itertools.pairwise(terms))
    assert all(a.variance < b.variance for a, b in itertools.pairwise(terms))


# --- polynomial_fits against other implementations -------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_polynomial_fits_match_numpy_and_sklearn(seed):
    sigma, r = 0.2, 4
    x_train = np.random.default_rng(100 + seed).uniform(-2, 3, size=15)
    x_test = np.linspace(-2.5, 3.5, 9)
    degrees = [0, 2, 5]
    fits = polynomial_fits(
        np.cos,
        x_train,
        x_test,
        degrees,
        noise_std=sigma,
        repeats=r,
        seed=seed,
    )
    assert fits.shape == (3, r, 9)
    assert fits.dtype == np.float64
    # The documented draw: one call default_rng(seed).normal(0, sigma, size=(repeats, n)).
    y = np.cos(x_train) + np.random.default_rng(seed).normal(0.0, sigma, size=(r, 15))
    for k, degree in enumerate(degrees):
        for i in range(r):
            expected = Polynomial.fit(x_train, y[i], degree)(x_test)
            np.testing.assert_allclose(fits[k, i], expected, rtol=0, atol=1e-10)
            coef = np.polyfit(x_train, y[i], degree)
            np.testing.assert_allclose(fits[k, i], np.polyval(coef, x_test), rtol=0, atol=1e-8)
            model = make_pipeline(PolynomialFeatures(degree), LinearRegression(fit_intercept=False))
            sklearn = model.fit(x_train[:, None], y[i]).predict(x_test[:, None])
            np.testing.assert_allclose(fits[k, i], sklearn, rtol=0, atol=1e-8)


def test_every_degree_sees_the_same_training_sets():
    x_train, x_test = np.linspace(0, 1, 10), np.linspace(0, 1, 4)
    both = polynomial_fits(sine, x_train, x_test, [2, 4], noise_std=0.5, repeats=3, seed=7)
    alone = polynomial_fits(sine, x_train, x_test, [4], noise_std=0.5, repeats=3, seed=7)
    np.testing.assert_array_equal(both[1], alone[0])
    again = polynomial_fits(sine, x_train, x_test, [2, 4], noise_std=0.5, repeats=3, seed=7)
    np.testing.assert_array_equal(both, again)


def test_polynomial_fits_do_not_modify_their_inputs():
    x_train, x_test = np.linspace(0, 1, 6), np.linspace(0, 1, 3)
    copies = x_train.copy(), x_test.copy()

    def f(x):
        x += 1.0  # a careless f must not shift the training inputs
        return x

    polynomial_fits(f, x_train, x_test, [1], noise_std=0.1, repeats=2)
    np.testing.assert_array_equal(x_train, copies[0])
    np.testing.assert_array_equal(x_test, copies[1])


@given(
    coef=hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-5, 5)),
    extra=st.integers(0, 3),
    n=st.integers(8, 20),
)
def test_noise_free_polynomials_are_recovered_exactly(coef, extra, n):
    # With no noise and a degree at least that of f, every fit is f itself: no bias, no variance.
    truth = Polynomial(coef)
    degree = len(coef) - 1 + extra
    x_train, x_test = np.linspace(-1, 2, n), np.linspace(-1.5, 2.5, 7)
    (fits,) = polynomial_fits(truth, x_train, x_test, [degree], noise_std=0.0, repeats=2)
    np.testing.assert_allclose(fits, np.tile(truth(x_test), (2, 1)), rtol=0, atol=1e-8)
    bv = bias_variance_decomposition(fits, truth(x_test), 0.0)
    assert bv.variance == pytest.approx(0.0, abs=1e-16)
    assert bv.bias_squared == pytest.approx(0.0, abs=1e-15)


# --- bad input -----------------------------------------------------------------------------


OK = {"human": 0.01, "train": 0.05, "dev": 0.1}
P, F = np.ones((3, 4)), np.zeros(4)
X = np.linspace(0, 1, 5)
FIT = {"noise_std": 0.1, "repeats": 3, "seed": 0}
BAD_INPUT = [
    bad(bias_variance_decomposition, P * 1e200, F, 0.0, error=ValueError, match="the squared errors overflow float64"),
    bad(bias_variance_decomposition, [[1.0, 2.0], [3.0]], [0.0, 0.0], 0.0, error=ValueError, match="predictions must be a rectangular array"),
    bad(BiasVariance, -1.0, 0.0, 0.0, error=ValueError, match="bias_squared must be a finite number of at least 0, got -1.0"),
    bad(BiasVariance, 0.0, float("nan"), 0.0, error=ValueError, match="variance must be a finite number of at least 0, got nan"),
    bad(BiasVariance, 0.0, 0.0, "0", error=TypeError, match="noise must be a real number, got str"),
    bad(BiasVariance, 0.0, 0.0, 0.0, measured_error=-1.0, error=ValueError, match="measured_error must be a finite number of at least 0"),
    bad(diagnose, train=0.05, dev=0.1, error=TypeError, match="missing 1 required keyword-only argument: 'human'"),
    bad(diagnose, human=0.01, dev=0.1, error=TypeError, match="missing 1 required keyword-only argument: 'train'"),
    bad(diagnose, human=0.01, train=0.05, error=TypeError, match="missing 1 required keyword-only argument: 'dev'"),
    bad(diagnose, **{**OK, "human": -0.01}, error=ValueError, match="human must be an error rate in [0, 1], got -0.01"),
    bad(diagnose, **{**OK, "train": 1.5}, error=ValueError, match="train must be an error rate in [0, 1], got 1.5"),
    bad(diagnose, **{**OK, "dev": 8}, error=ValueError, match="dev must be an error rate in [0, 1], got 8"),
    bad(diagnose, **{**OK, "dev": float("nan")}, error=ValueError, match="dev must be an error rate in [0, 1], got nan"),
    bad(diagnose, **{**OK, "train": float("inf")}, error=ValueError, match="train must be an error rate in [0, 1], got inf"),
    bad(diagnose, **OK, train_dev=-0.5, error=ValueError, match="train_dev must be an error rate"),
    bad(diagnose, **OK, test=float("nan"), error=ValueError, match="test must be an error rate"),
    bad(diagnose, **{**OK, "human": "0.01"}, error=TypeError, match="human must be a real number, got str"),
    bad(diagnose, **{**OK, "train": True}, error=TypeError, match="train must be a real number, got bool"),
    bad(diagnose, **{**OK, "dev": np.True_}, error=TypeError, match="dev must be a real number"),
    bad(diagnose, **{**OK, "dev": [0.1]}, error=TypeError, match="dev must be a real number, got list"),
    bad(diagnose, **{**OK, "dev": 0.1 + 0j}, error=TypeError, match="got complex"),
    bad(diagnose, **OK, test="0.2", error=TypeError, match="test must be a real number"),
    bad(diagnose, 0.01, 0.05, 0.1, error=TypeError, match="positional argument"),
    bad(Diagnosis, human=0.01, train=-1.0, dev=0.1, error=ValueError, match="train must be an error rate"),
    bad(Diagnosis, human=0.01, train=0.08, dev=1.5, error=ValueError, match="dev must be an error rate in [0, 1], got 1.5"),
    bad(bias_variance_decomposition, np.ones(4), F, 0.1, error=ValueError, match="predictions must be two-dimensional (R, M), got shape (4,)"),
    bad(bias_variance_decomposition, np.ones((2, 3, 4)), F, 0.1, error=ValueError, match="predictions must be two-dimensional"),
    bad(bias_variance_decomposition, np.ones((1, 4)), F, 0.1, error=ValueError, match="at least 2 models (rows, R >= 2), got shape (1, 4)"),
    bad(bias_variance_decomposition, np.ones((3, 0)), np.ones(0), 0.1, error=ValueError, match="at least one test input (column)"),
    bad(bias_variance_decomposition, [[1.0, np.nan], [1.0, 2.0]], [0.0, 0.0], 0.1, error=ValueError, match="predictions must be finite"),
    bad(bias_variance_decomposition, [["a", "b"], ["c", "d"]], [0.0, 0.0], 0.1, error=TypeError, match="predictions must be an array of real numbers"),
    bad(bias_variance_decomposition, [[1.0, 2.0], [1.0]], [0.0, 0.0], 0.1, error=ValueError, match="predictions must be a rectangular array"),
    bad(bias_variance_decomposition, P, np.ones((1, 4)), 0.1, error=ValueError, match="truth must be one-dimensional (M,), got shape (1, 4)"),
    bad(bias_variance_decomposition, P, np.ones(3), 0.1, error=ValueError, match="same M test inputs: predictions has shape (3, 4), truth has shape (3,)"),
    bad(bias_variance_decomposition, P, [0.0, np.inf, 0.0, 0.0], 0.1, error=ValueError, match="truth must be finite"),
    bad(bias_variance_decomposition, P, np.ones(4, bool), 0.1, error=TypeError, match="truth must be an array of real numbers, got dtype bool"),
    bad(bias_variance_decomposition, P, F, -0.1, error=ValueError, match="noise_variance must be a finite number of at least 0, got -0.1"),
    bad(bias_variance_decomposition, P, F, float("nan"), error=ValueError, match="noise_variance must be a finite number"),
    bad(bias_variance_decomposition, P, F, float("inf"), error=ValueError, match="noise_variance must be a finite number"),
    bad(bias_variance_decomposition, P, F, "0.1", error=TypeError, match="noise_variance must be a real number, got str"),
    bad(bias_variance_decomposition, P, F, True, error=TypeError, match="noise_variance must be a real number, got bool"),
    bad(bias_variance_decomposition, P, F, 0.1, targets=np.ones(4), error=ValueError, match="targets must have the shape of predictions (R, M): predictions has shape (3, 4), targets has shape (4,)"),
    bad(bias_variance_decomposition, P, F, 0.1, targets=np.full((3, 4), np.nan), error=ValueError, match="targets must be finite"),
    bad(polynomial_fits, "sin", X, X, [1], **FIT, error=TypeError, match="f must be callable (the true function), got str"),
    bad(polynomial_fits, np.sin, np.ones((5, 1)), X, [1], **FIT, error=ValueError, match="x_train must be one-dimensional, got shape (5, 1)"),
    bad(polynomial_fits, np.sin, [], X, [1], **FIT, error=ValueError, match="x_train must not be empty, got shape (0,)"),
    bad(polynomial_fits, np.sin, [0.5, 0.5, 0.5], X, [0], **FIT, error=ValueError, match="x_train must hold at least 2 distinct inputs"),
    bad(polynomial_fits, np.sin, [0.0, np.nan], X, [1], **FIT, error=ValueError, match="x_train must be finite"),
    bad(polynomial_fits, np.sin, ["a", "b"], X, [1], **FIT, error=TypeError, match="x_train must be an array of real numbers"),
    bad(polynomial_fits, np.sin, X, 0.5, [1], **FIT, error=ValueError, match="x_test must be one-dimensional, got shape ()"),
    bad(polynomial_fits, np.sin, X, [], [1], **FIT, error=ValueError, match="x_test must not be empty, got shape (0,)"),
    bad(polynomial_fits, np.sin, X, [np.inf], [1], **FIT, error=ValueError, match="x_test must be finite"),
    bad(polynomial_fits, np.sin, X, X, 3, **FIT, error=TypeError, match="degrees must be a sequence of integers, got int"),
    bad(polynomial_fits, np.sin, X, X, "3", **FIT, error=TypeError, match="degrees must be a sequence of integers, got str"),
    bad(polynomial_fits, np.sin, X, X, [], **FIT, error=ValueError, match="degrees must hold at least one of its integers, got none"),
    bad(polynomial_fits, np.sin, X, X, [1, 2.0], **FIT, error=TypeError, match="degrees[1] must be an integer, got float"),
    bad(polynomial_fits, np.sin, X, X, [True], **FIT, error=TypeError, match="degrees[0] must be an integer, got bool"),
    bad(polynomial_fits, np.sin, X, X, [-1], **FIT, error=ValueError, match="degrees[0] must be at least 0, got -1"),
    bad(polynomial_fits, np.sin, X, X, [1, 5], **FIT, error=ValueError, match="degrees[1] = 5 needs at least 6 distinct training inputs, x_train has 5"),
    bad(polynomial_fits, np.sin, [0, 0, 1, 1, 2], X, [3], **FIT, error=ValueError, match="degrees[0] = 3 needs at least 4 distinct training inputs, x_train has 3"),
    bad(polynomial_fits, np.sin, np.linspace(0, 1, 100), X, [40], **FIT, error=ValueError, match="degrees[0] = 40 is too high to fit stably on 100 training inputs"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "noise_std": -1.0}, error=ValueError, match="noise_std must be a finite number of at least 0, got -1.0"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "noise_std": float("nan")}, error=ValueError, match="noise_std must be a finite number"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "noise_std": None}, error=TypeError, match="noise_std must be a real number, got NoneType"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "repeats": 1}, error=ValueError, match="repeats must be at least 2, got 1"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "repeats": 0}, error=ValueError, match="repeats must be at least 2, got 0"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "repeats": 10.0}, error=TypeError, match="repeats must be an integer, got float"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "repeats": True}, error=TypeError, match="repeats must be an integer, got bool"),
    bad(polynomial_fits, np.sin, [-1e308, 0.0, 1e308], X, [1], **FIT, error=ValueError, match="x_train and x_test are too large: mapping them onto [-1, 1] overflows float64"),
    bad(polynomial_fits, np.sin, X, [1e200], [0, 2], **FIT, error=ValueError, match="the fits of degrees[1] = 2 overflow float64 at x_test"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "repeats": 10**7}, error=ValueError, match="repeats = 10000000 x len(x_train) = 5 would need 50000000 float64 values"),
    bad(polynomial_fits, np.sin, X, np.zeros(10**4), [1, 2, 3, 4], **{**FIT, "repeats": 10**3}, error=ValueError, match="len(degrees) = 4 x repeats = 1000 x len(x_test) = 10000 would need"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "seed": -1}, error=ValueError, match="seed must lie in 0 … 2**63 - 1"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "seed": True}, error=TypeError, match="seed must be an integer, got bool"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "seed": 1.5}, error=TypeError, match="seed must be an integer, got float"),
    bad(polynomial_fits, np.sin, X, X, [1], **{**FIT, "seed": np.random.default_rng(0)}, error=TypeError, match="seed must be an integer, got Generator"),
    bad(polynomial_fits, np.sum, X, X, [1], **FIT, error=ValueError, match="f must return one value per input: f(x_train) has shape (), x_train has shape (5,)"),
    bad(polynomial_fits, lambda x: np.full_like(x, np.nan), X, X, [1], **FIT, error=ValueError, match="f(x_train) must be finite"),
    bad(polynomial_fits, lambda x: x.astype(str), X, X, [1], **FIT, error=TypeError, match="f(x_train) must be an array of real numbers"),
]  # fmt: skip


test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


def test_bias_variance_is_frozen():
    bv = BiasVariance(bias_squared=0.5, variance=0.25, noise=0.125)
    assert bv.expected_error == 0.875
    with pytest.raises(AttributeError):
        bv.noise = 0.0


def test_bias_variance_is_finite_for_tiny_input():
    bv = bias_variance_decomposition([[1e-200, 3e-200], [-1e-200, 1e-200]], [0.0, 0.0], 0.0)
    assert all(np.isfinite([bv.bias_squared, bv.variance, bv.expected_error]))


HOSTILE = [
    hostile(diagnose, human=0.01, train=0.05, dev=0.1, train_dev=0.07, test=0.11),
    hostile(Diagnosis, human=0.01, train=0.05, dev=0.1, train_dev=None, test=0.11),
    hostile(
        bias_variance_decomposition, predictions=P, truth=F, noise_variance=0.1,
        targets=np.zeros((3, 4)),
    ),
    hostile(BiasVariance, bias_squared=0.5, variance=0.25, noise=0.125, measured_error=1.0),
    hostile(
        polynomial_fits, f=np.sin, x_train=X, x_test=X[:2], degrees=[0, 2], noise_std=0.1,
        repeats=2, seed=3,
    ),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)


def test_polynomial_fits_leave_the_callers_random_state_alone():
    numpy_state, torch_state = np.random.get_state()[1], torch.get_rng_state()  # noqa: NPY002
    first = polynomial_fits(sine, X, X, [1], noise_std=0.1, repeats=3, seed=4)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_state)
    again = polynomial_fits(sine, X, X, [1], noise_std=0.1, repeats=3, seed=4)
    np.testing.assert_array_equal(again, first)
