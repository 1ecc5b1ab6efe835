"""The encoder layer drawn as boxes and arrows: post-LN (the paper) next to pre-LN."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

COLORS = {"attn": "#f4c28f", "ffn": "#9fd3f0", "norm": "#d7e8b0", "add": "#eeeeee"}


def column(ax, x, title, steps):
    """Draw boxes bottom-up at x; steps are (label, kind); residual arrows skip to each add."""
    y = 0.5
    ax.annotate("", (x, y), (x, 0.2), arrowprops={"arrowstyle": "->"})
    positions = []
    for label, kind in steps:
        box = FancyBboxPatch(
            (x - 1.1, y), 2.2, 0.55, boxstyle="round,pad=0.05", fc=COLORS[kind], ec="black"
        )
        ax.add_patch(box)
        ax.text(x, y + 0.27, label, ha="center", va="center", fontsize=9)
        positions.append((y, kind))
        ax.annotate("", (x, y + 0.85), (x, y + 0.6), arrowprops={"arrowstyle": "->"})
        y += 0.85
    ax.text(x, y + 0.45, title, ha="center", fontsize=11, weight="bold")
    return positions


def residual(ax, x, y_from, y_to):
    ax.annotate(
        "",
        (x + 1.15, y_to + 0.27),
        (x + 1.15, y_from),
        arrowprops={"arrowstyle": "->", "connectionstyle": "bar,fraction=0.25", "color": "gray"},
    )


def data() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The sub-layers of a post-LN and of a pre-LN encoder layer, bottom-up: (label, kind)."""
    post = [
        ("multi-head self-attention", "attn"),
        ("add (residual)", "add"),
        ("layer norm", "norm"),
        ("feed-forward (d_ff)", "ffn"),
        ("add (residual)", "add"),
        ("layer norm", "norm"),
    ]
    pre = [
        ("layer norm", "norm"),
        ("multi-head self-attention", "attn"),
        ("add (residual)", "add"),
        ("layer norm", "norm"),
        ("feed-forward (d_ff)", "ffn"),
        ("add (residual)", "add"),
    ]
    return post, pre


def draw(data: tuple[list[tuple[str, str]], list[tuple[str, str]]], _) -> None:
    post, pre = data
    labels = {
        "multi-head self-attention": _("multi-head self-attention"),
        "add (residual)": _("add (residual)"),
        "layer norm": _("layer norm"),
        "feed-forward (d_ff)": _("feed-forward (d_ff)"),
    }
    _figure, ax = plt.subplots(figsize=(8, 6))
    for x, title, steps in (
        (0, _("post-LN (Vaswani et al.)"), post),
        (4, _("pre-LN (GPT-2 and most since)"), pre),
    ):
        column(ax, x, title, [(labels[label], kind) for label, kind in steps])
        ax.text(x, 0.05, _("input x"), ha="center", fontsize=9)
        ax.text(x, 0.5 + 0.85 * len(steps) + 0.05, _("output"), ha="center", fontsize=9)
    for x, pairs in ((0, [(0.3, 1), (2.9, 4)]), (4, [(0.3, 2), (3.1, 5)])):
        for start, add_index in pairs:
            residual(ax, x, start, 0.5 + 0.85 * add_index)
    ax.set_xlim(-1.8, 6)
    ax.set_ylim(0, 6.3)
    ax.axis("off")


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
