"""The four attention masks of the model families, side by side, from attention_mask."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.language_models import attention_mask

N, PREFIX, SOURCE = 6, 3, 4


def data() -> list[tuple[str, np.ndarray, int]]:
    """(title, mask, number of encoder columns) for each panel; True = may attend."""
    return [
        ("bidirectional (BERT)", attention_mask("bidirectional", N), 0),
        ("causal (GPT)", attention_mask("causal", N), 0),
        (f"prefix ({PREFIX} tokens)", attention_mask("prefix", N, prefix_length=PREFIX), 0),
        (
            "the decoder of T5 or BART",
            attention_mask("encoder-decoder", N, source_length=SOURCE),
            SOURCE,
        ),
    ]


def draw(data: list[tuple[str, np.ndarray, int]], _) -> None:
    titles = [
        _("bidirectional (BERT)"),
        _("causal (GPT)"),
        _("prefix ({n} tokens)").format(n=PREFIX),
        _("the decoder of T5 or BART"),
    ]
    _figure, axes = plt.subplots(
        1, 4, figsize=(11, 3.3), gridspec_kw={"width_ratios": [6, 6, 6, 10]}
    )
    for ax, title, (_title, mask, split) in zip(axes, titles, data, strict=True):
        ax.imshow(mask, cmap="Blues", vmin=-0.3, vmax=1.0)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(mask.shape[1]))
        ax.set_yticks(range(mask.shape[0]))
        ax.set_xlabel(_("key position"))
        if split:
            ax.axvline(split - 0.5, color="black", lw=1.5)
            ax.set_xticks(range(mask.shape[1]), [f"s{j}" for j in range(split)] + list(range(N)))
            ax.set_xlabel(_("encoder outputs s0-s3 (cross) | decoder positions (self)"), fontsize=9)
    axes[0].set_ylabel(_("query position"))


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
