"""The same samples through two selected columns and through the first two components."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.features import pca, select_k_best


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The page's data set: inputs x (200, 6), labels y, the kept columns, the PCA projection."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)  # class 0 or 1
    x = rng.standard_normal((200, 6))  # six noise columns ...
    x[:, [1, 4]] += 2.0 * (y[:, None] - 0.5)  # ... two of which move with the class
    return x, y, select_k_best(x, y, k=2), pca(x, n_components=2).projected


def draw(data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], _) -> None:
    x, y, kept, projected = data
    _figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6))
    columns = [_("column {j}").format(j=j) for j in kept]
    components = [_("component {k}").format(k=k) for k in (1, 2)]
    for ax, points, labels, title in (
        (left, x[:, kept], columns, _("selection: original columns")),
        (right, projected, components, _("extraction: PCA")),
    ):
        for c, colour in ((0, "tab:blue"), (1, "tab:orange")):
            ax.scatter(*points[y == c].T, s=10, color=colour, label=_("class {c}").format(c=c))
        ax.set(xlabel=labels[0], ylabel=labels[1], title=title)
        ax.set_aspect("equal", adjustable="datalim")
    left.legend(loc="upper left")


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
