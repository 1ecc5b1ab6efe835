"""The precision-recall points of the page's ranking, its step curve and precision envelope."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.metrics import precision_recall_curve

LABELS = [1, 0, 1, 1, 0]
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5]


def data() -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall from the top of the ranking down, one point per rank."""
    precision, recall, _ = precision_recall_curve(LABELS, SCORES)
    return precision[::-1][1:], recall[::-1][1:]  # without the conventional (R, P) = (0, 1)


def interpolated(precision: np.ndarray, recall: np.ndarray, r: float) -> float:
    """The precision envelope: the best precision at any recall of at least r (0 if none)."""
    return max((p for p, q in zip(precision, recall, strict=True) if q >= r - 1e-12), default=0.0)


def draw(data: tuple[np.ndarray, np.ndarray], _) -> None:
    precision, recall = data
    envelope = np.array([interpolated(precision, recall, r) for r in recall])
    _figure, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.step(np.r_[0, recall], np.r_[precision[0], precision], where="pre", color="tab:blue",
            label=_("step curve (step AP = area)"))  # fmt: skip
    ax.step(np.r_[0, recall], np.r_[envelope[0], envelope], where="pre", color="tab:orange",
            linestyle="--", label=_("precision envelope (VOC AP = area)"))  # fmt: skip
    r101 = np.linspace(0, 1, 101)
    ax.plot(r101, [interpolated(precision, recall, r) for r in r101], ".", color="tab:green",
            markersize=3, label=_("COCO: 101 recall levels"))  # fmt: skip
    r11 = np.linspace(0, 1, 11)
    ax.plot(r11, [interpolated(precision, recall, r) for r in r11], "o", mfc="none",
            color="tab:red", label=_("VOC2007: 11 recall levels"))  # fmt: skip
    ax.plot(recall, precision, "ko", label="(R_k, P_k)")
    ax.set(xlabel=_("recall"), ylabel=_("precision"), xlim=(-0.02, 1.02), ylim=(0.2, 1.05))
    ax.legend(loc="lower left", fontsize=8)


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
