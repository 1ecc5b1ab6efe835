"""Target accuracy against the number of target labels, with and without pre-training."""

import matplotlib.pyplot as plt

from conceptref.demos.transfer import (
    accuracy,
    make_classifier,
    make_transfer_tasks,
    probe_accuracy,
    train_classifier,
    with_new_head,
)


def data() -> tuple[list[int], dict[str, list[float]]]:
    """Target test accuracy of each method for each number of target labels."""
    tasks = make_transfer_tasks(seed=0)
    test = (tasks.x_test, tasks.y_test)
    pretrained = {
        name: train_classifier(make_classifier(8, seed=0), tasks.x_source, labels, {"": 1e-2})
        for name, labels in (("related", tasks.y_source), ("unrelated", tasks.y_unrelated))
    }
    sizes = [8, 16, 32, 64, 128]
    curves = {"from scratch": [], "probe, related": [], "fine-tuned, related": [],
              "probe, unrelated": []}  # fmt: skip
    for n in sizes:
        x, y = tasks.x_target[:n], tasks.y_target[:n]
        scratch = train_classifier(make_classifier(4, seed=0), x, y, {"": 1e-2})
        curves["from scratch"].append(accuracy(scratch, *test))
        curves["probe, related"].append(probe_accuracy(pretrained["related"][0], x, y, *test))
        tuned = with_new_head(pretrained["related"], 4, seed=0)
        train_classifier(tuned, x, y, {"": 1e-3, "1": 1e-2})
        curves["fine-tuned, related"].append(accuracy(tuned, *test))
        curves["probe, unrelated"].append(probe_accuracy(pretrained["unrelated"][0], x, y, *test))
    return sizes, curves


def draw(data: tuple[list[int], dict[str, list[float]]], _) -> None:
    sizes, curves = data
    labels = {
        "from scratch": _("from scratch"),
        "probe, related": _("probe, related"),
        "fine-tuned, related": _("fine-tuned, related"),
        "probe, unrelated": _("probe, unrelated"),
    }
    _figure, ax = plt.subplots(figsize=(6.4, 3.6))
    for (label, values), style in zip(curves.items(), ["o-", "s-", "^-", "x--"], strict=True):
        ax.plot(sizes, values, style, label=labels[label])
    ax.axhline(0.25, color="grey", linewidth=0.8, linestyle=":", label=_("chance"))
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.set(xlabel=_("target labels"), ylabel=_("target test accuracy"), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
