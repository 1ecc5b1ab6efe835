r"""Autoencoders and variational autoencoders: the KL term, the reparameterization trick, the ELBO.

This module is the reference implementation behind the page :doc:`/concepts/autoencoder-vs-vae`.
The formulas (:func:`gaussian_kl`, :func:`reparameterize`, :func:`gaussian_elbo`,
:func:`bernoulli_elbo`) are written out in NumPy (float64) and tested in ``tests/test_vae.py``
against :func:`torch.distributions.kl_divergence`, :class:`torch.distributions.Normal` and
:func:`torch.nn.functional.binary_cross_entropy_with_logits`. They accept NumPy arrays, nested
lists and PyTorch tensors (detached and upcast to float64 first, so ``requires_grad`` and
float16/bfloat16 tensors work).

The rest is the page's demonstration: a seeded ring of Gaussians (:func:`ring_of_gaussians`), a
plain autoencoder and a VAE of the same size trained on it in PyTorch
(:func:`train_autoencoder`), and how many decoded draws from :math:`\mathcal N(0, I)` land near
a mode of the data (:func:`fraction_near_modes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from conceptref._validation import (
    as_non_negative_float,
    as_positive_float,
    as_positive_int,
    check_array,
    check_same_shape,
)

__all__ = [
    "AutoencoderFit",
    "bernoulli_elbo",
    "beta_of_mean_mse",
    "decode_prior_samples",
    "fraction_near_modes",
    "gaussian_elbo",
    "gaussian_kl",
    "reparameterize",
    "ring_of_gaussians",
    "train_autoencoder",
]

_LOGVAR_LIMIT = 700.0  # exp(700) is finite in float64; exp(710) is not


def _check_logvar(logvar: npt.NDArray[np.float64]) -> None:
    if np.abs(logvar).max(initial=0.0) > _LOGVAR_LIMIT:
        raise ValueError(
            f"logvar must lie within ±{_LOGVAR_LIMIT:g} (exp(logvar) overflows float64 beyond)"
        )


def gaussian_kl(mu: npt.ArrayLike, logvar: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""KL divergence of a diagonal Gaussian from the standard normal, summed over the last axis.

    .. math:: \mathrm{KL}\big(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I)\big)
              = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big),
              \qquad \sigma_j^2 = e^{\text{logvar}_j}.

    Each term is at least 0 and is 0 exactly when :math:`\mu_j = 0` and :math:`\sigma_j = 1`.

    Parameters
    ----------
    mu
        Means, shape ``(..., d)``: the encoder's first output.
    logvar
        Log-variances :math:`\log\sigma^2`, same shape as ``mu``: the encoder's second output.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(...)`` (the last axis summed away), in nats.

    Raises
    ------
    TypeError
        If an input is not real-valued.
    ValueError
        If an input is a scalar, holds NaN or infinity, if the shapes differ, or if
        ``|logvar|`` exceeds 700 (its exponential overflows).

    See Also
    --------
    torch.distributions.kl_divergence : the same number for two
        :class:`torch.distributions.Normal` objects, summed over the last axis.

    Examples
    --------
    >>> from conceptref.vae import gaussian_kl
    >>> gaussian_kl([0.0, 0.0], [0.0, 0.0]).tolist()   # the prior itself: KL = 0
    0.0
    >>> round(float(gaussian_kl([1.0], [0.0])), 4)      # shifted by one standard deviation
    0.5
    """
    m = check_array(mu, "mu", min_ndim=1)
    lv = check_array(logvar, "logvar", min_ndim=1)
    check_same_shape(m, lv, ("mu", "logvar"))
    _check_logvar(lv)
    # expm1(lv) - lv = e^lv - 1 - lv without cancellation when lv is near 0
    with np.errstate(over="ignore"):
        kl = np.asarray(0.5 * np.sum(m**2 + np.expm1(lv) - lv, axis=-1), dtype=np.float64)
    if not np.isfinite(kl).all():
        raise ValueError("the KL divergence overflows float64: mu or logvar is too large")
    return kl


def reparameterize(
    mu: npt.ArrayLike, logvar: npt.ArrayLike, eps: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    r"""Draw from :math:`\mathcal N(\mu, \sigma^2)` by the reparameterization trick.

    .. math:: z = \mu + \sigma \odot \varepsilon, \qquad \sigma = e^{\text{logvar}/2},
              \qquad \varepsilon \sim \mathcal N(0, I).

    The randomness sits in ``eps``, which does not depend on the encoder, so :math:`z` is a
    differentiable function of :math:`\mu` and :math:`\log\sigma^2`.

    Parameters
    ----------
    mu, logvar
        Means and log-variances.
    eps
        Standard normal noise. The three broadcast together (e.g. several draws per input
        along a leading axis of ``eps``).

    Returns
    -------
    numpy.ndarray
        Float64 array: ``mu + exp(logvar / 2) * eps``, broadcast.

    Raises
    ------
    TypeError
        If an input is not real-valued.
    ValueError
        If an input holds NaN or infinity, the three do not broadcast together, or
        ``|logvar|`` exceeds 700.

    Examples
    --------
    >>> import math
    >>> from conceptref.vae import reparameterize
    >>> reparameterize([1.0], [math.log(4.0)], [0.5]).tolist()   # 1 + 2 * 0.5
    [2.0]
    """
    m = check_array(mu, "mu")
    lv = check_array(logvar, "logvar")
    e = check_array(eps, "eps")
    _check_logvar(lv)
    try:
        np.broadcast_shapes(m.shape, lv.shape, e.shape)
    except ValueError:
        raise ValueError(
            f"mu {m.shape}, logvar {lv.shape} and eps {e.shape} must broadcast together"
        ) from None
    return np.asarray(m + np.exp(lv / 2) * e, dtype=np.float64)


def gaussian_elbo(
    x: npt.ArrayLike,
    x_mean: npt.ArrayLike,
    mu: npt.ArrayLike,
    logvar: npt.ArrayLike,
    *,
    sigma: float | npt.ArrayLike = 1.0,
    beta: float = 1.0,
) -> float:
    r"""Compute the ELBO of a batch with a Gaussian decoder of fixed standard deviation ``sigma``.

    .. math:: \mathrm{ELBO} = \sum_{i,k} \log \mathcal N(x_{ik};\, \hat x_{ik}, \sigma^2)
              - \beta \sum_i \mathrm{KL}\big(q(z\mid x_i)\,\|\,\mathcal N(0, I)\big),

    with :math:`\log \mathcal N(x; \hat x, \sigma^2) = -\frac{(x-\hat x)^2}{2\sigma^2}
    - \log\sigma - \tfrac12\log 2\pi`: the squared error divided by :math:`2\sigma^2`, plus a
    constant. The reconstruction uses one sample :math:`z` per input (decoded to ``x_mean``).
    ``beta = 1`` is the VAE's bound; other values give the β-VAE objective.

    Parameters
    ----------
    x
        Data, shape ``(n, ...)``.
    x_mean
        Decoder output :math:`\hat x`, same shape as ``x``.
    mu, logvar
        Encoder outputs, shape ``(n, d)``.
    sigma
        The decoder's fixed standard deviation: a positive number, or positive values that
        broadcast against ``x`` (one per feature, say).
    beta
        Weight of the KL term, at least 0.

    Returns
    -------
    float
        ``Normal(x_mean, sigma).log_prob(x).sum() - beta * KL.sum()`` in nats; maximize it.

    Raises
    ------
    TypeError
        If an input is not real-valued.
    ValueError
        If an input holds NaN or infinity, ``x`` and ``x_mean`` or ``mu`` and ``logvar`` differ
        in shape, ``sigma`` is not positive, or ``beta`` is negative.

    Examples
    --------
    >>> from conceptref.vae import gaussian_elbo
    >>> x = [[0.0, 1.0]]
    >>> round(gaussian_elbo(x, x, [[0.0]], [[0.0]], sigma=1.0), 4)  # 2 * -log(2 pi) / 2
    -1.8379
    """
    xs = check_array(x, "x", min_ndim=1)
    xm = check_array(x_mean, "x_mean", min_ndim=1)
    check_same_shape(xs, xm, ("x", "x_mean"))
    if isinstance(sigma, bool | np.bool_):
        raise TypeError("sigma must be a real number or array, got bool")
    s = check_array(sigma, "sigma")
    if (s <= 0).any():
        raise ValueError("sigma must be greater than 0")
    try:
        fits = np.broadcast_shapes(s.shape, xs.shape) == xs.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"sigma {s.shape} must broadcast to the shape of x {xs.shape}")
    b = as_non_negative_float(beta, "beta")
    kl = gaussian_kl(mu, logvar)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked in _elbo
        log_lik = np.broadcast_to(
            -((xs - xm) ** 2) / (2 * s**2) - np.log(s) - 0.5 * math.log(2 * math.pi), xs.shape
        )
    return _elbo(log_lik, kl, b, xs.shape)


def bernoulli_elbo(
    x: npt.ArrayLike,
    logits: npt.ArrayLike,
    mu: npt.ArrayLike,
    logvar: npt.ArrayLike,
    *,
    beta: float = 1.0,
) -> float:
    r"""Compute the ELBO of a batch with a Bernoulli decoder (for data in [0, 1]).

    .. math:: \mathrm{ELBO} = \sum_{i,k} \big[x_{ik}\log p_{ik} + (1-x_{ik})\log(1-p_{ik})\big]
              - \beta \sum_i \mathrm{KL}_i, \qquad p = \operatorname{sigmoid}(\text{logits}),

    the negative of ``binary_cross_entropy_with_logits(logits, x, reduction="sum")`` minus the KL,
    computed stably from the logits.

    Parameters
    ----------
    x
        Targets in :math:`[0, 1]`, shape ``(n, ...)``.
    logits
        Decoder outputs before the sigmoid, same shape as ``x``.
    mu, logvar
        Encoder outputs, shape ``(n, d)``.
    beta
        Weight of the KL term, at least 0.

    Returns
    -------
    float
        The ELBO in nats.

    Raises
    ------
    TypeError
        If an input is not real-valued.
    ValueError
        If an input holds NaN or infinity, shapes differ, a target lies outside [0, 1], or
        ``beta`` is negative.

    Examples
    --------
    >>> from conceptref.vae import bernoulli_elbo
    >>> round(bernoulli_elbo([[1.0, 0.0]], [[0.0, 0.0]], [[0.0]], [[0.0]]), 4)  # 2 log(1/2)
    -1.3863
    """
    xs = check_array(x, "x", min_ndim=1)
    lg = check_array(logits, "logits", min_ndim=1)
    check_same_shape(xs, lg, ("x", "logits"))
    if ((xs < 0) | (xs > 1)).any():
        raise ValueError("x must lie in [0, 1] (Bernoulli targets)")
    b = as_non_negative_float(beta, "beta")
    kl = gaussian_kl(mu, logvar)
    # log sigmoid(l) = -softplus(-l); x log p + (1 - x) log(1 - p) = x l - softplus(l)
    log_lik = xs * lg - np.logaddexp(0.0, lg)
    return _elbo(log_lik, kl, b, xs.shape)


def beta_of_mean_mse(num_features: int, *, sigma: float = 1.0) -> float:
    r"""Return the KL weight that a mean-reduced MSE plus a summed KL sets silently.

    ``F.mse_loss(x_hat, x) + kl`` (the squared error averaged over the :math:`D` numbers of each
    input, the KL summed over latent dimensions) equals, up to a positive factor, the β-VAE loss
    with a Gaussian decoder of standard deviation ``sigma``:

    .. math:: \frac{\lVert x - \hat x\rVert^2}{D} + \mathrm{KL}
              \;\propto\; \frac{\lVert x - \hat x\rVert^2}{2\sigma^2} + \beta\,\mathrm{KL},
              \qquad \beta = \frac{D}{2\sigma^2}.

    Parameters
    ----------
    num_features
        :math:`D`, the number of values per input (e.g. 784 for a 28 by 28 image).
    sigma
        The decoder standard deviation one has in mind.

    Returns
    -------
    float
        :math:`\beta = D / (2\sigma^2)`.

    Raises
    ------
    TypeError
        If ``num_features`` is not an integer or ``sigma`` not a number.
    ValueError
        If ``num_features`` < 1 or ``sigma`` is not positive.

    Examples
    --------
    >>> from conceptref.vae import beta_of_mean_mse
    >>> beta_of_mean_mse(784)   # MNIST with sigma = 1: the KL weighs 392 times too much
    392.0
    """
    d = as_positive_int(num_features, "num_features")
    s = as_positive_float(sigma, "sigma")
    return d / (2 * s**2)


# --------------------------------------------------------------------------------------------
# The demonstration: a plain AE and a VAE on a ring of Gaussians.


def _elbo(
    log_lik: npt.NDArray[np.float64],
    kl: npt.NDArray[np.float64],
    beta: float,
    x_shape: tuple[int, ...],
) -> float:
    """Sum the log-likelihood and subtract beta times the KL, after checking they pair up."""
    if kl.shape != x_shape[: kl.ndim]:
        raise ValueError(
            f"mu and logvar hold {kl.shape} codes, but x holds {x_shape[: kl.ndim]} samples: "
            "one code per sample"
        )
    penalty = 0.0 if beta == 0 else beta * float(kl.sum())  # beta = 0 ignores even an inf KL
    value = float(log_lik.sum()) - penalty
    if not math.isfinite(value):
        raise ValueError("the ELBO overflows float64 for these inputs")
    return value


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
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, 2)``.

    Raises
    ------
    TypeError, ValueError
        If a count is not a positive integer or ``radius``/``std`` not a positive number.

    Examples
    --------
    >>> from conceptref.vae import ring_of_gaussians
    >>> ring_of_gaussians(500).shape
    (500, 2)
    """
    size = as_positive_int(n, "n")
    k = as_positive_int(modes, "modes")
    r = as_positive_float(radius, "radius")
    s = as_positive_float(std, "std")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, k, size=size)
    return _ring_centres(k, r)[which] + s * rng.standard_normal((size, 2))


def fraction_near_modes(
    points: npt.ArrayLike, *, modes: int = 8, radius: float = 2.0, tolerance: float = 0.3
) -> float:
    r"""Return the fraction of ``points`` within ``tolerance`` of one of the ring's centres.

    With the default ring (``std = 0.1``) the tolerance is three standard deviations: in two dimensions
    :math:`1 - e^{-9/2} \approx 98.9\,\%` of real data points pass.

    Parameters
    ----------
    points
        Array of shape ``(n, 2)``.
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
        positive.

    Examples
    --------
    >>> from conceptref.vae import fraction_near_modes, ring_of_gaussians
    >>> fraction_near_modes(ring_of_gaussians(1000)) > 0.98
    True
    """
    p = check_array(points, "points", min_ndim=2)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ValueError(f"points must have shape (n, 2) with n >= 1, got {p.shape}")
    centres = _ring_centres(as_positive_int(modes, "modes"), as_positive_float(radius, "radius"))
    tol = as_positive_float(tolerance, "tolerance")
    distance = np.linalg.norm(p[:, None, :] - centres[None], axis=-1).min(axis=1)
    return float(np.mean(distance < tol))


def _mlp(n_in: int, n_out: int, hidden: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, n_out),
    )


class _Adam:
    """Adam on a list of tensors, step for step what :class:`torch.optim.Adam` does on the CPU.

    Written out because the first ``torch.optim`` step imports ``torch._dynamo`` (seconds).
    """

    def __init__(self, params: list[torch.Tensor], lr: float) -> None:
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, 0.9, 0.999, 1e-8
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def step(self, loss: torch.Tensor) -> None:
        """Take one step down the gradient of ``loss``."""
        grads = torch.autograd.grad(loss, self.params)
        self.t += 1
        step_size = self.lr / (1 - self.beta1**self.t)
        root = (1 - self.beta2**self.t) ** 0.5
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
                m.lerp_(g, 1 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
                p.addcdiv_(m, (v.sqrt() / root).add_(self.eps), value=-step_size)


@dataclass(frozen=True)
class AutoencoderFit:
    """A trained encoder and decoder (see :func:`train_autoencoder`).

    Attributes
    ----------
    encoder
        Maps ``(n, 2)`` data to codes ``(n, latent_dim)`` (plain AE) or to
        ``[mu, logvar]`` of shape ``(n, 2 * latent_dim)`` (VAE).
    decoder
        Maps codes ``(n, latent_dim)`` to points ``(n, 2)``.
    variational
        Whether this is a VAE.
    latent_dim
        Size of the code.
    """

    encoder: torch.nn.Module
    decoder: torch.nn.Module
    variational: bool
    latent_dim: int

    def codes(self, data: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the deterministic codes of ``data``: the AE's code or the VAE's mean ``mu``."""
        x = torch.as_tensor(check_array(data, "data", min_ndim=2), dtype=torch.float32)
        with torch.no_grad():
            h = self.encoder(x)
        return np.asarray(h[:, : self.latent_dim].double().numpy(), dtype=np.float64)


def train_autoencoder(
    data: npt.ArrayLike,
    *,
    variational: bool,
    latent_dim: int = 2,
    hidden: int = 32,
    steps: int = 500,
    lr: float = 1e-2,
    sigma: float = 0.1,
    beta: float = 1.0,
    seed: int = 0,
) -> AutoencoderFit:
    r"""Train a plain autoencoder or a VAE of the same size, full batch, with Adam.

    Both use two-hidden-layer ReLU MLPs; the VAE's encoder has twice as many outputs
    (:math:`\mu` and :math:`\log\sigma^2`). The plain AE minimizes
    :math:`\lVert x - \hat x\rVert^2 / (2\sigma^2)` per point; the VAE minimizes the same term
    plus ``beta`` times :func:`gaussian_kl`, with :math:`z` drawn by :func:`reparameterize`,
    that is, the negative :func:`gaussian_elbo` up to a constant.

    Parameters
    ----------
    data
        Training points, shape ``(n, features)``.
    variational
        ``False`` for a plain AE, ``True`` for a VAE.
    latent_dim, hidden, steps
        Code size, hidden width, number of Adam steps.
    lr
        Adam's learning rate.
    sigma
        The Gaussian decoder's fixed standard deviation.
    beta
        KL weight (VAE only).
    seed
        Seeds the weights and the VAE's noise (:func:`torch.manual_seed`).

    Returns
    -------
    AutoencoderFit
        The trained networks, in float32 and in evaluation mode.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not a finite 2-D array or a parameter is out of range.

    Examples
    --------
    >>> from conceptref.vae import ring_of_gaussians, train_autoencoder
    >>> fit = train_autoencoder(ring_of_gaussians(64), variational=True, steps=5)
    >>> fit.codes(ring_of_gaussians(3)).shape
    (3, 2)
    """
    x_np = check_array(data, "data", min_ndim=2)
    if x_np.ndim != 2 or x_np.shape[0] == 0:
        raise ValueError(f"data must have shape (n, features) with n >= 1, got {x_np.shape}")
    d = as_positive_int(latent_dim, "latent_dim")
    width = as_positive_int(hidden, "hidden")
    n_steps = as_positive_int(steps, "steps")
    rate = as_positive_float(lr, "lr")
    s = as_positive_float(sigma, "sigma")
    b = as_non_negative_float(beta, "beta")
    torch.manual_seed(seed)
    x = torch.as_tensor(x_np, dtype=torch.float32)
    encoder = _mlp(x.shape[1], 2 * d if variational else d, width)
    decoder = _mlp(d, x.shape[1], width)
    optimizer = _Adam([*encoder.parameters(), *decoder.parameters()], rate)
    for _ in range(n_steps):
        h = encoder(x)
        if variational:
            mu, logvar = h[:, :d], h[:, d:]
            z = mu + torch.exp(logvar / 2) * torch.randn_like(mu)  # reparameterization trick
            kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
        else:
            z, kl = h, torch.zeros(())
        reconstruction = ((decoder(z) - x) ** 2).sum(dim=1) / (2 * s**2)
        optimizer.step((reconstruction + b * kl).mean())
    return AutoencoderFit(encoder.eval(), decoder.eval(), bool(variational), d)


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
        If ``n`` < 1.

    Examples
    --------
    >>> from conceptref.vae import decode_prior_samples, ring_of_gaussians, train_autoencoder
    >>> fit = train_autoencoder(ring_of_gaussians(64), variational=False, steps=5)
    >>> decode_prior_samples(fit, 4).shape
    (4, 2)
    """
    if not isinstance(fit, AutoencoderFit):
        raise TypeError(f"fit must be an AutoencoderFit, got {type(fit).__name__}")
    size = as_positive_int(n, "n")
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(size, fit.latent_dim, generator=generator)
    with torch.no_grad():
        return np.asarray(fit.decoder(z).double().numpy(), dtype=np.float64)
