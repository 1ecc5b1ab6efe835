"""Zero-shot classification through class embeddings, and how to score it, in NumPy.

This module is the reference implementation behind the page :doc:`/concepts/zero-shot-learning`.
Classic zero-shot learning reaches classes that have no training example through side
information: each class is described by a vector (its attributes, a word vector, an embedded
text), a model maps inputs into the same space, and the prediction is the nearest class
description.

* :func:`cosine_scores` and :func:`zero_shot_predict` score and classify inputs against class
  embeddings by cosine similarity;
* :func:`per_class_accuracy` and :func:`harmonic_mean` are the evaluation protocol of Xian et
  al. (2019): accuracy averaged over classes, on seen and on unseen classes separately, and the
  harmonic mean :math:`H` of the two;
* :func:`calibrated_stacking` is the correction of Chao et al. (2016) for the bias towards seen
  classes in the generalized setting;
* :func:`seen_unseen_curve` and :func:`ausuc` sweep the calibration constant over every value
  (Chao et al., 2016).

The page's synthetic data set and its attribute predictor (a ridge regression) live in
:mod:`conceptref.demos.zeroshot`.

``tests/test_zeroshot.py`` checks :func:`zero_shot_predict` against scikit-learn's
``KNeighborsClassifier(n_neighbors=1, metric="cosine")`` fitted on the class embeddings (ties
and zero vectors included), :func:`per_class_accuracy` against ``balanced_accuracy_score`` on
the samples of the chosen classes, and :func:`seen_unseen_curve` against a brute-force sweep of
the calibration constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from conceptref._validation import (
    Interval,
    check_array,
    check_bool_array,
    check_dims_agree,
    check_int_array,
    check_labels,
    check_probability,
    check_real,
)

__all__ = [
    "SeenUnseenCurve",
    "ausuc",
    "calibrated_stacking",
    "cosine_scores",
    "harmonic_mean",
    "per_class_accuracy",
    "seen_unseen_curve",
    "zero_shot_predict",
]


def cosine_scores(
    embeddings: npt.ArrayLike | torch.Tensor, class_embeddings: npt.ArrayLike | torch.Tensor
) -> npt.NDArray[np.float64]:
    r"""Cosine similarity between every input embedding and every class embedding.

    .. math:: s_{ic} = \frac{\langle e_i, z_c \rangle}{\lVert e_i \rVert\, \lVert z_c \rVert},

    with :math:`e_i` the embedding of input :math:`i` and :math:`z_c` the embedding of class
    :math:`c`. A zero vector has no direction; as in scikit-learn's ``cosine_similarity``, a
    row whose norm is below :math:`10\epsilon \approx 2.2 \times 10^{-15}` is not rescaled, so
    a zero row scores exactly 0 against everything and a nearly zero row about 0.

    Parameters
    ----------
    embeddings
        Input embeddings of shape ``(n, d)`` (NumPy array, nested lists or a PyTorch tensor of
        any floating dtype, which is detached and read as float64).
    class_embeddings
        Class embeddings of shape ``(k, d)``, one row per class.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, k)`` with values in ``[-1, 1]``.

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If an argument is not two-dimensional, is empty, holds NaN or infinity, if the two
        disagree in ``d``, or if a row's squared norm overflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.zeroshot import cosine_scores
    >>> np.round(cosine_scores([[1.0, 1.0]], [[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]]), 4).tolist()
    [[0.7071, 0.7071, -0.7071]]
    """
    inputs, classes = _check_pair(embeddings, class_embeddings)
    return _normalize(inputs, "embeddings") @ _normalize(classes, "class_embeddings").T


def zero_shot_predict(
    embeddings: npt.ArrayLike | torch.Tensor, class_embeddings: npt.ArrayLike | torch.Tensor
) -> npt.NDArray[np.intp]:
    r"""Assign each input to the class embedding of highest cosine similarity.

    .. math:: \hat y_i = \operatorname*{arg\,max}_c \; s_{ic}
              = \operatorname*{arg\,min}_c \; (1 - s_{ic}),

    with :math:`s_{ic}` the cosine similarity of :func:`cosine_scores`. This is exactly a
    one-nearest-neighbour classifier with the cosine distance :math:`1 - s` whose "training
    set" is the class embeddings, one per class: scikit-learn's
    ``KNeighborsClassifier(n_neighbors=1, metric="cosine").fit(class_embeddings,
    np.arange(k)).predict(embeddings)``. The distance is computed the way scikit-learn
    computes it (rows scaled to unit norm, a row of norm below :math:`10\epsilon` left as it
    is, :math:`1 - s` clipped to ``[0, 2]``; in float32 when both arguments are float32 NumPy
    arrays, as scikit-learn does, in float64 otherwise) and the nearest class is selected with
    the same call (NumPy's ``argpartition``), so the two agree on exact ties and zero vectors
    too. A zero input is at distance 1 from every class: all classes tie. Ties are broken as
    ``argpartition`` breaks them, which is not always the lowest index; break them yourself
    with ``cosine_scores(...).argmax(axis=1)`` if you need that rule.

    Parameters
    ----------
    embeddings
        Input embeddings of shape ``(n, d)`` (array-like or a PyTorch tensor).
    class_embeddings
        Class embeddings of shape ``(k, d)``, one row per candidate class.

    Returns
    -------
    numpy.ndarray
        Integer array of shape ``(n,)``: the row of ``class_embeddings`` chosen for each input.

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If an argument is not two-dimensional, is empty, holds NaN or infinity, if the two
        disagree in ``d``, or if a row's squared norm overflows float64.

    See Also
    --------
    calibrated_stacking : lower the scores of seen classes before the arg max.

    Examples
    --------
    >>> from conceptref.zeroshot import zero_shot_predict
    >>> classes = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]   # two classes, three attributes
    >>> zero_shot_predict([[0.9, 0.1, 0.8], [0.2, 0.7, 0.9], [-1.0, 0.0, 0.0]], classes).tolist()
    [0, 1, 1]
    """
    inputs, classes = _check_pair(embeddings, class_embeddings)
    if _is_float32(embeddings) and _is_float32(class_embeddings):
        # scikit-learn computes in float32 when both arrays are float32; so do we, to agree
        # on near ties (the float32 values are exactly representable, so nothing is lost)
        inputs, classes = inputs.astype(np.float32), classes.astype(np.float32)
    similarity = _normalize(inputs, "embeddings") @ _normalize(classes, "class_embeddings").T
    distance = np.clip(1.0 - similarity, 0.0, 2.0)  # scikit-learn's cosine_distances
    # The same selection scikit-learn's brute-force neighbour search makes for one neighbour,
    # so that exact ties are broken the same way.
    return np.argpartition(distance, 0, axis=1)[:, 0].astype(np.intp)


def per_class_accuracy(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, classes: npt.ArrayLike
) -> float:
    r"""Accuracy averaged over classes, on the samples whose true class is in ``classes``.

    .. math:: \mathrm{acc}_{\mathcal Y} = \frac{1}{|\mathcal Y'|} \sum_{c \in \mathcal Y'}
              \frac{\#\{i : y_i = c,\ \hat y_i = c\}}{\#\{i : y_i = c\}},

    where :math:`\mathcal Y` is ``classes`` and :math:`\mathcal Y' \subseteq \mathcal Y` the
    classes of :math:`\mathcal Y` that occur in ``y_true``. Predictions may name any class,
    including classes outside :math:`\mathcal Y` (in the generalized setting an unseen sample
    predicted as a seen class is simply wrong). Averaging over classes instead of samples
    keeps a frequent class from dominating the score (Xian et al., 2019).

    This equals scikit-learn's ``balanced_accuracy_score(y_true[m], y_pred[m])`` with
    ``m = np.isin(y_true, classes)``, which warns "y_pred contains classes not in y_true"
    whenever a prediction names a class absent from ``y_true[m]`` and then averages over the
    classes present, as here; this function gives the same number without the warning.

    Parameters
    ----------
    y_true
        True labels of shape ``(n,)``: integers or strings.
    y_pred
        Predicted labels of shape ``(n,)``, of the same kind.
    classes
        The classes to score, shape ``(m,)`` (for example the seen or the unseen classes).
        Classes listed here but absent from ``y_true`` are ignored.

    Returns
    -------
    float
        The mean per-class accuracy, in ``[0, 1]``.

    Raises
    ------
    TypeError
        If the labels are not integers or strings, or mix the two.
    ValueError
        If an argument is not one-dimensional, ``y_true`` and ``y_pred`` differ in length, or
        no sample of ``y_true`` belongs to ``classes``.

    References
    ----------
    Y. Xian, C. H. Lampert, B. Schiele and Z. Akata, "Zero-shot learning -- a comprehensive
    evaluation of the good, the bad and the ugly", IEEE TPAMI 41(9), 2019 (arXiv:1707.00600).

    Examples
    --------
    >>> from conceptref.zeroshot import per_class_accuracy
    >>> y_true = [0, 0, 0, 0, 1, 2, 2]
    >>> y_pred = [0, 0, 0, 1, 0, 2, 0]
    >>> per_class_accuracy(y_true, y_pred, classes=[0, 1])   # (3/4 + 0/1) / 2
    0.375
    >>> per_class_accuracy(y_true, y_pred, classes=[2])
    0.5
    """
    truth = _check_class_labels(y_true, "y_true")
    predicted = _check_class_labels(y_pred, "y_pred")
    chosen = _check_class_labels(classes, "classes")
    if len(truth) != len(predicted):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(truth)} and {len(predicted)}"
        )
    kinds = {_label_kind(truth), _label_kind(predicted)}
    if len(chosen):
        kinds.add(_label_kind(chosen))
    if len(kinds) > 1:
        raise TypeError("y_true, y_pred and classes must all hold integers or all hold strings")
    mask = np.isin(truth, chosen)
    if not mask.any():
        raise ValueError("no sample of y_true belongs to classes, so there is nothing to score")
    truth, predicted = truth[mask], predicted[mask]
    present = np.unique(truth)  # sorted, as in scikit-learn's confusion matrix
    recalls = np.array([np.mean(predicted[truth == c] == c) for c in present])
    return float(np.mean(recalls))


def harmonic_mean(acc_seen: float, acc_unseen: float) -> float:
    r"""Harmonic mean of the seen-class and unseen-class accuracies (Xian et al., 2019).

    .. math:: H = \frac{2\, \mathrm{acc}_s\, \mathrm{acc}_u}{\mathrm{acc}_s + \mathrm{acc}_u},
              \qquad H = 0 \text{ when } \mathrm{acc}_s = 0 \text{ or } \mathrm{acc}_u = 0.

    Unlike the arithmetic mean, :math:`H` stays low when either accuracy is low: a model that
    always predicts seen classes scores :math:`H = 0` however well it knows them.

    Parameters
    ----------
    acc_seen, acc_unseen
        Accuracies in ``[0, 1]``.

    Returns
    -------
    float
        :math:`H`, in ``[0, 1]``.

    Raises
    ------
    TypeError
        If an accuracy is not a real number.
    ValueError
        If an accuracy lies outside ``[0, 1]`` or is NaN.

    Examples
    --------
    >>> from conceptref.zeroshot import harmonic_mean
    >>> round(harmonic_mean(0.9, 0.1), 4)   # the arithmetic mean would say 0.5
    0.18
    >>> harmonic_mean(1.0, 0.0)
    0.0
    >>> harmonic_mean(1e-200, 1e-200)   # scaled, so the product does not underflow
    1e-200
    """
    seen = check_probability(acc_seen, "acc_seen", what="an accuracy")
    unseen = check_probability(acc_unseen, "acc_unseen", what="an accuracy")
    if seen == 0.0 or unseen == 0.0:
        return 0.0
    low, high = sorted((seen, unseen))
    # low * (2 high / (low + high)): the factor lies in [1, 2], so nothing underflows before
    # the result does (2 * seen * unseen is 0 for accuracies of 1e-200).
    return low * (2.0 * high / (low + high))


def calibrated_stacking(
    scores: npt.ArrayLike | torch.Tensor, seen_mask: npt.ArrayLike, gamma: float
) -> npt.NDArray[np.float64]:
    r"""Subtract a constant from the scores of the seen classes (Chao et al., 2016).

    .. math:: \tilde s_{ic} = s_{ic} - \gamma\, \mathbb 1[c \in \mathcal S],
              \qquad \hat y_i = \operatorname*{arg\,max}_c \tilde s_{ic},

    with :math:`\mathcal S` the seen classes. A model trained on seen classes scores them
    higher than it should, so in the generalized setting (seen and unseen classes both
    candidates) most unseen samples are labelled as some seen class. :math:`\gamma > 0` trades
    seen accuracy for unseen accuracy; :math:`\gamma = 0` leaves the scores unchanged, and a
    very large :math:`\gamma` predicts only unseen classes. In practice :math:`\gamma` is chosen
    on validation data.

    Parameters
    ----------
    scores
        Scores of shape ``(n, k)``: one column per class, higher is more likely (array-like or a
        PyTorch tensor).
    seen_mask
        Boolean array of shape ``(k,)``, ``True`` for the seen classes.
    gamma
        The calibration constant :math:`\gamma`, any finite number.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, k)``: the calibrated scores.

    Raises
    ------
    TypeError
        If ``scores`` is not numeric, ``seen_mask`` is not boolean or ``gamma`` is not a real
        number.
    ValueError
        If ``scores`` is not two-dimensional or holds NaN or infinity, ``seen_mask`` does not
        have one entry per column of ``scores``, or ``gamma`` is not finite.

    References
    ----------
    W.-L. Chao, S. Changpinyo, B. Gong and F. Sha, "An empirical study and analysis of
    generalized zero-shot learning for object recognition in the wild", ECCV 2016
    (arXiv:1605.04253).

    Examples
    --------
    >>> from conceptref.zeroshot import calibrated_stacking
    >>> scores = [[0.9, 0.8], [0.6, 0.5]]   # class 0 seen, class 1 unseen
    >>> calibrated_stacking(scores, [True, False], gamma=0.2).argmax(axis=1).tolist()
    [1, 1]
    >>> calibrated_stacking(scores, [True, False], gamma=0.0).argmax(axis=1).tolist()
    [0, 0]
    """
    values = _check_matrix(scores, "scores")
    mask = check_bool_array(seen_mask, "seen_mask")
    if mask.shape != (values.shape[1],):
        raise ValueError(
            f"seen_mask must have one entry per column of scores, shape ({values.shape[1]},), "
            f"got shape {mask.shape}"
        )
    shift = check_real(gamma, "gamma")
    with np.errstate(over="ignore"):
        calibrated = values - shift * mask.astype(np.float64)  # (n, k)
    if not np.isfinite(calibrated).all():
        raise ValueError("scores - gamma overflows float64; use smaller scores or gamma")
    return calibrated


@dataclass(frozen=True)
class SeenUnseenCurve:
    r"""The seen-unseen accuracy curve of calibrated stacking; see :func:`seen_unseen_curve`.

    Between two consecutive ``thresholds`` no prediction changes, so the curve has one point
    per open interval of :math:`\gamma`: ``acc_seen[0]``, ``acc_unseen[0]`` for every
    :math:`\gamma` below ``thresholds[0]``, ``acc_seen[j]``, ``acc_unseen[j]`` for
    :math:`\gamma` between ``thresholds[j - 1]`` and ``thresholds[j]``, and the last point for
    every :math:`\gamma` above ``thresholds[-1]``. The arrays are the result's own copies.
    """

    thresholds: npt.NDArray[np.float64]
    r"""The values of :math:`\gamma` at which some prediction changes, increasing, shape ``(m,)``."""

    acc_seen: npt.NDArray[np.float64]
    """Per-class accuracy on samples of seen classes, non-increasing, shape ``(m + 1,)``."""

    acc_unseen: npt.NDArray[np.float64]
    """Per-class accuracy on samples of unseen classes, non-decreasing, shape ``(m + 1,)``."""

    area: float
    """The area under ``acc_seen`` plotted against ``acc_unseen`` (trapezoids), called AUSUC."""

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("thresholds", "acc_seen", "acc_unseen"):
            array = np.array(check_array(getattr(self, name), name, ndim=1), dtype=np.float64)
            array.flags.writeable = False
            arrays[name] = array
        m = len(arrays["thresholds"])
        check_dims_agree(
            [("len(thresholds) + 1", m + 1), ("len(acc_seen)", len(arrays["acc_seen"])),
             ("len(acc_unseen)", len(arrays["acc_unseen"]))],
            what="one point per interval between thresholds",
        )  # fmt: skip
        for name in ("acc_seen", "acc_unseen"):
            check_array(arrays[name], name, interval=Interval(0, 1))
        if (np.diff(arrays["thresholds"]) <= 0).any():
            raise ValueError("thresholds must be strictly increasing")
        area = check_real(self.area, "area", Interval(0, 1))
        for name, array in arrays.items():
            object.__setattr__(self, name, array)
        object.__setattr__(self, "area", area)


def seen_unseen_curve(
    scores: npt.ArrayLike | torch.Tensor, labels: npt.ArrayLike, seen_mask: npt.ArrayLike
) -> SeenUnseenCurve:
    r"""Seen and unseen accuracy of calibrated stacking for every :math:`\gamma`, and AUSUC.

    :func:`calibrated_stacking` with a constant :math:`\gamma` predicts
    :math:`\hat y_i = \arg\max_c\, s_{ic} - \gamma\,\mathbb 1[c \in \mathcal S]`. Sample
    :math:`i` gets a seen class exactly when :math:`\gamma < \delta_i = \max_{c \in \mathcal S}
    s_{ic} - \max_{c \in \mathcal U} s_{ic}`, and then its best seen class, otherwise its best
    unseen class. So the predictions change only at the values :math:`\delta_i`, and sweeping
    :math:`\gamma` from :math:`-\infty` (every sample gets a seen class) to :math:`+\infty`
    (every sample an unseen one) visits finitely many outcomes. For each, this function gives
    :math:`\mathrm{acc}_s` and :math:`\mathrm{acc}_u` as :func:`per_class_accuracy` computes
    them (averaged over the seen, respectively unseen, classes that occur in ``labels``), and
    the area under the curve of :math:`\mathrm{acc}_s` against :math:`\mathrm{acc}_u`, the
    AUSUC of Chao et al. (2016), by the trapezoidal rule (the exact area of the polygon through
    the points).

    Ties: within the seen (or unseen) classes, the best class is the first column of highest
    score, as :func:`numpy.argmax` picks it; at :math:`\gamma = \delta_i` itself seen and
    unseen tie, and no point of the curve is taken there.

    Parameters
    ----------
    scores
        Scores of shape ``(n, k)``, higher is more likely (array-like or a PyTorch tensor).
    labels
        True class of each sample, shape ``(n,)``: integers in ``0 … k - 1`` (column indices).
    seen_mask
        Boolean array of shape ``(k,)``, ``True`` for the seen classes; at least one seen and
        one unseen class.

    Returns
    -------
    SeenUnseenCurve
        ``thresholds`` (the :math:`\delta_i`, distinct and sorted), ``acc_seen`` and
        ``acc_unseen`` on each interval between them, and ``area`` (AUSUC).

    Raises
    ------
    TypeError
        If ``scores`` is not numeric, ``labels`` not integers or ``seen_mask`` not boolean.
    ValueError
        If the shapes disagree, ``scores`` is not finite, a label is outside ``0 … k - 1``,
        ``seen_mask`` lacks a seen or an unseen class, ``labels`` holds no sample of a seen class
        or none of an unseen class, or a difference of scores overflows float64.

    References
    ----------
    W.-L. Chao, S. Changpinyo, B. Gong and F. Sha, "An empirical study and analysis of
    generalized zero-shot learning for object recognition in the wild", ECCV 2016.

    Examples
    --------
    Class 0 is seen, class 1 unseen; sample 0 is of class 0, sample 1 of class 1:

    >>> from conceptref.zeroshot import seen_unseen_curve
    >>> curve = seen_unseen_curve([[0.9, 0.2], [0.6, 0.5]], [0, 1], [True, False])
    >>> curve.thresholds.tolist()          # gamma where a prediction changes
    [0.09999999999999998, 0.7]
    >>> curve.acc_seen.tolist(), curve.acc_unseen.tolist(), curve.area
    ([1.0, 1.0, 0.0], [0.0, 1.0, 1.0], 1.0)
    """
    values = _check_matrix(scores, "scores")
    n, k = values.shape
    mask = check_bool_array(seen_mask, "seen_mask")
    if mask.shape != (k,):
        raise ValueError(
            f"seen_mask must have one entry per column of scores, shape ({k},), got shape "
            f"{mask.shape}"
        )
    if mask.all() or not mask.any():
        raise ValueError(
            "seen_mask must mark at least one seen (True) and one unseen (False) class"
        )
    y = check_int_array(labels, "labels", ndim=1)
    check_dims_agree([("len(labels)", len(y)), ("the rows of scores", n)], what="one per sample")
    if ((y < 0) | (y >= k)).any():
        bad = int(y[(y < 0) | (y >= k)][0])
        raise ValueError(f"labels must lie in 0 … k - 1 = {k - 1} (columns of scores), got {bad}")
    seen_columns, unseen_columns = np.flatnonzero(mask), np.flatnonzero(~mask)
    is_seen = mask[y]  # (n,)
    if is_seen.all() or not is_seen.any():
        raise ValueError("labels must hold samples of both a seen and an unseen class")

    top_seen = seen_columns[values[:, seen_columns].argmax(axis=1)]  # (n,) first best seen class
    top_unseen = unseen_columns[values[:, unseen_columns].argmax(axis=1)]
    rows = np.arange(n)
    with np.errstate(over="ignore"):
        delta = values[rows, top_seen] - values[rows, top_unseen]  # seen wins iff gamma < delta
    if not np.isfinite(delta).all():
        raise ValueError("scores are too far apart: a seen score minus an unseen one overflows")
    thresholds = np.unique(delta)  # (m,)
    m = len(thresholds)
    position = np.searchsorted(thresholds, delta)  # (n,) index of each delta in thresholds

    def hits_per_interval(
        group: npt.NDArray[np.bool_], correct: npt.NDArray[np.bool_], row: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
        """Correct samples of ``group``, counted at ``row`` per class, and the class sizes."""
        classes, index = np.unique(y[group], return_inverse=True)
        sizes = np.bincount(index, minlength=len(classes))
        hits = np.zeros((m + 1, len(classes)))
        right = correct[group]
        np.add.at(hits, (row[right], index[right]), 1.0)
        return hits, sizes

    # A seen-class sample is right on intervals 0 … position (gamma below its delta);
    # an unseen-class sample on intervals position + 1 … m (gamma above its delta).
    hits_s, sizes_s = hits_per_interval(is_seen, top_seen == y, position[is_seen])
    acc_seen = (np.cumsum(hits_s[::-1], axis=0)[::-1][: m + 1] / sizes_s).mean(axis=1)
    hits_u, sizes_u = hits_per_interval(~is_seen, top_unseen == y, position[~is_seen] + 1)
    acc_unseen = (np.cumsum(hits_u, axis=0)[: m + 1] / sizes_u).mean(axis=1)
    widths = np.diff(acc_unseen)
    heights = (acc_seen[1:] + acc_seen[:-1]) / 2
    area = float(np.clip(np.sum(widths * heights), 0.0, 1.0))
    return SeenUnseenCurve(thresholds, acc_seen, acc_unseen, area)


def ausuc(
    scores: npt.ArrayLike | torch.Tensor, labels: npt.ArrayLike, seen_mask: npt.ArrayLike
) -> float:
    r"""Return the area under the seen-unseen accuracy curve (AUSUC, Chao et al., 2016).

    ``seen_unseen_curve(scores, labels, seen_mask).area``: a summary of a generalized
    zero-shot model over every calibration constant :math:`\gamma`, where :math:`H`
    (:func:`harmonic_mean`) scores one :math:`\gamma`. Arguments, errors and ties as in
    :func:`seen_unseen_curve`.

    Examples
    --------
    Classes 0 and 1 are seen, class 2 unseen. The sample of class 1 scores class 0 higher, so
    seen accuracy is at most 1/2; the unseen sample is right as soon as unseen classes win:

    >>> from conceptref.zeroshot import ausuc
    >>> scores = [[0.9, 0.2, 0.1], [0.6, 0.5, 0.7], [0.1, 0.2, 0.3]]
    >>> ausuc(scores, [0, 1, 2], [True, True, False])
    0.5
    """
    return seen_unseen_curve(scores, labels, seen_mask).area


def _is_float32(value: object) -> bool:
    return isinstance(value, np.ndarray) and value.dtype == np.float32


def _normalize(matrix: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.float64]:
    """Scale rows to unit norm as scikit-learn's ``normalize`` does."""
    with np.errstate(over="ignore"):
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))  # (rows,)
    if not np.isfinite(norms).all():
        raise ValueError(
            f"{name} holds a row whose squared norm overflows float64; scale it down first"
        )
    # scikit-learn's rule (``_handle_zeros_in_scale``): a norm below 10 machine epsilons is
    # not divided by, so a (nearly) zero row keeps its tiny entries and scores about 0.
    norms[norms < 10 * np.finfo(matrix.dtype).eps] = 1.0
    normalized: npt.NDArray[np.float64] = matrix / norms[:, None]
    return normalized


def _check_matrix(value: object, name: str) -> npt.NDArray[np.float64]:
    """Return a non-empty finite float64 matrix; tensors are detached and upcast."""
    return check_array(value, name, ndim=2, non_empty=True)


def _check_pair(
    embeddings: object, class_embeddings: object
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    inputs = _check_matrix(embeddings, "embeddings")
    classes = _check_matrix(class_embeddings, "class_embeddings")
    if inputs.shape[1] != classes.shape[1]:
        raise ValueError(
            f"embeddings and class_embeddings must have the same dimension d, got "
            f"{inputs.shape[1]} and {classes.shape[1]}"
        )
    return inputs, classes


def _check_class_labels(value: object, name: str) -> npt.NDArray[np.generic]:
    """Return integer or string labels; floats only when they are whole numbers."""
    labels = check_labels(value, name)
    if labels.dtype.kind == "f":  # floats are accepted when they are whole numbers (or empty)
        if not (labels == np.round(labels)).all():
            raise TypeError(f"{name} must hold integer or string labels, got non-integer floats")
    elif labels.dtype.kind not in "iuU":
        raise TypeError(f"{name} must hold integer or string labels, got dtype {labels.dtype}")
    return labels


def _label_kind(labels: npt.NDArray[np.generic]) -> str:
    return "string" if labels.dtype.kind == "U" else "number"
