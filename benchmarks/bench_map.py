"""Time and memory of conceptref's COCO box evaluation against pycocotools and faster-coco-eval.

Two sets:

* ``coco``: COCO-like, 20 classes, 1 to 15 ground-truth boxes per image (some of them crowd
  regions), and per image up to about 100 detections, made of jittered copies of the ground
  truth (mostly the right class, higher scores) plus random false positives; objects of every
  size class.
* ``memory``: 4,000 images with one detection each (every other one with a ground-truth box)
  plus one image with 8,000 detections and 50 boxes, evaluated with ``max_detections=8000``.

Each evaluator runs in a fresh process per set, so that its peak resident memory (``ru_maxrss``,
imports and data included) is its own. The time covers evaluation from the evaluator's own input:
conceptref from the per-image dicts (validation included), the COCO tools from a ground-truth
COCO object and a loaded result object (COCOeval + evaluate + accumulate + summarize, printing
silenced); loading the results (``loadRes``) is not timed. The script checks that all three
agree on the twelve figures of ``COCOeval.stats`` to 1e-9 and prints the best of 3 times.

    python benchmarks/bench_map.py [--images N] [--seed S] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from faster_coco_eval import COCO as FastCOCO
from faster_coco_eval import COCOeval_faster
from faster_coco_eval import __version__ as faster_version
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from conceptref.metrics import mean_average_precision

N_CLASSES = 20
TOLERANCE = 1e-9


def synthetic_set(n_images: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Per-image prediction and target dicts (xyxy boxes in a 640 x 480 image)."""
    rng = np.random.default_rng(seed)
    size = np.array([640.0, 480.0])
    predictions, targets = [], []
    for _ in range(n_images):
        n_gt = int(rng.integers(1, 16))
        wh = rng.uniform(4, 250, (n_gt, 2))  # small, medium and large objects
        xy = rng.uniform(0, 1, (n_gt, 2)) * (size - wh)
        gt = np.hstack([xy, xy + wh])
        gt_labels = rng.integers(0, N_CLASSES, n_gt)

        copies = rng.integers(0, 5, n_gt)  # 0 to 4 detections per object
        source = np.repeat(np.arange(n_gt), copies)
        jitter = rng.normal(0, 0.08, (source.size, 4)) * np.tile(wh[source], 2)
        det = gt[source] + jitter
        det_labels = np.where(rng.random(source.size) < 0.9, gt_labels[source],
                              rng.integers(0, N_CLASSES, source.size))  # fmt: skip
        det_scores = rng.beta(4, 2, source.size)
        n_fp = int(rng.integers(0, max(1, 100 - source.size)))
        fp_wh = rng.uniform(5, 250, (n_fp, 2))
        fp_xy = rng.uniform(0, 1, (n_fp, 2)) * (size - fp_wh)
        det = np.vstack([det, np.hstack([fp_xy, fp_xy + fp_wh])])
        det = np.hstack([np.minimum(det[:, :2], det[:, 2:]), np.maximum(det[:, :2], det[:, 2:])])
        det_labels = np.r_[det_labels, rng.integers(0, N_CLASSES, n_fp)]
        det_scores = np.clip(np.r_[det_scores, rng.beta(2, 4, n_fp)], 1e-4, 1 - 1e-4)
        predictions.append({"boxes": det, "scores": det_scores, "labels": det_labels})
        crowd = (rng.random(n_gt) < 0.05).astype(np.int64)  # a few crowd regions
        targets.append({"boxes": gt, "labels": gt_labels, "iscrowd": crowd})
    return predictions, targets


def memory_set(seed: int) -> tuple[list[dict], list[dict]]:
    """4,000 one-detection images and one image with 8,000 detections of one class."""
    rng = np.random.default_rng(seed)
    predictions, targets = [], []
    for i in range(4000):
        xy = rng.uniform(0, 500, 2)
        box = np.r_[xy, xy + rng.uniform(10, 100, 2)][None]
        predictions.append({"boxes": box, "scores": rng.random(1), "labels": np.zeros(1, int)})
        n_gt = i % 2
        gt = box[:n_gt] + rng.uniform(-1, 1, (n_gt, 4))
        targets.append({"boxes": gt, "labels": np.zeros(n_gt, int)})
    xy = rng.uniform(0, 500, (8000, 2))
    boxes = np.hstack([xy, xy + rng.uniform(10, 100, (8000, 2))])
    predictions.append({"boxes": boxes, "scores": rng.random(8000), "labels": np.zeros(8000, int)})
    targets.append({"boxes": boxes[:50] + 1, "labels": np.zeros(50, int)})
    return predictions, targets


def coco_dicts(predictions: list[dict], targets: list[dict]) -> tuple[dict, list[dict]]:
    """The same data as a COCO ground-truth dict and a COCO result list (xywh boxes)."""
    annotations = []
    for i, target in enumerate(targets):
        crowd = target.get("iscrowd", np.zeros(len(target["labels"]), int)).tolist()
        for (x1, y1, x2, y2), label, c in zip(target["boxes"].tolist(),
                                              target["labels"].tolist(), crowd, strict=True):  # fmt: skip
            w, h = x2 - x1, y2 - y1
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                "category_id": label, "bbox": [x1, y1, w, h], "area": w * h,
                                "iscrowd": c})  # fmt: skip
    results = [
        {"image_id": i + 1, "category_id": label, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s}
        for i, p in enumerate(predictions)
        for (x1, y1, x2, y2), s, label in zip(
            p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist(), strict=True
        )
    ]
    dataset = {
        "images": [{"id": i + 1} for i in range(len(targets))],
        "annotations": annotations,
        "categories": [{"id": c} for c in range(N_CLASSES)],
    }
    return dataset, results


def figures(evaluator: COCOeval | COCOeval_faster, max_detections: int) -> list[float]:
    """The twelve figures of ``COCOeval.stats``, with AP at ``max_detections`` detections.

    For ``max_detections=100`` these are ``stats`` itself; for other values, COCO's
    ``summarize`` would read AP at 100 detections, which it did not compute.
    """
    p = evaluator.params
    at = [min(n, max_detections) for n in (1, 10, 100)]

    def mean(kind: str, area: str, n: int, iou: float | None = None) -> float:
        s = evaluator.eval[kind]
        if iou is not None:
            s = s[np.flatnonzero(p.iouThrs == iou)]
        s = s[..., list(p.areaRngLbl).index(area), list(p.maxDets).index(n)]
        return float(np.mean(s[s > -1])) if (s > -1).any() else -1.0

    m = max_detections
    return [
        mean("precision", "all", m), mean("precision", "all", m, 0.5),
        mean("precision", "all", m, 0.75), mean("precision", "small", m),
        mean("precision", "medium", m), mean("precision", "large", m),
        mean("recall", "all", at[0]), mean("recall", "all", at[1]), mean("recall", "all", at[2]),
        mean("recall", "small", at[2]), mean("recall", "medium", at[2]),
        mean("recall", "large", at[2]),
    ]  # fmt: skip


def max_dets(max_detections: int) -> list[int]:
    return sorted({min(n, max_detections) for n in (1, 10, 100)} | {max_detections})


def run_pycocotools(gt: COCO, dt: COCO, max_detections: int) -> list[float]:
    evaluator = COCOeval(gt, dt, iouType="bbox")
    evaluator.params.maxDets = max_dets(max_detections)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return figures(evaluator, max_detections)


def run_faster(gt: FastCOCO, dt: FastCOCO, max_detections: int) -> list[float]:
    evaluator = COCOeval_faster(gt, dt, iouType="bbox", print_function=lambda *a, **k: None)
    evaluator.params.maxDets = max_dets(max_detections)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return figures(evaluator, max_detections)


def best_of(repeat: int, function: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def measure(tool: str, case: str, images: int, seed: int, repeat: int) -> dict[str, object]:
    """Run one evaluator on one set in this process: best time, stats, peak RSS."""
    if case == "coco":
        predictions, targets = synthetic_set(images, seed)
        max_detections = 100
    else:
        predictions, targets = memory_set(seed)
        max_detections = 8000
    if tool == "conceptref":

        def run() -> list[float]:
            result = mean_average_precision(predictions, targets, max_detections=max_detections)
            return [-1.0 if np.isnan(v) else float(v) for v in result.stats]

    else:
        dataset, results = coco_dicts(predictions, targets)
        if tool == "pycocotools":
            with contextlib.redirect_stdout(io.StringIO()):
                gt = COCO()
                gt.dataset = dataset
                gt.createIndex()
                dt = gt.loadRes(results)

            def run() -> list[float]:
                return run_pycocotools(gt, dt, max_detections)

        else:
            fast_gt = FastCOCO(dataset, print_function=lambda *a, **k: None)
            fast_dt = fast_gt.loadRes(results)

            def run() -> list[float]:
                return run_faster(fast_gt, fast_dt, max_detections)

    seconds, stats = best_of(repeat, run)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    n_det = sum(len(p["scores"]) for p in predictions)
    n_gt = sum(len(t["labels"]) for t in targets)
    return {"seconds": seconds, "stats": stats, "peak_mib": peak, "images": len(targets),
            "detections": n_det, "boxes": n_gt}  # fmt: skip


TOOLS = ("conceptref", "pycocotools", f"faster-coco-eval {faster_version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1500, help="images of the coco set (1500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; best is kept (3)")
    parser.add_argument("--case", choices=["coco", "memory"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--tool", choices=["conceptref", "pycocotools", "faster"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.tool:  # one measurement, in a process of its own
        print(json.dumps(measure(args.tool, args.case, args.images, args.seed, args.repeat)))
        return

    for case in ("coco", "memory"):
        rows = {}
        for name, tool in zip(TOOLS, ("conceptref", "pycocotools", "faster"), strict=True):
            command = [sys.executable, __file__, "--case", case, "--tool", tool,
                       "--images", str(args.images), "--seed", str(args.seed),
                       "--repeat", str(args.repeat)]  # fmt: skip
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            rows[name] = json.loads(output.splitlines()[-1])
        first = rows["conceptref"]
        print(f"\n{case} set: {first['images']} images, {first['boxes']} ground-truth boxes, "
              f"{first['detections']} detections")  # fmt: skip
        width = max(map(len, rows))
        print(f"{'evaluator':<{width}}  {'best (s)':>8}  {'x ours':>6}  {'peak RSS (MiB)':>14}  "
              f"{'map':>8}  {'mar_100':>8}  max |diff| of the 12 stats vs pycocotools")  # fmt: skip
        reference = np.asarray(rows["pycocotools"]["stats"])
        for name, row in rows.items():
            stats = np.asarray(row["stats"])
            diff = float(np.abs(stats - reference).max())
            print(f"{name:<{width}}  {row['seconds']:8.3f}  "
                  f"{row['seconds'] / first['seconds']:6.1f}  {row['peak_mib']:14.0f}  "
                  f"{stats[0]:8.5f}  {stats[8]:8.5f}  {diff:.1e}")  # fmt: skip
        if np.abs(np.asarray(first["stats"]) - reference).max() > TOLERANCE:
            raise SystemExit(f"{case}: conceptref and pycocotools disagree")


if __name__ == "__main__":
    main()
