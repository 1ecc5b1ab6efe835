"""A tiny DDPM on eight Gaussians: data, samples, and a few reverse trajectories."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from conceptref.demos.diffusion import sample_toy_ddpm, train_toy_ddpm
from conceptref.demos.vae import fraction_near_modes, ring_of_gaussians
from conceptref.diffusion import alphas_cumprod, beta_schedule


def data() -> tuple[np.ndarray, np.ndarray]:
    """The data, and the reverse chains of 1000 samples, shape (T + 1, 1000, 2)."""
    torch.set_num_threads(1)
    points = ring_of_gaussians(512, seed=0)
    model = train_toy_ddpm(points, alphas_cumprod(beta_schedule("cosine", 40)), seed=0)
    return points, sample_toy_ddpm(model, 1000, seed=0, keep_trajectories=True)


def draw(data: tuple[np.ndarray, np.ndarray], _) -> None:
    points, chain = data
    samples = chain[-1]
    _figure, axes = plt.subplots(1, 3, figsize=(10, 3.6), sharex=True, sharey=True)
    axes[0].scatter(*points.T, s=4, color="black")
    axes[0].set_title(_("data: 8 Gaussians"))
    axes[1].scatter(*samples.T, s=4, color="tab:red")
    share = fraction_near_modes(samples)
    axes[1].set_title(_("DDPM samples, {share:.0%} on a mode").format(share=share))
    axes[2].scatter(*points.T, s=2, color="lightgrey")
    for i in range(6):
        (line,) = axes[2].plot(*chain[:, i].T, lw=0.7, alpha=0.8)
        axes[2].scatter(*chain[0, i], s=14, marker="o", color="black", zorder=3)
        axes[2].scatter(*chain[-1, i], s=40, marker="X", color=line.get_color(), zorder=3)
    axes[2].set_title(_("six chains: $x_T$ (dot) to $x_0$ (cross)"))
    for ax in axes:
        ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5))
        ax.set_aspect("equal", adjustable="box")


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
