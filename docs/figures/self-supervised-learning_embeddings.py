"""The page's demonstration: the representation of a random, a well-trained and a badly trained
encoder, each projected on its first two principal components and coloured by the hidden class."""

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from conceptref.demos.selfsupervised import (
    content_style_data,
    contrastive_pretrain,
    nearest_centroid_probe,
    tiny_encoder,
)


def data() -> dict[str, tuple[torch.Tensor, float]]:
    """Per panel: the unit-length representations (n, 8) and the 5-label probe's accuracy."""
    torch.set_num_threads(1)
    d = content_style_data(100, seed=0)
    encoders = {
        "random encoder": tiny_encoder(10, seed=0),
        "contrastive, views differ in style": contrastive_pretrain(d.x, d.style_basis, seed=0),
        "contrastive, views differ in content": contrastive_pretrain(d.x, d.content_basis, seed=0),
    }
    panels = {}
    with torch.no_grad():
        for title, f in encoders.items():
            h = F.normalize(f(d.x), dim=1)
            panels[title] = (h, nearest_centroid_probe(h, d.labels, per_class=5, seed=0))
    return panels


def draw(data: dict[str, tuple[torch.Tensor, float]], _) -> None:
    titles = {
        "random encoder": _("random encoder"),
        "contrastive, views differ in style": _("contrastive, views differ in style"),
        "contrastive, views differ in content": _("contrastive, views differ in content"),
    }
    labels = content_style_data(100, seed=0).labels
    _figure, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    for ax, (title, (h, accuracy)) in zip(axes, data.items(), strict=True):
        centred = h - h.mean(dim=0)
        _u, _s, v = torch.linalg.svd(centred, full_matrices=False)
        xy = centred @ v[:2].T  # the first two principal components
        ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", vmin=0, vmax=9, s=9)
        probe = _("5-label probe accuracy {accuracy:.2f}").format(accuracy=accuracy)
        ax.set_title(f"{titles[title]}\n{probe}", fontsize=9)
        ax.set(xticks=[], yticks=[], xlabel=_("PC 1"), ylabel=_("PC 2"))


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
