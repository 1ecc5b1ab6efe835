"""Time conceptref's COCO mAP against pycocotools and faster-coco-eval on one synthetic set.

The set is COCO-like: 20 classes, 1 to 15 ground-truth boxes per image, and per image up to about
100 detections, made of jittered copies of the ground truth (mostly the right class, higher
scores) plus random false positives. All three evaluators run in this process on the same data;
the script checks that they agree on map, map_50 and map_75 (to 1e-6 for pycocotools) and prints
the best of 3 times and the ratios.

Each time covers evaluation from the evaluator's own input: conceptref from the per-image dicts
(validation included), the COCO tools from a ground-truth COCO object and a loaded result object
(COCOeval + evaluate + accumulate + summarize, printing silenced). Loading the results into the
COCO tools (``loadRes``) is timed separately.

    python benchmarks/bench_map.py [--images N] [--seed S]
"""

from __future__ import annotations

import argparse
import contextlib
import io
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
KEYS = ("map", "map_50", "map_75")


def synthetic_set(n_images: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Per-image prediction and target dicts (xyxy boxes in a 640 x 480 image)."""
    rng = np.random.default_rng(seed)
    size = np.array([640.0, 480.0])
    predictions, targets = [], []
    for _ in range(n_images):
        n_gt = int(rng.integers(1, 16))
        wh = rng.uniform(10, 200, (n_gt, 2))
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
        targets.append({"boxes": gt, "labels": gt_labels})
    return predictions, targets


def coco_dicts(predictions: list[dict], targets: list[dict]) -> tuple[dict, list[dict]]:
    """The same data as a COCO ground-truth dict and a COCO result list (xywh boxes)."""
    annotations = []
    for i, target in enumerate(targets):
        for (x1, y1, x2, y2), label in zip(target["boxes"].tolist(), target["labels"].tolist(),
                                           strict=True):  # fmt: skip
            w, h = x2 - x1, y2 - y1
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                "category_id": label, "bbox": [x1, y1, w, h], "area": w * h,
                                "iscrowd": 0})  # fmt: skip
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


def run_pycocotools(gt: COCO, dt: COCO) -> dict[str, float]:
    evaluator = COCOeval(gt, dt, iouType="bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return dict(zip(KEYS, map(float, evaluator.stats[:3]), strict=True))


def run_faster(gt: FastCOCO, dt: FastCOCO) -> dict[str, float]:
    evaluator = COCOeval_faster(gt, dt, iouType="bbox", print_function=lambda *a, **k: None)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return dict(zip(KEYS, map(float, evaluator.stats[:3]), strict=True))


def best_of(repeat: int, function: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1500, help="number of images (1500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; best is kept (3)")
    args = parser.parse_args()

    predictions, targets = synthetic_set(args.images, args.seed)
    n_det = sum(len(p["scores"]) for p in predictions)
    n_gt = sum(len(t["labels"]) for t in targets)
    print(f"{args.images} images, {N_CLASSES} classes, {n_gt} ground-truth boxes, "
          f"{n_det} detections (at most {max(len(p['scores']) for p in predictions)} per image)")  # fmt: skip

    dataset, results = coco_dicts(predictions, targets)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = dataset
        gt.createIndex()
        load_coco, dt = best_of(args.repeat, lambda: gt.loadRes(results))
    fast_gt = FastCOCO(dataset, print_function=lambda *a, **k: None)
    load_fast, fast_dt = best_of(args.repeat, lambda: fast_gt.loadRes(results))

    def ours() -> dict[str, float]:
        result = mean_average_precision(predictions, targets)
        return {key: getattr(result, key) for key in KEYS}

    timings = {
        "conceptref": best_of(args.repeat, ours),
        "pycocotools": best_of(args.repeat, lambda: run_pycocotools(gt, dt)),
        f"faster-coco-eval {faster_version}": best_of(args.repeat, lambda: run_faster(fast_gt, fast_dt)),
    }  # fmt: skip

    reference = timings["pycocotools"][1]
    assert isinstance(reference, dict)
    print()
    width = max(map(len, timings))
    print(f"{'evaluator':<{width}}  {'best (s)':>8}  {'x ours':>6}  " + "  ".join(f"{k:>8}" for k in KEYS)
          + "  max |diff| vs pycocotools")  # fmt: skip
    ours_time = timings["conceptref"][0]
    for name, (seconds, values) in timings.items():
        assert isinstance(values, dict)
        diff = max(abs(values[k] - reference[k]) for k in KEYS)
        print(f"{name:<{width}}  {seconds:8.3f}  {seconds / ours_time:6.1f}  "
              + "  ".join(f"{values[k]:8.5f}" for k in KEYS) + f"  {diff:.1e}")  # fmt: skip
    print(f"\nloadRes (not in the times above): pycocotools {load_coco:.3f} s, "
          f"faster-coco-eval {load_fast:.3f} s")  # fmt: skip

    ours_values = timings["conceptref"][1]
    assert isinstance(ours_values, dict)
    for key in KEYS:
        if abs(ours_values[key] - reference[key]) > 1e-6:
            raise SystemExit(f"conceptref and pycocotools disagree on {key}")


if __name__ == "__main__":
    main()
