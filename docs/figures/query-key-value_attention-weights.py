"""Attention weights of the page's worked example, without and with a causal mask."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.attention import attention_weights, causal_mask

Q = np.array([[2.0, 2, 0, 0], [0, 0, 2, 0], [1, 0, 1, 0]])
K = np.array([[1.0, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]])


def data() -> dict[str, np.ndarray]:
    """The (3, 3) attention weights of each panel; row i is query i's distribution."""
    return {
        "no mask": attention_weights(Q, K),
        "causal mask": attention_weights(Q, K, causal_mask(3)),
    }


def draw(data: dict[str, np.ndarray], _) -> None:
    titles = {"no mask": _("no mask"), "causal mask": _("causal mask")}
    _figure, axes = plt.subplots(1, 2, figsize=(7.5, 3.4))
    for ax, (title, weights) in zip(axes, data.items(), strict=True):
        ax.imshow(weights, cmap="Blues", vmin=0, vmax=1)
        for (i, j), w in np.ndenumerate(weights):
            colour = "white" if w > 0.5 else "black"
            ax.text(j, i, f"{w:.4f}", ha="center", va="center", color=colour)
        ax.set_xticks(range(3), [_("key {j}").format(j=j) for j in range(3)])
        ax.set_yticks(range(3), [_("query {i}").format(i=i) for i in range(3)])
        ax.set_title(titles[title])


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
