"""Target accuracy against the number of target labels, with and without pre-training."""

import copy

import matplotlib.pyplot as plt
import torch
from torch import nn

from conceptref.transfer import (
    accuracy,
    freeze,
    linear_probe,
    make_transfer_tasks,
    replace_head,
    train_classifier,
)


def data() -> tuple[list[int], dict[str, list[float]]]:
    """Target test accuracy of each method for each number of target labels."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tasks = make_transfer_tasks(0)
    test_x = torch.from_numpy(tasks.x_test)

    def backbone():
        return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())

    pretrained = {}
    for name, labels in (("related", tasks.y_source), ("unrelated", tasks.y_unrelated)):
        net = nn.Sequential(backbone(), nn.Linear(32, 8))
        pretrained[name] = train_classifier(net, tasks.x_source, labels, {"": 1e-2})

    def probe_accuracy(source, x, y):
        body = freeze(copy.deepcopy(pretrained[source][0]))
        with torch.no_grad():
            probe = linear_probe(body(torch.from_numpy(x)), y)
            return float((probe.predict(body(test_x)) == tasks.y_test).mean())

    sizes = [8, 16, 32, 64, 128]
    curves = {"from scratch": [], "probe, related": [], "fine-tuned, related": [],
              "probe, unrelated": []}  # fmt: skip
    for n in sizes:
        x, y = tasks.x_target[:n], tasks.y_target[:n]
        scratch = train_classifier(nn.Sequential(backbone(), nn.Linear(32, 4)), x, y, {"": 1e-2})
        curves["from scratch"].append(accuracy(scratch, test_x, tasks.y_test))
        curves["probe, related"].append(probe_accuracy("related", x, y))
        tuned = copy.deepcopy(pretrained["related"])
        replace_head(tuned, "1", 4)
        train_classifier(tuned, x, y, {"": 1e-3, "1": 1e-2})
        curves["fine-tuned, related"].append(accuracy(tuned, test_x, tasks.y_test))
        curves["probe, unrelated"].append(probe_accuracy("unrelated", x, y))
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
