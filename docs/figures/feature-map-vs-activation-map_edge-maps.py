"""Feature maps (signed) and activation maps (after ReLU) of two Sobel kernels."""

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

NAMES = ["vertical edges", "horizontal edges"]


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image (32, 32), its two feature maps and their activation maps, each (2, 32, 32)."""
    image = torch.zeros(1, 1, 32, 32)
    image[..., 8:24, 8:24] = 1.0  # a bright square
    image[..., 14:18, :] += 0.5  # and a horizontal band
    edge = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])  # Sobel
    kernels = torch.stack([edge, edge.T])[:, None]  # (C_out=2, C_in=1, 3, 3)
    feature = F.conv2d(image, kernels, padding=1)[0]
    return image[0, 0].numpy(), feature.numpy(), torch.relu(feature).numpy()


def draw(data: tuple[np.ndarray, np.ndarray, np.ndarray], _) -> None:
    image, feature, active = data
    names = {"vertical edges": _("vertical edges"), "horizontal edges": _("horizontal edges")}
    _figure, axes = plt.subplots(2, 3, figsize=(7.5, 5))
    for row, name in enumerate(NAMES):
        axes[row, 0].imshow(image, cmap="gray")
        axes[row, 0].set_title(_("input"))
        limit = float(np.abs(feature[row]).max())
        axes[row, 1].imshow(feature[row], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[row, 1].set_title(_("feature map:\n{name}").format(name=names[name]))
        axes[row, 2].imshow(active[row], cmap="Reds", vmin=0, vmax=limit)
        axes[row, 2].set_title(_("activation map\n(ReLU)"))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
