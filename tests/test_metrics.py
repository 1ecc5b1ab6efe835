"""conceptref.metrics against scikit-learn, pycocotools and loop-based references, and bad input."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conceptref.metrics import (
    STATS_NAMES,
    _evaluate,
    average_precision,
    iou,
    mean_average_precision,
    precision_recall_curve,
)
from helpers import ATOL, bad, bad_input_test, hostile, hostile_input_test, lazy

mask_utils = lazy("pycocotools.mask")
COCO = lazy("pycocotools.coco", "COCO")
COCOeval = lazy("pycocotools.cocoeval", "COCOeval")
skm = lazy("sklearn.metrics")

COCO_ATOL = 1e-9
SEEDS = range(2)


# --- binary curves: scikit-learn and loop-based references -----------------------------------


def random_binary(seed: int, n: int, decimals: int | None = 1) -> tuple[np.ndarray, np.ndarray]:
    """Labels with at least one positive, and scores with many ties when rounded."""
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < rng.uniform(0.1, 0.9)
    labels[rng.integers(n)] = True
    scores = rng.random(n) + 0.4 * labels  # informative but imperfect
    return labels.astype(int), scores if decimals is None else np.round(scores, decimals)


def reference_points(labels, scores) -> list[tuple[float, float]]:
    """(recall, precision) at each distinct threshold from the highest down, by counting."""
    positives = sum(labels)
    points = []
    for threshold in sorted(set(scores.tolist()), reverse=True):
        chosen = [y for y, s in zip(labels, scores, strict=True) if s >= threshold]
        points.append((sum(chosen) / positives, sum(chosen) / len(chosen)))
    return points


def reference_voc(points) -> float:
    """All-point interpolation, written like the VOC2010 devkit (sentinels, backward loop)."""
    mrec = [0.0] + [r for r, _ in points] + [1.0]
    mpre = [0.0] + [p for _, p in points] + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum(
        (mrec[i + 1] - mrec[i]) * mpre[i + 1]
        for i in range(len(mrec) - 1)
        if mrec[i + 1] != mrec[i]
    )


def reference_sampled(points, levels) -> float:
    """Mean over recall levels of the best precision at recall >= level (VOC2007 / COCO)."""
    total = 0.0
    for level in levels:
        reached = [p for r, p in points if r >= level]
        total += max(reached) if reached else 0.0
    return total / len(levels)


REFERENCES = {
    "voc": reference_voc,
    "voc11": lambda pts: reference_sampled(pts, np.arange(0.0, 1.1, 0.1)),  # VOC2007 devkit
    "coco101": lambda pts: reference_sampled(pts, np.linspace(0.0, 1.0, 101)),  # COCOeval
}


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize("n", [1, 7, 300])
@pytest.mark.parametrize("decimals", [1, None])
def test_precision_recall_curve_matches_sklearn(seed, n, decimals):
    labels, scores = random_binary(seed, n, decimals)
    ours = precision_recall_curve(labels, scores)
    theirs = skm.precision_recall_curve(labels, scores)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize("n", [1, 7, 300])
@pytest.mark.parametrize("decimals", [1, 2, None])
def test_step_average_precision_matches_sklearn(seed, n, decimals):
    labels, scores = random_binary(seed, n, decimals)
    expected = skm.average_precision_score(labels, scores)
    assert average_precision(labels, scores) == pytest.approx(expected, abs=ATOL)


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize("n", [1, 10, 200])
@pytest.mark.parametrize("method", ["voc", "voc11", "coco101"])
def test_interpolated_methods_match_loop_references(seed, n, method):
    labels, scores = random_binary(seed, n, 1)
    expected = REFERENCES[method](reference_points(labels, scores))
    assert average_precision(labels, scores, method=method) == pytest.approx(expected, abs=ATOL)


# labels, scores, {method: AP worked out by hand}
HAND_CASES = [
    # Ranking + - + - +: points (1/3, 1), (1/3, 1/2), (2/3, 2/3), (2/3, 1/2), (1, 3/5).
    (
        [1, 0, 1, 0, 1],
        [0.9, 0.8, 0.7, 0.6, 0.5],
        {
            "step": 1 / 3 + 2 / 9 + 1 / 5,
            "voc": 1 / 3 + 2 / 9 + 1 / 5,
            "voc11": (4 * 1 + 3 * 2 / 3 + 4 * 3 / 5) / 11,  # levels 0-.3, .4-.6, .7-1
            "coco101": (34 * 1 + 33 * 2 / 3 + 34 * 3 / 5) / 101,  # levels 0-.33, .34-.66, .67-1
        },
    ),
    # - + +: precision rises from 1/2 to 2/3, so the envelope lifts the first step.
    (
        [0, 1, 1],
        [0.9, 0.8, 0.7],
        {"step": 1 / 4 + 1 / 3, "voc": 2 / 3, "voc11": 2 / 3, "coco101": 2 / 3},
    ),
    # A perfect ranking, and a tie of everything (one point: precision 1/2 at recall 1).
    ([1, 1, 0], [3.0, 2.0, 1.0], dict.fromkeys(["step", "voc", "voc11", "coco101"], 1.0)),
    ([1, 0], [0.5, 0.5], dict.fromkeys(["step", "voc", "voc11", "coco101"], 0.5)),
    # Recall reaches exactly 3/10, which is below the float level 0.30000000000000004.
    (
        [1, 1, 1] + [0] * 3 + [1] * 7,
        [9, 8, 7] + [6] * 3 + [1] * 7,
        {"voc11": (3 * 1 + 8 * 10 / 13) / 11},  # not (4 * 1 + 7 * 10 / 13) / 11
    ),
]


@pytest.mark.parametrize(("labels", "scores", "expected"), HAND_CASES)
def test_hand_computed_cases(labels, scores, expected):
    for method, value in expected.items():
        assert average_precision(labels, scores, method=method) == pytest.approx(value, abs=ATOL)


def test_voc_is_at_least_step_and_bool_labels_work():
    labels, scores = random_binary(0, 100)
    assert average_precision(labels.astype(bool), scores, method="voc") >= average_precision(
        labels, scores
    )


# --- IoU against pycocotools -----------------------------------------------------------------


def random_boxes(rng: np.random.Generator, n: int, *, grid: bool = False) -> np.ndarray:
    """Boxes (x1, y1, x2, y2) in a 100 x 100 image; some have zero width or height."""
    xy = rng.uniform(0, 80, (n, 2))
    wh = rng.uniform(0, 30, (n, 2)) * (rng.random((n, 2)) > 0.05)
    boxes = np.hstack([xy, xy + wh])
    return np.round(boxes) if grid else boxes


def xywh(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.hstack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "m"), [(1, 1), (5, 7), (40, 30)])
@pytest.mark.parametrize("grid", [False, True])
def test_iou_matches_pycocotools(seed, n, m, grid):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, n, grid=grid), random_boxes(rng, m, grid=grid)
    expected = mask_utils.iou(xywh(a), xywh(b), np.zeros(m, dtype=np.uint8))
    np.testing.assert_allclose(iou(a, b), expected, rtol=0, atol=ATOL)


def test_iou_of_zero_area_boxes_is_zero_and_empty_inputs_work():
    point, segment = [3.0, 3.0, 3.0, 3.0], [0.0, 1.0, 5.0, 1.0]
    assert iou([point, segment], [point, segment, [0, 0, 5, 5]]).tolist() == [[0.0] * 3] * 2
    assert iou(np.empty((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    assert iou([[0, 0, 1, 1]], []).shape == (1, 0)


# --- mean average precision against COCOeval -------------------------------------------------


def synthetic_set(
    seed: int,
    n_images: int = 12,
    n_classes: int = 4,
    *,
    decimals: int | None = None,
    grid: bool = False,
    crowded: int = 0,
) -> tuple[list[dict], list[dict]]:
    """Detections as jittered copies of the ground truth plus false positives.

    Built in: images without ground truth, an image without detections, class ``n_classes - 1``
    in the ground truth but never detected, class ``n_classes`` detected but never in the ground
    truth, zero-area boxes, duplicate detections, and optionally ``crowded`` extra detections of
    class 0 in image 0 (to exceed ``max_detections``), scores rounded to ``decimals`` (ties) and
    coordinates rounded to integers (equal IoUs, IoUs exactly at a threshold).
    """
    rng = np.random.default_rng(seed)
    predictions, targets = [], []
    for i in range(n_images):
        n_gt = 0 if i % 5 == 1 else int(rng.integers(1, 7))
        gt = random_boxes(rng, n_gt, grid=grid)
        gt_labels = rng.integers(0, n_classes, n_gt)
        copies = rng.integers(0, 3, n_gt)  # 0, 1 or 2 detections per object
        source = np.repeat(np.arange(n_gt), copies)
        size = (gt[source, 2:] - gt[source, :2]).repeat(2, axis=1)
        det = gt[source] + rng.normal(0, 0.12, (source.size, 4)) * (size + 1)
        det_labels = np.where(rng.random(source.size) < 0.9, gt_labels[source], 0)
        n_fp = int(rng.integers(0, 5))
        det = np.vstack([det, random_boxes(rng, n_fp)])
        det_labels = np.r_[det_labels, rng.integers(0, n_classes + 1, n_fp)]
        if i == 0 and crowded:
            det = np.vstack([det, random_boxes(rng, crowded)])
            det_labels = np.r_[det_labels, np.zeros(crowded, dtype=int)]
        det = np.hstack([np.minimum(det[:, :2], det[:, 2:]), np.maximum(det[:, :2], det[:, 2:])])
        if grid:
            det = np.round(det)
        keep = (det_labels != n_classes - 1) & (i != 2)  # class never detected; bare image
        det, det_labels = det[keep], det_labels[keep]
        scores = rng.uniform(0.01, 0.99, det_labels.size)
        if decimals is not None:
            scores = np.round(scores, decimals)
        predictions.append({"boxes": det, "scores": scores, "labels": det_labels})
        targets.append({"boxes": gt, "labels": gt_labels})
    return predictions, targets


def coco_objects(predictions, targets) -> tuple[COCO, COCO]:
    """COCO ground truth and results in memory: image ids 1…N in list order, xywh boxes.

    Crowd flags and areas come from the targets when given (area defaults to the box's area);
    detections get what ``COCO.loadRes`` gives them (area w * h, ids from 1, not crowd).
    """
    categories = sorted(
        {int(c) for image in (*predictions, *targets) for c in np.asarray(image["labels"])}
    )
    annotations = []
    for i, target in enumerate(targets):
        boxes = xywh(target["boxes"])
        n = len(boxes)
        crowd = np.asarray(target.get("iscrowd", np.zeros(n)), dtype=int).reshape(n)
        area = np.asarray(target.get("area", boxes[:, 2] * boxes[:, 3]), float).reshape(n)
        for box, label, c, a in zip(boxes, np.asarray(target["labels"]), crowd, area, strict=True):
            annotations.append(
                {"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(label),
                 "bbox": box.tolist(), "area": float(a), "iscrowd": int(c)}
            )  # fmt: skip
    results = [
        {"image_id": i + 1, "category_id": int(label), "bbox": box.tolist(), "score": float(s)}
        for i, p in enumerate(predictions)
        for box, s, label in zip(
            xywh(p["boxes"]), np.asarray(p["scores"]), np.asarray(p["labels"]), strict=True
        )
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": [{"id": i + 1} for i in range(len(targets))],
            "annotations": annotations,
            "categories": [{"id": c} for c in categories],
        }
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # loadRes cannot take an empty list
            dt = COCO()
            dt.dataset = {**gt.dataset, "annotations": []}
            dt.createIndex()
    return gt, dt


def summarize(evaluator: COCOeval, ap: bool, iou=None, area="all", max_det=100) -> float:
    """COCOeval._summarize's mean, for any maxDets (NaN where COCO says -1)."""
    p = evaluator.params
    a = p.areaRngLbl.index(area)
    m = list(p.maxDets).index(max_det)
    s = evaluator.eval["precision" if ap else "recall"]
    if iou is not None:
        s = s[np.flatnonzero(p.iouThrs == iou)]
    s = s[..., a, m]
    return float(np.mean(s[s > -1])) if (s > -1).any() else float("nan")


def coco_reference(predictions, targets, iou_thresholds=None, max_detections=100) -> dict:
    """COCOeval's twelve stats (read from eval[...] for other maxDets) and per-class AP."""
    names = [
        "map", "map_50", "map_75", "map_small", "map_medium", "map_large",
        "mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large",
    ]  # fmt: skip
    if not targets:  # COCOeval needs an image
        return {**dict.fromkeys(names, float("nan")), "per_class": {}}
    gt, dt = coco_objects(predictions, targets)
    evaluator = COCOeval(gt, dt, iouType="bbox")
    if iou_thresholds is not None:
        evaluator.params.iouThrs = np.asarray(iou_thresholds, dtype=np.float64)
    top = max_detections
    recall_at = [min(n, top) for n in (1, 10, 100)]
    evaluator.params.maxDets = sorted({*recall_at, top})
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
        evaluator.accumulate()
    args = [
        (True, None, "all", top), (True, 0.5, "all", top), (True, 0.75, "all", top),
        (True, None, "small", top), (True, None, "medium", top), (True, None, "large", top),
        (False, None, "all", recall_at[0]), (False, None, "all", recall_at[1]),
        (False, None, "all", recall_at[2]), (False, None, "small", recall_at[2]),
        (False, None, "medium", recall_at[2]), (False, None, "large", recall_at[2]),
    ]  # fmt: skip
    result = {name: summarize(evaluator, *a) for name, a in zip(names, args, strict=True)}
    if iou_thresholds is None and max_detections == 100:  # the stats COCO itself prints
        with contextlib.redirect_stdout(io.StringIO()):
            evaluator.summarize()
        stats = np.where(evaluator.stats == -1, np.nan, evaluator.stats)
        np.testing.assert_allclose([result[n] for n in names], stats, rtol=0, atol=1e-15)
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # (T, R, K), area "all"
    result["per_class"] = {
        c: float(precision[:, :, k].mean())
        for k, c in enumerate(evaluator.params.catIds)
        if (precision[:, :, k] > -1).any()
    }
    return result


def assert_matches_coco(predictions, targets, **kwargs) -> None:
    ours = mean_average_precision(predictions, targets, **kwargs)
    theirs = coco_reference(predictions, targets, **kwargs)
    for name in STATS_NAMES:
        np.testing.assert_allclose(
            getattr(ours, name), theirs[name], rtol=0, atol=COCO_ATOL, err_msg=name
        )
    assert ours.per_class.keys() == theirs["per_class"].keys()
    for c, value in theirs["per_class"].items():
        assert ours.per_class[c] == pytest.approx(value, abs=COCO_ATOL), c


COCO_CASES = {
    "continuous": {},
    "tied scores": {"decimals": 1},
    "integer grid": {"grid": True},
    "grid and ties": {"grid": True, "decimals": 1},
    "many classes": {"n_classes": 9, "n_images": 20},
    "crowded image": {"crowded": 130, "decimals": 2},
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", COCO_CASES)
def test_map_matches_cocoeval(seed, case):
    predictions, targets = synthetic_set(seed, **COCO_CASES[case])
    assert_matches_coco(predictions, targets)


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize(
    ("iou_thresholds", "max_detections"),
    [(None, 1), (None, 3), ([0.3, 0.5, 0.75], 100), ([0.1, 0.5, 1.0], 2), ([0.75, 0.6], 10)],
)
def test_map_matches_cocoeval_with_other_parameters(seed, iou_thresholds, max_detections):
    predictions, targets = synthetic_set(seed, decimals=1, grid=True, crowded=12)
    assert_matches_coco(
        predictions, targets, iou_thresholds=iou_thresholds, max_detections=max_detections
    )


def test_equal_iou_goes_to_the_later_ground_truth_box():
    # The first detection overlaps both boxes with IoU 1/2; COCO matches it to the later one,
    # which leaves the second detection (a copy of that later box) without a match.
    targets = [{"boxes": [[0, 0, 2, 4], [0, 0, 4, 2]], "labels": [0, 0]}]
    predictions = [{"boxes": [[0, 0, 2, 2], [0, 0, 4, 2]], "scores": [0.9, 0.8], "labels": [0, 0]}]
    result = mean_average_precision(predictions, targets, iou_thresholds=[0.5])
    assert result.map == pytest.approx(51 / 101, abs=ATOL)  # recall 1/2 at precision 1 only
    assert_matches_coco(predictions, targets, iou_thresholds=[0.5])


def test_identical_boxes_match_at_threshold_one():
    box = [[0.1, 0.2, 0.7, 0.9]]
    result = mean_average_precision(
        [{"boxes": box, "scores": [0.5], "labels": [3]}],
        [{"boxes": box, "labels": [3]}],
        iou_thresholds=[1.0],
    )
    assert result.map == pytest.approx(1.0, abs=ATOL)  # COCO's 0/0 guard costs one ulp
    assert np.isnan(result.map_50)
    assert np.isnan(result.map_75)


def test_result_fields_and_classes():
    predictions, targets = synthetic_set(0)
    result = mean_average_precision(predictions, targets)
    assert result.ap.shape == (10, result.classes.size)
    np.testing.assert_allclose(result.iou_thresholds, np.linspace(0.5, 0.95, 10))
    assert result.map == pytest.approx(float(result.ap.mean()), abs=ATOL)
    assert result.map_50 == pytest.approx(float(result.ap[0].mean()), abs=ATOL)
    assert 4 not in result.per_class  # detected, but never in the ground truth
    assert result.per_class[3] == 0.0  # in the ground truth, never detected


def test_without_ground_truth_the_mean_is_nan():
    predictions = [{"boxes": [[0, 0, 1, 1]], "scores": [0.5], "labels": [0]}]
    result = mean_average_precision(predictions, [{"boxes": [], "labels": []}])
    assert np.isnan(result.map)
    assert result.per_class == {}
    assert np.isnan(mean_average_precision([], []).map)


@pytest.mark.parametrize("seed", SEEDS)
def test_image_order_and_class_names_do_not_matter_without_ties(seed):
    predictions, targets = synthetic_set(seed)
    result = mean_average_precision(predictions, targets)
    perm = np.random.default_rng(seed).permutation(len(targets))
    renamed = [{**d, "labels": 10 * np.asarray(d["labels"]) + 7} for d in predictions]
    retargets = [{**d, "labels": 10 * np.asarray(d["labels"]) + 7} for d in targets]
    other = mean_average_precision([renamed[i] for i in perm], [retargets[i] for i in perm])
    assert other.map == pytest.approx(result.map, abs=ATOL)
    assert list(other.per_class) == [10 * c + 7 for c in result.per_class]


def test_accepts_tensors_lists_and_tuples():
    predictions, targets = synthetic_set(1)
    expected = mean_average_precision(predictions, targets).map
    as_tensors = [{k: torch.as_tensor(v) for k, v in d.items()} for d in predictions]
    as_lists = [{k: np.asarray(v).tolist() for k, v in d.items()} for d in targets]
    assert mean_average_precision(tuple(as_tensors), as_lists).map == expected
    empty = {"boxes": torch.zeros((0, 4)), "labels": torch.zeros(0, dtype=torch.int64)}
    assert mean_average_precision([{**empty, "scores": torch.zeros(0)}], [empty]).per_class == {}


def test_inputs_are_not_modified():
    predictions, targets = synthetic_set(2, decimals=1)
    copies = [{k: np.array(v, copy=True) for k, v in d.items()} for d in (*predictions, *targets)]
    mean_average_precision(predictions, targets)
    for original, copy in zip((*predictions, *targets), copies, strict=True):
        for key, value in copy.items():
            np.testing.assert_array_equal(original[key], value)


# --- properties on generated inputs (hypothesis) ---------------------------------------------

# Coordinates on a grid of 16 and sides from 0 to 112, so that IoUs tie, boxes repeat, and
# every COCO size class occurs (32 x 32 = 1024 is both "small" and "medium").
SIDES = (0, 8, 16, 32, 48, 96, 112)
SCORES = (0.1, 0.3, 0.5, 0.5, 0.7, 0.9)  # few values: ties
AREAS = (0.0, 500.0, 1024.0, 5000.0, 9216.0, 20000.0)  # "area" overrides, bounds included


@st.composite
def grid_boxes(draw, n: int) -> list[list[float]]:
    boxes = []
    for _ in range(n):
        x, y = draw(st.integers(0, 6)) * 16, draw(st.integers(0, 6)) * 16
        w, h = draw(st.sampled_from(SIDES)), draw(st.sampled_from(SIDES))
        boxes.append([float(x), float(y), float(x + w), float(y + h)])
    return boxes


@st.composite
def detection_sets(draw):
    """Up to 3 images with up to 5 boxes on each side, up to 3 classes, crowd regions, areas.

    Detections are copies of a ground-truth box of the image (duplicates, exact matches),
    shifted copies or free boxes, with labels that may be absent from the image or from the
    whole ground truth; images may be empty or one-sided; ``max_detections`` is 1 to 5 (or
    COCO's 100), so that images often hold more detections than count.
    """
    n_classes = draw(st.integers(1, 3))
    label = st.integers(0, n_classes - 1)
    predictions, targets = [], []
    for _ in range(draw(st.integers(0, 3))):
        n_gt = draw(st.integers(0, 5))
        gt = draw(grid_boxes(n_gt))
        target = {"boxes": gt, "labels": draw(st.lists(label, min_size=n_gt, max_size=n_gt))}
        if draw(st.booleans()):
            target["iscrowd"] = draw(
                st.lists(st.sampled_from([0, 0, 1]), min_size=n_gt, max_size=n_gt)
            )
        if draw(st.booleans()):
            target["area"] = draw(st.lists(st.sampled_from(AREAS), min_size=n_gt, max_size=n_gt))
        n_det = draw(st.integers(0, 5))
        det = []
        for box in draw(grid_boxes(n_det)):
            kind = draw(st.sampled_from(["copy", "shift", "free"])) if gt else "free"
            if kind != "free":
                box = list(draw(st.sampled_from(gt)))
            if kind == "shift":
                dx, dy = draw(st.sampled_from([-8, 0, 8, 16])), draw(st.sampled_from([0, 8]))
                box = [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy]
            det.append(box)
        labels = st.integers(0, n_classes)  # class n_classes: only ever predicted
        predictions.append(
            {
                "boxes": det,
                "scores": draw(st.lists(st.sampled_from(SCORES), min_size=n_det, max_size=n_det)),
                "labels": draw(st.lists(labels, min_size=n_det, max_size=n_det)),
            }
        )
        targets.append(target)
    max_detections = draw(st.sampled_from([1, 2, 3, 4, 5, 100]))
    return predictions, targets, max_detections


def image(boxes, labels, scores=None, **extra):
    d = {"boxes": boxes, "labels": labels, **extra}
    return d if scores is None else {**d, "scores": scores}


# The three cases that once went wrong: a detection of a class absent from its image.
ABSENT_CLASS_CASES = [
    (
        [image([[0, 0, 10, 10]], [1], [0.9]), image([[50, 50, 60, 60]], [1], [0.5])],
        [image([[0, 0, 10, 10]], [1]), image([], [])],
        1.0,
    ),
    (
        [image([[70, 70, 80, 80]], [1], [0.9]), image([[0, 0, 10, 10]], [1], [0.5])],
        [image([[0, 0, 10, 10]], [1]), image([], [])],
        0.0,
    ),
    (
        [image([[0, 0, 10, 10], [20, 20, 30, 30]], [1, 1], [0.9, 0.8]),
         image([[0, 0, 10, 10]], [1], [0.5])],
        [image([[0, 0, 10, 10]], [0]), image([[0, 0, 10, 10]], [1])],
        1 / 6,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("predictions", "targets", "expected"), ABSENT_CLASS_CASES)
def test_detections_of_a_class_absent_from_the_image(predictions, targets, expected):
    assert mean_average_precision(predictions, targets).map == pytest.approx(expected, abs=1e-12)
    assert_matches_coco(predictions, targets)


def crowd_example():
    """A crowd region that absorbs two detections, next to a counted box."""
    targets = [
        image([[0, 0, 100, 100], [200, 0, 210, 10]], [0, 0], iscrowd=[1, 0]),
        image([[0, 0, 40, 40]], [0], iscrowd=[True], area=[10.0]),  # crowd-only image
    ]
    predictions = [
        image([[10, 10, 30, 30], [50, 50, 70, 70], [200, 0, 210, 10]], [0, 0, 0], [0.9, 0.8, 0.7]),
        image([[0, 0, 40, 40]], [0], [0.95]),
    ]
    return predictions, targets


def test_crowd_regions_absorb_detections():
    predictions, targets = crowd_example()
    result = mean_average_precision(predictions, targets)
    assert result.map == pytest.approx(1.0, abs=1e-12)  # only the true positive counts
    # With one detection per image and class, image 0 keeps only the one in the crowd region.
    assert (result.mar_1, result.mar_10) == (0.0, 1.0)
    assert_matches_coco(predictions, targets)


@given(case=detection_sets())
def test_map_equals_cocoeval(case):
    predictions, targets, max_detections = case
    assert_matches_coco(predictions, targets, max_detections=max_detections)


@given(case=detection_sets(), thresholds=st.sampled_from([None, [0.5], [0.3, 0.75, 1.0]]))
def test_fast_path_equals_the_loop_specification(case, thresholds):
    predictions, targets, max_detections = case
    kwargs = {"iou_thresholds": thresholds, "max_detections": max_detections}
    fast = mean_average_precision(predictions, targets, **kwargs)
    spec = _evaluate(predictions, targets, thresholds, max_detections, spec=True)  # loops
    np.testing.assert_allclose(fast.stats, spec.stats, rtol=0, atol=COCO_ATOL)
    np.testing.assert_allclose(fast.ap, spec.ap, rtol=0, atol=COCO_ATOL)
    np.testing.assert_array_equal(fast.classes, spec.classes)


binary_cases = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(any),
        st.lists(
            st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1e-300, 1e300]), min_size=n, max_size=n
        ),
    )
)


@given(case=binary_cases)
def test_step_ap_and_curve_equal_sklearn(case):
    labels, scores = case
    assert average_precision(labels, scores) == pytest.approx(
        skm.average_precision_score(labels, scores), abs=ATOL
    )
    for ours, theirs in zip(
        precision_recall_curve(labels, scores),
        skm.precision_recall_curve(labels, scores),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)


@given(case=binary_cases, method=st.sampled_from(["voc", "voc11", "coco101"]))
def test_interpolated_ap_equals_the_loop_references(case, method):
    labels, scores = np.asarray(case[0]), np.asarray(case[1])
    expected = REFERENCES[method](reference_points(labels, scores))
    assert average_precision(labels, scores, method=method) == pytest.approx(expected, abs=ATOL)


@given(a=grid_boxes(3), b=grid_boxes(3))
def test_iou_equals_pycocotools_on_the_grid(a, b):
    a, b = np.asarray(a).reshape(-1, 4), np.asarray(b).reshape(-1, 4)
    expected = mask_utils.iou(xywh(a), xywh(b), np.zeros(len(b), dtype=np.uint8))
    np.testing.assert_allclose(iou(a, b), np.asarray(expected).reshape(len(a), len(b)), atol=ATOL)


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(coords=st.lists(finite, min_size=8, max_size=8), exponent=st.integers(-60, 60))
def test_iou_of_finite_boxes_is_in_0_1_and_scale_free(coords, exponent):
    def box(c):
        (x1, x2), (y1, y2) = sorted(c[:2]), sorted(c[2:])
        return np.array([[x1, y1, x2, y2]])

    a, b = box(coords[:4]), box(coords[4:])
    value = iou(a, b)
    assert np.isfinite(value).all()
    assert (value >= 0).all()
    assert (value <= 1).all()
    magnitudes = np.abs(coords)[np.asarray(coords) != 0]
    if ((magnitudes > 1e-100) & (magnitudes < 1e100)).all():  # scaling by 2**e is exact here
        np.testing.assert_array_equal(iou(a * 2.0**exponent, b * 2.0**exponent), value)


# --- bad input -------------------------------------------------------------------------------


def pred(n=2, **changes):
    image = {"boxes": [[0, 0, 2, 2]] * n, "scores": [0.5] * n, "labels": [1] * n}
    return {**image, **changes}


def targ(n=1, **changes):
    return {"boxes": [[0, 0, 2, 2]] * n, "labels": [1] * n, **changes}


MAP = mean_average_precision
GOOD_BOXES = [[0, 0, 1, 1]] * 5
BAD_BOXES = [[0, 0, 1, 1]] * 5 + [[3, 0, 1, 1]]
BAD_INPUT = [
    bad(iou, [[0, 0, 1]], [[0, 0, 1, 1]], error=ValueError, match="boxes1 must have shape (N, 4), got shape (1, 3)"),
    bad(iou, [[0, 0, 1, 1]], [0, 0, 1, 1], error=ValueError, match="boxes2 must have shape (N, 4), got shape (4,)"),
    bad(iou, [[0, 0, 1, 1]], [[0, 0, 1, np.nan]], error=ValueError, match="boxes2: NaN or infinity in box 0"),
    bad(iou, [[0, 0, 1, 1], [0, 0, 1, np.inf]], [[0, 0, 1, 1]], error=ValueError, match="boxes1: NaN or infinity in box 1"),
    bad(iou, [[2, 0, 1, 1]], [[0, 0, 1, 1]], error=ValueError, match="boxes1: x2 < x1 in box 0"),
    bad(iou, [[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 2, 1, 1]], error=ValueError, match="boxes2: y2 < y1 in box 1"),
    bad(iou, [["a"] * 4], [[0, 0, 1, 1]], error=TypeError, match="boxes1 must be an array of real numbers"),
    bad(iou, [[0, 0, 1, 1], [0, 1]], [[0, 0, 1, 1]], error=ValueError, match="boxes1 must be a rectangular array"),
    bad(precision_recall_curve, [0, 2], [0.1, 0.2], error=ValueError, match="labels must hold only 0 and 1, got 2"),
    bad(precision_recall_curve, [0, 0], [0.1, 0.2], error=ValueError, match="at least one positive"),
    bad(precision_recall_curve, [0, 1], [0.1, 0.2, 0.3], error=ValueError, match="same length, got 2 and 3"),
    bad(precision_recall_curve, [[0, 1]], [[0.1, 0.2]], error=ValueError, match="labels must be one-dimensional"),
    bad(precision_recall_curve, [0, 1], [[0.1, 0.2]], error=ValueError, match="scores must be one-dimensional"),
    bad(precision_recall_curve, [0, 1], [0.1, np.nan], error=ValueError, match="scores must be finite"),
    bad(precision_recall_curve, ["a", "b"], [0.1, 0.2], error=TypeError, match="labels must be an array of real numbers"),
    bad(average_precision, [0, 1], [0.1, 0.2], method="11point", error=ValueError, match="method must be one of 'step', 'voc11', 'voc', 'coco101', got '11point'"),
    bad(average_precision, [0, 0], [0.1, 0.2], method="voc", error=ValueError, match="at least one positive"),
    bad(average_precision, [0, 1], [0.1, 0.2], method=np.array(["voc", "step"]), error=TypeError, match="method must be one of 'step', 'voc11', 'voc', 'coco101', got ndarray"),
    bad(average_precision, [0, 1], [0.1, 0.2], method=None, error=TypeError, match="method must be one of 'step', 'voc11', 'voc', 'coco101', got NoneType"),
    bad(MAP, {"boxes": []}, [targ()], error=TypeError, match="predictions must be a sequence (list or tuple) of per-image dicts, got dict"),
    bad(MAP, b"images", [targ()], error=TypeError, match="predictions must be a sequence (list or tuple) of per-image dicts, got bytes"),
    bad(MAP, [pred()], "targets", error=TypeError, match="targets must be a sequence (list or tuple) of per-image dicts, got str"),
    bad(MAP, [pred(), [1, 2]], [targ(), targ()], error=TypeError, match="predictions[1] must be a dict"),
    bad(MAP, [pred(), pred()], [targ()], error=ValueError, match="got 2 predictions and 1 targets"),
    bad(MAP, [{"boxes": [], "labels": []}], [targ()], error=ValueError, match="predictions[0] is missing the key 'scores'"),
    bad(MAP, [pred(), pred()], [targ(), {"boxes": []}], error=ValueError, match="targets[1] is missing the key 'labels'"),
    bad(MAP, [pred(), pred(boxes=[[0, 0, 1]] * 2)], [targ(), targ()], error=ValueError, match="predictions[1]['boxes'] must have shape (N, 4), got shape (2, 3)"),
    bad(MAP, [pred()], [targ(boxes=[[0, 0, 1, 1], [0, 0, 1]])], error=ValueError, match="targets[0]['boxes'] must be a rectangular array"),
    bad(MAP, [pred()] * 3 + [pred(6, boxes=BAD_BOXES)], [targ()] * 4, error=ValueError, match="predictions[3]['boxes']: x2 < x1 in box 5"),
    bad(MAP, [pred(), pred()], [targ(), targ(2, boxes=[[0, 0, 1, 1], [0, 5, 1, 4]])], error=ValueError, match="targets[1]['boxes']: y2 < y1 in box 1"),
    bad(MAP, [pred()], [targ(2, boxes=[[0, 0, 1, 1], [0, 0, np.nan, 1]])], error=ValueError, match="targets[0]['boxes']: NaN or infinity in box 1"),
    bad(MAP, [pred(0, boxes=[], scores=[], labels=[]), pred(scores=[0.5, np.inf])], [targ(), targ()], error=ValueError, match="predictions[1]['scores']: NaN or infinity in score 1"),
    bad(MAP, [pred(scores=[0.5])], [targ()], error=ValueError, match="predictions[0]: 'boxes' holds 2 boxes but 'scores' holds 1 scores"),
    bad(MAP, [pred(labels=[1, 1, 1])], [targ()], error=ValueError, match="predictions[0]: 'boxes' holds 2 boxes but 'labels' holds 3 labels"),
    bad(MAP, [pred()], [targ(labels=[])], error=ValueError, match="targets[0]: 'boxes' holds 1 boxes but 'labels' holds 0 labels"),
    bad(MAP, [pred(scores=[[0.5, 0.5]])], [targ()], error=ValueError, match="predictions[0]['scores'] must be one-dimensional"),
    bad(MAP, [pred(scores=["a", "b"])], [targ()], error=TypeError, match="predictions[0]['scores'] must be an array of real numbers"),
    bad(MAP, [pred(labels=[1.0, 2.0])], [targ()], error=TypeError, match="predictions[0]['labels'] must be an array of integers, got dtype float64"),
    bad(MAP, [pred(labels=torch.tensor([1.0, 2.0], requires_grad=True))], [targ()], error=TypeError, match="predictions[0]['labels'] must be an array of integers, got dtype float32"),
    bad(MAP, [pred()], [targ(labels=[True])], error=TypeError, match="targets[0]['labels'] must be an array of integers, got dtype bool"),
    bad(MAP, [pred()], [targ(labels=[[1]])], error=ValueError, match="targets[0]['labels'] must be one-dimensional"),
    bad(MAP, [pred()], [targ()], iou_thresholds=[0.5, 0.0], error=ValueError, match="iou_thresholds must lie in (0, 1], got 0.0 at index 1"),
    bad(MAP, [pred()], [targ()], iou_thresholds=[1.5], error=ValueError, match="iou_thresholds must lie in (0, 1], got 1.5"),
    bad(MAP, [pred()], [targ()], iou_thresholds=[], error=ValueError, match="iou_thresholds must not be empty, got shape (0,)"),
    bad(MAP, [pred()], [targ()], iou_thresholds=[np.nan], error=ValueError, match="iou_thresholds must be finite"),
    bad(MAP, [pred()], [targ()], max_detections=0, error=ValueError, match="max_detections must be at least 1"),
    bad(MAP, [pred()], [targ()], max_detections=2.0, error=TypeError, match="max_detections must be an integer"),
    bad(MAP, [pred(masks=[])], [targ()], error=ValueError, match="predictions[0] has the unknown key 'masks'; the keys are boxes, scores, labels"),
    bad(MAP, [pred()], [targ(crowd=[0])], error=ValueError, match="targets[0] has the unknown key 'crowd'; the keys are boxes, labels, iscrowd, area"),
    bad(MAP, [pred()], [targ(iscrowd=[2])], error=ValueError, match="targets[0]['iscrowd'] must hold only 0 and 1, got 2"),
    bad(MAP, [pred()], [targ(iscrowd=[0, 1])], error=ValueError, match="targets[0]: 'boxes' holds 1 boxes but 'iscrowd' holds 2 iscrowd"),
    bad(MAP, [pred()], [targ(area=[-1.0])], error=ValueError, match="targets[0]['area'] must be at least 0, got -1.0 at index 0"),
    bad(MAP, [pred()], [targ(2, area=[1.0, np.nan])], error=ValueError, match="targets[0]['area'] must be at least 0, got nan at index 1"),
    bad(MAP, [pred()], [targ(area=["big"])], error=TypeError, match="targets[0]['area'] must be an array of real numbers"),
    bad(MAP, [pred(labels=np.array([1, 2**63], dtype=np.uint64))], [targ()], error=ValueError, match="predictions[0]['labels'] holds 9223372036854775808, beyond the int64 range"),
    bad(MAP, [pred()], [targ(labels=[2**64])], error=ValueError, match="targets[0]['labels'] holds 18446744073709551616, beyond the int64 range"),
    bad(MAP, [pred(boxes=[[0, 0, 1, 1], [0, 0, 1]])], [targ()], error=ValueError, match="predictions[0]['boxes'] must be a rectangular array"),
    bad(MAP, [pred(boxes=None)], [targ()], error=TypeError, match="predictions[0]['boxes'] must be an array of real numbers, got dtype object"),
    bad(MAP, [pred(boxes=np.empty((0, 3)), scores=[], labels=[])], [targ()], error=ValueError, match="predictions[0]['boxes'] must have shape (N, 4), got shape (0, 3)"),
    bad(iou, None, [[0, 0, 1, 1]], error=TypeError, match="boxes1 must be an array of real numbers, got dtype object"),
    bad(iou, np.empty((0, 2)), [[0, 0, 1, 1]], error=ValueError, match="boxes1 must have shape (N, 4), got shape (0, 2)"),
    bad(precision_recall_curve, [], [], error=ValueError, match="labels and scores must not be empty"),
    bad(precision_recall_curve, [0, 1], [[0.1], [0.2, 0.3]], error=ValueError, match="scores must be a rectangular array"),
    bad(average_precision, [0, 1], "ab", error=TypeError, match="scores must be an array of real numbers"),
]  # fmt: skip


test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


def test_tensors_with_grad_and_half_precision_are_accepted():
    boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]], requires_grad=True)
    expected = iou(boxes.detach().numpy(), boxes.detach().numpy())
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        np.testing.assert_allclose(iou(boxes.to(dtype), boxes.to(dtype)), expected, atol=1e-12)
    scores = torch.tensor([0.9, 0.1, 0.5], requires_grad=True)
    labels = torch.tensor([1, 0, 1])
    assert average_precision(labels, scores.to(torch.bfloat16)) == average_precision(
        [1, 0, 1], [0.9, 0.1, 0.5]
    )
    assert precision_recall_curve(labels, scores)[2].size == 3
    listed = [torch.tensor(v, dtype=torch.bfloat16, requires_grad=True) for v in (0.5, 0.25)]
    assert average_precision([1, 0], listed) == 1.0  # a list of tensors, each converted
    predictions, targets = synthetic_set(3, grid=True, decimals=1)
    expected_map = mean_average_precision(predictions, targets).map
    half = [
        {k: torch.as_tensor(v).to(torch.float16).requires_grad_() if k != "labels"
         else torch.as_tensor(v) for k, v in d.items()}
        for d in predictions
    ]  # fmt: skip
    assert mean_average_precision(half, targets).map == pytest.approx(expected_map, abs=0.05)


def test_huge_finite_coordinates_give_finite_results():
    huge = [[-1e308, -1e308, 1e308, 1e308], [0.0, 0.0, 1e308, 1e308]]
    value = iou(huge, huge)
    np.testing.assert_allclose(value, [[1.0, 0.25], [0.25, 1.0]], rtol=1e-12)
    box = [[1e200, 1e200, 3e200, 3e200]]
    predictions = [{"boxes": box, "scores": [1e300], "labels": [0]}]
    # Its area (4e400) overflows to infinity: beyond COCO's largest area, so the box is ignored
    # and nothing is left to evaluate, as in COCOeval (-1). Given a finite area, it counts.
    assert np.isnan(mean_average_precision(predictions, [{"boxes": box, "labels": [0]}]).map)
    result = mean_average_precision(predictions, [{"boxes": box, "labels": [0], "area": [1e4]}])
    assert np.isfinite(result.stats[[0, 1, 2, 5, 6, 7, 8, 11]]).all()
    assert result.map == pytest.approx(1.0, abs=1e-12)


def test_one_huge_box_leaves_the_iou_of_the_other_boxes_alone():
    """A box with coordinates near the float64 limit must not zero the IoUs of normal boxes."""
    targets = [
        {"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0]},
        {"boxes": [[5, 5, 15, 15]], "labels": [1]},
    ]
    predictions = [
        {"boxes": [[0, 0, 10, 10], [21, 21, 31, 31], [0, 0, 1e300, 1e300]],
         "scores": [0.9, 0.8, 0.1], "labels": [0, 0, 0]},
        {"boxes": [[5, 5, 15, 13.8]], "scores": [0.6], "labels": [1]},
    ]  # fmt: skip
    assert_matches_coco(predictions, targets)
    result = mean_average_precision(predictions, targets)
    assert result.ap[5, 0] == pytest.approx(51 / 101, abs=1e-12)  # the cats at IoU 0.75: 0.505
    normal = [[0, 0, 10, 10], [21, 21, 31, 31]]
    np.testing.assert_allclose(
        iou([*normal, [0, 0, 1e300, 1e300]], targets[0]["boxes"])[:2],
        iou(normal, targets[0]["boxes"]),
        rtol=0,
        atol=ATOL,
    )


def test_result_does_not_share_the_callers_thresholds():
    thresholds = np.array([0.5, 0.75])
    result = mean_average_precision([pred()], [targ()], iou_thresholds=thresholds)
    thresholds[0] = 0.9
    assert result.iou_thresholds.tolist() == [0.5, 0.75]


def _map(predictions, targets, iou_thresholds, max_detections):
    """mean_average_precision without the fields that may be NaN by definition (no object of a
    size class; no threshold 0.5 or 0.75 among ``iou_thresholds``)."""
    result = mean_average_precision(
        predictions, targets, iou_thresholds=iou_thresholds, max_detections=max_detections
    )
    return result.map, result.mar_100, result.per_class, result.ap, result.iou_thresholds


HOSTILE = [
    hostile(iou, boxes1=[[0, 0, 2, 2], [1, 1, 3, 4]], boxes2=[[0, 0, 1, 1]]),
    hostile(precision_recall_curve, labels=[1, 0, 1], scores=[0.9, 0.5, 0.1]),
    hostile(average_precision, labels=[1, 0, 1], scores=[0.9, 0.5, 0.1], method="voc11"),
    hostile(
        _map, predictions=[pred(), pred()], targets=[targ(), targ(2, iscrowd=[0, 1])],
        iou_thresholds=[0.5, 0.75], max_detections=10,
    ),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)
