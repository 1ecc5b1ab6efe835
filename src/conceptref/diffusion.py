r"""Diffusion models: noise schedules, the forward process, DDPM and DDIM steps, guidance.

This module is the reference implementation behind the page :doc:`/concepts/latent-diffusion`.
Every formula is written out in NumPy (float64) and tested in ``tests/test_diffusion.py``
against Hugging Face ``diffusers`` (``DDPMScheduler``, ``DDIMScheduler``, ``AutoencoderKL``
built from a config, ``rescale_zero_terminal_snr``, ``rescale_noise_cfg``; nothing
downloaded). ``diffusers`` computes in float32 unless given float64 tensors, so some tests
compare with tolerances of float32 size. Array inputs may be NumPy arrays, nested lists or
PyTorch tensors (detached and upcast to float64 first).

Conventions follow ``diffusers``: timesteps count from 0 to :math:`T-1` (``diffusers``' and
this module's :math:`t = 0` is the DDPM paper's :math:`t = 1`), ``alphas_cumprod[t]`` is
:math:`\bar\alpha_t = \prod_{s \le t}(1-\beta_s)`, and the model predicts the noise
:math:`\varepsilon` (``prediction_type="epsilon"``) unless told otherwise.

A schedule that enters a function is checked once for all: ``betas`` lie in :math:`[0, 1)`,
except that the last may be 1 (zero terminal SNR); ``alphas_cumprod`` lies in :math:`[0, 1]`,
never increases, and is 0 at most at its last step. A product that underflows float64 to 0
before that is an error, not a silent zero.

The toy DDPM that the page trains lives in :mod:`conceptref.demos.diffusion`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np
import numpy.typing as npt

from conceptref._validation import (
    Interval,
    check_array,
    check_bool,
    check_int,
    check_int_array,
    check_option,
    check_probability,
    check_real,
    check_same_shape,
    check_size,
)

__all__ = [
    "alphas_cumprod",
    "beta_schedule",
    "classifier_free_guidance",
    "ddim_step",
    "ddpm_step",
    "latent_scale_factor",
    "latent_shape",
    "q_sample",
    "rescale_guidance",
    "rescale_zero_terminal_snr",
    "sampling_timesteps",
    "signal_to_noise",
    "velocity",
]

ScheduleKind = Literal["linear", "scaled_linear", "cosine"]
PredictionType = Literal["epsilon", "sample", "v_prediction"]

# Defaults of beta_start/beta_end per kind: DDPM's (Ho et al. 2020) and Stable Diffusion's.
_DEFAULT_RANGE = {"linear": (1e-4, 0.02), "scaled_linear": (0.00085, 0.012)}
_MAX_BETA = 0.999  # the cosine schedule's clipping (Nichol & Dhariwal 2021)
_MAX_STEPS = 10**6  # longest schedule or timestep list built here (8 MB of float64)
_KINDS = ("linear", "scaled_linear", "cosine")
_PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")
_VARIANCE_TYPES = ("fixed_small", "fixed_large")


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence NumPy's floating-point warnings; the caller checks the result for overflow."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        yield


def _finite(result: npt.NDArray[np.float64], inputs: str) -> npt.NDArray[np.float64]:
    """Return ``result`` as float64 if it is finite; else a ValueError naming the ``inputs``."""
    out = np.asarray(result, dtype=np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"the result overflows float64: {inputs} too large in magnitude")
    return out


def beta_schedule(
    kind: str,
    num_steps: int,
    *,
    beta_start: float | None = None,
    beta_end: float | None = None,
) -> npt.NDArray[np.float64]:
    r"""Return the noise schedule :math:`\beta_0, \dots, \beta_{T-1}` of a diffusion model.

    ``"linear"``
        :math:`\beta_t` evenly spaced from ``beta_start`` to ``beta_end``; defaults
        :math:`10^{-4} \to 0.02` (DDPM, :math:`T = 1000`).
    ``"scaled_linear"``
        :math:`\sqrt{\beta_t}` evenly spaced from :math:`\sqrt{\text{beta\_start}}` to
        :math:`\sqrt{\text{beta\_end}}`; defaults :math:`0.00085 \to 0.012` (Stable Diffusion).
    ``"cosine"``
        :math:`\beta_t = \min\big(1 - \bar\alpha(\tfrac{t+1}{T}) / \bar\alpha(\tfrac tT),\,
        0.999\big)` with :math:`\bar\alpha(u) = \cos^2\!\big(\tfrac{u + 0.008}{1.008}
        \tfrac\pi2\big)` (Nichol & Dhariwal 2021); it takes no ``beta_start``/``beta_end``.

    These are ``diffusers``' ``"linear"``, ``"scaled_linear"`` and ``"squaredcos_cap_v2"``
    schedules, computed here in float64.

    Parameters
    ----------
    kind
        ``"linear"``, ``"scaled_linear"`` or ``"cosine"``.
    num_steps
        :math:`T`, the number of training timesteps (at least 1).
    beta_start, beta_end
        First and last :math:`\beta` of the linear kinds, in :math:`[0, 1)`; ``None`` takes the
        kind's default above. With ``num_steps = 1`` only ``beta_start`` is used.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(num_steps,)``.

    Raises
    ------
    TypeError
        If ``kind`` is not a string, ``num_steps`` not an integer or a beta not a number.
    ValueError
        If ``kind`` is unknown, ``num_steps`` < 1 or beyond :math:`10^6` (refused before
        anything is allocated), a beta lies outside :math:`[0, 1)`, or a beta is given for
        ``"cosine"``.

    Examples
    --------
    >>> from conceptref.diffusion import beta_schedule
    >>> [round(b, 6) for b in beta_schedule("linear", 3).tolist()]
    [0.0001, 0.01005, 0.02]
    >>> round(float(beta_schedule("cosine", 1000)[-1]), 3)   # clipped at 0.999
    0.999
    """
    check_option(kind, "kind", _KINDS)
    steps = check_int(num_steps, "num_steps", Interval(1, None))
    check_size([("num_steps", steps)], limit=_MAX_STEPS)
    if kind == "cosine":
        if beta_start is not None or beta_end is not None:
            raise ValueError("the cosine schedule takes no beta_start or beta_end")
        u = np.arange(steps + 1, dtype=np.float64) / steps
        alpha_bar = np.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.asarray(np.minimum(1 - alpha_bar[1:] / alpha_bar[:-1], _MAX_BETA), np.float64)
    default_start, default_end = _DEFAULT_RANGE[kind]
    start = check_probability(
        default_start if beta_start is None else beta_start, "beta_start", closed="left"
    )
    end = check_probability(
        default_end if beta_end is None else beta_end, "beta_end", closed="left"
    )
    if kind == "linear":
        return np.linspace(start, end, steps, dtype=np.float64)
    return np.linspace(math.sqrt(start), math.sqrt(end), steps, dtype=np.float64) ** 2


def _as_betas(betas: object, name: str = "betas") -> npt.NDArray[np.float64]:
    """Check a schedule: 1-D, non-empty, in [0, 1); only the last beta may be 1."""
    b = check_array(betas, name, ndim=1, non_empty=True, interval=Interval(0, 1))
    rule = "{name} must lie in [0, 1) except the last, which may be 1 (zero terminal SNR); "
    _only_at_last(b, 1.0, name, rule + "got 1.0 at index {index}")
    return b


def _only_at_last(a: npt.NDArray[np.float64], value: float, name: str, message: str) -> None:
    """Raise ValueError if ``value`` occurs in ``a`` before its last entry.

    Zero terminal SNR allows the extreme value at the last step only. ``message`` is formatted
    with ``name`` and the index of the first offending entry.
    """
    early = np.flatnonzero(a[:-1] == value)
    if early.size:
        raise ValueError(message.format(name=name, index=early[0]))


def alphas_cumprod(betas: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Return the cumulative products :math:`\bar\alpha_t = \prod_{s=0}^{t} (1 - \beta_s)`.

    :math:`\bar\alpha_t` is the share of the data's variance left in :math:`x_t`:
    :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`.

    Parameters
    ----------
    betas
        A schedule, shape ``(T,)``, each in :math:`[0, 1)`; the last may be 1, which makes
        :math:`\bar\alpha_{T-1} = 0` (zero terminal SNR).

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(T,)``, non-increasing, in :math:`(0, 1]` (the last may be 0).

    Raises
    ------
    TypeError, ValueError
        If ``betas`` is not a non-empty 1-D array of numbers in :math:`[0, 1)` (the last in
        :math:`[0, 1]`), or if the product underflows float64 (a schedule so long or so
        steep that :math:`\bar\alpha_t` falls below :math:`2.2 \times 10^{-308}`).

    Examples
    --------
    >>> from conceptref.diffusion import alphas_cumprod
    >>> [round(a, 4) for a in alphas_cumprod([0.5, 0.5]).tolist()]
    [0.5, 0.25]
    """
    b = _as_betas(betas)
    with _quiet():
        a = np.asarray(np.cumprod(1.0 - b), dtype=np.float64)
    # Below the smallest normal float64 the product loses its precision and then sticks at a
    # subnormal value or at 0: an error, unless a beta of exactly 1 made it 0.
    lost = np.flatnonzero((a < np.finfo(np.float64).tiny) & (b < 1))
    if lost.size:
        raise ValueError(
            f"the product of 1 - betas underflows float64 at index {lost[0]} (below "
            f"{np.finfo(np.float64).tiny:.3g}): alphas_cumprod is not representable; use fewer "
            "steps or smaller betas"
        )
    return a


def _as_alphas_cumprod(value: object, name: str = "alphas_cumprod") -> npt.NDArray[np.float64]:
    """Check cumulative products: 1-D, in [0, 1], non-increasing, 0 only at the last step."""
    a = check_array(value, name, ndim=1, non_empty=True, interval=Interval(0, 1))
    rising = np.flatnonzero(np.diff(a) > 0)
    if rising.size:
        k = int(rising[0]) + 1
        raise ValueError(
            f"{name} must not increase (each step multiplies by 1 - beta with beta >= 0), got "
            f"{name}[{k}] = {a[k]:.17g} > {name}[{k - 1}] = {a[k - 1]:.17g}"
        )
    rule = "{name} may be 0 only at its last step (zero terminal SNR), got 0 at index {index}; "
    _only_at_last(a, 0.0, name, rule + "a product that underflowed float64 cannot be used")
    return a


def signal_to_noise(alphas_cumprod: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Signal-to-noise ratio :math:`\mathrm{SNR}_t = \bar\alpha_t / (1 - \bar\alpha_t)`.

    Parameters
    ----------
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``: in :math:`[0, 1]`, non-increasing, 0 at most at
        the last step.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(T,)``; ``inf`` where :math:`\bar\alpha_t = 1` (no noise at
        all), 0 at a zero-terminal-SNR last step.

    Raises
    ------
    TypeError, ValueError
        If ``alphas_cumprod`` is not such a schedule.

    Examples
    --------
    >>> from conceptref.diffusion import signal_to_noise
    >>> signal_to_noise([0.5, 0.2]).tolist()
    [1.0, 0.25]
    """
    a = _as_alphas_cumprod(alphas_cumprod)
    with _quiet():
        return np.asarray(a / (1.0 - a), dtype=np.float64)


def velocity(
    x0: npt.ArrayLike, noise: npt.ArrayLike, t: npt.ArrayLike, alphas_cumprod: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    r"""Return the v-prediction target of Salimans & Ho (2022) at timestep ``t``.

    .. math:: v_t = \sqrt{\bar\alpha_t}\,\varepsilon - \sqrt{1 - \bar\alpha_t}\,x_0 .

    With :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`, the
    pair :math:`(x_t, v_t)` is :math:`(x_0, \varepsilon)` rotated by the angle
    :math:`\arccos\sqrt{\bar\alpha_t}`, so :math:`x_0 = \sqrt{\bar\alpha_t}\,x_t -
    \sqrt{1-\bar\alpha_t}\,v_t` and :math:`\varepsilon = \sqrt{\bar\alpha_t}\,v_t +
    \sqrt{1-\bar\alpha_t}\,x_t`; at zero SNR (:math:`\bar\alpha_t = 0`) the target is
    :math:`-x_0`, still informative where the noise is not. This equals
    ``DDPMScheduler.get_velocity(x0, noise, t)``.

    Parameters
    ----------
    x0
        Clean data, shape ``(n, ...)``.
    noise
        :math:`\varepsilon`, same shape as ``x0``.
    t
        Integer timesteps, one per sample along the first axis (shape ``(n,)``), or a single one.
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``.

    Returns
    -------
    numpy.ndarray
        Float64 array shaped like ``x0``.

    Raises
    ------
    TypeError, ValueError
        As :func:`q_sample`.

    Examples
    --------
    >>> from conceptref.diffusion import velocity
    >>> velocity([[1.0]], [[2.0]], [0], [0.64]).tolist()   # 0.8 * 2 - 0.6 * 1
    [[1.0]]
    """
    x, e, ab = _noising_inputs(x0, noise, t, alphas_cumprod)
    with _quiet():
        return _finite(np.sqrt(ab) * e - np.sqrt(1.0 - ab) * x, "x0 or noise is")


def rescale_zero_terminal_snr(betas: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Rescale a schedule to zero terminal SNR (Lin et al. 2024, Algorithm 1).

    :math:`\sqrt{\bar\alpha_t}` is shifted so that its last value is 0 and scaled so that its
    first value is unchanged,

    .. math:: \sqrt{\bar\alpha'_t} = \sqrt{\bar\alpha_0}\,
              \frac{\sqrt{\bar\alpha_t} - \sqrt{\bar\alpha_{T-1}}}
                   {\sqrt{\bar\alpha_0} - \sqrt{\bar\alpha_{T-1}}},

    and turned back into betas, :math:`\beta'_t = 1 - \bar\alpha'_t / \bar\alpha'_{t-1}`; the
    last :math:`\beta'` is 1. This equals ``rescale_zero_terminal_snr`` of
    ``diffusers.schedulers.scheduling_ddpm`` (``rescale_betas_zero_snr=True``). The differences
    :math:`\sqrt{\bar\alpha_t} - \sqrt{\bar\alpha_{T-1}}` are computed from the logarithms
    of :math:`1 - \beta` (``log1p`` and ``expm1``), so they keep their precision when the last
    betas are tiny. A model trained on the result must not predict :math:`\varepsilon` (see
    :func:`velocity`).

    Parameters
    ----------
    betas
        A schedule, shape ``(T,)`` with :math:`T \ge 2`, in :math:`[0, 1)` (the last may be 1)
        and with a last beta greater than 0.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(T,)``, the rescaled betas, ending in 1.

    Raises
    ------
    TypeError, ValueError
        If ``betas`` is not such a schedule, has one step only, ends in :math:`\beta = 0`
        (then :math:`\bar\alpha_{T-2} = \bar\alpha_{T-1}` and the shifted schedule reaches
        0 one step early), or is so long that :math:`\bar\alpha` underflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.diffusion import alphas_cumprod, beta_schedule, rescale_zero_terminal_snr
    >>> betas = rescale_zero_terminal_snr(beta_schedule("scaled_linear", 1000))
    >>> float(betas[-1]), float(alphas_cumprod(betas)[-1])
    (1.0, 0.0)
    """
    b = _as_betas(betas)
    if b.size < 2:
        raise ValueError(f"betas must hold at least 2 steps to be rescaled, got {b.size}")
    if b[-1] == 0:
        raise ValueError(
            "betas[-1] must be greater than 0: with a last beta of 0 the last two steps have "
            "the same alphas_cumprod, and the rescaled schedule would divide 0 by 0"
        )
    with _quiet():
        log_a = np.cumsum(np.log1p(-b))  # log alphas_cumprod; -inf after a beta of 1
        # sqrt(a_t) - sqrt(a_last) = sqrt(a_t) * (1 - exp((log a_last - log a_t) / 2))
        gap = np.exp(log_a / 2) * -np.expm1((log_a[-1] - log_a) / 2)
    gap[-1] = 0.0
    if not (gap[:-1] > 0).all():
        raise ValueError(
            "betas give an alphas_cumprod too small for float64 before the last step; "
            "use fewer steps or smaller betas"
        )
    alphas = np.empty_like(b)
    alphas[0] = 1.0 - b[0]  # the first value is kept
    alphas[1:] = (gap[1:] / gap[:-1]) ** 2
    return np.asarray(1.0 - alphas, dtype=np.float64)


def rescale_guidance(
    noise_cfg: npt.ArrayLike, noise_cond: npt.ArrayLike, guidance_rescale: float
) -> npt.NDArray[np.float64]:
    r"""Rescale a guided noise prediction toward the spread of the conditional one (Lin et al.).

    With :math:`\sigma(\cdot)` the standard deviation of each sample over all axes but the
    first (unbiased, as :meth:`torch.Tensor.std`) and :math:`\phi` = ``guidance_rescale``:

    .. math:: \varepsilon_\text{final} = \phi\,\varepsilon_\text{cfg}\,
              \frac{\sigma(\varepsilon_c)}{\sigma(\varepsilon_\text{cfg})}
              + (1 - \phi)\,\varepsilon_\text{cfg} .

    Classifier-free guidance with a large scale inflates the prediction's spread, which
    over-exposes images once the terminal SNR is zero; :math:`\phi = 1` restores the
    conditional prediction's spread exactly, and Lin et al. recommend :math:`\phi = 0.7` with
    ``guidance_scale=7.5``. This equals ``rescale_noise_cfg`` of ``diffusers`` (the
    ``guidance_rescale`` of its Stable Diffusion pipelines).

    Parameters
    ----------
    noise_cfg
        The guided prediction (from :func:`classifier_free_guidance`), shape ``(n, ...)`` with
        at least two numbers per sample.
    noise_cond
        The conditional prediction :math:`\varepsilon_c`, the same shape.
    guidance_rescale
        :math:`\phi \in [0, 1]`.

    Returns
    -------
    numpy.ndarray
        Float64 array shaped like ``noise_cfg``.

    Raises
    ------
    TypeError, ValueError
        If an input is not finite real data, has fewer than two axes or one number per sample,
        the shapes differ, a sample of ``noise_cfg`` is constant (its spread is 0 and the
        ratio undefined), or ``guidance_rescale`` lies outside :math:`[0, 1]`.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.diffusion import rescale_guidance
    >>> cond, cfg = np.array([[-1.0, 1.0]]), np.array([[-4.0, 4.0]])   # spread 4 times larger
    >>> rescale_guidance(cfg, cond, 1.0).tolist(), rescale_guidance(cfg, cond, 0.5).tolist()
    ([[-1.0, 1.0]], [[-2.5, 2.5]])
    """
    cfg = check_array(noise_cfg, "noise_cfg", min_ndim=2, axes="(n, ...)")
    cond = check_array(noise_cond, "noise_cond", min_ndim=2, axes="(n, ...)")
    check_same_shape(cfg, cond, ("noise_cfg", "noise_cond"))
    phi = check_probability(guidance_rescale, "guidance_rescale")
    per_sample = int(np.prod(cfg.shape[1:]))
    if per_sample < 2:
        raise ValueError(
            f"noise_cfg must hold at least two numbers per sample to have a spread, got shape "
            f"{cfg.shape}"
        )
    std_cfg, std_cond = _spread(cfg), _spread(cond)
    flat = np.flatnonzero(std_cfg == 0)
    if flat.size:
        raise ValueError(
            f"noise_cfg[{flat[0]}] is constant (standard deviation 0), so it cannot be rescaled "
            "to the spread of noise_cond"
        )
    shape = (cfg.shape[0],) + (1,) * (cfg.ndim - 1)
    with _quiet():
        factor = phi * (std_cond / std_cfg) + (1.0 - phi)
        return _finite(cfg * factor.reshape(shape), "noise_cfg or noise_cond is")


def _spread(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Unbiased standard deviation of each sample (row), scaled first so nothing overflows."""
    rows = x.reshape(x.shape[0], -1)
    peak = np.abs(rows).max(axis=1, keepdims=True)
    safe = np.where(peak > 0, peak, 1.0)
    return np.asarray(peak[:, 0] * np.std(rows / safe, axis=1, ddof=1), dtype=np.float64)


def _noising_inputs(
    x0: object, noise: object, t: object, alphas_cumprod: object
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Check the inputs of q_sample and velocity; return the data, the noise and ``alphas_cumprod``.

    The last is taken at each sample's timestep, shaped to broadcast over the sample's axes.
    """
    x = check_array(x0, "x0", min_ndim=1)
    e = check_array(noise, "noise", min_ndim=1)
    check_same_shape(x, e, ("x0", "noise"))
    steps = check_int_array(t, "t")
    a = _as_alphas_cumprod(alphas_cumprod)
    return x, e, _per_sample(a, _timesteps(steps, a.size, x.shape[0]), x.ndim)


def _timesteps(arr: npt.NDArray[np.int64], size: int, n: int) -> npt.NDArray[np.int64]:
    arr = arr.reshape(-1) if arr.ndim <= 1 else arr
    if arr.ndim != 1 or (arr.size != n and arr.size != 1):
        raise ValueError(
            f"t must hold one timestep per sample ({n}) or a single one, got shape {arr.shape}"
        )
    if ((arr < 0) | (arr >= size)).any():
        raise ValueError(f"t must lie in 0 … {size - 1} (the length of alphas_cumprod)")
    return np.asarray(np.broadcast_to(arr, (n,)), dtype=np.int64)


def _per_sample(
    a: npt.NDArray[np.float64], steps: npt.NDArray[np.int64], ndim: int
) -> npt.NDArray[np.float64]:
    """alphas_cumprod at each sample's timestep, shaped to broadcast over the sample's axes."""
    return np.asarray(a[steps].reshape((steps.size,) + (1,) * (ndim - 1)), dtype=np.float64)


def q_sample(
    x0: npt.ArrayLike, t: npt.ArrayLike, noise: npt.ArrayLike, alphas_cumprod: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    r"""Jump straight to step ``t`` of the forward process: a draw from :math:`q(x_t \mid x_0)`.

    .. math:: x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon,
              \qquad \varepsilon \sim \mathcal N(0, I).

    Parameters
    ----------
    x0
        Clean data, shape ``(n, ...)``.
    t
        Integer timesteps, one per sample along the first axis (shape ``(n,)``), or a single one.
    noise
        :math:`\varepsilon`, same shape as ``x0``.
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``, from :func:`alphas_cumprod`.

    Returns
    -------
    numpy.ndarray
        Float64 array shaped like ``x0``, as ``DDPMScheduler.add_noise``.

    Raises
    ------
    TypeError, ValueError
        If an input is not finite real data, ``noise`` differs from ``x0`` in shape, ``t`` is not
        integer, has the wrong length or lies outside :math:`0 \dots T-1`.

    Examples
    --------
    >>> from conceptref.diffusion import q_sample
    >>> q_sample([[1.0], [1.0]], [0, 1], [[1.0], [1.0]], [0.64, 0.36]).tolist()
    [[1.4], [1.4]]
    """
    x, e, ab = _noising_inputs(x0, noise, t, alphas_cumprod)
    with _quiet():
        return _finite(np.sqrt(ab) * x + np.sqrt(1.0 - ab) * e, "x0 or noise is")


def sampling_timesteps(
    num_train_steps: int,
    num_inference_steps: int,
    *,
    spacing: str = "leading",
    steps_offset: int = 0,
) -> npt.NDArray[np.int64]:
    r"""Return the timesteps a sampler visits, in order, as ``set_timesteps`` of ``diffusers``.

    ``"leading"``: :math:`k \cdot \lfloor T/n \rfloor + \text{offset}` for :math:`k = n-1,
    \dots, 0`; ``"trailing"``: :math:`\operatorname{round}(T - k\,T/n) - 1` for
    :math:`k = 0, \dots, n-1`; ``"linspace"``: :math:`n` rounded points from :math:`T-1` down
    to 0.

    Parameters
    ----------
    num_train_steps
        :math:`T`.
    num_inference_steps
        :math:`n \le T`, the number of sampling steps (e.g. 50).
    spacing
        ``"leading"``, ``"trailing"`` or ``"linspace"``.
    steps_offset
        Added to every ``"leading"`` timestep (Stable Diffusion v1 uses 1).

    Returns
    -------
    numpy.ndarray
        Int64 array of shape ``(n,)``, decreasing.

    Raises
    ------
    TypeError, ValueError
        If a count is not an integer, :math:`n > T`, :math:`T` exceeds :math:`10^6`,
        ``spacing`` is unknown, or a timestep would fall outside :math:`0 \dots T-1`.

    Examples
    --------
    >>> from conceptref.diffusion import sampling_timesteps
    >>> sampling_timesteps(1000, 5).tolist()
    [800, 600, 400, 200, 0]
    >>> sampling_timesteps(1000, 5, spacing="trailing").tolist()
    [999, 799, 599, 399, 199]
    """
    big_t = check_int(num_train_steps, "num_train_steps", Interval(1, None))
    n = check_int(num_inference_steps, "num_inference_steps", Interval(1, None))
    offset = check_int(steps_offset, "steps_offset", Interval(0, None))
    check_option(spacing, "spacing", ("leading", "trailing", "linspace"))
    check_size([("num_train_steps", big_t)], limit=_MAX_STEPS)  # as long as any schedule here
    if n > big_t:
        raise ValueError(f"num_inference_steps ({n}) cannot exceed num_train_steps ({big_t})")
    if offset >= big_t:
        raise ValueError(f"steps_offset {offset} pushes a timestep past {big_t - 1}")
    if spacing == "leading":
        steps = (np.arange(n, dtype=np.int64) * (big_t // n))[::-1] + offset
    elif spacing == "trailing":
        steps = np.round(np.arange(big_t, 0, -big_t / n)).astype(np.int64) - 1
    else:
        steps = np.linspace(0, big_t - 1, n).round()[::-1].astype(np.int64)
    if steps.max() >= big_t:
        raise ValueError(f"steps_offset {offset} pushes a timestep past {big_t - 1}")
    if len(steps) != n or steps.min() < 0:  # diffusers' float arange can add a step at -1
        raise ValueError(
            f"trailing spacing gives no {n} distinct timesteps in 0 ... {big_t - 1} "
            f"(rounding adds a timestep -1 for T = {big_t}, n = {n}); use another spacing"
        )
    return np.asarray(steps, dtype=np.int64)


def _predictions(
    model_output: npt.NDArray[np.float64],
    sample: npt.NDArray[np.float64],
    alpha_t: float,
    prediction_type: str,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return (predicted x_0, predicted noise) from a model output of the given type."""
    sqrt_a, sqrt_b = math.sqrt(alpha_t), math.sqrt(1.0 - alpha_t)
    with _quiet():
        if prediction_type == "epsilon":
            if sqrt_a == 0.0:
                raise ValueError(
                    "prediction_type='epsilon' cannot recover x_0 where alphas_cumprod[t] = 0 "
                    "(zero SNR: the sample is pure noise); use 'v_prediction'"
                )
            eps = model_output
            x0 = (sample - sqrt_b * eps) / sqrt_a
        elif prediction_type == "sample":
            x0 = model_output
            eps = (sample - sqrt_a * x0) / sqrt_b
        else:
            x0 = sqrt_a * sample - sqrt_b * model_output
            eps = sqrt_a * model_output + sqrt_b * sample
    return x0, eps


def _step_inputs(
    model_output: object,
    sample: object,
    noise: object | None,
    t: object,
    a: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None, int]:
    out = check_array(model_output, "model_output")
    x = check_array(sample, "sample")
    check_same_shape(out, x, ("model_output", "sample"))
    e = None
    if noise is not None:
        e = check_array(noise, "noise")
        if e.shape != x.shape:
            raise ValueError(f"noise must have the shape of sample {x.shape}, got {e.shape}")
    step = check_int(t, "t", Interval(0, a.size - 1), high_name="len(alphas_cumprod) - 1")
    return out, x, e, step


def ddpm_step(
    model_output: npt.ArrayLike,
    t: int,
    sample: npt.ArrayLike,
    alphas_cumprod: npt.ArrayLike,
    noise: npt.ArrayLike | None = None,
    *,
    prev_t: int | None = None,
    variance_type: str = "fixed_small",
    prediction_type: str = "epsilon",
) -> npt.NDArray[np.float64]:
    r"""One ancestral (DDPM) reverse step :math:`x_t \to x_{t'}`, without clipping.

    With :math:`\bar\alpha' = \bar\alpha_{t'}` (1 when :math:`t' < 0`),
    :math:`\alpha = \bar\alpha_t / \bar\alpha'` and :math:`\beta = 1 - \alpha`:

    .. math:: \hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\hat\varepsilon}{\sqrt{\bar\alpha_t}},
              \qquad
              x_{t'} = \frac{\sqrt{\bar\alpha'}\,\beta}{1-\bar\alpha_t}\,\hat x_0
                     + \frac{\sqrt{\alpha}\,(1-\bar\alpha')}{1-\bar\alpha_t}\,x_t
                     + \sigma_t z,

    with :math:`\sigma_t^2 = \tilde\beta = \frac{1-\bar\alpha'}{1-\bar\alpha_t}\beta`
    (``"fixed_small"``, floored at :math:`10^{-20}`) or :math:`\beta` (``"fixed_large"``), and
    no noise at :math:`t = 0`. This equals ``DDPMScheduler(clip_sample=False).step`` when ``noise``
    is the tensor that the scheduler's generator draws.

    Parameters
    ----------
    model_output
        The network's prediction, shaped like ``sample``.
    t
        The current timestep.
    sample
        :math:`x_t`.
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``.
    noise
        :math:`z \sim \mathcal N(0, I)`, shaped like ``sample``; required when ``t > 0``.
    prev_t
        :math:`t'`; ``None`` means :math:`t - 1` (every training step). With fewer sampling
        steps pass the next entry of :func:`sampling_timesteps`, or -1 after the last.
    variance_type
        ``"fixed_small"`` or ``"fixed_large"``.
    prediction_type
        What the network predicts: ``"epsilon"``, ``"sample"`` (:math:`x_0`) or
        ``"v_prediction"``.

    Returns
    -------
    numpy.ndarray
        :math:`x_{t'}`, float64, shaped like ``sample``.

    Raises
    ------
    TypeError, ValueError
        If an array is not finite real data or shapes differ, ``alphas_cumprod`` is not a
        schedule (it rises, or is 0 before its last step), ``t`` is out of range, ``prev_t`` is
        not in :math:`-1 \dots t-1`, ``noise`` is missing for :math:`t > 0`, a type name is
        unknown, :math:`\bar\alpha_t = 1` (nothing to denoise), ``"epsilon"`` is asked for at
        :math:`\bar\alpha_t = 0` (zero SNR), or the result overflows float64.

    Examples
    --------
    >>> from conceptref.diffusion import ddpm_step
    >>> ddpm_step([[0.0]], 0, [[0.9]], [0.81]).tolist()   # t = 0: x_0 = x_t / sqrt(0.81)
    [[1.0]]
    """
    a = _as_alphas_cumprod(alphas_cumprod)
    out, x, e, step = _step_inputs(model_output, sample, noise, t, a)
    prev = step - 1 if prev_t is None else check_int(prev_t, "prev_t", Interval(-1, None))
    if prev >= step:
        raise ValueError(f"prev_t must be smaller than t = {step}, got {prev}")
    check_option(variance_type, "variance_type", _VARIANCE_TYPES)
    check_option(prediction_type, "prediction_type", _PREDICTION_TYPES)
    alpha_t = float(a[step])
    alpha_prev = float(a[prev]) if prev >= 0 else 1.0
    if alpha_t == 1.0:
        raise ValueError(f"alphas_cumprod[{step}] must be below 1 for a reverse step")
    if step > 0 and e is None:
        raise ValueError("noise is required when t > 0")
    x0, _ = _predictions(out, x, alpha_t, prediction_type)
    current_alpha = alpha_t / alpha_prev
    current_beta = 1.0 - current_alpha
    with _quiet():
        mean = (math.sqrt(alpha_prev) * current_beta / (1 - alpha_t)) * x0 + (
            math.sqrt(current_alpha) * (1 - alpha_prev) / (1 - alpha_t)
        ) * x
        if step == 0 or e is None:
            return _finite(mean, "model_output or sample is")
        if variance_type == "fixed_small":
            variance = max((1 - alpha_prev) / (1 - alpha_t) * current_beta, 1e-20)
        else:
            variance = current_beta
        return _finite(mean + math.sqrt(variance) * e, "model_output, sample or noise is")


def ddim_step(
    model_output: npt.ArrayLike,
    t: int,
    sample: npt.ArrayLike,
    alphas_cumprod: npt.ArrayLike,
    *,
    num_inference_steps: int,
    eta: float = 0.0,
    noise: npt.ArrayLike | None = None,
    set_alpha_to_one: bool = True,
    prediction_type: str = "epsilon",
) -> npt.NDArray[np.float64]:
    r"""One DDIM step :math:`x_t \to x_{t'}` with :math:`t' = t - \lfloor T/n \rfloor`.

    .. math:: x_{t'} = \sqrt{\bar\alpha'}\,\hat x_0
                     + \sqrt{1 - \bar\alpha' - \sigma_t^2}\,\hat\varepsilon + \sigma_t z,
              \qquad
              \sigma_t = \eta\,\sqrt{\tfrac{1-\bar\alpha'}{1-\bar\alpha_t}
                         \big(1 - \tfrac{\bar\alpha_t}{\bar\alpha'}\big)},

    where :math:`\bar\alpha' = \bar\alpha_{t'}`, or, when :math:`t' < 0`, 1
    (``set_alpha_to_one``) or :math:`\bar\alpha_0`. :math:`\eta = 0` is deterministic
    (Song et al. 2021). This equals ``DDIMScheduler(clip_sample=False).step`` after
    ``set_timesteps(num_inference_steps)``, with ``variance_noise=noise``.

    Parameters
    ----------
    model_output, t, sample, alphas_cumprod, prediction_type
        As in :func:`ddpm_step`.
    num_inference_steps
        :math:`n`; the step goes back :math:`\lfloor T/n \rfloor` timesteps, whatever the spacing
        of the visited timesteps (as ``diffusers`` does).
    eta
        :math:`\eta \in [0, 1]`.
    noise
        :math:`z`, shaped like ``sample``; required when ``eta > 0``.
    set_alpha_to_one
        The value of :math:`\bar\alpha'` past the last step: 1 if ``True``, else
        :math:`\bar\alpha_0`.

    Returns
    -------
    numpy.ndarray
        :math:`x_{t'}`, float64, shaped like ``sample``.

    Raises
    ------
    TypeError, ValueError
        As :func:`ddpm_step`, and if ``num_inference_steps`` exceeds :math:`T`, ``eta`` lies
        outside :math:`[0, 1]`, ``noise`` is missing while ``eta > 0``, or
        ``set_alpha_to_one`` is not a ``bool``.

    Examples
    --------
    >>> from conceptref.diffusion import ddim_step
    >>> a = [0.64, 0.25]
    >>> ddim_step([[0.0]], 1, [[0.5]], a, num_inference_steps=2).tolist()  # to t' = 0
    [[0.8]]
    >>> ddim_step([[0.0]], 1, [[0.5]], a, num_inference_steps=1).tolist()  # straight to x_0
    [[1.0]]
    """
    a = _as_alphas_cumprod(alphas_cumprod)
    out, x, e, step = _step_inputs(model_output, sample, noise, t, a)
    n = check_int(num_inference_steps, "num_inference_steps", Interval(1, None))
    if n > a.size:
        raise ValueError(f"num_inference_steps ({n}) cannot exceed the {a.size} timesteps")
    strength = check_probability(eta, "eta")
    to_one = check_bool(set_alpha_to_one, "set_alpha_to_one")
    check_option(prediction_type, "prediction_type", _PREDICTION_TYPES)
    if strength > 0 and e is None:
        raise ValueError("noise is required when eta > 0")
    prev = step - a.size // n
    alpha_t = float(a[step])
    final = 1.0 if to_one else float(a[0])
    alpha_prev = float(a[prev]) if prev >= 0 else final
    if alpha_t == 1.0:
        raise ValueError(f"alphas_cumprod[{step}] must be below 1 for a reverse step")
    if alpha_prev == 0.0:  # only a one-step zero-SNR schedule with set_alpha_to_one=False
        raise ValueError(
            "set_alpha_to_one=False steps to alphas_cumprod[0] = 0 (no signal at all); "
            "use set_alpha_to_one=True"
        )
    x0, eps = _predictions(out, x, alpha_t, prediction_type)
    variance = (1 - alpha_prev) / (1 - alpha_t) * (1 - alpha_t / alpha_prev)
    std = strength * math.sqrt(max(variance, 0.0))
    with _quiet():
        direction = math.sqrt(max(1 - alpha_prev - std**2, 0.0)) * eps
        result = math.sqrt(alpha_prev) * x0 + direction
        if strength > 0 and e is not None:
            result = result + std * e
        return _finite(result, "model_output, sample or noise is")


def classifier_free_guidance(
    eps_uncond: npt.ArrayLike, eps_cond: npt.ArrayLike, guidance_scale: float
) -> npt.NDArray[np.float64]:
    r"""Combine the unconditional and conditional noise predictions (Ho & Salimans 2022).

    .. math:: \hat\varepsilon = \varepsilon_u + s\,(\varepsilon_c - \varepsilon_u)
              = (1 + w)\,\varepsilon_c - w\,\varepsilon_u, \qquad s = 1 + w.

    ``s`` is the ``guidance_scale`` of ``diffusers`` pipelines (7.5 by default for Stable
    Diffusion); the paper's :math:`w` is :math:`s - 1`. :math:`s = 1` is the plain conditional
    model, :math:`s = 0` the unconditional one.

    Parameters
    ----------
    eps_uncond, eps_cond
        The two predictions, same shape.
    guidance_scale
        :math:`s`, a finite number.

    Returns
    -------
    numpy.ndarray
        Float64 array of the same shape.

    Raises
    ------
    TypeError, ValueError
        If an input is not finite real data, the shapes differ or ``guidance_scale`` is not
        finite.

    Examples
    --------
    >>> from conceptref.diffusion import classifier_free_guidance
    >>> classifier_free_guidance([0.0, 1.0], [1.0, 1.0], 7.5).tolist()
    [7.5, 1.0]
    """
    u = check_array(eps_uncond, "eps_uncond")
    c = check_array(eps_cond, "eps_cond")
    check_same_shape(u, c, ("eps_uncond", "eps_cond"))
    s = check_real(guidance_scale, "guidance_scale")
    with _quiet():
        return _finite(u + s * (c - u), "eps_uncond, eps_cond or guidance_scale is")


def latent_shape(
    height: int, width: int, *, downsampling_factor: int = 8, latent_channels: int = 4
) -> tuple[int, int, int]:
    r"""Shape ``(C, h, w)`` of the autoencoder latent of a ``height`` by ``width`` image.

    An ``AutoencoderKL`` with :math:`k + 1` resolution levels halves the size :math:`k` times
    (:math:`f = 2^k`); each halving pads one pixel on the right and bottom and applies a stride-2
    3-by-3 convolution, which maps :math:`h \mapsto \lfloor h/2 \rfloor`, so
    :math:`h_{\text{latent}} = \lfloor h / f \rfloor`.

    Parameters
    ----------
    height, width
        Image size in pixels, each at least ``downsampling_factor``.
    downsampling_factor
        :math:`f`, a power of 2 (8 for Stable Diffusion).
    latent_channels
        :math:`C` (4 for Stable Diffusion).

    Returns
    -------
    tuple of int
        ``(latent_channels, height // f, width // f)``.

    Raises
    ------
    TypeError, ValueError
        If a size is not an integer, ``downsampling_factor`` is not a power of 2, or the image
        is smaller than ``downsampling_factor``.

    Examples
    --------
    >>> from conceptref.diffusion import latent_shape
    >>> latent_shape(512, 512)
    (4, 64, 64)
    """
    h = check_int(height, "height", Interval(1, None))
    w = check_int(width, "width", Interval(1, None))
    f = check_int(downsampling_factor, "downsampling_factor", Interval(1, None))
    c = check_int(latent_channels, "latent_channels", Interval(1, None))
    if f & (f - 1):
        raise ValueError(f"downsampling_factor must be a power of 2, got {f}")
    if h < f or w < f:
        raise ValueError(f"height and width must be at least downsampling_factor = {f}")
    return (c, h // f, w // f)


def latent_scale_factor(latents: npt.ArrayLike) -> float:
    r"""Return the latent scale factor: one over the standard deviation of a batch of latents.

    Latent diffusion multiplies the autoencoder's latents by this number so that they have unit
    variance, like the :math:`\mathcal N(0, I)` the diffusion ends in; Rombach et al. (2022)
    measured it on a batch (``1 / z.flatten().std()``, the unbiased standard deviation over every
    number of the batch). Stable Diffusion's value, 0.18215, was measured this way once and
    then fixed in its configuration.

    Parameters
    ----------
    latents
        A batch of latents, any shape, at least two numbers, not all equal.

    Returns
    -------
    float
        :math:`1/\operatorname{std}(z)`.

    Raises
    ------
    TypeError, ValueError
        If ``latents`` is not finite real data, has fewer than two numbers, or a spread of 0
        (or one so small that its inverse overflows).

    Examples
    --------
    >>> from conceptref.diffusion import latent_scale_factor
    >>> round(latent_scale_factor([-1.0, 1.0, -1.0, 1.0]) ** -2, 4)   # unbiased variance 4/3
    1.3333
    """
    z = check_array(latents, "latents").reshape(-1)
    if z.size < 2:
        raise ValueError("latents must hold at least two numbers")
    peak = float(np.max(np.abs(z)))
    # scaling by the largest magnitude first keeps tiny spreads from underflowing when squared
    std = peak * float(np.std(z / peak, ddof=1)) if peak > 0 else 0.0
    if std == 0.0:
        raise ValueError("latents must not all be equal (standard deviation 0)")
    if not math.isfinite(1.0 / std):
        raise ValueError(f"the standard deviation of latents ({std:g}) is too small to invert")
    return 1.0 / std
