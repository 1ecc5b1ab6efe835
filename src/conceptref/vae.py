r"""Autoencoders and variational autoencoders: the KL term, the reparameterization trick, the ELBO.

This module is the reference implementation behind the page :doc:`/concepts/autoencoder-vs-vae`.
The formulas (:func:`gaussian_kl`, :func:`reparameterize`, :func:`gaussian_elbo`,
:func:`bernoulli_elbo`) are written out in NumPy (float64) and tested in ``tests/test_vae.py``
against :func:`torch.distributions.kl_divergence`, :class:`torch.distributions.Normal` and
:func:`torch.nn.functional.binary_cross_entropy_with_logits`. They accept NumPy arrays, nested
lists and PyTorch tensors (detached and upcast to float64 first, so ``requires_grad`` and
float16/bfloat16 tensors work).

Shapes that must agree are never broadcast: ``mu`` and ``logvar`` describe one Gaussian and
have one shape, and an ELBO needs one code per sample of ``x``.

The page's demonstration (a ring of Gaussians, a plain autoencoder and a VAE trained on it) is
in :mod:`conceptref.demos.vae`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from conceptref._validation import (
    Interval,
    check_array,
    check_int,
    check_real,
    check_same_shape,
)

__all__ = [
    "bernoulli_elbo",
    "beta_of_mean_mse",
    "gaussian_elbo",
    "gaussian_kl",
    "reparameterize",
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
        Means and log-variances, the same shape.
    eps
        Standard normal noise: the shape of ``mu``, optionally with leading axes for several
        draws per input (shape ``(draws, *mu.shape)``).

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``eps``: ``mu + exp(logvar / 2) * eps``.

    Raises
    ------
    TypeError
        If an input is not real-valued.
    ValueError
        If an input holds NaN or infinity, ``mu`` and ``logvar`` differ in shape, ``eps`` does
        not end with the shape of ``mu``, ``|logvar|`` exceeds 700, or the result overflows.

    Examples
    --------
    >>> import math
    >>> from conceptref.vae import reparameterize
    >>> reparameterize([1.0], [math.log(4.0)], [0.5]).tolist()   # 1 + 2 * 0.5
    [2.0]
    """
    m = check_array(mu, "mu")
    lv = check_array(logvar, "logvar")
    check_same_shape(m, lv, ("mu", "logvar"))
    e = check_array(eps, "eps")
    _check_logvar(lv)
    if e.ndim < m.ndim or e.shape[e.ndim - m.ndim :] != m.shape:
        raise ValueError(
            f"eps must have the shape of mu {m.shape}, optionally after leading axes of draws, "
            f"got {e.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(m + np.exp(lv / 2) * e, dtype=np.float64)
    if not np.isfinite(z).all():
        raise ValueError("the sample overflows float64: mu, logvar or eps is too large")
    return z


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
        Encoder outputs, shape ``(n, d)``: one code per sample of ``x`` (a single code of
        shape ``(d,)`` is not broadcast over the batch).
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
        in shape, ``mu`` does not hold one code per sample of ``x``, ``sigma`` is not
        positive, ``beta`` is negative, or the ELBO overflows float64.

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
    b = check_real(beta, "beta", Interval(0, None))
    kl = _codes_kl(mu, logvar, xs.shape)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked in _elbo
        log_lik = np.broadcast_to(
            -((xs - xm) ** 2) / (2 * s**2) - np.log(s) - 0.5 * math.log(2 * math.pi), xs.shape
        )
    return _elbo(log_lik, kl, b)


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
        Encoder outputs, shape ``(n, d)``, one code per sample of ``x``.
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
        If an input holds NaN or infinity, shapes differ, ``mu`` does not hold one code per
        sample of ``x``, a target lies outside [0, 1], or ``beta`` is negative.

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
    b = check_real(beta, "beta", Interval(0, None))
    kl = _codes_kl(mu, logvar, xs.shape)
    # log sigmoid(l) = -softplus(-l); x log p + (1 - x) log(1 - p) = x l - softplus(l)
    with np.errstate(over="ignore", invalid="ignore"):  # checked in _elbo
        log_lik = xs * lg - np.logaddexp(0.0, lg)
    return _elbo(log_lik, kl, b)


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
        If ``num_features`` < 1, ``sigma`` is not positive, or so small that :math:`\beta`
        overflows float64.

    Examples
    --------
    >>> from conceptref.vae import beta_of_mean_mse
    >>> beta_of_mean_mse(784)   # MNIST with sigma = 1: the KL weighs 392 times too much
    392.0
    """
    d = check_int(num_features, "num_features", Interval(1, None))
    s = check_real(sigma, "sigma", Interval(0, None, "neither"))
    beta = d / (2 * s) / s  # divided twice: s**2 alone would underflow for tiny sigma
    if not math.isfinite(beta):
        raise ValueError(f"sigma = {s:g} is too small: beta = D / (2 sigma^2) overflows float64")
    return beta


def _codes_kl(
    mu: npt.ArrayLike, logvar: npt.ArrayLike, x_shape: tuple[int, ...]
) -> npt.NDArray[np.float64]:
    """Return the KL of each code, after checking there is one code (row of mu) per sample."""
    m = check_array(mu, "mu", min_ndim=2, axes="(n, d)")
    batch = m.shape[:-1]
    if batch != x_shape[: len(batch)]:
        raise ValueError(
            f"mu and logvar hold {batch} codes, but x holds {x_shape[: len(batch)]} samples: "
            "one code per sample"
        )
    return gaussian_kl(m, logvar)


def _elbo(log_lik: npt.NDArray[np.float64], kl: npt.NDArray[np.float64], beta: float) -> float:
    """Sum the log-likelihood and subtract beta times the KL (an overflow is a ValueError)."""
    with np.errstate(over="ignore", invalid="ignore"):
        penalty = 0.0 if beta == 0 else beta * float(kl.sum())  # beta = 0 ignores even an inf KL
        value = float(log_lik.sum()) - penalty
    if not math.isfinite(value):
        raise ValueError("the ELBO overflows float64 for these inputs")
    return value
