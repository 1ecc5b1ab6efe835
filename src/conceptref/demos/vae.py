r"""A ring of Gaussians, a plain autoencoder and a VAE: the demonstration of a concept page.

The page :doc:`/concepts/autoencoder-vs-vae` runs it.

:func:`ring_of_gaussians` draws the toy data; :func:`train_autoencoder` trains a plain
autoencoder or a VAE of the same size on it (full batch, with the package's one Adam through
``conceptref.demos._training.fit``); :func:`decode_prior_samples` decodes draws from
:math:`\mathcal N(0, I)` with either; :func:`fraction_near_modes` counts how many land on the
data. The formulas the page quotes (the KL term, the ELBO, the reparameterization trick) are in
:mod:`conceptref.vae`.

Every seeded function takes a keyword ``seed`` (a non-negative integer) and leaves the caller's
global NumPy and torch random state as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from conceptref._random import numpy_rng, seeded, torch_generator
from conceptref._validation import (
    Interval,
    check_array,
    check_bool,
    check_int,
    check_module,
    check_real,
    check_seed,
    check_size,
)
from conceptref.demos._training import fit

__all__ = [
    "AutoencoderFit",
    "decode_prior_samples",
    "fraction_near_modes",
    "ring_of_gaussians",
    "train_autoencoder",
]

MAX_ELEMENTS = 10**7  # the largest array (or weight matrix) a demonstration builds
MAX_STEPS = 10**4  # the longest training run a demonstration accepts
_POSITIVE = Interval(0, None, "neither")


def _positive_int(value: object, name: str, high: int | None = None) -> int:
    return check_int(value, name, Interval(1, high))


def _ring_centres(modes: int, radius: float) -> npt.NDArray[np.float64]:
    angles = 2 * np.pi * np.arange(modes) / modes
    return np.asarray(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), np.float64)


def ring_of_gaussians(
    n: int, *, modes: int = 8, radius: float = 2.0, std: float = 0.1, seed: int = 0
) -> npt.NDArray[np.float64]:
    r"""Draw ``n`` points from ``modes`` equal Gaussians centred on a circle.

    Parameters
    ----------
    n
        Number of points.
    modes
        Number of Gaussians, centred at angles :math:`2\pi k / \text{modes}`.
    radius
        Radius of the circle of centres.
    std
        Standard deviation of each Gaussian (isotropic).
    seed
        Seed of :func:`numpy.random.default_rng`, a non-negative integer.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, 2)``.

    Raises
    ------
    TypeError, ValueError
        If a count is not a positive integer (or asks for more than :math:`10^7` numbers),
        ``radius``/``std`` is not a positive number, the points overflow float64, or ``seed``
        is not a seed.

    Examples
    --------
    >>> from conceptref.demos.vae import ring_of_gaussians
    >>> ring_of_gaussians(500).shape
    (500, 2)
    """
    size = _positive_int(n, "n")
    k = _positive_int(modes, "modes")
    check_size([("n", size), ("2", 2)], limit=MAX_ELEMENTS)
    check_size([("modes", k), ("2", 2)], limit=MAX_ELEMENTS)
    r = check_real(radius, "radius", _POSITIVE)
    s = check_real(std, "std", _POSITIVE)
    rng = numpy_rng(seed)
    which = rng.integers(0, k, size=size)
    with np.errstate(over="ignore", invalid="ignore"):
        points = _ring_centres(k, r)[which] + s * rng.standard_normal((size, 2))
    if not np.isfinite(points).all():
        raise ValueError("radius or std is too large: the points overflow float64")
    return np.asarray(points, dtype=np.float64)


def fraction_near_modes(
    points: npt.ArrayLike, *, modes: int = 8, radius: float = 2.0, tolerance: float = 0.3
) -> float:
    r"""Return the fraction of ``points`` within ``tolerance`` of one of the ring's centres.

    With the default ring (``std = 0.1``) the tolerance is three standard deviations: in two
    dimensions :math:`1 - e^{-9/2} \approx 98.9\,\%` of real data points pass.

    Parameters
    ----------
    points
        Array of shape ``(n, 2)``, :math:`n \ge 1`.
    modes, radius
        The ring, as in :func:`ring_of_gaussians`.
    tolerance
        Distance to the nearest centre below which a point counts as "on the data".

    Returns
    -------
    float
        A number in [0, 1].

    Raises
    ------
    TypeError, ValueError
        If ``points`` is not a finite ``(n, 2)`` array with ``n >= 1``, or a parameter is not
        positive (or ``n`` times ``modes`` exceeds :math:`10^7`).

    Examples
    --------
    >>> from conceptref.demos.vae import fraction_near_modes, ring_of_gaussians
    >>> fraction_near_modes(ring_of_gaussians(1000)) > 0.98
    True
    """
    p = check_array(points, "points", ndim=2, axes="(n, 2)", non_empty=True)
    if p.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2) with n >= 1, got {p.shape}")
    k = _positive_int(modes, "modes")
    check_size([("points", p.shape[0]), ("modes", k)], limit=MAX_ELEMENTS)
    centres = _ring_centres(k, check_real(radius, "radius", _POSITIVE))
    tol = check_real(tolerance, "tolerance", _POSITIVE)
    with np.errstate(over="ignore", invalid="ignore"):
        dx = p[:, None, 0] - centres[None, :, 0]
        dy = p[:, None, 1] - centres[None, :, 1]
        distance = np.hypot(dx, dy).min(axis=1)  # inf where a difference overflows: not near
    return float(np.mean(distance < tol))


def _mlp(n_in: int, n_out: int, hidden: int, activation: type[torch.nn.Module]) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden),
        activation(),
        torch.nn.Linear(hidden, hidden),
        activation(),
        torch.nn.Linear(hidden, n_out),
    )


class _Flat:
    """The parameters of some MLPs as one flat tensor, and the MLPs run on views of it.

    One parameter tensor instead of two per layer keeps the per-step cost of the shared Adam
    (which checks and converts every tensor it is given) small. :meth:`store` copies the trained
    values back into the modules.
    """

    def __init__(self, *modules: torch.nn.Module) -> None:
        self.modules = modules
        params = [p for m in modules for p in m.parameters()]
        self.vector = torch.nn.utils.parameters_to_vector(params).detach().requires_grad_()
        sizes = [sum(p.numel() for p in m.parameters()) for m in modules]
        self.starts = [sum(sizes[:i]) for i in range(len(modules))]

    def run(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Apply module ``index`` (linear layers and activations) with the weights in ``vector``."""
        offset = self.starts[index]
        h = x
        for layer in self.modules[index].children():
            if isinstance(layer, torch.nn.Linear):
                w_size = layer.weight.numel()
                weight = self.vector[offset : offset + w_size].view(layer.weight.shape)
                bias = self.vector[offset + w_size : offset + w_size + layer.out_features]
                offset += w_size + layer.out_features
                h = torch.nn.functional.linear(h, weight, bias)
            else:
                h = layer(h)
        return h

    def store(self) -> None:
        """Copy the trained vector back into the modules' parameters."""
        params = [p for m in self.modules for p in m.parameters()]
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(self.vector.detach(), params)


def _input_size(module: torch.nn.Module) -> int | None:
    """Return the ``in_features`` of the first linear layer of ``module`` (None if none)."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            return int(layer.in_features)
    return None


@dataclass(frozen=True)
class AutoencoderFit:
    """A trained encoder and decoder (see :func:`train_autoencoder`).

    Attributes
    ----------
    encoder
        Maps ``(n, features)`` data to codes ``(n, latent_dim)`` (plain AE) or to
        ``[mu, logvar]`` of shape ``(n, 2 * latent_dim)`` (VAE).
    decoder
        Maps codes ``(n, latent_dim)`` to points ``(n, features)``.
    variational
        Whether this is a VAE.
    latent_dim
        Size of the code.
    """

    encoder: torch.nn.Module
    decoder: torch.nn.Module
    variational: bool
    latent_dim: int

    def __post_init__(self) -> None:
        check_module(self.encoder, "encoder")
        check_module(self.decoder, "decoder")
        check_bool(self.variational, "variational")
        _positive_int(self.latent_dim, "latent_dim")

    def codes(self, data: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the deterministic codes of ``data``: the AE's code or the VAE's mean ``mu``."""
        x = check_array(data, "data", ndim=2, axes="(n, features)")
        features = _input_size(self.encoder)
        if features is not None and x.shape[1] != features:
            raise ValueError(f"data must have {features} features per row, got {x.shape[1]}")
        with torch.no_grad():
            h = self.encoder(torch.as_tensor(x, dtype=torch.float32))
        return np.array(h[:, : self.latent_dim].double().numpy(), dtype=np.float64)


def train_autoencoder(
    data: npt.ArrayLike,
    *,
    variational: bool,
    latent_dim: int = 2,
    hidden: int = 32,
    steps: int = 250,
    lr: float = 1e-2,
    sigma: float = 0.1,
    beta: float = 1.0,
    seed: int = 0,
) -> AutoencoderFit:
    r"""Train a plain autoencoder or a VAE of the same size, full batch, with Adam.

    Both use two-hidden-layer ReLU MLPs; the VAE's encoder has twice as many outputs
    (:math:`\mu` and :math:`\log\sigma^2`). The plain AE minimizes
    :math:`\lVert x - \hat x\rVert^2 / (2\sigma^2)` per point; the VAE minimizes the same term
    plus ``beta`` times the KL of :func:`conceptref.vae.gaussian_kl`, with :math:`z` drawn by
    the reparameterization trick, that is, the negative :func:`conceptref.vae.gaussian_elbo` up
    to a constant. The steps are ``conceptref.demos._training.fit``'s Adam.

    Parameters
    ----------
    data
        Training points, shape ``(n, features)``.
    variational
        ``False`` for a plain AE, ``True`` for a VAE (a ``bool``).
    latent_dim, hidden, steps
        Code size, hidden width, number of Adam steps (at most :math:`10^4`).
    lr
        Adam's learning rate.
    sigma
        The Gaussian decoder's fixed standard deviation.
    beta
        KL weight (VAE only).
    seed
        Seeds the weights and the VAE's noise; the caller's global random state is untouched.

    Returns
    -------
    AutoencoderFit
        The trained networks, in float32 and in evaluation mode.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not a finite 2-D array, ``variational`` is not a ``bool``, a parameter
        is out of range, or training diverges (``"training diverged at step N"``).

    Examples
    --------
    >>> from conceptref.demos.vae import ring_of_gaussians, train_autoencoder
    >>> fit = train_autoencoder(ring_of_gaussians(64), variational=True, steps=5)
    >>> fit.codes(ring_of_gaussians(3)).shape
    (3, 2)
    """
    x_np = check_array(data, "data", ndim=2, axes="(n, features)", non_empty=True)
    is_vae = check_bool(variational, "variational")
    d = _positive_int(latent_dim, "latent_dim")
    width = _positive_int(hidden, "hidden")
    n_steps = _positive_int(steps, "steps", MAX_STEPS)
    rate = check_real(lr, "lr", _POSITIVE)
    s = check_real(sigma, "sigma", _POSITIVE)
    b = check_real(beta, "beta", Interval(0, None))
    seed = check_seed(seed)
    features = x_np.shape[1]
    widest = max(width, features, 2 * d, x_np.shape[0])
    check_size([("hidden", width), ("the widest layer or batch", widest)], limit=MAX_ELEMENTS)
    x = torch.as_tensor(x_np, dtype=torch.float32)
    with seeded(seed):
        encoder = _mlp(features, 2 * d if is_vae else d, width, torch.nn.ReLU)
        decoder = _mlp(d, features, width, torch.nn.ReLU)
    generator = torch_generator(seed)
    scale = 1 / (2 * s**2)
    flat = _Flat(encoder, decoder)

    def loss_at(_: int) -> torch.Tensor:
        h = flat.run(0, x)
        if is_vae:
            mu, logvar = h[:, :d], h[:, d:]
            eps = torch.randn(mu.shape, generator=generator)
            z = mu + torch.exp(logvar / 2) * eps  # the reparameterization trick
            kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
        else:
            z, kl = h, torch.zeros(())
        reconstruction = ((flat.run(1, z) - x) ** 2).sum(dim=1) * scale
        loss: torch.Tensor = (reconstruction + b * kl).mean()
        return loss

    fit([flat.vector], loss_at, steps=n_steps, learning_rate=rate)
    flat.store()
    return AutoencoderFit(encoder.eval(), decoder.eval(), is_vae, d)


def decode_prior_samples(fit: AutoencoderFit, n: int, *, seed: int = 0) -> npt.NDArray[np.float64]:
    r"""Decode ``n`` draws :math:`z \sim \mathcal N(0, I)`: "generate" with either model.

    Parameters
    ----------
    fit
        A trained model from :func:`train_autoencoder`.
    n
        Number of samples.
    seed
        Seed of the :class:`torch.Generator` that draws :math:`z`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, features)``.

    Raises
    ------
    TypeError
        If ``fit`` is not an :class:`AutoencoderFit`.
    ValueError
        If ``n`` < 1 or asks for more than :math:`10^7` numbers, or ``seed`` is not a seed.

    Examples
    --------
    >>> from conceptref.demos.vae import decode_prior_samples, ring_of_gaussians
    >>> from conceptref.demos.vae import train_autoencoder
    >>> fit = train_autoencoder(ring_of_gaussians(64), variational=False, steps=5)
    >>> decode_prior_samples(fit, 4).shape
    (4, 2)
    """
    if not isinstance(fit, AutoencoderFit):
        raise TypeError(f"fit must be an AutoencoderFit, got {type(fit).__name__}")
    size = _positive_int(n, "n")
    check_size([("n", size), ("latent_dim", fit.latent_dim)], limit=MAX_ELEMENTS)
    z = torch.randn(size, fit.latent_dim, generator=torch_generator(seed))
    with torch.no_grad():
        out = fit.decoder(z).double().numpy()
    return np.array(out, dtype=np.float64)
