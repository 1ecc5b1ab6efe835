"""Precision-recall curves, average precision and COCO-style mean average precision, in NumPy.

This module is the reference implementation behind the page
:doc:`/concepts/mean-average-precision`. ``tests/test_metrics.py`` checks it against independent
oracles: :func:`precision_recall_curve` and :func:`average_precision` (``method="step"``) against
:func:`sklearn.metrics.precision_recall_curve` and :func:`sklearn.metrics.average_precision_score`;
the interpolated methods (``"voc11"``, ``"voc"``, ``"coco101"``) against small loop-based
implementations of the PASCAL VOC and COCO rules; :func:`iou` against :func:`pycocotools.mask.iou`;
and :func:`mean_average_precision` (all twelve figures of ``COCOeval.stats``, crowd regions and
area ranges included) against pycocotools' ``COCOeval`` (``iouType="bbox"``) and against a plain
loop version of its matching rule, on inputs generated with hypothesis.

Boxes are ``(x1, y1, x2, y2)`` corners in continuous coordinates: a box's width is ``x2 - x1``,
with no "+1" pixel convention. Detections and ground truth for :func:`mean_average_precision`
follow the convention of torchmetrics' ``MeanAveragePrecision``: one dict per image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from conceptref._validation import (
    Interval,
    check_array,
    check_binary,
    check_boxes,
    check_int,
    check_int_array,
    check_option,
    check_sequence,
    find_bad_box,
)

__all__ = [
    "STATS_NAMES",
    "MAPResult",
    "average_precision",
    "iou",
    "mean_average_precision",
    "precision_recall_curve",
]

_METHODS = ("step", "voc11", "voc", "coco101")

# The recall levels of the interpolated methods, as the reference toolkits build them. They are
# NumPy's float64 values, so the level "0.3" is 0.30000000000000004 and a recall of exactly 3/10
# does not reach it, in those toolkits as here.
_VOC11_RECALLS = np.linspace(0.0, 1.0, 11)
_COCO101_RECALLS = np.linspace(0.0, 1.0, 101)

# COCO's default IoU thresholds 0.50, 0.55, …, 0.95.
_COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def iou(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Intersection over union of every box in ``boxes1`` with every box in ``boxes2``.

    .. math:: \operatorname{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|}
              = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}

    Boxes whose intersection is empty, or has zero area, have IoU 0. So a zero-area box (a point
    or a segment) has IoU 0 with everything, itself included, where the formula would give 0/0.
    This is what :func:`pycocotools.mask.iou` returns for boxes (with ``iscrowd`` 0).

    Parameters
    ----------
    boxes1
        Boxes of shape ``(N, 4)``, each ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``.
    boxes2
        Boxes of shape ``(M, 4)``, in the same format.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(N, M)`` with entries in ``[0, 1]``.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        If an input does not have shape ``(N, 4)``, holds NaN or infinity, or has a box with
        ``x2 < x1`` or ``y2 < y1``.

    See Also
    --------
    mean_average_precision : uses this overlap to match detections to ground truth.

    Examples
    --------
    >>> from conceptref.metrics import iou
    >>> iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 5, 5]]).round(4).tolist()
    [[0.1429, 1.0, 0.0]]
    """
    a = check_boxes(boxes1, "boxes1", check_values=False)
    b = check_boxes(boxes2, "boxes2", check_values=False)
    for boxes, name in ((a, "boxes1"), (b, "boxes2")):
        check_boxes(boxes, name)
    return _iou(a, b)


def precision_recall_curve(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r"""Precision and recall at every distinct score threshold, as scikit-learn reports them.

    Predicting "positive" for every score :math:`\ge \tau` gives, with :math:`TP(\tau)` and
    :math:`FP(\tau)` the positives and negatives among those samples and :math:`P` the number of
    positives,

    .. math:: \text{precision}(\tau) = \frac{TP(\tau)}{TP(\tau) + FP(\tau)}, \qquad
              \text{recall}(\tau) = \frac{TP(\tau)}{P} .

    There is one point per distinct score: tied scores cross the threshold together. The order
    and the extra last point are those of :func:`sklearn.metrics.precision_recall_curve` (with
    ``drop_intermediate=False``): thresholds increase, so recall decreases, and a final point
    (precision 1, recall 0) with no threshold closes the curve.

    Parameters
    ----------
    labels
        True classes of shape ``(n,)``: booleans, or numbers 0 and 1. At least one must be
        positive.
    scores
        Finite scores of shape ``(n,)``; higher means "more likely positive".

    Returns
    -------
    precision : numpy.ndarray
        Float64 array of shape ``(k + 1,)`` for ``k`` distinct scores; the last entry is 1.
    recall : numpy.ndarray
        Float64 array of shape ``(k + 1,)``, decreasing from 1 to its last entry 0.
    thresholds : numpy.ndarray
        The distinct scores in increasing order, float64 of shape ``(k,)``.

    Raises
    ------
    TypeError
        If ``labels`` or ``scores`` is not numeric (or boolean, for ``labels``).
    ValueError
        If they are not one-dimensional of the same length, if ``labels`` holds anything other
        than 0 and 1 or no positive at all, or if ``scores`` holds NaN or infinity.

    See Also
    --------
    average_precision : summarizes this curve in one number.
    sklearn.metrics.precision_recall_curve : scikit-learn's version, which this one matches.

    Examples
    --------
    >>> from conceptref.metrics import precision_recall_curve
    >>> precision, recall, thresholds = precision_recall_curve([1, 0, 1, 1], [0.9, 0.8, 0.8, 0.2])
    >>> [round(p, 4) for p in precision.tolist()]
    [0.75, 0.6667, 1.0, 1.0]
    >>> [round(r, 4) for r in recall.tolist()]
    [1.0, 0.6667, 0.3333, 0.0]
    >>> thresholds.tolist()
    [0.2, 0.8, 0.9]
    """
    positive, score = _binary_inputs(labels, scores)
    order = np.argsort(score, kind="stable")[::-1]  # highest score first
    score, positive = score[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]  # last sample of each score
    tps = np.cumsum(positive, dtype=np.float64)[last]
    fps = 1 + last - tps
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], score[last][::-1]


def average_precision(
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    method: Literal["step", "voc11", "voc", "coco101"] = "step",
) -> float:
    r"""Average precision: the area under the precision-recall curve, by one of four rules.

    With the points :math:`(R_n, P_n)` of :func:`precision_recall_curve` taken from the highest
    threshold down (:math:`R_0 = 0`) and the interpolated precision
    :math:`\tilde P(r) = \max \{P_n : R_n \ge r\}` (0 if no point reaches recall :math:`r`):

    .. math::
        \text{step:}\quad & \sum_n (R_n - R_{n-1})\, P_n \\
        \text{voc:}\quad & \sum_n (R_n - R_{n-1})\, \tilde P(R_n) \\
        \text{voc11:}\quad & \frac{1}{11} \sum_{r \in \{0, 0.1, \ldots, 1\}} \tilde P(r) \\
        \text{coco101:}\quad & \frac{1}{101} \sum_{r \in \{0, 0.01, \ldots, 1\}} \tilde P(r)

    ``"step"`` is :func:`sklearn.metrics.average_precision_score`. ``"voc"`` is the area under
    the monotone envelope :math:`\tilde P` (PASCAL VOC from 2010 on); ``"voc11"`` samples it at 11
    recall levels (VOC 2007) and ``"coco101"`` at 101 (COCO). Because :math:`\tilde P \ge P`,
    ``"voc"`` is never below ``"step"``. The recall levels are the float64 values of
    ``numpy.linspace(0, 1, 11)`` and ``numpy.linspace(0, 1, 101)``, as in the VOC and COCO code.

    Tied scores form one point of the curve. The VOC and COCO toolkits instead give every
    detection its own point, ordering tied ones by their position in the input.

    Parameters
    ----------
    labels
        True classes of shape ``(n,)``: booleans, or numbers 0 and 1; at least one positive.
    scores
        Finite scores of shape ``(n,)``.
    method
        ``"step"`` (default), ``"voc"``, ``"voc11"`` or ``"coco101"``.

    Returns
    -------
    float
        The average precision, in ``[0, 1]``.

    Raises
    ------
    TypeError
        As :func:`precision_recall_curve`, and if ``method`` is not a string.
    ValueError
        As :func:`precision_recall_curve`, and if ``method`` is not one of the four names.

    See Also
    --------
    precision_recall_curve : the points this function summarizes.
    mean_average_precision : the detection version, averaged over classes and IoU thresholds.
    sklearn.metrics.average_precision_score : scikit-learn's ``"step"`` average precision.

    References
    ----------
    M. Everingham, L. Van Gool, C. K. I. Williams, J. Winn and A. Zisserman, "The PASCAL Visual
    Object Classes (VOC) challenge", IJCV 88, 303-338 (2010), section 4.2.

    Examples
    --------
    >>> from conceptref.metrics import average_precision
    >>> labels, scores = [1, 0, 1, 0, 1], [0.9, 0.8, 0.7, 0.6, 0.5]
    >>> round(average_precision(labels, scores), 4)
    0.7556
    >>> round(average_precision(labels, scores, method="voc11"), 4)
    0.7636
    >>> round(average_precision(labels, scores, method="coco101"), 4)
    0.7564
    """
    check_option(method, "method", _METHODS)
    precision, recall, _ = precision_recall_curve(labels, scores)
    if method == "step":
        # The same expression as scikit-learn's, so that both give the same float.
        return max(0.0, float(np.sum((recall[:-1] - recall[1:]) * precision[:-1])))
    # From the highest threshold down, without the closing point: recall increases.
    p, r = precision[-2::-1], recall[-2::-1]
    if method == "voc":
        envelope = np.maximum.accumulate(p[::-1])[::-1]  # the best precision at recall >= R_n
        return float(np.sum(np.diff(r, prepend=0.0) * envelope))
    levels = _VOC11_RECALLS if method == "voc11" else _COCO101_RECALLS
    return float(np.mean(_interpolated_precision(r, p, levels)))


@dataclass(frozen=True, eq=False)
class MAPResult:
    """The result of :func:`mean_average_precision`: COCO's twelve figures and the details.

    The twelve figures carry the names of torchmetrics' ``MeanAveragePrecision``; :attr:`stats`
    lists them in the order of pycocotools' ``COCOeval.stats``. Each is a mean over the classes
    that have at least one ground-truth box counted in its area range (not a crowd region, area
    inside the range), and NaN where there is no such class (COCO reports -1).

    Attributes
    ----------
    map
        AP averaged over every IoU threshold and every class (COCO's headline "AP", which is
        AP@[.50:.95] for the default thresholds).
    map_50
        AP at IoU 0.5, averaged over the classes; NaN if 0.5 is not among the thresholds.
    map_75
        AP at IoU 0.75, averaged over the classes; NaN if 0.75 is not among the thresholds.
    map_small
        As ``map``, for objects of area at most :math:`32^2` (COCO's "small").
    map_medium
        As ``map``, for objects of area :math:`32^2` to :math:`96^2`.
    map_large
        As ``map``, for objects of area at least :math:`96^2`.
    mar_1
        Average recall with 1 detection per image and class: the recall reached, averaged over
        the IoU thresholds and the classes.
    mar_10
        Average recall with 10 detections per image and class.
    mar_100
        Average recall with 100 detections per image and class.
    mar_small
        ``mar_100`` for small objects.
    mar_medium
        ``mar_100`` for medium objects.
    mar_large
        ``mar_100`` for large objects.
    per_class
        For each class in :attr:`classes`, its AP averaged over the thresholds (area "all").
    classes
        The classes that have a counted ground-truth box, in increasing order, integer array of
        shape ``(K,)``.
    iou_thresholds
        The IoU thresholds, float64 of shape ``(T,)``.
    ap
        AP per threshold and class (area "all"), float64 of shape ``(T, K)``: ``ap[t, k]`` is
        COCO's ``eval["precision"][t, :, k, 0, -1].mean()``.
    """

    map: float
    map_50: float
    map_75: float
    per_class: dict[int, float]
    classes: npt.NDArray[np.int64]
    iou_thresholds: npt.NDArray[np.float64]
    ap: npt.NDArray[np.float64]
    map_small: float = float("nan")
    map_medium: float = float("nan")
    map_large: float = float("nan")
    mar_1: float = float("nan")
    mar_10: float = float("nan")
    mar_100: float = float("nan")
    mar_small: float = float("nan")
    mar_medium: float = float("nan")
    mar_large: float = float("nan")

    def __post_init__(self) -> None:
        # The result owns its arrays: copies, never views of arrays the caller still holds.
        thresholds = check_array(self.iou_thresholds, "iou_thresholds", ndim=1, non_empty=True)
        classes = check_int_array(self.classes, "classes", ndim=1, empty_any_dtype=True)
        ap = check_array(self.ap, "ap", ndim=2, finite=False)
        if ap.shape != (thresholds.size, classes.size):
            raise ValueError(
                f"ap must have shape (T, K) = ({thresholds.size}, {classes.size}) for "
                f"{thresholds.size} thresholds and {classes.size} classes, got {ap.shape}"
            )
        object.__setattr__(self, "iou_thresholds", thresholds.copy())
        object.__setattr__(self, "classes", classes.astype(np.int64))
        object.__setattr__(self, "ap", ap.copy())

    @property
    def stats(self) -> npt.NDArray[np.float64]:
        """The twelve figures in the order of ``COCOeval.stats``, float64 of shape ``(12,)``."""
        return np.array([getattr(self, name) for name in STATS_NAMES])


#: The names of the twelve figures of :class:`MAPResult`, in the order of ``COCOeval.stats``.
STATS_NAMES = (
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
)

# COCO's area ranges, both ends included: all, small, medium, large.
_AREA_RANGES = np.array([[0.0, 1e5**2], [0.0, 32.0**2], [32.0**2, 96.0**2], [96.0**2, 1e5**2]])
# COCO's numbers of detections for average recall.
_RECALL_DETECTIONS = (1, 10, 100)

# Match states of a detection, per area range and IoU threshold.
_FALSE_POSITIVE, _TRUE_POSITIVE, _MATCHED_IGNORED = 0, 1, 2


def mean_average_precision(
    predictions: Sequence[Mapping[str, npt.ArrayLike]],
    targets: Sequence[Mapping[str, npt.ArrayLike]],
    *,
    iou_thresholds: npt.ArrayLike | None = None,
    max_detections: int = 100,
) -> MAPResult:
    r"""COCO's box evaluation: the twelve AP and AR figures of pycocotools' ``COCOeval``.

    For every class :math:`k`, IoU threshold :math:`t` and area range, the detections of class
    :math:`k` in all images, ranked by score, give a precision-recall curve, and
    :math:`AP_{t,k}` is its 101-point interpolated average precision (``method="coco101"`` of
    :func:`average_precision`, with one point per detection). Then

    .. math:: \text{mAP} = \frac{1}{|T|\,|K|} \sum_{t \in T} \sum_{k \in K} AP_{t,k} .

    Matching, per image and class: detections are taken in decreasing score order, and each is
    matched to the ground-truth box with the highest IoU among those not yet matched, if that
    IoU is at least :math:`t`. A matched detection is a true positive; an unmatched one a false
    positive; each box is matched at most once. Crowd regions and area ranges add COCO's rule
    for *ignored* boxes:

    * a ground-truth box is ignored if it is a crowd region (``"iscrowd"`` 1) or its area lies
      outside the area range; a detection prefers any counted box to an ignored one;
    * a detection matched to an ignored box is ignored: neither true nor false positive;
    * a crowd region can absorb any number of detections, and its IoU with a detection
      :math:`D` is :math:`|D \cap G| / |D|` (the part of the detection inside it);
    * ignored boxes are never missed: recall counts only the others;
    * an unmatched detection whose own area lies outside the area range is ignored.

    Average recall (AR) is the recall reached with the ``n`` highest-scoring detections per
    image and class, averaged over the thresholds and the classes, for ``n`` = 1, 10, 100.
    The result equals ``COCOeval`` (``iouType="bbox"``) to rounding, including its fine print:

    * only the ``max_detections`` highest-scoring detections per image and class count;
    * tied scores keep their input order within an image, and across images the earlier image
      comes first; among boxes with equal IoU, the later one is matched;
    * a threshold of 1 accepts IoU :math:`\ge 1 - 10^{-10}`, so that identical boxes match;
    * the area ranges are :math:`[0, 10^{10}]` ("all"), :math:`[0, 32^2]`,
      :math:`[32^2, 96^2]` and :math:`[96^2, 10^{10}]`, both ends included;
    * a class without a counted ground-truth box in the area range is left out of that mean;
      a class with ground truth but no detection has AP 0;
    * an image without ground truth still counts: its detections are false positives.

    This function does the matching for all images, classes, thresholds and area ranges at
    once; the private ``_evaluate(..., spec=True)`` is the same evaluation written as plain
    loops (one image, class and detection at a time, as the page describes the matching), and
    the tests check both against pycocotools.

    Parameters
    ----------
    predictions
        One dict per image with ``"boxes"`` (shape ``(N, 4)``, ``(x1, y1, x2, y2)``),
        ``"scores"`` (shape ``(N,)``) and integer ``"labels"`` (shape ``(N,)``). Arrays, lists
        and tensors (float16, bfloat16, with ``requires_grad``, on any device) all work.
    targets
        One dict per image, in the same order, with ``"boxes"`` and ``"labels"``, and
        optionally ``"iscrowd"`` (0 or 1 per box; default 0) and ``"area"`` (the object's area
        for the area ranges, for example its mask's; default: the box's area).
    iou_thresholds
        IoU thresholds in ``(0, 1]``, shape ``(T,)``; ``None`` means COCO's
        ``0.50, 0.55, …, 0.95``.
    max_detections
        How many detections per image and class count, from the highest score down. The
        recall figures use at most this many as well.

    Returns
    -------
    MAPResult
        The twelve figures (``map``, ``map_50``, …, ``mar_large``), ``per_class`` and the
        per-threshold array ``ap``.

    Raises
    ------
    TypeError
        If ``predictions`` or ``targets`` is not a list of dicts, if an array is not numeric,
        if labels are not integers, or if ``max_detections`` is not an integer.
    ValueError
        If the two lists differ in length, a key is missing or unknown, boxes do not have shape
        ``(N, 4)``, the arrays of an image differ in length, a box or score is NaN or
        infinite, a box has ``x2 < x1`` or ``y2 < y1``, an area is NaN or negative, ``"iscrowd"``
        holds anything but 0 and 1, a label does not fit in int64, a threshold lies outside
        ``(0, 1]``, or ``max_detections`` is less than 1. Messages name the image, as in
        ``predictions[3]['boxes']: x2 < x1 in box 5``.

    See Also
    --------
    average_precision : the single-class, single-threshold building block.
    iou : the overlap used for matching.

    References
    ----------
    The COCO detection evaluation, https://cocodataset.org/#detection-eval, and its code,
    ``cocoeval.py`` in https://github.com/cocodataset/cocoapi.

    Examples
    --------
    >>> from conceptref.metrics import mean_average_precision
    >>> predictions = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]],
    ...                 "scores": [0.9, 0.8], "labels": [1, 1]}]
    >>> targets = [{"boxes": [[0, 0, 10, 9], [50, 50, 60, 60]], "labels": [1, 1]}]
    >>> result = mean_average_precision(predictions, targets)
    >>> round(result.map_50, 4), round(result.map_75, 4), round(result.map, 4)
    (0.505, 0.505, 0.4545)
    >>> {k: round(v, 4) for k, v in result.per_class.items()}
    {1: 0.4545}
    >>> round(result.mar_1, 4), round(result.mar_100, 4), round(result.map_small, 4)
    (0.45, 0.45, 0.4545)
    """
    return _evaluate(predictions, targets, iou_thresholds, max_detections, spec=False)


@dataclass(frozen=True)
class _Boxes:
    """The boxes of all images of one side, stacked: row ``i`` belongs to image ``image[i]``."""

    boxes: npt.NDArray[np.float64]  # (N, 4)
    labels: npt.NDArray[np.int64]  # (N,)
    image: npt.NDArray[np.int64]  # (N,)
    scores: npt.NDArray[np.float64]  # (N,), empty for ground truth
    area: npt.NDArray[np.float64]  # (N,) for the area ranges
    crowd: npt.NDArray[np.bool_]  # (N,), all False for detections


@dataclass(frozen=True)
class _Groups:
    """The inputs of matching, sorted by group (class and image).

    Detections go by decreasing score within a group, ground truth in input order. Boxes are
    as given.
    """

    det_boxes: npt.NDArray[np.float64]  # (D, 4)
    det_group: npt.NDArray[np.int64]  # (D,)
    gt_boxes: npt.NDArray[np.float64]  # (G, 4)
    gt_group: npt.NDArray[np.int64]  # (G,)
    gt_crowd: npt.NDArray[np.bool_]  # (G,)
    gt_ignored: npt.NDArray[np.bool_]  # (G, A): ignored in each area range


@dataclass(frozen=True)
class _Matches:
    """The outcome of matching, per detection (in the order of :class:`_Groups`)."""

    det_class: npt.NDArray[np.int64]  # (D,)
    det_scores: npt.NDArray[np.float64]  # (D,)
    det_rank: npt.NDArray[np.int64]  # (D,) within its image and class
    state: npt.NDArray[np.int8]  # (D, A, T)
    counted: npt.NDArray[np.bool_]  # (D, A, T): a true or a false positive, not ignored
    n_gt: npt.NDArray[np.int64]  # (K, A): counted ground-truth boxes per class and area range


def _evaluate(
    predictions: Sequence[Mapping[str, npt.ArrayLike]],
    targets: Sequence[Mapping[str, npt.ArrayLike]],
    iou_thresholds: npt.ArrayLike | None,
    max_detections: int,
    *,
    spec: bool,
) -> MAPResult:
    """Validate, rank, match and summarize; by plain loops if ``spec`` (for the tests only)."""
    thresholds = _as_iou_thresholds(iou_thresholds)
    top = check_int(max_detections, "max_detections", Interval(1, None))
    check_sequence(predictions, "predictions", what="per-image dicts")
    check_sequence(targets, "targets", what="per-image dicts")
    if len(predictions) != len(targets):
        raise ValueError(
            "predictions and targets must hold one dict per image each, got "
            f"{len(predictions)} predictions and {len(targets)} targets"
        )
    n_images = len(targets)
    det = _flatten(predictions, "predictions", scored=True)
    gt = _flatten(targets, "targets", scored=False)

    # The classes are those with a ground-truth box counted in the area range "all". Any other
    # class has no AP in any area range (COCO's -1): its detections and boxes drop out.
    lo, hi = _AREA_RANGES[:, 0], _AREA_RANGES[:, 1]
    gt_ignored = gt.crowd[:, None] | (gt.area[:, None] < lo) | (gt.area[:, None] > hi)  # (G, A)
    classes = np.unique(gt.labels[~gt_ignored[:, 0]])
    det_class, det_keep = _class_index(classes, det.labels)
    gt_class, gt_keep = _class_index(classes, gt.labels)

    # Rank detections within each (class, image) by decreasing score, ties in input order,
    # and keep the best `top` of each. Ground truth of each (class, image) stays in input order.
    det_group = det_class * n_images + det.image
    order = np.flatnonzero(det_keep)
    order = order[np.lexsort((-det.scores[order], det_group[order]))]
    det_rank = _rank_in_runs(det_group[order])
    order, det_rank = order[det_rank < top], det_rank[det_rank < top]
    gt_group = gt_class * n_images + gt.image
    gt_order = np.flatnonzero(gt_keep)
    gt_order = gt_order[np.argsort(gt_group[gt_order], kind="stable")]

    limits = np.minimum(thresholds, 1 - 1e-10)  # COCO's cap: IoU 1 may be off by rounding
    match = _match_spec if spec else _match
    groups = _Groups(
        det_boxes=det.boxes[order],
        det_group=det_group[order],
        gt_boxes=gt.boxes[gt_order],
        gt_group=gt_group[gt_order],
        gt_crowd=gt.crowd[gt_order],
        gt_ignored=gt_ignored[gt_order],
    )
    state = match(groups, limits)  # (D, A, T)
    det_outside = (det.area[order, None] < lo) | (det.area[order, None] > hi)  # (D, A)
    counted = (state == _TRUE_POSITIVE) | ((state == _FALSE_POSITIVE) & ~det_outside[:, :, None])
    n_gt = np.zeros((classes.size, lo.size), np.int64)  # (K, A) counted boxes
    np.add.at(n_gt, gt_class[gt_keep], ~gt_ignored[gt_keep])
    accumulate = _accumulate_spec if spec else _accumulate
    matches = _Matches(det_class[order], det.scores[order], det_rank, state, counted, n_gt)
    precision, recall = accumulate(matches)  # (A, T, K, 101), (A, T, K, M) for M = 1, 10, 100
    ap = precision.mean(axis=-1)  # (A, T, K)
    valid = n_gt.T[:, None, :] > 0  # (A, 1, K)

    def mean(values: npt.NDArray[np.float64], area: int) -> float:
        """Mean over thresholds and the classes with counted boxes in the area range."""
        chosen = np.broadcast_to(valid[area], values.shape)
        return float(values[chosen].mean()) if chosen.any() else float("nan")

    at_50, at_75 = thresholds == 0.5, thresholds == 0.75
    per_class = {int(c): float(v) for c, v in zip(classes, ap[0].mean(axis=0), strict=True)}
    return MAPResult(
        map=mean(ap[0], 0),
        map_50=mean(ap[0][at_50], 0),
        map_75=mean(ap[0][at_75], 0),
        map_small=mean(ap[1], 1),
        map_medium=mean(ap[2], 2),
        map_large=mean(ap[3], 3),
        mar_1=mean(recall[0, ..., 0], 0),
        mar_10=mean(recall[0, ..., 1], 0),
        mar_100=mean(recall[0, ..., 2], 0),
        mar_small=mean(recall[1, ..., 2], 1),
        mar_medium=mean(recall[2, ..., 2], 2),
        mar_large=mean(recall[3, ..., 2], 3),
        per_class=per_class,
        classes=classes.astype(np.int64),
        iou_thresholds=thresholds,
        ap=ap[0],
    )


def _class_index(
    classes: npt.NDArray[np.int64], labels: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Index of each label in the sorted ``classes``, and whether the label is one of them."""
    index = np.searchsorted(classes, labels)
    known = index < classes.size
    known[known] = classes[index[known]] == labels[known]
    return np.where(known, index, 0), known


def _rank_in_runs(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Rank of each entry of the sorted ``keys`` within its run of equal keys (0, 1, 2, …)."""
    index = np.arange(keys.size)
    starts = np.ones(keys.size, dtype=np.bool_)
    starts[1:] = keys[1:] != keys[:-1]
    return index - np.maximum.accumulate(np.where(starts, index, 0))


def _match_spec(groups: _Groups, limits: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    """Match one detection at a time: the specification that :func:`_match` meets.

    Returns the state of every detection per area range and threshold, shape ``(D, A, T)``.
    """
    det_boxes, det_group, gt_boxes = groups.det_boxes, groups.det_group, groups.gt_boxes
    gt_group, gt_crowd, gt_ignored = groups.gt_group, groups.gt_crowd, groups.gt_ignored
    state = np.full((det_group.size, gt_ignored.shape[1], limits.size), _FALSE_POSITIVE, np.int8)
    for group in np.intersect1d(det_group, gt_group):
        dets, gts = np.flatnonzero(det_group == group), np.flatnonzero(gt_group == group)
        overlaps = _iou(det_boxes[dets], gt_boxes[gts], gt_crowd[gts])  # (n, m)
        for a in range(gt_ignored.shape[1]):
            ignored = gt_ignored[gts, a]
            for t, limit in enumerate(limits):
                taken = np.zeros(gts.size, dtype=np.bool_)
                for i, d in enumerate(dets):  # in decreasing score order
                    best = -1
                    for j in range(gts.size):
                        if taken[j] or overlaps[i, j] < limit:
                            continue
                        # A counted box beats an ignored one; then the higher IoU; on a tie,
                        # the later box (COCO's order).
                        if (
                            best < 0
                            or (ignored[best] and not ignored[j])
                            or (ignored[best] == ignored[j] and overlaps[i, j] >= overlaps[i, best])
                        ):
                            best = j
                    if best >= 0:
                        state[d, a, t] = _MATCHED_IGNORED if ignored[best] else _TRUE_POSITIVE
                        taken[best] = not gt_crowd[gts[best]]  # crowd regions stay available
    return state


def _match(groups: _Groups, limits: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    """:func:`_match_spec`, for all groups, area ranges and thresholds at once.

    Matching is sequential within a group, but the groups are independent, so every group takes
    its ``r``-th detection in the same step, for every area range and threshold together. Groups
    go in buckets of similar numbers of detections and of boxes (each padded to the next power
    of two), and IoUs are computed step by step, so memory stays proportional to the number of
    detections plus boxes.
    """
    det_boxes, det_group, gt_boxes = groups.det_boxes, groups.det_group, groups.gt_boxes
    gt_group, gt_crowd, gt_ignored = groups.gt_group, groups.gt_crowd, groups.gt_ignored
    n_areas, n_thresholds = gt_ignored.shape[1], limits.size
    state = np.full((det_group.size, n_areas, n_thresholds), _FALSE_POSITIVE, np.int8)
    gt_groups, gt_start, gt_count = np.unique(gt_group, return_index=True, return_counts=True)
    det_groups, det_start, det_count = np.unique(det_group, return_index=True, return_counts=True)
    _, gi, di = np.intersect1d(gt_groups, det_groups, assume_unique=True, return_indices=True)
    if gi.size == 0:
        return state
    gt_start, gt_count = gt_start[gi], gt_count[gi]
    # One zero box appended to the ground truth pads every group: its IoU with anything is 0.
    gt_pad = np.vstack([gt_boxes, np.zeros((1, 4))])
    crowd_pad = np.r_[gt_crowd, False]
    width = _next_power_of_two(gt_count)

    # A detection whose IoU with every box of its group stays below the lowest threshold is a
    # false positive wherever it comes in the order: only the others take part in the steps.
    group = np.repeat(np.arange(gi.size), det_count[di])  # (common) group of each row
    rows = det_start[di][group] + _rank_in_runs(group)  # the detections of those groups
    candidate = np.zeros(rows.size, dtype=np.bool_)
    for w in np.unique(width):
        mine = np.flatnonzero(width[group] == w)
        for chunk in np.array_split(mine, max(1, mine.size * int(w) // 2**20)):
            gt_index = gt_start[group[chunk]][:, None] + np.arange(w)  # (n, w)
            gt_index[np.arange(w) >= gt_count[group[chunk]][:, None]] = -1
            overlap = _iou(det_boxes[rows[chunk], None, :], gt_pad[gt_index], crowd_pad[gt_index])
            candidate[chunk] = overlap.max(axis=(1, 2)) >= limits.min()
    rows, group = rows[candidate], group[candidate]
    det_count = np.bincount(group, minlength=gi.size)
    det_start = np.cumsum(det_count) - det_count  # into `rows`
    busy = det_count > 0
    gt_start, gt_count, width = gt_start[busy], gt_count[busy], width[busy]
    det_start, det_count = det_start[busy], det_count[busy]
    if det_count.size == 0:
        return state
    depth = _next_power_of_two(det_count)
    ignored_pad = np.vstack([gt_ignored, np.zeros((1, n_areas), np.bool_)])
    limit = limits[None, None, :, None]  # (1, 1, T, 1)

    buckets = np.unique(np.stack([width, depth], axis=1), axis=0)
    for w, dep in buckets:
        members = np.flatnonzero((width == w) & (depth == dep))
        members = members[np.argsort(-det_count[members], kind="stable")]  # busiest first
        n_groups, n_ranks = members.size, int(det_count[members[0]])
        gt_index = gt_start[members][:, None] + np.arange(w)  # (G, w); -1 is the padding box
        gt_index[np.arange(w) >= gt_count[members][:, None]] = -1
        boxes = gt_pad[gt_index]  # (G, w, 4)
        crowd = crowd_pad[gt_index]  # (G, w)
        ignored = ignored_pad[gt_index].transpose(0, 2, 1)[:, :, None, :]  # (G, A, 1, w)
        taken = np.zeros((n_groups, n_areas, n_thresholds, w), dtype=np.bool_)
        active = n_groups - np.searchsorted(
            np.sort(det_count[members]), np.arange(n_ranks), "right"
        )
        for r in range(n_ranks):
            n = int(active[r])  # the groups that have an r-th detection come first
            d = rows[det_start[members[:n]] + r]
            overlap = _iou(det_boxes[d, None, :], boxes[:n], crowd[:n])[:, None, :, :]
            allowed = (overlap >= limit) & ~taken[:n]  # (n, A, T, w)
            counted = allowed & ~ignored[:n]
            has_counted = np.asarray(counted.any(axis=-1))  # (n, A, T)
            # A counted box beats an ignored one; among the candidates, the highest IoU, and on
            # a tie the later box: search reversed.
            choice = np.where(has_counted[..., None], counted, allowed)
            found = choice.any(axis=-1)
            best = w - 1 - np.where(choice, overlap, -1.0)[..., ::-1].argmax(axis=-1)  # (n, A, T)
            state[d] = np.where(found, np.where(has_counted, _TRUE_POSITIVE, _MATCHED_IGNORED), 0)
            g, a, t = np.nonzero(found)
            b = best[g, a, t]
            stays = ~crowd[g, b]  # crowd regions stay available
            taken[g[stays], a[stays], t[stays], b[stays]] = True
    return state


def _next_power_of_two(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the smallest power of two at least ``counts`` (which are at least 1)."""
    return np.left_shift(1, np.ceil(np.log2(counts)).astype(np.int64))


def _accumulate_spec(
    matches: _Matches,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Interpolated precision and final recall, one class, area range and threshold at a time.

    Detections come sorted by class, image and rank. Within a class they are ranked by score;
    ties go to the earlier image, then to the earlier rank (COCOeval's stable merge sort).
    Returns precision of shape ``(A, T, K, 101)`` and recall of shape ``(A, T, K, 3)`` for 1, 10
    and 100 detections per image and class.
    """
    det_class, det_scores, det_rank = matches.det_class, matches.det_scores, matches.det_rank
    state, counted, n_gt = matches.state, matches.counted, matches.n_gt
    n_classes, n_areas = n_gt.shape
    n_thresholds = state.shape[2]
    precision = np.zeros((n_areas, n_thresholds, n_classes, _COCO101_RECALLS.size))
    recall = np.zeros((n_areas, n_thresholds, n_classes, len(_RECALL_DETECTIONS)))
    for k in range(n_classes):
        rows = np.flatnonzero(det_class == k)
        rows = rows[np.argsort(-det_scores[rows], kind="stable")]
        for a in range(n_areas):
            if n_gt[k, a] == 0:
                continue
            for t in range(n_thresholds):
                mine = rows[counted[rows, a, t]]  # ignored detections drop out
                tp = np.cumsum(state[mine, a, t] == _TRUE_POSITIVE, dtype=np.float64)
                fp = np.arange(1, mine.size + 1) - tp
                p = tp / (tp + fp + np.spacing(1))  # COCO's expression, tiny guard included
                precision[a, t, k] = _interpolated_precision(tp / n_gt[k, a], p, _COCO101_RECALLS)
                for m, n in enumerate(_RECALL_DETECTIONS):
                    hits = (state[mine, a, t] == _TRUE_POSITIVE) & (det_rank[mine] < n)
                    recall[a, t, k, m] = hits.sum() / n_gt[k, a]
    return precision, recall


def _accumulate(
    matches: _Matches,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`_accumulate_spec` for all classes, area ranges and thresholds at once."""
    det_class, det_scores, det_rank = matches.det_class, matches.det_scores, matches.det_rank
    state, counted, n_gt = matches.state, matches.counted, matches.n_gt
    n_classes, n_areas = n_gt.shape
    n_thresholds = state.shape[2]
    columns = n_areas * n_thresholds
    # Detections come sorted by class, image and rank, so a stable sort on (class, score)
    # keeps that order among ties.
    order = np.lexsort((-det_scores, det_class))
    cls = det_class[order]
    hit = (state[order] == _TRUE_POSITIVE).reshape(-1, columns)  # (D, A*T)
    count = counted[order].reshape(-1, columns)
    start = np.searchsorted(cls, np.arange(n_classes))  # first row of each class
    zero = np.zeros((1, columns), np.int64)
    cum_tp = np.vstack([zero, np.cumsum(hit, axis=0)])
    cum_n = np.vstack([zero, np.cumsum(count, axis=0)])
    tp = (cum_tp[1:] - cum_tp[start][cls]).astype(np.float64)  # (D, A*T) within the class
    fp = (cum_n[1:] - cum_n[start][cls]) - tp
    total = np.repeat(n_gt, n_thresholds, axis=1)  # (K, A*T)
    with np.errstate(divide="ignore", invalid="ignore"):
        rec = tp / total[cls]
    prec = tp / (fp + tp + np.spacing(1))  # COCO's expression, tiny guard term included

    # The interpolated precision at level r is the best precision among points with recall
    # >= r. Only true positives can hold that best (a false positive has the recall and a lower
    # precision than the point before it). Record, for each, how many levels its recall reaches
    # (1 … 101), keep the best precision per count, then a running maximum from the top count
    # down gives every level its answer at once (0 where no point reaches it).
    row, col = np.nonzero(hit)
    reaches = np.searchsorted(_COCO101_RECALLS, rec[row, col], side="right")
    best = np.zeros((n_classes, columns, _COCO101_RECALLS.size + 1))
    np.maximum.at(best, (cls[row], col, reaches), prec[row, col])
    curve = np.maximum.accumulate(best[..., ::-1], axis=-1)[..., ::-1][..., 1:]  # (K, A*T, 101)
    precision = curve.reshape(n_classes, n_areas, n_thresholds, _COCO101_RECALLS.size)
    precision = precision.transpose(1, 2, 0, 3)

    found = np.zeros((n_classes, columns, len(_RECALL_DETECTIONS)))
    for m, n in enumerate(_RECALL_DETECTIONS):
        np.add.at(found[:, :, m], (cls[row], col), det_rank[order][row] < n)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = found / total[:, :, None]
    recall = recall.reshape(n_classes, n_areas, n_thresholds, len(_RECALL_DETECTIONS))
    recall = recall.transpose(1, 2, 0, 3)
    return precision, np.nan_to_num(recall)


_PREDICTION_KEYS = ("boxes", "scores", "labels")
_TARGET_KEYS = ("boxes", "labels")
_OPTIONAL_TARGET_KEYS = ("iscrowd", "area")


def _flatten(images: Sequence[Mapping[str, npt.ArrayLike]], name: str, *, scored: bool) -> _Boxes:
    """Check the per-image dicts and stack their arrays; errors name the image and the box."""
    keys = _PREDICTION_KEYS if scored else _TARGET_KEYS
    allowed = keys if scored else keys + _OPTIONAL_TARGET_KEYS
    boxes, labels, scores, areas, crowds = [], [], [], [], []
    for i, image in enumerate(images):
        where = f"{name}[{i}]"
        if not isinstance(image, Mapping):
            raise TypeError(f"{where} must be a dict with keys {keys}, got {type(image).__name__}")
        for key in keys:
            if key not in image:
                raise ValueError(f"{where} is missing the key {key!r}")
        for key in image:
            if key not in allowed:
                raise ValueError(
                    f"{where} has the unknown key {key!r}; the keys are {', '.join(allowed)}"
                )
        boxes.append(check_boxes(image["boxes"], f"{where}['boxes']", check_values=False))
        n = len(boxes[-1])
        labels.append(
            check_int_array(
                image["labels"], f"{where}['labels']", ndim=1, axes="(N,)", empty_any_dtype=True
            )
        )
        _check_length(where, n, "labels", len(labels[-1]))
        if scored:
            scores.append(_as_vector(image["scores"], f"{where}['scores']"))
            _check_length(where, n, "scores", len(scores[-1]))
        if "area" in image:
            # NaN is outside the interval; an infinite area is inside, simply "large".
            area = _as_vector(image["area"], f"{where}['area']", interval=Interval(0, None))
            _check_length(where, n, "area", len(area))
            areas.append(area)
        else:
            areas.append(np.full(n, np.nan))  # the box's area, filled in below
        if "iscrowd" in image:
            crowd = check_binary(
                image["iscrowd"], f"{where}['iscrowd']", ndim=1, axes="(N,)", empty_any_dtype=True
            )
            _check_length(where, n, "iscrowd", len(crowd))
            crowds.append(crowd)
        else:
            crowds.append(np.zeros(n, np.bool_))
    counts = np.array([len(b) for b in boxes], dtype=np.int64)
    stacked = _Boxes(
        boxes=np.concatenate(boxes) if boxes else np.empty((0, 4)),
        labels=np.concatenate(labels) if labels else np.empty(0, np.int64),
        image=np.repeat(np.arange(len(counts)), counts),
        scores=np.concatenate(scores) if scores else np.empty(0),
        area=np.concatenate(areas) if areas else np.empty(0),
        crowd=np.concatenate(crowds) if crowds else np.empty(0, np.bool_),
    )
    # Checking the values of all images at once is much faster than image by image.
    starts = np.cumsum(counts) - counts
    problem = find_bad_box(stacked.boxes)
    if problem is not None:
        row, what = problem
        i = int(stacked.image[row])
        raise ValueError(f"{name}[{i}]['boxes']: {what} in box {row - starts[i]}")
    finite = np.isfinite(stacked.scores)
    if not finite.all():
        row = int(np.argmin(finite))
        i = int(stacked.image[row])
        raise ValueError(f"{name}[{i}]['scores']: NaN or infinity in score {row - starts[i]}")
    default = np.isnan(stacked.area)
    stacked.area[default] = _box_area(stacked.boxes[default])
    return stacked


def _check_length(where: str, n: int, key: str, length: int) -> None:
    """Raise :class:`ValueError` unless the array ``key`` of an image holds one entry per box."""
    if length != n:
        raise ValueError(f"{where}: 'boxes' holds {n} boxes but {key!r} holds {length} {key}")


def _box_area(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Width times height, as COCO computes a detection's area; 0 for an empty box."""
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    with np.errstate(over="ignore"):  # a huge box has area inf, which is simply "large"
        return np.where((width > 0) & (height > 0), width * height, 0.0)


def _as_vector(
    value: object, name: str, *, interval: Interval | None = None
) -> npt.NDArray[np.float64]:
    """Return one value per box as a float64 array of shape ``(N,)``; finiteness is not checked."""
    return check_array(
        value, name, ndim=1, axes="(N,)", finite=False, empty_any_dtype=True, interval=interval
    )


# Coordinates below this size keep widths, heights and areas finite in float64.
_SAFE_EXPONENT = 500  # math.frexp(2.0**500)[1] == 501


def _scaled_pairs(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Scale each pair of boxes of ``a`` (..., N, 1, 4) and ``b`` (..., 1, M, 4) on its own.

    A pair with a coordinate of at least ``2**500`` is multiplied by the power of two that brings
    its largest coordinate below 1, so that its areas do not overflow to infinity (and its IoU
    to NaN). Powers of two scale exactly, and every other pair is left as it is, so one huge box
    does not shrink the boxes of the other pairs until their areas underflow to 0.
    """
    largest = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    if largest < 2.0**_SAFE_EXPONENT:
        return a, b
    exponent = np.maximum(
        np.frexp(np.abs(a).max(axis=-1))[1], np.frexp(np.abs(b).max(axis=-1))[1]
    )  # (..., N, M)
    shift = -np.where(exponent > _SAFE_EXPONENT, exponent, 0)[..., None]
    return np.ldexp(a, shift), np.ldexp(b, shift)


def _iou(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    crowd: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """IoU of boxes ``a`` of shape ``(..., N, 4)`` with ``b`` of shape ``(..., M, 4)``.

    Where ``crowd`` (broadcastable to ``(..., M)``) is true, the box of ``b`` is a crowd region
    and the union is replaced by the area of the box of ``a`` (COCO's rule). Pairs with huge
    coordinates are scaled first (:func:`_scaled_pairs`).
    """
    a, b = a[..., :, None, :], b[..., None, :, :]  # (..., N, 1, 4), (..., 1, M, 4)
    a, b = _scaled_pairs(a, b)
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])  # (..., N, M)
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.maximum(width, 0.0) * np.maximum(height, 0.0)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    if crowd is not None:
        union = np.where(crowd[..., None, :], area_a, union)
    ratio = np.divide(inter, union, out=np.zeros(inter.shape), where=inter > 0)
    return np.asarray(ratio, dtype=np.float64)


def _binary_inputs(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Check binary ``labels`` and ``scores``; return them as float64 arrays of 0/1 and scores."""
    # The type and shape of both first, then the values, so that the first fault is reported.
    truth = check_array(labels, "labels", ndim=1, axes="(n,)", finite=False, allow_bool=True)
    score = check_array(scores, "scores", ndim=1, axes="(n,)")
    if truth.shape != score.shape:
        raise ValueError(
            f"labels and scores must have the same length, got {truth.size} and {score.size}"
        )
    if truth.size == 0:
        raise ValueError("labels and scores must not be empty")
    positive = check_binary(truth, "labels").astype(np.float64)
    if not positive.any():
        raise ValueError("labels must hold at least one positive (1): recall would be 0/0")
    return positive, score


def _interpolated_precision(
    recall: npt.NDArray[np.float64],
    precision: npt.NDArray[np.float64],
    levels: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Best precision at recall >= each level, for points ordered by increasing recall.

    This is COCOeval.accumulate's rule: the precision envelope read at the first point whose
    recall reaches the level (``searchsorted`` on the left), and 0 where no point reaches it.
    """
    if recall.size == 0:
        return np.zeros(levels.shape)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    first = np.searchsorted(recall, levels, side="left")
    reached = first < recall.size
    return np.where(reached, envelope[np.minimum(first, recall.size - 1)], 0.0)


def _as_iou_thresholds(value: npt.ArrayLike | None) -> npt.NDArray[np.float64]:
    """Return the IoU thresholds as a float64 vector in ``(0, 1]``; ``None`` gives COCO's."""
    if value is None:
        return _COCO_IOU_THRESHOLDS.copy()
    thresholds = check_array(
        value, "iou_thresholds", ndim=1, non_empty=True, interval=Interval(0, 1, "right")
    )
    return thresholds.copy()  # the result keeps them: never a view of the caller's array
