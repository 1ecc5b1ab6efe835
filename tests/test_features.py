"""conceptref.features against scikit-learn, SciPy and PyTorch: seeded random cases, bad input."""

from __future__ import annotations

import itertools
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conceptref.features import PCAResult, f_score, pca, principal_angles, select_k_best
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

PCA = lazy("sklearn.decomposition", "PCA")
SelectKBest = lazy("sklearn.feature_selection", "SelectKBest")
f_classif = lazy("sklearn.feature_selection", "f_classif")

ATOL = 1e-10
SEEDS = range(3)


def random_data(seed: int, n: int, d: int) -> np.ndarray:
    """Correlated data with clearly different variances along its principal axes and a mean."""
    rng = np.random.default_rng(seed)
    scales = 2.0 ** -np.arange(d)  # distinct variances, so the components are well defined
    mixing = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return (rng.normal(size=(n, d)) * scales) @ mixing.T + rng.normal(scale=5.0, size=d)


# --- pca ----------------------------------------------------------------------------------------

# (n, d, k): tall and wide data, k = 1 and k = min(n, d). Centring leaves rank min(n - 1, d), so
# when n <= d the last component of k = min(n, d) is a direction of zero variance.
PCA_SHAPES = [
    (10, 3, 1),
    (10, 3, 3),
    (50, 8, 4),
    (200, 5, 2),
    (6, 9, 1),
    (6, 9, 4),
    (6, 9, 6),
    (12, 12, 12),
    (2, 4, 2),
]


def sklearn_pca(x: np.ndarray, k: int) -> PCA:
    return PCA(n_components=k, svd_solver="full").fit(x)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d", "k"), PCA_SHAPES)
def test_pca_matches_sklearn(seed, n, d, k):
    x = random_data(seed, n, d)
    ours, theirs = pca(x, k), sklearn_pca(x, k)
    r = min(k, n - 1, d)  # components with non-zero variance; the rest are arbitrary directions
    np.testing.assert_allclose(ours.mean, theirs.mean_, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.singular_values, theirs.singular_values_, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        ours.explained_variance, theirs.explained_variance_, rtol=0, atol=ATOL
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio, theirs.explained_variance_ratio_, rtol=0, atol=ATOL
    )
    # Up to the sign of each component first, then exactly: the sign rule is scikit-learn's.
    signs = np.sign(np.sum(ours.components[:r] * theirs.components_[:r], axis=1))
    np.testing.assert_allclose(
        ours.components[:r] * signs[:, None], theirs.components_[:r], rtol=0, atol=ATOL
    )
    np.testing.assert_array_equal(signs, 1.0)
    np.testing.assert_allclose(ours.components[:r], theirs.components_[:r], rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.projected[:, :r], theirs.transform(x)[:, :r], rtol=0, atol=ATOL)
    # A zero-variance direction projects every sample to (almost) 0, in both.
    np.testing.assert_allclose(ours.projected[:, r:], 0.0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(theirs.transform(x)[:, r:], 0.0, rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d", "k"), PCA_SHAPES)
def test_pca_shapes_and_types(seed, n, d, k):
    result = pca(random_data(seed, n, d), k)
    assert isinstance(result, PCAResult)
    expected = {
        "mean": (d,),
        "components": (k, d),
        "explained_variance": (k,),
        "explained_variance_ratio": (k,),
        "singular_values": (k,),
        "projected": (n, k),
    }
    for name, shape in expected.items():
        value = getattr(result, name)
        assert value.shape == shape, name
        assert value.dtype == np.float64, name


def test_pca_all_components_explain_all_variance():
    x = random_data(0, 30, 4)
    result = pca(x, 4)
    assert result.explained_variance_ratio.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.explained_variance.sum() == pytest.approx(np.var(x, axis=0, ddof=1).sum())
    # With every component kept, the projection is a rotation: it reconstructs the data.
    np.testing.assert_allclose(result.projected @ result.components + result.mean, x, atol=1e-10)


def test_pca_result_is_frozen():
    result = pca(random_data(0, 5, 2), 1)
    with pytest.raises(AttributeError):
        result.mean = np.zeros(2)  # type: ignore[misc]


small = st.floats(-10, 10, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 2))


@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(1, 5)), elements=small),
    data=st.data(),
)
def test_pca_components_orthonormal_and_projection_uncorrelated(x, data):
    assume(np.ptp(x, axis=0).max() > 0)  # all rows equal has no components
    k = data.draw(st.integers(1, min(x.shape)))
    result = pca(x, k)
    np.testing.assert_allclose(result.components @ result.components.T, np.eye(k), atol=1e-10)
    # The new features are uncorrelated, and their variances are the explained variances.
    scale = 1.0 + np.var(x, axis=0, ddof=1).sum()
    covariance = np.atleast_2d(np.cov(result.projected, rowvar=False))
    np.testing.assert_allclose(
        covariance, np.diag(result.explained_variance), rtol=0, atol=1e-9 * scale
    )
    assert np.all(np.diff(result.explained_variance) <= 1e-9 * scale)  # decreasing
    assert np.all(result.explained_variance_ratio >= 0)
    assert result.explained_variance_ratio.sum() <= 1.0 + 1e-12


def test_linear_autoencoder_bottleneck_spans_the_principal_subspace():
    # Baldi & Hornik (1989): a linear autoencoder trained for squared error learns the subspace of
    # the leading principal components (though not, in general, the components themselves).
    rng = np.random.default_rng(7)
    mixing = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    x = (rng.normal(size=(200, 6)) * [3.0, 2.0, 0.8, 0.7, 0.6, 0.5]) @ mixing.T + 4.0
    centred = torch.from_numpy(x - x.mean(axis=0))  # (n, d)
    generator = torch.Generator().manual_seed(0)
    encoder = 0.1 * torch.randn(6, 2, generator=generator, dtype=torch.float64)  # (d, k)
    decoder = 0.1 * torch.randn(2, 6, generator=generator, dtype=torch.float64)  # (k, d)
    encoder.requires_grad_()
    decoder.requires_grad_()
    for _ in range(1000):  # full-batch gradient descent on the reconstruction error
        loss = ((centred @ encoder @ decoder - centred) ** 2).sum(dim=1).mean()
        grad_encoder, grad_decoder = torch.autograd.grad(loss, (encoder, decoder))
        with torch.no_grad():
            encoder -= 0.05 * grad_encoder
            decoder -= 0.05 * grad_decoder

    principal = pca(x, 2).components.T  # (d, k)
    assert principal_angles(decoder.detach().numpy().T, principal).max() < 1e-6
    assert principal_angles(encoder.detach().numpy(), principal).max() < 1e-6
    # The learned basis is not the principal one: the latent coordinates are mixed.
    assert np.abs(np.abs(decoder.detach().numpy() @ principal) - np.eye(2)).max() > 1e-2
    # A random 2-dimensional subspace is far from the principal one.
    assert principal_angles(rng.normal(size=(6, 2)), principal).max() > 0.1


# --- f_score and select_k_best ------------------------------------------------------------------


def sklearn_f_classif(x, y) -> np.ndarray:
    # f_classif warns (and divides by zero) on constant features; the warnings are not the point.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f_classif(x, y)[0]


def sklearn_select(x, y, k) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SelectKBest(f_classif, k=k).fit(x, y).get_support(indices=True)


LABELS = {
    "int": lambda g: np.arange(g),
    "sparse int": lambda g: np.array([-3, 7, 100, 2, 55, 9][:g]),
    "string": lambda g: np.array(["cat", "dog", "eel", "fox", "gnu", "yak"][:g]),
    "float": lambda g: np.array([0.5, -1.25, 3.0, 8.0, 2.5, 1.0][:g]),
}

# Class sizes: balanced, unbalanced, many classes, a class of one.
CLASS_SIZES = [(5, 5), (3, 7, 20), (2, 2, 2, 2, 2), (1, 9), (4, 1, 6), (10, 10, 10, 10, 10, 10)]


def random_classes(seed: int, sizes: tuple[int, ...], d: int, kind: str):
    """Features whose class means differ in some columns, and shuffled labels of the given kind."""
    rng = np.random.default_rng(seed)
    codes = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    shift = rng.normal(size=(len(sizes), d)) * (rng.random(d) < 0.5)  # about half the columns
    x = rng.normal(size=(len(codes), d)) + shift[codes] + rng.normal(scale=3.0, size=d)
    return x, LABELS[kind](len(sizes))[codes]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", CLASS_SIZES)
@pytest.mark.parametrize("kind", list(LABELS))
def test_f_score_matches_sklearn(seed, sizes, kind):
    x, y = random_classes(seed, sizes, 7, kind)
    np.testing.assert_allclose(f_score(x, y), sklearn_f_classif(x, y), rtol=1e-9, atol=0)


def test_f_score_by_hand():
    x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
    # Class means 2 and 5 around 3.5: SS_between = 6 * 1.5**2 = 13.5; SS_within = 2 + 2 = 4.
    assert f_score(x, [0, 0, 0, 1, 1, 1]).tolist() == [13.5 / (4 / 4)]


def test_boolean_labels():
    x, y = random_classes(0, (6, 9), 3, "int")
    np.testing.assert_allclose(f_score(x, y == 1), sklearn_f_classif(x, y == 1), rtol=1e-9)


# Integer-valued columns, so that scikit-learn's own arithmetic is exact here too.
Y_DEGENERATE = np.array([0, 0, 0, 1, 1, 2, 2, 2])
X_DEGENERATE = np.array(
    [
        # constant within each class, different between classes -> inf
        # constant overall -> NaN
        # constant within classes 0 and 2 only -> finite
        # another column constant overall -> NaN
        # constant within classes, equal class means -> NaN as well (0/0)
        [1, 4, 5, 7, 3],
        [1, 4, 5, 7, 3],
        [1, 4, 5, 7, 3],
        [2, 4, 6, 7, 3],
        [2, 4, 9, 7, 3],
        [3, 4, 1, 7, 3],
        [3, 4, 1, 7, 3],
        [3, 4, 1, 7, 3],
    ],
    dtype=np.float64,
)


def test_f_score_degenerate_columns_match_sklearn():
    ours = f_score(X_DEGENERATE, Y_DEGENERATE)  # no warnings: they are errors in this suite
    np.testing.assert_allclose(ours, sklearn_f_classif(X_DEGENERATE, Y_DEGENERATE), rtol=1e-12)
    assert np.isposinf(ours[0])
    assert np.isnan(ours[[1, 3, 4]]).all()
    assert np.isfinite(ours[2])


def test_f_score_degenerate_columns_survive_rounding():
    # 0.1 is not exact in binary, so class means of 0.1s need not be exactly 0.1; the constant
    # columns must still score inf and NaN, not huge or tiny finite numbers.
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    x = np.column_stack([np.where(y == 0, 0.1, 0.7), np.full(7, 0.1)])
    scores = f_score(x, y)
    assert np.isposinf(scores[0])
    assert np.isnan(scores[1])


def with_ties(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random features plus duplicated, constant and perfectly separating columns (tied scores)."""
    x, y = random_classes(seed, (4, 6, 5), 5, "int")
    rng = np.random.default_rng(seed)
    separating = np.array([1.0, 2.0, 4.0])[y]
    x = np.column_stack(
        [
            x[:, 0],
            np.full(len(y), 3.0),  # NaN score
            x[:, 1],
            x[:, 0],  # ties column 0
            separating,  # inf score
            x[:, 2],
            np.full(len(y), -1.0),  # NaN score, tied with column 1
            x[:, 1],  # ties column 2
            2.0 * separating,  # inf, tied with column 4
            rng.normal(size=len(y)),
            x[:, 0],  # ties columns 0 and 3
        ]
    )
    return x, y


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", range(1, 12))
def test_select_k_best_matches_sklearn_with_ties_and_constant_columns(seed, k):
    x, y = with_ties(seed)
    ours = select_k_best(x, y, k)
    np.testing.assert_array_equal(ours, sklearn_select(x, y, k))
    assert ours.dtype == np.intp


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", CLASS_SIZES)
@pytest.mark.parametrize("k", [1, 3, 7])
def test_select_k_best_matches_sklearn(seed, sizes, k):
    x, y = random_classes(seed, sizes, 7, "string")
    np.testing.assert_array_equal(select_k_best(x, y, k), sklearn_select(x, y, k))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shift", [-1e3, 1e-3, 7.5, 1e4])
def test_selection_is_invariant_to_shifting_a_column(seed, shift):
    x, y = random_classes(seed, (6, 8, 5), 6, "int")
    for column in range(x.shape[1]):
        shifted = x.copy()
        shifted[:, column] += shift
        np.testing.assert_allclose(f_score(shifted, y), f_score(x, y), rtol=1e-8)
        for k in (1, 3, 5):
            np.testing.assert_array_equal(select_k_best(shifted, y, k), select_k_best(x, y, k))


def test_inputs_are_not_modified():
    x, y = with_ties(0)
    copies = x.copy(), y.copy()
    f_score(x, y)
    select_k_best(x, y, 3)
    pca(x, 2)
    principal_angles(x[:, :2], x[:, 2:4])
    np.testing.assert_array_equal(x, copies[0])
    np.testing.assert_array_equal(y, copies[1])


# --- principal_angles ---------------------------------------------------------------------------


def random_bases(seed: int, n: int, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Bases (columns) of a random p- and a random q-dimensional subspace of R^n."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, p)), rng.normal(size=(n, q))


# (n, p, q) with p + q <= n: random subspaces meet only in 0, so no angle is forced to be 0.
ANGLE_SHAPES = [(3, 1, 1), (5, 2, 3), (10, 3, 4), (10, 4, 3), (12, 6, 6), (20, 1, 7), (8, 4, 4)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "p", "q"), ANGLE_SHAPES)
def test_principal_angles_match_scipy(seed, n, p, q):
    a, b = random_bases(seed, n, p, q)
    ours = principal_angles(a, b)
    np.testing.assert_allclose(ours, scipy.linalg.subspace_angles(a, b), rtol=0, atol=ATOL)
    assert ours.shape == (min(p, q),)
    assert np.all(np.diff(ours) <= 0)  # descending, as SciPy returns them
    assert np.all((ours >= 0) & (ours <= np.pi / 2))
    np.testing.assert_allclose(principal_angles(b, a), ours, rtol=0, atol=ATOL)


# (n, p, q) with p + q > n: the subspaces must share p + q - n dimensions, whose angles are 0.
INTERSECTING_SHAPES = [(5, 3, 3), (6, 4, 3), (4, 2, 3), (8, 5, 5), (3, 2, 2)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "p", "q"), INTERSECTING_SHAPES)
def test_principal_angles_of_intersecting_subspaces(seed, n, p, q):
    a, b = random_bases(seed, n, p, q)
    ours = principal_angles(a, b)
    shared = p + q - n
    np.testing.assert_allclose(ours[-shared:], 0.0, rtol=0, atol=1e-14)
    # SciPy takes some of these zero angles from their cosines, which leaves errors of up to
    # sqrt(eps) ~ 1.5e-8; the other angles agree closely.
    np.testing.assert_allclose(ours, scipy.linalg.subspace_angles(a, b), rtol=0, atol=1e-7)
    np.testing.assert_allclose(
        ours[:-shared], scipy.linalg.subspace_angles(a, b)[:-shared], rtol=0, atol=ATOL
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "p"), [(3, 1), (5, 2), (10, 4), (6, 6)])
def test_a_subspace_and_itself_rotated_have_zero_angles(seed, n, p):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, p))
    b = a @ rng.normal(size=(p, p))  # another basis of the same column space
    np.testing.assert_allclose(principal_angles(a, b), 0.0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(scipy.linalg.subspace_angles(a, b), 0.0, rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "p", "q"), [(2, 1, 1), (5, 2, 3), (9, 4, 2)])
def test_orthogonal_subspaces_are_at_right_angles(seed, n, p, q):
    basis = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))[0]
    a, b = basis[:, :p] * 3.0, basis[:, p : p + q]
    np.testing.assert_allclose(principal_angles(a, b), np.pi / 2, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        principal_angles(a, b), scipy.linalg.subspace_angles(a, b), rtol=0, atol=ATOL
    )


@pytest.mark.parametrize(
    "angles",
    [
        [0.3, 1.2],
        [1e-9, 0.5],
        [1e-9, np.pi / 2 - 1e-9],  # a tiny and a nearly right angle in one pair of subspaces
        [np.pi / 4, 1e-12, 1.0],
    ],
)
def test_principal_angles_in_closed_form(angles):
    # a = span(e_1, …, e_m); b's i-th column leaves e_i towards e_{m+i} by angle t_i.
    t = np.array(angles)
    m = len(t)
    eye = np.eye(2 * m)
    a = eye[:, :m]
    b = eye[:, :m] * np.cos(t) + eye[:, m:] * np.sin(t)
    np.testing.assert_allclose(principal_angles(a, b), np.sort(t)[::-1], rtol=1e-8, atol=1e-15)


# --- bad input ----------------------------------------------------------------------------------


X = np.arange(15.0).reshape(5, 3) ** 1.5
Y = np.array([0, 0, 1, 1, 1])
BAD_INPUT = [
    bad(f_score, X, [[0], [0, 1], [1], [1], [1]], error=ValueError, match="y must be a rectangular array"),
    bad(f_score, X, np.array([0, 0, 1, 1, 2**63], dtype=np.uint64), error=ValueError, match="y holds 9223372036854775808, beyond the int64 range"),
    bad(f_score, X, [0, 0, 1, 1, 2**64], error=ValueError, match="y holds 18446744073709551616, beyond the int64 range"),
    bad(f_score, X, [-1, 0, 1, 1, 2**63], error=ValueError, match="y holds 9223372036854775808, beyond the int64 range"),
    bad(f_score, X, [[0, 0, 1, 1, 1]], error=ValueError, match="y must be one-dimensional (n,), got shape (1, 5)"),
    bad(f_score, [[1.0], [2.0, 3.0]], [0, 1], error=ValueError, match="x must be a rectangular array of numbers"),
    bad(pca, X * 1e200, 1, error=ValueError, match="the variance of x overflows float64"),
    bad(select_k_best, X, Y, 1.0, error=TypeError, match="k must be an integer, got float"),
    bad(PCAResult, np.zeros(3), np.eye(3)[:2], np.ones(2), np.ones(2), np.ones(1), np.zeros((4, 2)), error=ValueError, match="singular_values must have shape (2,), got (1,)"),
    bad(PCAResult, np.zeros(3), np.eye(3)[:2], np.ones(2), np.ones(2), np.ones(2), np.zeros((4, 3)), error=ValueError, match="projected must have shape (n, 2), got (4, 3)"),
    bad(pca, np.ones(3), 1, error=ValueError, match="x must be two-dimensional, got shape (3,)"),
    bad(pca, np.ones((2, 2, 2)), 1, error=ValueError, match="x must be two-dimensional"),
    bad(pca, [[1.0, np.nan], [2.0, 3.0]], 1, error=ValueError, match="x must be finite"),
    bad(pca, [[1.0, np.inf], [2.0, 3.0]], 1, error=ValueError, match="x must be finite"),
    bad(pca, [["a", "b"], ["c", "d"]], 1, error=TypeError, match="x must be an array of real numbers"),
    bad(pca, np.ones((2, 2), bool), 1, error=TypeError, match="got dtype bool"),
    bad(pca, [[1.0, 2.0], [1.0]], 1, error=ValueError, match="x must be a rectangular array"),
    bad(pca, np.ones((0, 3)), 1, error=ValueError, match="x must not be empty"),
    bad(pca, np.ones((3, 0)), 1, error=ValueError, match="x must not be empty"),
    bad(pca, [[1.0, 2.0]], 1, error=ValueError, match="x must hold at least 2 samples"),
    bad(pca, np.ones((4, 2)), 1, error=ValueError, match="x has zero variance"),
    bad(pca, X, 0, error=ValueError, match="n_components must lie in 1 … min(n, d) = 3, got 0"),
    bad(pca, X, 4, error=ValueError, match="n_components must lie in 1 … min(n, d) = 3, got 4"),
    bad(pca, X.T, 4, error=ValueError, match="min(n, d) = 3, got 4"),
    bad(pca, X, -1, error=ValueError, match="n_components must lie in 1 … min(n, d)"),
    bad(pca, X, 2.0, error=TypeError, match="n_components must be an integer, got float"),
    bad(pca, X, True, error=TypeError, match="n_components must be an integer, got bool"),
    bad(f_score, np.ones(5), Y, error=ValueError, match="x must be two-dimensional"),
    bad(f_score, [[np.nan]] * 5, Y, error=ValueError, match="x must be finite"),
    bad(f_score, X, Y[:4], error=ValueError, match="x and y must hold the same number of samples"),
    bad(f_score, X, Y[:4], error=ValueError, match="x has 5 rows, y has 4 labels"),
    bad(f_score, X, np.zeros(5, int), error=ValueError, match="y must hold at least two classes"),
    bad(f_score, X, ["a"] * 5, error=ValueError, match="y must hold at least two classes, got only 'a'"),
    bad(f_score, X[:3], [0, 1, 2], error=ValueError, match="fewer classes than samples"),
    bad(f_score, X, np.arange(5), error=ValueError, match="got n = 5 samples in g = 5 classes"),
    bad(f_score, X, [0.0, 1.0, np.nan, 1.0, 0.0], error=ValueError, match="y must not hold NaN"),
    bad(f_score, X, Y[:, None], error=ValueError, match="y must be one-dimensional (n,), got shape (5, 1)"),
    bad(f_score, X, Y + 1j, error=TypeError, match="y must hold class labels, got dtype complex128"),
    bad(f_score, X, np.array(["a", 1, "b", 2, "a"], dtype=object), error=TypeError, match="y must hold labels of one comparable kind"),
    bad(select_k_best, X, Y, 0, error=ValueError, match="k must lie in 1 … d = 3, got 0"),
    bad(select_k_best, X, Y, 4, error=ValueError, match="k must lie in 1 … d = 3, got 4"),
    bad(select_k_best, X, Y, 1.5, error=TypeError, match="k must be an integer, got float"),
    bad(select_k_best, X, Y, "2", error=TypeError, match="k must be an integer, got str"),
    bad(select_k_best, X, Y[:3], 1, error=ValueError, match="x has 5 rows, y has 3 labels"),
    bad(principal_angles, np.ones((4, 2)), np.eye(5)[:, :2], error=ValueError, match="same number of rows n"),
    bad(principal_angles, np.eye(4)[:, :2], np.eye(5)[:, :2], error=ValueError, match="a has shape (4, 2), b has shape (5, 2)"),
    bad(principal_angles, [[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], np.eye(3)[:, :1], error=ValueError, match="a must have full column rank"),
    bad(principal_angles, [[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], np.eye(3)[:, :1], error=ValueError, match="its 2 columns span a space of dimension 1"),
    bad(principal_angles, np.eye(3)[:, :1], np.zeros((3, 1)), error=ValueError, match="b must have full column rank"),
    bad(principal_angles, np.ones((2, 3)), np.eye(2), error=ValueError, match="its 3 columns span a space of dimension"),
    bad(principal_angles, np.ones(3), np.eye(3), error=ValueError, match="a must be two-dimensional"),
    bad(principal_angles, np.eye(3), np.ones((3, 1, 1)), error=ValueError, match="b must be two-dimensional"),
    bad(principal_angles, np.eye(3), np.ones((3, 0)), error=ValueError, match="b must not be empty"),
    bad(principal_angles, np.eye(3), [[1.0], [np.inf], [0.0]], error=ValueError, match="b must be finite"),
    bad(principal_angles, [["a"]], [[1.0]], error=TypeError, match="a must be an array of real numbers"),
]  # fmt: skip


test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


@pytest.mark.parametrize("factor", [1e-200, 1e-100, 1e100, 1e150])
def test_f_score_and_pca_are_finite_for_huge_and_tiny_finite_input(factor):
    x, y = np.arange(15.0).reshape(5, 3) ** 1.5, np.array([0, 0, 1, 1, 1])
    np.testing.assert_allclose(f_score(x * factor, y), f_score(x, y), rtol=1e-12)
    result, reference = pca(x * factor, 2), pca(x, 2)
    np.testing.assert_allclose(result.components, reference.components, rtol=1e-9, atol=1e-12)
    ratios = (result.explained_variance_ratio, reference.explained_variance_ratio)
    np.testing.assert_allclose(*ratios, rtol=1e-12)
    if factor >= 1e-100:  # the variance, factor**2 times larger, is representable
        np.testing.assert_allclose(
            result.explained_variance, reference.explained_variance * factor**2, rtol=1e-12
        )


def test_pca_result_is_not_compared_with_equals():
    result = pca(np.arange(15.0).reshape(5, 3) ** 1.5, 2)
    assert result != pca(np.arange(15.0).reshape(5, 3) ** 1.5, 2)  # identity only
    assert result == result  # noqa: PLR0124


# --- properties: generated data against scikit-learn ---------------------------------------------

small_ints = st.integers(-4, 4).map(float)


@st.composite
def labelled_data(draw, max_n=8, max_d=4):
    """Small integer-valued features (exact in any summation order) and labels, n > g >= 2."""
    n = draw(st.integers(3, max_n))
    d = draw(st.integers(1, max_d))
    x = draw(hnp.arrays(np.float64, (n, d), elements=small_ints))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3)))
    g = len(np.unique(y))
    assume(2 <= g < n)
    return x, y


@given(case=labelled_data())
def test_f_score_equals_f_classif_on_generated_data(case):
    x, y = case
    np.testing.assert_allclose(f_score(x, y), sklearn_f_classif(x, y), rtol=1e-9, atol=0)


def exact_f(x: np.ndarray, y: np.ndarray) -> list[Fraction | float]:
    """The F statistic of each column in rational arithmetic (inf and NaN as floats)."""
    classes = np.unique(y)
    n, g = len(y), len(classes)
    scores: list[Fraction | float] = []
    for column in x.T.tolist():
        values = [Fraction(v) for v in column]
        mean = sum(values, Fraction(0)) / n
        between = within = Fraction(0)
        for c in classes:
            members = [v for v, label in zip(values, y, strict=True) if label == c]
            class_mean = sum(members, Fraction(0)) / len(members)
            between += len(members) * (class_mean - mean) ** 2
            within += sum(((v - class_mean) ** 2 for v in members), Fraction(0))
        if within == 0:
            scores.append(math.inf if between > 0 else math.nan)
        else:
            scores.append(between / (g - 1) / (within / (n - g)))
    return scores


@given(case=labelled_data(max_d=5), data=st.data())
def test_select_k_best_equals_selectkbest_on_generated_data(case, data):
    x, y = case
    # Copy columns, rescaled, negated or shifted, so that exact ties are common.
    picks = data.draw(st.lists(st.integers(0, x.shape[1] - 1), max_size=3))
    factors = data.draw(st.lists(st.sampled_from([1.0, -1.0, 2.0, 0.5, 3.0]), min_size=3))
    shifts = data.draw(st.lists(st.sampled_from([0.0, 1.0, -3.0, 0.5]), min_size=3))
    copies = [x[:, j] * f + c for j, f, c in zip(picks, factors, shifts, strict=False)]
    x = np.column_stack([x, *copies])
    k = data.draw(st.integers(1, x.shape[1]))
    exact = exact_f(x, y)
    theirs = sklearn_f_classif(x, y)
    # The comparison holds where scikit-learn's own scores keep the exact ties exact.
    for i, j in itertools.combinations(range(len(exact)), 2):
        same = exact[i] == exact[j] or (math.isnan(exact[i]) and math.isnan(exact[j]))
        assume(not same or theirs[i] == theirs[j] or (np.isnan(theirs[i]) and np.isnan(theirs[j])))
    np.testing.assert_array_equal(select_k_best(x, y, k), sklearn_select(x, y, k))


@given(
    x=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 6), st.integers(1, 4)),
        elements=st.integers(-4, 4).map(float),
    ),
    data=st.data(),
)
def test_pca_equals_sklearn_on_generated_data(x, data):
    assume(np.ptp(x, axis=0).any())  # some variance
    n, d = x.shape
    k = data.draw(st.integers(1, min(n, d)))
    ours, theirs = pca(x, k), sklearn_pca(x, k)
    np.testing.assert_allclose(ours.mean, theirs.mean_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.explained_variance, theirs.explained_variance_, atol=1e-9)
    ratios = (ours.explained_variance_ratio, theirs.explained_variance_ratio_)
    np.testing.assert_allclose(*ratios, atol=1e-9)
    np.testing.assert_allclose(ours.singular_values, theirs.singular_values_, atol=1e-9)
    # Components are defined (up to the sign rule) where their variance is distinct and nonzero,
    # and the sign rule is decided where the largest entry is unique.
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    for i in range(k):
        neighbours = np.delete(s, i)
        if s[i] < 1e-6 or (neighbours.size and np.min(np.abs(neighbours - s[i])) < 1e-6):
            continue
        row = np.sort(np.abs(ours.components[i]))
        if row.size > 1 and row[-1] - row[-2] < 1e-6:
            continue
        np.testing.assert_allclose(ours.components[i], theirs.components_[i], atol=1e-9)
        np.testing.assert_allclose(ours.projected[:, i], theirs.transform(x)[:, i], atol=1e-9)


_X = np.arange(24.0).reshape(6, 4) ** 1.5 % 7
_Y = np.array([0, 1, 0, 1, 2, 2])

HOSTILE = [
    hostile(f_score, x=_X, y=_Y),
    hostile(select_k_best, x=_X, y=_Y, k=2),
    hostile(pca, x=_X, n_components=2),
    hostile(principal_angles, a=np.eye(4)[:, :2], b=np.eye(4)[:, 1:3]),
]

test_hostile_input = hostile_input_test(HOSTILE)
