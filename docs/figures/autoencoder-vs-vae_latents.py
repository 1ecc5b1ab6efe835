"""A plain autoencoder and a VAE of the same size: their codes, and what N(0, I) decodes to."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from conceptref.demos.vae import (
    decode_prior_samples,
    fraction_near_modes,
    ring_of_gaussians,
    train_autoencoder,
)


def data() -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The data, and for each model the codes of the data and 2000 decoded prior samples."""
    torch.set_num_threads(1)
    points = ring_of_gaussians(256, seed=0)
    models = {}
    for variational, name in ((False, "autoencoder"), (True, "VAE")):
        fit = train_autoencoder(points, variational=variational, seed=0)
        models[name] = (fit.codes(points), decode_prior_samples(fit, 2000, seed=0))
    return points, models


def draw(data: tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]], _) -> None:
    points, models = data
    names = {"autoencoder": _("autoencoder"), "VAE": _("VAE")}
    mode = np.round(np.arctan2(points[:, 1], points[:, 0]) / (2 * np.pi / 8)) % 8
    _figure, axes = plt.subplots(2, 2, figsize=(8, 8))
    for column, (name, (codes, samples)) in enumerate(models.items()):
        top, bottom = axes[0, column], axes[1, column]
        top.scatter(*codes.T, c=mode, cmap="tab10", s=8)
        circle = plt.Circle(
            (0, 0), 2.0, fill=False, ls="--", color="grey", label=_("2 std of N(0, I)")
        )
        top.add_patch(circle)
        title = _("{name}: codes of the data").format(name=names[name])
        top.set(title=title, xlabel="$z_1$", ylabel="$z_2$")
        top.set_aspect("equal", adjustable="datalim")
        top.legend(loc="upper right", fontsize=8)
        bottom.scatter(*samples.T, s=3, color="tab:red", alpha=0.4, label=_("decoded z ~ N(0, I)"))
        bottom.scatter(*points.T, s=6, color="black", label=_("data"))
        title = _("{name}: samples, {share:.0%} on a mode").format(
            name=names[name], share=fraction_near_modes(samples)
        )
        bottom.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
        bottom.set_aspect("equal", adjustable="datalim")
        bottom.legend(loc="upper right", fontsize=8)


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
