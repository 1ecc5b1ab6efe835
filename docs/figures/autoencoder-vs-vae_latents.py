"""A plain autoencoder and a VAE of the same size: their codes, and what N(0, I) decodes to."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from conceptref.vae import (
    decode_prior_samples,
    fraction_near_modes,
    ring_of_gaussians,
    train_autoencoder,
)

torch.set_num_threads(1)
data = ring_of_gaussians(256, seed=0)
mode = np.round(np.arctan2(data[:, 1], data[:, 0]) / (2 * np.pi / 8)) % 8
fig, axes = plt.subplots(2, 2, figsize=(8, 8))
for column, (variational, name) in enumerate(((False, "autoencoder"), (True, "VAE"))):
    fit = train_autoencoder(data, variational=variational, seed=0)
    codes = fit.codes(data)
    samples = decode_prior_samples(fit, 2000, seed=0)
    top, bottom = axes[0, column], axes[1, column]
    top.scatter(*codes.T, c=mode, cmap="tab10", s=8)
    circle = plt.Circle((0, 0), 2.0, fill=False, ls="--", color="grey", label="2 std of N(0, I)")
    top.add_patch(circle)
    top.set(title=f"{name}: codes of the data", xlabel="$z_1$", ylabel="$z_2$")
    top.set_aspect("equal", adjustable="datalim")
    top.legend(loc="upper right", fontsize=8)
    bottom.scatter(*samples.T, s=3, color="tab:red", alpha=0.4, label="decoded z ~ N(0, I)")
    bottom.scatter(*data.T, s=6, color="black", label="data")
    share = fraction_near_modes(samples)
    bottom.set(title=f"{name}: samples, {share:.0%} on a mode", xlabel="$x_1$", ylabel="$x_2$")
    bottom.set_aspect("equal", adjustable="datalim")
    bottom.legend(loc="upper right", fontsize=8)
