"""Seen, unseen and harmonic-mean accuracy as calibrated stacking's gamma grows."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.demos.zeroshot import make_attribute_data, ridge_fit
from conceptref.zeroshot import (
    calibrated_stacking,
    cosine_scores,
    harmonic_mean,
    per_class_accuracy,
)


def data() -> tuple[np.ndarray, dict[str, list[float]]]:
    """Seen, unseen and harmonic-mean accuracy for each gamma."""
    d = make_attribute_data(seed=0)
    coef, intercept = ridge_fit(d.x[d.train], d.signatures[d.y[d.train]], alpha=1.0)
    scores = cosine_scores(d.x @ coef + intercept, d.signatures)
    test = ~d.train
    seen_classes, unseen_classes = np.flatnonzero(d.seen), np.flatnonzero(~d.seen)

    gammas = np.linspace(0.0, 0.6, 31)
    curves = {"seen": [], "unseen": [], "H": []}
    for gamma in gammas:
        predicted = calibrated_stacking(scores, d.seen, gamma).argmax(axis=1)
        acc_s = per_class_accuracy(d.y[test], predicted[test], seen_classes)
        acc_u = per_class_accuracy(d.y[test], predicted[test], unseen_classes)
        curves["seen"].append(acc_s)
        curves["unseen"].append(acc_u)
        curves["H"].append(harmonic_mean(acc_s, acc_u))
    return gammas, curves


def draw(data: tuple[np.ndarray, dict[str, list[float]]], _) -> None:
    gammas, curves = data
    _figure, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(gammas, curves["seen"], "o-", markersize=3, label=_("seen classes, acc$_s$"))
    ax.plot(gammas, curves["unseen"], "s-", markersize=3, label=_("unseen classes, acc$_u$"))
    ax.plot(gammas, curves["H"], "k-", linewidth=2, label=_("harmonic mean $H$"))
    ax.set(
        xlabel=_(r"calibration $\gamma$ subtracted from seen-class scores"),
        ylabel=_("per-class accuracy"),
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
