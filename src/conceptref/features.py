"""Feature selection, feature extraction and the subspaces they span, written out in NumPy.

This module is the reference implementation behind the page
:doc:`/concepts/features-and-latent-space`. The page separates three ideas:

* *feature selection* keeps a subset of the original columns; :func:`f_score` ranks columns by
  the one-way ANOVA F statistic and :func:`select_k_best` keeps the best ``k`` of them;
* *feature extraction* builds new features out of all columns; :func:`pca` computes principal
  component analysis (Pearson, 1901; Hotelling, 1933) from the singular value decomposition of
  the centred data;
* a *latent space* is the internal representation a model learns. A linear autoencoder trained
  for squared error has a bottleneck that spans the same subspace as the leading principal
  components (Baldi and Hornik, 1989); :func:`principal_angles` measures how far apart two
  subspaces are, so "the same subspace" becomes "every principal angle is close to 0".

``tests/test_features.py`` checks :func:`pca` against scikit-learn's
``sklearn.decomposition.PCA`` (``svd_solver="full"``), :func:`f_score` against
``sklearn.feature_selection.f_classif``, :func:`select_k_best` against
``sklearn.feature_selection.SelectKBest``, and :func:`principal_angles` against SciPy's
``scipy.linalg.subspace_angles`` and against subspaces whose angles are known in closed form.
It also trains a linear autoencoder in PyTorch and checks that the subspaces spanned by its
encoder and decoder are the principal subspace. All functions work in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from conceptref._validation import Interval, check_array, check_int, check_labels

__all__ = [
    "PCAResult",
    "f_score",
    "pca",
    "principal_angles",
    "select_k_best",
]


@dataclass(frozen=True, eq=False)
class PCAResult:
    r"""The principal components of a data matrix, as returned by :func:`pca`.

    With :math:`X` the data (one sample per row), :math:`\mu` its column means and
    :math:`X - \mathbf{1}\mu^\top = U \Sigma V^\top` the thin SVD of the centred data, the
    components are the first :math:`k` rows of :math:`V^\top` and the projection (the new
    features) is :math:`(X - \mathbf{1}\mu^\top) V_k`.

    Its fields are arrays, so results are not compared with ``==`` (identity only); compare
    the fields with :func:`numpy.allclose`. Constructing it directly checks that every field
    is a finite float64 array and that the shapes agree.
    """

    mean: npt.NDArray[np.float64]
    r"""Column means :math:`\mu` of the data, shape ``(d,)``."""

    components: npt.NDArray[np.float64]
    """Principal directions, shape ``(k, d)``: orthonormal rows, in order of decreasing variance.
    Each row's entry of largest absolute value is positive."""

    explained_variance: npt.NDArray[np.float64]
    r"""Variance of the data along each component, :math:`\sigma_i^2 / (n - 1)`, shape
    ``(k,)``."""

    explained_variance_ratio: npt.NDArray[np.float64]
    """Share of the total variance along each component, shape ``(k,)``; it sums to 1 when
    ``k`` components carry all the variance."""

    singular_values: npt.NDArray[np.float64]
    r"""The ``k`` largest singular values :math:`\sigma_i` of the centred data, shape
    ``(k,)``."""

    projected: npt.NDArray[np.float64]
    """The data in component coordinates, ``(x - mean) @ components.T``, shape ``(n, k)``."""

    def __post_init__(self) -> None:
        components = check_array(self.components, "components", ndim=2, non_empty=True)
        k, d = components.shape
        shapes = {
            "mean": (d,),
            "components": (k, d),
            "explained_variance": (k,),
            "explained_variance_ratio": (k,),
            "singular_values": (k,),
        }
        for name, shape in shapes.items():
            array = check_array(getattr(self, name), name)
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
            object.__setattr__(self, name, array)
        projected = check_array(self.projected, "projected", ndim=2)
        if projected.shape[1] != k:
            raise ValueError(f"projected must have shape (n, {k}), got {projected.shape}")
        object.__setattr__(self, "projected", projected)


def pca(x: npt.ArrayLike, n_components: int) -> PCAResult:
    r"""Principal component analysis by the singular value decomposition of the centred data.

    .. math:: X - \mathbf{1}\mu^\top = U \Sigma V^\top, \qquad
              Z = (X - \mathbf{1}\mu^\top)\, V_k, \qquad
              \lambda_i = \frac{\sigma_i^2}{n - 1},

    where :math:`\mu` holds the column means, :math:`V_k` the first :math:`k` right singular
    vectors (the components), :math:`Z` the projected data and :math:`\lambda_i` the variance
    along component :math:`i` (with the unbiased :math:`n - 1` denominator).

    Singular vectors are only defined up to sign, so each component is flipped to make its
    entry of largest absolute value positive; this is the rule scikit-learn's
    ``sklearn.decomposition.PCA`` applies, so the two agree entry by entry whenever the
    singular values are distinct.

    Parameters
    ----------
    x
        Data of shape ``(n, d)``: ``n`` samples (at least 2) of ``d`` features.
    n_components
        Number of components ``k`` to keep, with ``1 <= k <= min(n, d)``.

    Returns
    -------
    PCAResult
        The mean, components, explained variances and their ratios, singular values and the
        projected data.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, or ``n_components`` is not an integer.
    ValueError
        If ``x`` is not two-dimensional, has fewer than 2 rows, holds NaN or infinity, or has
        zero variance (all rows equal), or if ``n_components`` lies outside ``1 … min(n, d)``.

    See Also
    --------
    principal_angles : compare the subspace spanned by the components with another one.

    References
    ----------
    K. Pearson, "On lines and planes of closest fit to systems of points in space",
    Philosophical Magazine 2(11), 1901.

    H. Hotelling, "Analysis of a complex of statistical variables into principal components",
    Journal of Educational Psychology 24(6), 1933.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.features import pca
    >>> result = pca([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 2.0]], n_components=1)
    >>> result.mean.tolist()
    [1.5, 2.0]
    >>> np.round(result.components, 4).tolist()
    [[0.5696, 0.8219]]
    >>> [round(v, 4) for v in result.explained_variance.tolist()]
    [3.5907]
    >>> [round(v, 4) for v in result.explained_variance_ratio.tolist()]
    [0.8286]
    """
    data = check_array(x, "x", ndim=2, non_empty=True)
    n, d = data.shape  # (n, d)
    if n < 2:
        raise ValueError(f"x must hold at least 2 samples (rows), got shape {data.shape}")
    k = check_int(n_components, "n_components", Interval(1, min(n, d)), high_name="min(n, d)")

    # Work on x / 2**e, with 2**e near its largest entry: the scaling is exact, and neither
    # the squares of huge entries overflow nor those of tiny ones underflow.
    scale = _power_of_two_scale(data)  # a float, 2**e
    unit = data / scale  # (n, d)
    unit_mean = unit.mean(axis=0)  # (d,)
    _, s_unit, vt = np.linalg.svd(unit - unit_mean, full_matrices=False)  # r = min(n, d)
    if s_unit[0] == 0.0:
        raise ValueError("x has zero variance (all rows are equal), so it has no components")
    ratio = s_unit**2 / np.sum(s_unit**2)  # (r,)
    with np.errstate(over="ignore", under="ignore"):
        mean = unit_mean * scale  # (d,)
        centred = (unit - unit_mean) * scale  # (n, d)
        s = s_unit * scale  # (r,)
        variance = s_unit**2 / (n - 1) * scale**2  # (r,)
    if not (np.isfinite(centred).all() and np.isfinite(variance[:k]).all()):
        raise ValueError(
            "the variance of x overflows float64 (its entries are too large to square); rescale x"
        )

    components = vt[:k]  # (k, d)
    biggest = np.argmax(np.abs(components), axis=1)  # (k,)
    signs = np.where(components[np.arange(k), biggest] < 0, -1.0, 1.0)  # (k,)
    components = components * signs[:, None]
    return PCAResult(
        mean=mean,
        components=components,
        explained_variance=variance[:k],
        explained_variance_ratio=ratio[:k],
        singular_values=s[:k],
        projected=centred @ components.T,  # (n, k)
    )


def f_score(x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""One-way ANOVA F statistic of each feature across the classes in ``y``.

    .. math:: F_j = \frac{\mathrm{SS}^{\mathrm{between}}_j / (g - 1)}
                         {\mathrm{SS}^{\mathrm{within}}_j / (n - g)}, \qquad
              \mathrm{SS}^{\mathrm{between}}_j = \sum_{c} n_c (\bar{x}_{cj} - \bar{x}_j)^2, \qquad
              \mathrm{SS}^{\mathrm{within}}_j = \sum_{i} (x_{ij} - \bar{x}_{c(i)j})^2,

    where :math:`g` is the number of classes, :math:`n_c` the size of class :math:`c`,
    :math:`\bar{x}_{cj}` the mean of feature :math:`j` in class :math:`c`, :math:`\bar{x}_j`
    its overall mean and :math:`c(i)` the class of sample :math:`i`. A large :math:`F_j` means
    the class means of feature :math:`j` lie far apart compared with the spread inside each
    class: the feature separates the classes well.

    Two degenerate cases follow scikit-learn's ``f_classif``:
    a feature that is constant within every class but differs between classes scores ``inf``
    (perfect separation, zero noise), and a feature that is constant overall scores NaN (0/0).
    Both are detected exactly, so rounding never turns them into huge or tiny finite scores.

    Parameters
    ----------
    x
        Features of shape ``(n, d)``.
    y
        Class labels of shape ``(n,)``: integers, strings, booleans or finite floats. There must
        be at least two classes and fewer classes than samples.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(d,)``: the F statistic of each feature, ``inf`` or NaN for the
        degenerate features described above.

    Raises
    ------
    TypeError
        If ``x`` is not numeric or ``y`` does not hold labels.
    ValueError
        If ``x`` is not two-dimensional or holds NaN or infinity, if ``y`` is not
        one-dimensional, holds NaN or differs from ``x`` in length, if ``y`` holds a single
        class, or if every sample is its own class (no degrees of freedom within classes).

    See Also
    --------
    select_k_best : keep the features with the highest scores.

    Examples
    --------
    >>> from conceptref.features import f_score
    >>> x = [[1.0, 5.0], [2.0, 1.0], [3.0, 3.0], [4.0, 2.0], [5.0, 6.0], [6.0, 4.0]]
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> [round(f, 4) for f in f_score(x, y).tolist()]
    [13.5, 0.375]
    """
    data = check_array(x, "x", ndim=2, non_empty=True)
    labels = check_labels(y, "y")
    if len(labels) != len(data):
        raise ValueError(
            "x and y must hold the same number of samples: "
            f"x has {len(data)} rows, y has {len(labels)} labels"
        )
    classes, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    n, g = len(data), len(classes)
    if g < 2:
        raise ValueError(f"y must hold at least two classes, got only {classes.tolist()[0]!r}")
    if n - g <= 0:
        raise ValueError(
            f"y must have fewer classes than samples (n - g >= 1) to leave variation within "
            f"classes, got n = {n} samples in g = {g} classes"
        )

    # F does not change when a column is scaled: scale each by a power of two near its
    # largest entry (exactly), so that no square overflows or underflows.
    unit = data / _power_of_two_scale(data, axis=0)  # (n, d)
    counts = np.bincount(inverse, minlength=g).astype(np.float64)  # (g,)
    sums = np.zeros((g, data.shape[1]))
    np.add.at(sums, inverse, unit)  # (g, d)
    class_means = sums / counts[:, None]  # (g, d)
    grand_mean = unit.mean(axis=0)  # (d,)
    ss_between = (counts[:, None] * (class_means - grand_mean) ** 2).sum(axis=0)  # (d,)
    ss_within = ((unit - class_means[inverse]) ** 2).sum(axis=0)  # (d,)

    # Exact tests for the degenerate features, so that rounding in the means cannot leave a
    # tiny non-zero sum of squares where the true one is 0.
    constant_within = (data == data[first][inverse]).all(axis=0)  # (d,)
    constant_overall = (data == data[0]).all(axis=0)  # (d,)
    ss_within[constant_within] = 0.0
    ss_between[constant_overall] = 0.0

    with np.errstate(divide="ignore", invalid="ignore"):  # inf and NaN on purpose, see above
        scores = (ss_between / (g - 1)) / (ss_within / (n - g))
    return np.asarray(scores, dtype=np.float64)


def select_k_best(x: npt.ArrayLike, y: npt.ArrayLike, k: int) -> npt.NDArray[np.intp]:
    """Return the indices of the ``k`` features with the highest F statistic (a filter method).

    Features are ranked by :func:`f_score`. A NaN score (a feature constant over all samples)
    ranks below every real score; ties are broken in favour of the feature that comes later in
    ``x`` (a stable sort, of which the last ``k`` win). Both rules are those of scikit-learn's
    ``SelectKBest`` with ``score_func=f_classif``. Scores that agree to a relative
    ``1e-9`` count as tied, so that two features with the same F statistic tie here as they
    do in exact arithmetic, whatever the rounding of their sums; the two then select the same
    columns whenever scikit-learn's own scores are exact to that tie.

    Parameters
    ----------
    x
        Features of shape ``(n, d)``.
    y
        Class labels of shape ``(n,)``, as for :func:`f_score`.
    k
        Number of features to keep, with ``1 <= k <= d``.

    Returns
    -------
    numpy.ndarray
        Integer array of shape ``(k,)``: the column indices of the selected features, in
        ascending order, so that ``x[:, indices]`` keeps the original column order.

    Raises
    ------
    TypeError
        As :func:`f_score`, and if ``k`` is not an integer.
    ValueError
        As :func:`f_score`, and if ``k`` lies outside ``1 … d``.

    See Also
    --------
    f_score : the scores used for the ranking.
    pca : feature extraction, which builds new features instead of keeping old ones.

    Examples
    --------
    >>> from conceptref.features import select_k_best
    >>> x = [[1.0, 5.0, 7.0], [2.0, 1.0, 7.0], [3.0, 3.0, 7.0],
    ...      [4.0, 2.0, 7.0], [5.0, 6.0, 7.0], [6.0, 4.0, 7.0]]
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> select_k_best(x, y, k=1).tolist()
    [0]
    >>> select_k_best(x, y, k=2).tolist()
    [0, 1]
    """
    scores = f_score(x, y)  # (d,)
    count = check_int(k, "k", Interval(1, len(scores)), high_name="d")
    # scikit-learn's rule: NaN ranks lowest, then a stable sort, and the last k win.
    ranked = np.where(np.isnan(scores), -np.inf, scores)  # (d,)
    order = np.argsort(ranked, kind="mergesort")  # ascending
    # Scores that agree to within rounding are one tie: each takes the value of the largest
    # score of its run, so rounding in the arithmetic cannot decide between equal scores.
    values = ranked[order]
    for i in range(len(values) - 2, -1, -1):
        if math.isclose(values[i], values[i + 1], rel_tol=_TIE_RTOL, abs_tol=0.0):
            values[i] = values[i + 1]
    snapped = np.empty_like(ranked)
    snapped[order] = values
    order = np.argsort(snapped, kind="mergesort")  # stable: among ties, later columns rank higher
    return np.sort(order[-count:]).astype(np.intp)


def principal_angles(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Principal angles between the column spaces of two matrices, in descending order.

    .. math:: \cos\theta_i = \sigma_i\!\left(Q_a^\top Q_b\right), \qquad
              \sin\theta_i = \sigma_i\!\left(Q_b - Q_a Q_a^\top Q_b\right),

    where :math:`Q_a` and :math:`Q_b` are orthonormal bases of the two column spaces and
    :math:`\sigma_i` denotes singular values (the sine formula as written assumes ``a`` has at
    least as many columns as ``b``; otherwise the roles swap). The angles lie in
    :math:`[0, \pi/2]`: all of them are 0 when one subspace contains the other, and :math:`\pi/2`
    when the subspaces are orthogonal.

    Each angle is taken from its sine when it is below :math:`\pi/4` and from its cosine
    otherwise, because :math:`\arccos` loses half the digits near 0 and :math:`\arcsin` near
    :math:`\pi/2`.

    Parameters
    ----------
    a
        Matrix of shape ``(n, p)`` whose ``p`` columns are linearly independent.
    b
        Matrix of shape ``(n, q)`` whose ``q`` columns are linearly independent.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(min(p, q),)``: the angles in radians, largest first, as
        ``scipy.linalg.subspace_angles`` returns them.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not numeric.
    ValueError
        If ``a`` or ``b`` is not two-dimensional, is empty, holds NaN or infinity or does not
        have full column rank, or if the two differ in their number of rows.

    See Also
    --------
    pca : its components span the subspace a linear autoencoder's bottleneck learns.

    References
    ----------
    A. V. Knyazev and M. E. Argentati, "Principal angles between subspaces in an A-based scalar
    product: algorithms and perturbation estimates", SIAM Journal on Scientific Computing 23(6),
    2002.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.features import principal_angles
    >>> plane = [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    >>> tilted = [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    >>> np.round(principal_angles(plane, tilted), 4).tolist()
    [0.7854, 0.0]
    >>> round(float(principal_angles(plane, [[0.0], [0.0], [1.0]])[0]), 4)
    1.5708
    """
    left = check_array(a, "a", ndim=2, non_empty=True)
    right = check_array(b, "b", ndim=2, non_empty=True)
    if left.shape[0] != right.shape[0]:
        raise ValueError(
            "a and b must have the same number of rows n: "
            f"a has shape {left.shape}, b has shape {right.shape}"
        )
    q_a = _orthonormal_basis(left, "a")  # (n, p)
    q_b = _orthonormal_basis(right, "b")  # (n, q)
    if q_a.shape[1] < q_b.shape[1]:  # the angles are symmetric; let q_a be the wider basis
        q_a, q_b = q_b, q_a
    cross = q_a.T @ q_b  # (p, q), p >= q
    cosines = np.linalg.svd(cross, compute_uv=False)[::-1]  # (q,) ascending: angles descending
    sines = np.linalg.svd(q_b - q_a @ cross, compute_uv=False)  # (q,) descending
    small = sines**2 < 0.5  # angle below pi/4
    angles = np.where(
        small, np.arcsin(np.clip(sines, -1.0, 1.0)), np.arccos(np.clip(cosines, -1.0, 1.0))
    )
    return np.asarray(angles, dtype=np.float64)


def _orthonormal_basis(matrix: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.float64]:
    """Return an orthonormal basis of the column space of a full-column-rank ``matrix``."""
    n, p = matrix.shape
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)  # u: (n, r), s: (r,), r = min(n, p)
    tolerance = s.max() * np.finfo(np.float64).eps * max(n, p)
    rank = int(np.count_nonzero(s > tolerance))
    if rank < p:
        raise ValueError(
            f"{name} must have full column rank (linearly independent columns), "
            f"but its {p} columns span a space of dimension {rank}"
        )
    return u[:, :p]


_TIE_RTOL = 1e-9  # relative difference below which two F statistics count as equal


def _power_of_two_scale(
    data: npt.NDArray[np.float64], axis: int | None = None
) -> npt.NDArray[np.float64]:
    """Return ``2**e`` with ``2**(e-1) <= max |data| < 2**e`` (over ``axis``), 1 for zeros."""
    largest = np.max(np.abs(data), axis=axis)
    _, exponent = np.frexp(largest)
    return np.asarray(np.where(largest > 0, np.ldexp(1.0, exponent), 1.0), dtype=np.float64)
