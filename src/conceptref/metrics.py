"""Precision-recall curves, average precision and COCO-style mean average precision, in NumPy.

This module is the reference implementation behind the page
:doc:`/concepts/mean-average-precision`. ``tests/test_metrics.py`` checks it against independent
oracles: :func:`precision_recall_curve` and :func:`average_precision` (``method="step"``) against
:func:`sklearn.metrics.precision_recall_curve` and :func:`sklearn.metrics.average_precision_score`;
the interpolated methods (``"voc11"``, ``"voc"``, ``"coco101"``) against small loop-based
implementations of the PASCAL VOC and COCO rules; :func:`iou` against :func:`pycocotools.mask.iou`;
and :func:`mean_average_precision` against pycocotools' ``COCOeval`` (``iouType="bbox"``).

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

from conceptref._validation import as_positive_int, as_real_array, check_real_dtype

__all__ = [
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
    a = _as_boxes(boxes1, "boxes1")
    b = _as_boxes(boxes2, "boxes2")
    for boxes, name in ((a, "boxes1"), (b, "boxes2")):
        _check_boxes(boxes, name)
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
        As :func:`precision_recall_curve`.
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
    if method not in _METHODS:
        valid = ", ".join(repr(m) for m in _METHODS)
        raise ValueError(f"method must be one of {valid}, got {method!r}")
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
    """The result of :func:`mean_average_precision`.

    Attributes
    ----------
    map
        AP averaged over every IoU threshold and every class (COCO's headline "AP", which is
        AP@[.50:.95] for the default thresholds). NaN when the ground truth holds no box.
    map_50
        AP at IoU 0.5, averaged over the classes; NaN if 0.5 is not among the thresholds.
    map_75
        AP at IoU 0.75, averaged over the classes; NaN if 0.75 is not among the thresholds.
    per_class
        For each class that occurs in the ground truth, its AP averaged over the thresholds.
    classes
        Those classes in increasing order, an integer array of shape ``(K,)``.
    iou_thresholds
        The IoU thresholds, float64 of shape ``(T,)``.
    ap
        AP per threshold and class, float64 of shape ``(T, K)``: ``ap[t, k]`` is COCO's
        ``eval["precision"][t, :, k, 0, -1].mean()``.
    """

    map: float
    map_50: float
    map_75: float
    per_class: dict[int, float]
    classes: npt.NDArray[np.int64]
    iou_thresholds: npt.NDArray[np.float64]
    ap: npt.NDArray[np.float64]


def mean_average_precision(
    predictions: Sequence[Mapping[str, npt.ArrayLike]],
    targets: Sequence[Mapping[str, npt.ArrayLike]],
    *,
    iou_thresholds: npt.ArrayLike | None = None,
    max_detections: int = 100,
) -> MAPResult:
    r"""COCO's mean average precision for box detection, as pycocotools computes it.

    For every class :math:`k` and IoU threshold :math:`t`, the detections of class :math:`k` in
    all images, ranked by score, give a precision-recall curve, and :math:`AP_{t,k}` is its
    101-point interpolated average precision (``method="coco101"`` of
    :func:`average_precision`, with one point per detection). Then

    .. math:: \text{mAP} = \frac{1}{|T|\,|K|} \sum_{t \in T} \sum_{k \in K} AP_{t,k} .

    A detection is a true positive at threshold :math:`t` if it is matched to a ground-truth box:
    in each image and class, detections are taken in decreasing score order, and each is matched
    to the not yet matched ground-truth box of the same class with the highest IoU, if that IoU is
    at least :math:`t`. Each ground-truth box is matched at most once; unmatched detections are
    false positives. The result equals ``COCOeval`` (``iouType="bbox"``, area range ``"all"``,
    the largest ``maxDets``) on data without crowd boxes, including its fine print:

    * only the ``max_detections`` highest-scoring detections per image and class count;
    * tied scores keep their input order within an image, and across images the earlier image
      comes first; among ground-truth boxes with equal IoU, the later one is matched;
    * a threshold of 1 accepts IoU :math:`\ge 1 - 10^{-10}`, so that identical boxes match;
    * a class absent from the ground truth of every image is left out of the mean, and
      detections of it are ignored; a class with ground truth but no detection has AP 0;
    * an image without ground truth still counts: its detections are false positives.

    COCO's area range "all" actually ends at an area of :math:`10^{10}`; boxes larger than
    that, which COCO would ignore, count here like any other. COCO reports -1 where this
    function returns NaN.

    Parameters
    ----------
    predictions
        One dict per image with ``"boxes"`` (shape ``(N, 4)``, ``(x1, y1, x2, y2)``),
        ``"scores"`` (shape ``(N,)``) and integer ``"labels"`` (shape ``(N,)``). Arrays, lists
        and CPU tensors all work.
    targets
        One dict per image, in the same order, with ``"boxes"`` and ``"labels"``.
    iou_thresholds
        IoU thresholds in ``(0, 1]``, shape ``(T,)``; ``None`` means COCO's
        ``0.50, 0.55, …, 0.95``.
    max_detections
        How many detections per image and class count, from the highest score down.

    Returns
    -------
    MAPResult
        ``map``, ``map_50``, ``map_75``, ``per_class`` and the per-threshold array ``ap``.

    Raises
    ------
    TypeError
        If ``predictions`` or ``targets`` is not a list of dicts, if an array is not numeric,
        if labels are not integers, or if ``max_detections`` is not an integer.
    ValueError
        If the two lists differ in length, a key is missing, boxes do not have shape
        ``(N, 4)``, boxes, scores and labels of an image differ in length, a box or score is
        NaN or infinite, a box has ``x2 < x1`` or ``y2 < y1``, a threshold lies outside
        ``(0, 1]``, or ``max_detections`` is less than 1. Messages name the image, as in
        ``predictions[3]['boxes']: x2 < x1 in box 5``.

    See Also
    --------
    average_precision : the single-class, single-threshold building block.
    iou : the overlap used for matching.

    References
    ----------
    T.-Y. Lin et al., "Microsoft COCO: Common objects in context", ECCV 2014; the evaluation code
    is ``cocoeval.py`` in https://github.com/cocodataset/cocoapi.

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
    """
    thresholds = _as_iou_thresholds(iou_thresholds)
    top = as_positive_int(max_detections, "max_detections")
    _check_image_list(predictions, "predictions")
    _check_image_list(targets, "targets")
    if len(predictions) != len(targets):
        raise ValueError(
            "predictions and targets must hold one dict per image each, got "
            f"{len(predictions)} predictions and {len(targets)} targets"
        )
    n_images = len(targets)
    det = _flatten(predictions, "predictions", scored=True)
    gt = _flatten(targets, "targets", scored=False)

    # Classes are those with ground truth somewhere; detections of any other class drop out.
    classes = np.unique(gt.labels)
    gt_class = np.searchsorted(classes, gt.labels)
    det_class = np.searchsorted(classes, det.labels)
    known = det_class < classes.size
    known[known] = classes[det_class[known]] == det.labels[known]
    det_class, det_image = det_class[known], det.image[known]
    det_boxes, det_scores = det.boxes[known], det.scores[known]

    # Rank detections within each (class, image) by decreasing score, ties in input order,
    # and keep the best `top` of each.
    det_group = det_class * n_images + det_image
    order = np.lexsort((-det_scores, det_group))
    det_rank = _rank_in_runs(det_group[order])
    keep = det_rank < top
    order, det_rank = order[keep], det_rank[keep]
    det_group, det_class, det_image = det_group[order], det_class[order], det_image[order]
    det_boxes, det_scores = det_boxes[order], det_scores[order]

    # Ground truth of each (class, image) in input order.
    gt_group = gt_class * n_images + gt.image
    gt_order = np.argsort(gt_group, kind="stable")
    gt_group, gt_boxes = gt_group[gt_order], gt.boxes[gt_order]

    hits = _match(det_boxes, det_group, det_rank, gt_boxes, gt_group, thresholds)  # (D, T)
    n_gt = np.bincount(gt_class, minlength=classes.size)
    precision = _coco_precision(det_class, det_scores, hits, n_gt)
    ap = precision.mean(axis=-1).T  # (T, K)

    per_class = {int(c): float(v) for c, v in zip(classes, ap.mean(axis=0), strict=True)}
    return MAPResult(
        map=_mean(ap),
        map_50=_mean(ap[np.abs(thresholds - 0.5) < 1e-9]),
        map_75=_mean(ap[np.abs(thresholds - 0.75) < 1e-9]),
        per_class=per_class,
        classes=classes.astype(np.int64),
        iou_thresholds=thresholds,
        ap=ap,
    )


@dataclass(frozen=True)
class _Boxes:
    """The boxes of all images of one side, stacked: row ``i`` belongs to image ``image[i]``."""

    boxes: npt.NDArray[np.float64]  # (N, 4)
    labels: npt.NDArray[np.int64]  # (N,)
    image: npt.NDArray[np.int64]  # (N,)
    scores: npt.NDArray[np.float64]  # (N,), empty for ground truth


def _check_image_list(images: object, name: str) -> None:
    """Raise :class:`TypeError` unless ``images`` is a list (or tuple) of per-image dicts."""
    if isinstance(images, str | bytes | Mapping) or not isinstance(images, Sequence):
        raise TypeError(
            f"{name} must be a list with one dict per image, got {type(images).__name__}"
        )


def _flatten(images: Sequence[Mapping[str, npt.ArrayLike]], name: str, *, scored: bool) -> _Boxes:
    """Check the per-image dicts and stack their arrays; errors name the image and the box."""
    keys = ("boxes", "scores", "labels") if scored else ("boxes", "labels")
    boxes, labels, scores = [], [], []
    for i, image in enumerate(images):
        where = f"{name}[{i}]"
        if not isinstance(image, Mapping):
            raise TypeError(f"{where} must be a dict with keys {keys}, got {type(image).__name__}")
        for key in keys:
            if key not in image:
                raise ValueError(f"{where} is missing the key {key!r}")
        boxes.append(_as_boxes(image["boxes"], f"{where}['boxes']"))
        labels.append(_as_labels(image["labels"], f"{where}['labels']"))
        if len(labels[-1]) != len(boxes[-1]):
            raise ValueError(
                f"{where}: 'boxes' holds {len(boxes[-1])} boxes but 'labels' holds "
                f"{len(labels[-1])} labels"
            )
        if scored:
            scores.append(_as_vector(image["scores"], f"{where}['scores']"))
            if len(scores[-1]) != len(boxes[-1]):
                raise ValueError(
                    f"{where}: 'boxes' holds {len(boxes[-1])} boxes but 'scores' holds "
                    f"{len(scores[-1])} scores"
                )
    counts = np.array([len(b) for b in boxes], dtype=np.int64)
    stacked = _Boxes(
        boxes=np.concatenate(boxes) if boxes else np.empty((0, 4)),
        labels=np.concatenate(labels) if labels else np.empty(0, np.int64),
        image=np.repeat(np.arange(len(counts)), counts),
        scores=np.concatenate(scores) if scores else np.empty(0),
    )
    # Checking the values of all images at once is much faster than image by image.
    starts = np.cumsum(counts) - counts
    problem = _box_problem(stacked.boxes)
    if problem is not None:
        row, what = problem
        i = int(stacked.image[row])
        raise ValueError(f"{name}[{i}]['boxes']: {what} in box {row - starts[i]}")
    finite = np.isfinite(stacked.scores)
    if not finite.all():
        row = int(np.argmin(finite))
        i = int(stacked.image[row])
        raise ValueError(f"{name}[{i}]['scores']: NaN or infinity in score {row - starts[i]}")
    return stacked


def _as_boxes(value: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """Return ``value`` as float64 boxes of shape ``(N, 4)`` (an empty list gives ``(0, 4)``)."""
    array = _as_array(value, name)
    if array.size == 0 and array.ndim == 1:
        return np.empty((0, 4))
    if array.dtype.kind not in "iuf":  # the quick test; check_real_dtype words the error
        check_real_dtype(array, name)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got shape {array.shape}")
    return array.astype(np.float64, copy=False)


def _as_vector(value: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """Return ``value`` as a one-dimensional float64 array (values are checked later)."""
    array = _as_array(value, name)
    if array.dtype.kind not in "iuf":
        check_real_dtype(array, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (N,), got shape {array.shape}")
    return array.astype(np.float64, copy=False)


def _as_labels(value: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    """Return ``value`` as a one-dimensional int64 array of class labels."""
    array = _as_array(value, name)
    if array.size == 0 and array.ndim == 1:
        return np.empty(0, np.int64)
    if array.dtype.kind not in "iu":  # booleans (kind "b") are not labels
        raise TypeError(f"{name} must be an array of integer class labels, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (N,), got shape {array.shape}")
    return array.astype(np.int64, copy=False)


def _as_array(value: npt.ArrayLike, name: str) -> npt.NDArray[np.generic]:
    """Return ``np.asarray(value)``, turning NumPy's error for ragged lists into a clear one."""
    try:
        return np.asarray(value)
    except ValueError as error:
        raise ValueError(f"{name} must be a rectangular array of numbers: {error}") from None


def _box_problem(boxes: npt.NDArray[np.float64]) -> tuple[int, str] | None:
    """Return the first row of ``boxes`` that is not a valid box and what is wrong with it."""
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


def _check_boxes(boxes: npt.NDArray[np.float64], name: str) -> None:
    """Raise :class:`ValueError` naming the first invalid box in ``boxes``."""
    problem = _box_problem(boxes)
    if problem is not None:
        raise ValueError(f"{name}: {problem[1]} in box {problem[0]}")


def _iou(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IoU of boxes ``a`` of shape ``(..., N, 4)`` with ``b`` of shape ``(..., M, 4)``."""
    a, b = a[..., :, None, :], b[..., None, :, :]  # (..., N, 1, 4), (..., 1, M, 4)
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])  # (..., N, M)
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.maximum(width, 0.0) * np.maximum(height, 0.0)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    ratio = np.divide(inter, union, out=np.zeros(inter.shape), where=inter > 0)
    return np.asarray(ratio, dtype=np.float64)


def _binary_inputs(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Check binary ``labels`` and ``scores``; return them as float64 arrays of 0/1 and scores."""
    truth = _as_array(labels, "labels")
    if truth.dtype != np.bool_:
        check_real_dtype(truth, "labels")
    if truth.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (n,), got shape {truth.shape}")
    score = as_real_array(scores, "scores")
    if score.ndim != 1:
        raise ValueError(f"scores must be one-dimensional (n,), got shape {score.shape}")
    if truth.shape != score.shape:
        raise ValueError(
            f"labels and scores must have the same length, got {truth.size} and {score.size}"
        )
    positive = truth.astype(np.float64)
    wrong = (positive != 0) & (positive != 1)
    if wrong.any():
        raise ValueError(f"labels must hold only 0 and 1, got {truth[np.argmax(wrong)].item()!r}")
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
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    first = np.searchsorted(recall, levels, side="left")
    reached = first < recall.size
    return np.where(reached, envelope[np.minimum(first, recall.size - 1)], 0.0)


def _as_iou_thresholds(value: npt.ArrayLike | None) -> npt.NDArray[np.float64]:
    """Return the IoU thresholds as a float64 vector in ``(0, 1]``; ``None`` gives COCO's."""
    if value is None:
        return _COCO_IOU_THRESHOLDS.copy()
    thresholds = as_real_array(value, "iou_thresholds")
    if thresholds.ndim != 1 or thresholds.size == 0:
        raise ValueError(
            f"iou_thresholds must be a non-empty one-dimensional array, got shape "
            f"{thresholds.shape}"
        )
    outside = (thresholds <= 0) | (thresholds > 1)
    if outside.any():
        raise ValueError(f"iou_thresholds must lie in (0, 1], got {thresholds[np.argmax(outside)]}")
    return thresholds


def _rank_in_runs(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Rank of each entry of the sorted ``keys`` within its run of equal keys (0, 1, 2, …)."""
    index = np.arange(keys.size)
    starts = np.ones(keys.size, dtype=np.bool_)
    starts[1:] = keys[1:] != keys[:-1]
    return index - np.maximum.accumulate(np.where(starts, index, 0))


def _match(
    det_boxes: npt.NDArray[np.float64],
    det_group: npt.NDArray[np.int64],
    det_rank: npt.NDArray[np.int64],
    gt_boxes: npt.NDArray[np.float64],
    gt_group: npt.NDArray[np.int64],
    thresholds: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Greedy COCO matching: which detection is a true positive at which threshold, ``(D, T)``.

    Detections are sorted by group (class and image) and rank within it; ground truth by group.
    Matching is sequential within a group, but the groups are independent, so every group takes
    its ``r``-th detection in the same step. Groups are processed in buckets of similar numbers
    of ground-truth boxes (padded to a power of two), so that little padding is wasted.
    """
    limit = np.minimum(thresholds, 1 - 1e-10)  # COCO's cap: IoU 1 may be off by rounding
    hits = np.zeros((det_group.size, thresholds.size), dtype=np.bool_)
    groups, gt_start, gt_count = np.unique(gt_group, return_index=True, return_counts=True)
    if groups.size == 0 or det_group.size == 0:
        return hits
    det_slot = np.minimum(np.searchsorted(groups, det_group), groups.size - 1)
    det_slot[groups[det_slot] != det_group] = -1  # no ground truth: all false positives
    det_count = np.bincount(det_slot[det_slot >= 0], minlength=groups.size)
    width = 1 << np.ceil(np.log2(gt_count)).astype(np.int64)  # padded number of gt boxes
    # A zero box appended to both arrays: index -1 pads with a box that matches nothing.
    det_pad = np.vstack([det_boxes, np.zeros((1, 4))])
    gt_pad = np.vstack([gt_boxes, np.zeros((1, 4))])

    for w in np.unique(width[det_count > 0]):
        members = np.flatnonzero((width == w) & (det_count > 0))
        members = members[np.argsort(-det_count[members], kind="stable")]  # busiest first
        n_groups, n_ranks = members.size, int(det_count[members[0]])
        row = np.full(groups.size, -1)
        row[members] = np.arange(n_groups)

        # Index tables (group, rank) -> detection and (group, slot) -> gt box; -1 is padding.
        det_index = np.full((n_groups, n_ranks), -1)
        mine = np.flatnonzero(row[det_slot] >= 0)
        det_index[row[det_slot[mine]], det_rank[mine]] = mine
        gt_index = gt_start[members][:, None] + np.arange(w)  # (G, w)
        gt_index[np.arange(w) >= gt_count[members][:, None]] = -1
        overlaps = _iou(det_pad[det_index], gt_pad[gt_index])  # (G, R, w)

        matched = np.zeros((n_groups, n_ranks, thresholds.size), dtype=np.bool_)
        taken = np.zeros((n_groups, thresholds.size, w), dtype=np.bool_)  # gt already matched
        active = n_groups - np.cumsum(np.bincount(det_count[members], minlength=n_ranks + 1))
        for r in range(n_ranks):
            n = active[r]  # the groups that have an r-th detection come first
            overlap = overlaps[:n, r, None, :]  # (n, 1, w)
            allowed = (overlap >= limit[:, None]) & ~taken[:n]  # (n, T, w)
            # COCO keeps the highest IoU and, among equal ones, the last box: search reversed.
            best = w - 1 - np.where(allowed, overlap, -1.0)[..., ::-1].argmax(axis=-1)  # (n, T)
            found = allowed.any(axis=-1)  # (n, T)
            g, t = np.nonzero(found)
            taken[g, t, best[g, t]] = True
            matched[:n, r] = found
        valid = det_index >= 0
        hits[det_index[valid]] = matched[valid]
    return hits


def _coco_precision(
    det_class: npt.NDArray[np.int64],
    det_scores: npt.NDArray[np.float64],
    hits: npt.NDArray[np.bool_],
    n_gt: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """COCO's interpolated precision at 101 recall levels, shape ``(K, T, 101)``.

    Within each class, detections are ranked by score; ties go to the earlier image, then to
    the earlier rank within the image (COCOeval's stable merge sort over images in order).
    """
    n_classes, n_thresholds = n_gt.size, hits.shape[1]
    # The detections come sorted by class, image and rank, so a stable sort on (class, score)
    # keeps that order among ties.
    order = np.lexsort((-det_scores, det_class))
    cls, hits = det_class[order], hits[order]
    start = np.searchsorted(cls, np.arange(n_classes))  # first row of each class
    cumulative = np.vstack([np.zeros((1, n_thresholds), np.int64), np.cumsum(hits, axis=0)])
    tp = (cumulative[1:] - cumulative[start][cls]).astype(np.float64)  # (D, T) within class
    fp = (np.arange(cls.size) - start[cls] + 1)[:, None] - tp
    recall = tp / n_gt[cls][:, None]
    precision = tp / (fp + tp + np.spacing(1))  # COCO's expression, tiny guard term included

    # The interpolated precision at level r is the best precision among points with recall
    # >= r. Record, for every point, how many levels its recall reaches (1 … 101); keep the
    # best precision per count; then a running maximum from the top count down gives every
    # level its answer at once (0 where no point reaches it).
    reaches = np.searchsorted(_COCO101_RECALLS, recall, side="right")  # (D, T)
    best = np.zeros((n_classes, n_thresholds, _COCO101_RECALLS.size + 1))
    np.maximum.at(best, (cls[:, None], np.arange(n_thresholds), reaches), precision)
    return np.maximum.accumulate(best[..., ::-1], axis=-1)[..., ::-1][..., 1:]


def _mean(values: npt.NDArray[np.float64]) -> float:
    """Mean of ``values``, or NaN when there are none (where COCO reports -1)."""
    return float(values.mean()) if values.size else float("nan")
