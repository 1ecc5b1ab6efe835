r"""A tiny DDPM on a ring of Gaussians: the demonstration of a concept page.

The page :doc:`/concepts/latent-diffusion` runs it.

:func:`train_toy_ddpm` trains a small MLP with the ε-prediction loss of Ho et al. (2020) on 2-D
points (with the package's one Adam, through ``conceptref.demos._training.fit``);
:class:`ToyDenoiser` holds the result; :func:`sample_toy_ddpm` runs ancestral sampling with
:func:`conceptref.diffusion.ddpm_step`. The data come from
:func:`conceptref.demos.vae.ring_of_gaussians`. The formulas the page quotes are in
:mod:`conceptref.diffusion`.

Training and sampling are seeded by a keyword ``seed``; neither touches the global random
generators of NumPy or torch.
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
from conceptref.demos.vae import MAX_ELEMENTS, MAX_STEPS, _Flat
from conceptref.diffusion import _as_alphas_cumprod, ddpm_step

__all__ = ["ToyDenoiser", "sample_toy_ddpm", "train_toy_ddpm"]


def _points(value: object, name: str) -> npt.NDArray[np.float64]:
    x = check_array(value, name, ndim=2, axes="(n, 2)", non_empty=True)
    if x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2) with n >= 1, got {x.shape}")
    return x


@dataclass(frozen=True)
class ToyDenoiser:
    """A trained noise-prediction network for 2-D points (see :func:`train_toy_ddpm`).

    Attributes
    ----------
    network
        An MLP from ``(x_t, t / T)`` (3 inputs) to the predicted noise (2 outputs), float32.
    alphas_cumprod
        The schedule it was trained with, shape ``(T,)``: a float64 copy of its own, checked
        as :func:`conceptref.diffusion.ddpm_step` checks schedules.
    """

    network: torch.nn.Module
    alphas_cumprod: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        check_module(self.network, "network")
        schedule = np.array(_as_alphas_cumprod(self.alphas_cumprod), dtype=np.float64, copy=True)
        object.__setattr__(self, "alphas_cumprod", schedule)

    def predict_noise(self, x: npt.ArrayLike, t: int) -> npt.NDArray[np.float64]:
        r"""Return the network's :math:`\hat\varepsilon(x_t, t)` for points ``x`` at step ``t``."""
        points = _points(x, "x")
        size = self.alphas_cumprod.size
        step = check_int(t, "t", Interval(0, size - 1), high_name="len(alphas_cumprod) - 1")
        inputs = np.concatenate([points, np.full((points.shape[0], 1), step / size)], axis=1)
        with torch.no_grad():
            out = self.network(torch.as_tensor(inputs, dtype=torch.float32))
        result = np.array(out.double().numpy(), dtype=np.float64)
        if not np.isfinite(result).all():
            raise ValueError("x is too large in magnitude: the network's output is not finite")
        return result


def train_toy_ddpm(
    data: npt.ArrayLike,
    alphas_cumprod: npt.ArrayLike,
    *,
    hidden: int = 64,
    steps: int = 400,
    batch_size: int = 128,
    lr: float = 5e-3,
    seed: int = 0,
) -> ToyDenoiser:
    r"""Train a small MLP with the ε-prediction loss of Ho et al. (2020) on 2-D points.

    Each Adam step draws a batch of data :math:`x_0`, timesteps :math:`t` uniformly in
    :math:`0 \dots T-1` and noise :math:`\varepsilon`, forms :math:`x_t` with the closed form
    (:func:`conceptref.diffusion.q_sample`) and minimizes
    :math:`\lVert \varepsilon - \hat\varepsilon(x_t, t)\rVert^2`.

    Parameters
    ----------
    data
        Training points, shape ``(n, 2)``.
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``.
    hidden, steps, batch_size
        MLP width (two SiLU hidden layers), Adam steps (at most :math:`10^4`), batch size.
    lr
        Adam's learning rate.
    seed
        Seeds the weights, the batches, the timesteps and the noise; the caller's global random
        state is untouched.

    Returns
    -------
    ToyDenoiser
        The trained network and (a copy of) its schedule.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not a finite ``(n, 2)`` array, ``alphas_cumprod`` not a schedule, a
        parameter is out of range, or training diverges (``"training diverged at step N"``).

    Examples
    --------
    >>> from conceptref.demos.diffusion import train_toy_ddpm
    >>> from conceptref.demos.vae import ring_of_gaussians
    >>> from conceptref.diffusion import alphas_cumprod, beta_schedule
    >>> model = train_toy_ddpm(ring_of_gaussians(64), alphas_cumprod(
    ...     beta_schedule("cosine", 20)), steps=2)
    >>> model.predict_noise(ring_of_gaussians(3), 5).shape
    (3, 2)
    """
    x_np = _points(data, "data")
    a = _as_alphas_cumprod(alphas_cumprod)
    width = check_int(hidden, "hidden", Interval(1, None))
    n_steps = check_int(steps, "steps", Interval(1, MAX_STEPS))
    batch = check_int(batch_size, "batch_size", Interval(1, None))
    rate = check_real(lr, "lr", Interval(0, None, "neither"))
    seed = check_seed(seed)
    check_size(
        [("hidden", width), ("max(hidden, batch_size)", max(width, batch))], limit=MAX_ELEMENTS
    )
    x = torch.as_tensor(x_np, dtype=torch.float32)
    ab = torch.as_tensor(a, dtype=torch.float32)
    size = a.size
    with seeded(seed):
        net = torch.nn.Sequential(
            torch.nn.Linear(3, width),
            torch.nn.SiLU(),
            torch.nn.Linear(width, width),
            torch.nn.SiLU(),
            torch.nn.Linear(width, 2),
        )
    generator = torch_generator(seed)
    flat = _Flat(net)

    def loss_at(_: int) -> torch.Tensor:
        x0 = x[torch.randint(0, x.shape[0], (batch,), generator=generator)]
        t = torch.randint(0, size, (batch,), generator=generator)
        eps = torch.randn(x0.shape, generator=generator)
        xt = ab[t].sqrt()[:, None] * x0 + (1 - ab[t]).sqrt()[:, None] * eps  # q(x_t | x_0)
        prediction = flat.run(0, torch.cat([xt, t[:, None].float() / size], dim=1))
        loss: torch.Tensor = ((prediction - eps) ** 2).mean()
        return loss

    fit([flat.vector], loss_at, steps=n_steps, learning_rate=rate)
    flat.store()
    return ToyDenoiser(net.eval(), a)


def sample_toy_ddpm(
    model: ToyDenoiser, n: int, *, seed: int = 0, keep_trajectories: bool = False
) -> npt.NDArray[np.float64]:
    r"""Ancestral sampling: start from :math:`x_T \sim \mathcal N(0, I)` and apply ``ddpm_step``.

    Parameters
    ----------
    model
        A trained :class:`ToyDenoiser`.
    n
        Number of samples.
    seed
        Seed of :func:`numpy.random.default_rng` for :math:`x_T` and every step's noise.
    keep_trajectories
        Return every intermediate :math:`x_t` as well (a ``bool``).

    Returns
    -------
    numpy.ndarray
        Float64 samples of shape ``(n, 2)``, or with ``keep_trajectories`` the whole chain,
        shape ``(T + 1, n, 2)``, from :math:`x_T` (index 0) to :math:`x_0` (index T).

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a :class:`ToyDenoiser`, ``n`` < 1 or the chain would hold more
        than :math:`10^7` numbers, or ``seed`` is not a seed.

    Examples
    --------
    >>> import torch
    >>> from conceptref.demos.diffusion import ToyDenoiser, sample_toy_ddpm
    >>> from conceptref.diffusion import alphas_cumprod
    >>> zero = ToyDenoiser(torch.nn.Linear(3, 2), alphas_cumprod([0.1, 0.2]))
    >>> sample_toy_ddpm(zero, 5, keep_trajectories=True).shape
    (3, 5, 2)
    """
    if not isinstance(model, ToyDenoiser):
        raise TypeError(f"model must be a ToyDenoiser, got {type(model).__name__}")
    size = check_int(n, "n", Interval(1, None))
    keep = check_bool(keep_trajectories, "keep_trajectories")
    steps = model.alphas_cumprod.size
    check_size([("n", size), ("2 (T + 1)", 2 * (steps + 1) if keep else 2)], limit=MAX_ELEMENTS)
    rng = numpy_rng(seed)
    x = rng.standard_normal((size, 2))
    chain = [x]
    for t in reversed(range(steps)):
        noise = rng.standard_normal((size, 2)) if t > 0 else None
        x = ddpm_step(model.predict_noise(x, t), t, x, model.alphas_cumprod, noise)
        if keep:
            chain.append(x)
    return np.stack(chain) if keep else x
