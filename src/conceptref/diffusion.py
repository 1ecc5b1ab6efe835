r"""Diffusion models: noise schedules, the forward process, DDPM and DDIM steps, guidance.

This module is the reference implementation behind the page :doc:`/concepts/latent-diffusion`.
Every formula is written out in NumPy (float64) and tested in ``tests/test_diffusion.py``
against Hugging Face ``diffusers`` (``DDPMScheduler``, ``DDIMScheduler``, ``AutoencoderKL``
built from a config, nothing downloaded). ``diffusers`` computes in float32, so the tests compare
with tolerances of float32 size. Array inputs may be NumPy arrays, nested lists or PyTorch
tensors (detached and upcast to float64 first).

Conventions follow ``diffusers``: timesteps count from 0 to :math:`T-1`, ``alphas_cumprod[t]``
is :math:`\bar\alpha_t = \prod_{s \le t}(1-\beta_s)`, and the model predicts the noise
:math:`\varepsilon` (``prediction_type="epsilon"``) unless told otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch

from conceptref._validation import (
    Interval,
    as_finite_float,
    as_int,
    as_positive_int,
    check_array,
    check_int_array,
    check_probability,
    check_same_shape,
)
from conceptref.vae import _Adam

__all__ = [
    "ToyDenoiser",
    "alphas_cumprod",
    "beta_schedule",
    "classifier_free_guidance",
    "ddim_step",
    "ddpm_step",
    "latent_scale_factor",
    "latent_shape",
    "q_sample",
    "sample_toy_ddpm",
    "sampling_timesteps",
    "signal_to_noise",
    "train_toy_ddpm",
]

ScheduleKind = Literal["linear", "scaled_linear", "cosine"]
PredictionType = Literal["epsilon", "sample", "v_prediction"]

# Defaults of beta_start/beta_end per kind: DDPM's (Ho et al. 2020) and Stable Diffusion's.
_DEFAULT_RANGE = {"linear": (1e-4, 0.02), "scaled_linear": (0.00085, 0.012)}
_MAX_BETA = 0.999  # the cosine schedule's clipping (Nichol & Dhariwal 2021)


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
        If ``kind`` is unknown, ``num_steps`` < 1, a beta lies outside :math:`[0, 1)`, or a beta
        is given for ``"cosine"``.

    Examples
    --------
    >>> from conceptref.diffusion import beta_schedule
    >>> [round(b, 6) for b in beta_schedule("linear", 3).tolist()]
    [0.0001, 0.01005, 0.02]
    >>> round(float(beta_schedule("cosine", 1000)[-1]), 3)   # clipped at 0.999
    0.999
    """
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a string, got {type(kind).__name__}")
    steps = as_positive_int(num_steps, "num_steps")
    if kind == "cosine":
        if beta_start is not None or beta_end is not None:
            raise ValueError("the cosine schedule takes no beta_start or beta_end")

        def alpha_bar(u: float) -> float:
            return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = [
            min(1 - alpha_bar((t + 1) / steps) / alpha_bar(t / steps), _MAX_BETA)
            for t in range(steps)
        ]
        return np.asarray(betas, dtype=np.float64)
    if kind not in _DEFAULT_RANGE:
        raise ValueError(f"kind must be 'linear', 'scaled_linear' or 'cosine', got {kind!r}")
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


def _as_betas(betas: object) -> npt.NDArray[np.float64]:
    return check_array(betas, "betas", ndim=1, non_empty=True, interval=Interval(0, 1, "left"))


def alphas_cumprod(betas: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Return the cumulative products :math:`\bar\alpha_t = \prod_{s=0}^{t} (1 - \beta_s)`.

    :math:`\bar\alpha_t` is the share of the data's variance left in :math:`x_t`:
    :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`.

    Parameters
    ----------
    betas
        A schedule, shape ``(T,)``, each in :math:`[0, 1)`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(T,)``, decreasing, in :math:`(0, 1]`.

    Raises
    ------
    TypeError, ValueError
        If ``betas`` is not a non-empty 1-D array of numbers in :math:`[0, 1)`.

    Examples
    --------
    >>> from conceptref.diffusion import alphas_cumprod
    >>> [round(a, 4) for a in alphas_cumprod([0.5, 0.5]).tolist()]
    [0.5, 0.25]
    """
    return np.asarray(np.cumprod(1.0 - _as_betas(betas)), dtype=np.float64)


def _as_alphas_cumprod(value: object) -> npt.NDArray[np.float64]:
    return check_array(
        value, "alphas_cumprod", ndim=1, non_empty=True, interval=Interval(0, 1, "right")
    )


def signal_to_noise(alphas_cumprod: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Signal-to-noise ratio :math:`\mathrm{SNR}_t = \bar\alpha_t / (1 - \bar\alpha_t)`.

    Parameters
    ----------
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``, in :math:`(0, 1]`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(T,)``; ``inf`` where :math:`\bar\alpha_t = 1`.

    Raises
    ------
    TypeError, ValueError
        If ``alphas_cumprod`` is not a non-empty 1-D array in :math:`(0, 1]`.

    Examples
    --------
    >>> from conceptref.diffusion import signal_to_noise
    >>> signal_to_noise([0.5, 0.2]).tolist()
    [1.0, 0.25]
    """
    a = _as_alphas_cumprod(alphas_cumprod)
    with np.errstate(divide="ignore"):
        return np.asarray(a / (1.0 - a), dtype=np.float64)


def _timesteps(t: object, size: int, n: int) -> npt.NDArray[np.int64]:
    arr = check_int_array(t, "t")
    arr = arr.reshape(-1) if arr.ndim <= 1 else arr
    if arr.ndim != 1 or (arr.size != n and arr.size != 1):
        raise ValueError(f"t must hold one timestep per sample ({n}) or a single one")
    if ((arr < 0) | (arr >= size)).any():
        raise ValueError(f"t must lie in 0 … {size - 1} (the length of alphas_cumprod)")
    return np.asarray(np.broadcast_to(arr, (n,)), dtype=np.int64)


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
    x = check_array(x0, "x0", min_ndim=1)
    e = check_array(noise, "noise", min_ndim=1)
    check_same_shape(x, e, ("x0", "noise"))
    a = _as_alphas_cumprod(alphas_cumprod)
    steps = _timesteps(t, a.size, x.shape[0])
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    ab = a[steps].reshape(shape)
    return np.asarray(np.sqrt(ab) * x + np.sqrt(1.0 - ab) * e, dtype=np.float64)


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
        If a count is not an integer, :math:`n > T`, ``spacing`` is unknown, or a timestep
        would fall outside :math:`0 \dots T-1`.

    Examples
    --------
    >>> from conceptref.diffusion import sampling_timesteps
    >>> sampling_timesteps(1000, 5).tolist()
    [800, 600, 400, 200, 0]
    >>> sampling_timesteps(1000, 5, spacing="trailing").tolist()
    [999, 799, 599, 399, 199]
    """
    big_t = as_positive_int(num_train_steps, "num_train_steps")
    n = as_positive_int(num_inference_steps, "num_inference_steps")
    offset = as_int(steps_offset, "steps_offset", minimum=0)
    if n > big_t:
        raise ValueError(f"num_inference_steps ({n}) cannot exceed num_train_steps ({big_t})")
    if spacing == "leading":
        steps = (np.arange(n) * (big_t // n))[::-1] + offset
    elif spacing == "trailing":
        steps = np.round(np.arange(big_t, 0, -big_t / n)).astype(np.int64) - 1
    elif spacing == "linspace":
        steps = np.linspace(0, big_t - 1, n).round()[::-1].astype(np.int64)
    else:
        raise ValueError(f"spacing must be 'leading', 'trailing' or 'linspace', got {spacing!r}")
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
    if prediction_type == "epsilon":
        eps = model_output
        x0 = (sample - sqrt_b * eps) / sqrt_a
    elif prediction_type == "sample":
        x0 = model_output
        if sqrt_b == 0.0:
            raise ValueError("prediction_type='sample' needs alphas_cumprod[t] < 1")
        eps = (sample - sqrt_a * x0) / sqrt_b
    elif prediction_type == "v_prediction":
        x0 = sqrt_a * sample - sqrt_b * model_output
        eps = sqrt_a * model_output + sqrt_b * sample
    else:
        raise ValueError(
            "prediction_type must be 'epsilon', 'sample' or 'v_prediction', "
            f"got {prediction_type!r}"
        )
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
    step = as_int(t, "t", minimum=0)
    if step >= a.size:
        raise ValueError(f"t must lie in 0 … {a.size - 1} (the length of alphas_cumprod)")
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
        If an array is not finite real data or shapes differ, ``t`` is out of range,
        ``prev_t`` is not in :math:`-1 \dots t-1`, ``noise`` is missing for :math:`t > 0`, or a
        type name is unknown.

    Examples
    --------
    >>> from conceptref.diffusion import ddpm_step
    >>> ddpm_step([[0.0]], 0, [[0.9]], [0.81]).tolist()   # t = 0: x_0 = x_t / sqrt(0.81)
    [[1.0]]
    """
    a = _as_alphas_cumprod(alphas_cumprod)
    out, x, e, step = _step_inputs(model_output, sample, noise, t, a)
    prev = step - 1 if prev_t is None else as_int(prev_t, "prev_t", minimum=-1)
    if prev >= step:
        raise ValueError(f"prev_t must be smaller than t = {step}, got {prev}")
    if variance_type not in ("fixed_small", "fixed_large"):
        raise ValueError(
            f"variance_type must be 'fixed_small' or 'fixed_large', got {variance_type!r}"
        )
    alpha_t = float(a[step])
    alpha_prev = float(a[prev]) if prev >= 0 else 1.0
    if alpha_t == 1.0:
        raise ValueError(f"alphas_cumprod[{step}] must be below 1 for a reverse step")
    x0, _ = _predictions(out, x, alpha_t, prediction_type)
    current_alpha = alpha_t / alpha_prev
    current_beta = 1.0 - current_alpha
    mean = (math.sqrt(alpha_prev) * current_beta / (1 - alpha_t)) * x0 + (
        math.sqrt(current_alpha) * (1 - alpha_prev) / (1 - alpha_t)
    ) * x
    if step == 0:
        return np.asarray(mean, dtype=np.float64)
    if e is None:
        raise ValueError("noise is required when t > 0")
    if variance_type == "fixed_small":
        variance = max((1 - alpha_prev) / (1 - alpha_t) * current_beta, 1e-20)
    else:
        variance = current_beta
    return np.asarray(mean + math.sqrt(variance) * e, dtype=np.float64)


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
        outside :math:`[0, 1]` or ``noise`` is missing while ``eta > 0``.

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
    n = as_positive_int(num_inference_steps, "num_inference_steps")
    if n > a.size:
        raise ValueError(f"num_inference_steps ({n}) cannot exceed the {a.size} timesteps")
    strength = as_finite_float(eta, "eta")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"eta must lie in [0, 1], got {eta}")
    if strength > 0 and e is None:
        raise ValueError("noise is required when eta > 0")
    prev = step - a.size // n
    alpha_t = float(a[step])
    final = 1.0 if set_alpha_to_one else float(a[0])
    alpha_prev = float(a[prev]) if prev >= 0 else final
    if alpha_t == 1.0:
        raise ValueError(f"alphas_cumprod[{step}] must be below 1 for a reverse step")
    x0, eps = _predictions(out, x, alpha_t, prediction_type)
    variance = (1 - alpha_prev) / (1 - alpha_t) * (1 - alpha_t / alpha_prev)
    std = strength * math.sqrt(max(variance, 0.0))
    direction = math.sqrt(max(1 - alpha_prev - std**2, 0.0)) * eps
    result = math.sqrt(alpha_prev) * x0 + direction
    if strength > 0 and e is not None:
        result = result + std * e
    return np.asarray(result, dtype=np.float64)


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
    s = as_finite_float(guidance_scale, "guidance_scale")
    return np.asarray(u + s * (c - u), dtype=np.float64)


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
    h = as_positive_int(height, "height")
    w = as_positive_int(width, "width")
    f = as_positive_int(downsampling_factor, "downsampling_factor")
    c = as_positive_int(latent_channels, "latent_channels")
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


# --------------------------------------------------------------------------------------------
# The demonstration: a tiny DDPM on a 2-D mixture.


@dataclass(frozen=True)
class ToyDenoiser:
    """A trained noise-prediction network for 2-D points (see :func:`train_toy_ddpm`).

    Attributes
    ----------
    network
        An MLP from ``(x_t, t / T)`` (3 inputs) to the predicted noise (2 outputs), float32.
    alphas_cumprod
        The schedule it was trained with, shape ``(T,)``.
    """

    network: torch.nn.Module
    alphas_cumprod: npt.NDArray[np.float64]

    def predict_noise(self, x: npt.NDArray[np.float64], t: int) -> npt.NDArray[np.float64]:
        r"""Return the network's :math:`\hat\varepsilon(x_t, t)` for points ``x`` at step ``t``."""
        size = self.alphas_cumprod.size
        inputs = np.concatenate([x, np.full((x.shape[0], 1), t / size)], axis=1)
        with torch.no_grad():
            out = self.network(torch.as_tensor(inputs, dtype=torch.float32))
        return np.asarray(out.double().numpy(), dtype=np.float64)


def train_toy_ddpm(
    data: npt.ArrayLike,
    alphas_cumprod: npt.ArrayLike,
    *,
    hidden: int = 64,
    steps: int = 800,
    batch_size: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
) -> ToyDenoiser:
    r"""Train a small MLP with the ε-prediction loss of Ho et al. (2020) on 2-D points.

    Each Adam step draws a batch of data :math:`x_0`, timesteps :math:`t` uniformly in
    :math:`0 \dots T-1` and noise :math:`\varepsilon`, forms :math:`x_t` with the closed form
    (:func:`q_sample`) and minimizes
    :math:`\lVert \varepsilon - \hat\varepsilon(x_t, t)\rVert^2`.

    Parameters
    ----------
    data
        Training points, shape ``(n, 2)``.
    alphas_cumprod
        :math:`\bar\alpha`, shape ``(T,)``.
    hidden, steps, batch_size
        MLP width (two SiLU hidden layers), Adam steps, batch size.
    lr
        Adam's learning rate.
    seed
        Seeds the weights, the batches, the timesteps and the noise.

    Returns
    -------
    ToyDenoiser
        The trained network and its schedule.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not a finite ``(n, 2)`` array or a parameter is out of range.

    Examples
    --------
    >>> from conceptref.diffusion import alphas_cumprod, beta_schedule, train_toy_ddpm
    >>> from conceptref.vae import ring_of_gaussians
    >>> model = train_toy_ddpm(ring_of_gaussians(64), alphas_cumprod(
    ...     beta_schedule("cosine", 20)), steps=2)
    >>> model.predict_noise(ring_of_gaussians(3), 5).shape
    (3, 2)
    """
    x_np = check_array(data, "data", min_ndim=2)
    if x_np.ndim != 2 or x_np.shape[1] != 2 or x_np.shape[0] == 0:
        raise ValueError(f"data must have shape (n, 2) with n >= 1, got {x_np.shape}")
    a = _as_alphas_cumprod(alphas_cumprod)
    width = as_positive_int(hidden, "hidden")
    n_steps = as_positive_int(steps, "steps")
    batch = as_positive_int(batch_size, "batch_size")
    rate = as_finite_float(lr, "lr")
    if rate <= 0:
        raise ValueError(f"lr must be a finite number greater than 0, got {lr}")
    torch.manual_seed(seed)
    x = torch.as_tensor(x_np, dtype=torch.float32)
    ab = torch.as_tensor(a, dtype=torch.float32)
    size = a.size
    net = torch.nn.Sequential(
        torch.nn.Linear(3, width),
        torch.nn.SiLU(),
        torch.nn.Linear(width, width),
        torch.nn.SiLU(),
        torch.nn.Linear(width, 2),
    )
    optimizer = _Adam(list(net.parameters()), rate)
    for _ in range(n_steps):
        x0 = x[torch.randint(0, x.shape[0], (batch,))]
        t = torch.randint(0, size, (batch,))
        eps = torch.randn_like(x0)
        xt = ab[t].sqrt()[:, None] * x0 + (1 - ab[t]).sqrt()[:, None] * eps  # q(x_t | x_0)
        prediction = net(torch.cat([xt, t[:, None].float() / size], dim=1))
        optimizer.step(((prediction - eps) ** 2).mean())
    return ToyDenoiser(net.eval(), a)


def sample_toy_ddpm(
    model: ToyDenoiser, n: int, *, seed: int = 0, keep_trajectories: bool = False
) -> npt.NDArray[np.float64]:
    r"""Ancestral sampling: start from :math:`x_T \sim \mathcal N(0, I)` and apply :func:`ddpm_step`.

    Parameters
    ----------
    model
        A trained :class:`ToyDenoiser`.
    n
        Number of samples.
    seed
        Seed of :func:`numpy.random.default_rng` for :math:`x_T` and every step's noise.
    keep_trajectories
        Return every intermediate :math:`x_t` as well.

    Returns
    -------
    numpy.ndarray
        Float64 samples of shape ``(n, 2)``, or with ``keep_trajectories`` the whole chain,
        shape ``(T + 1, n, 2)``, from :math:`x_T` (index 0) to :math:`x_0` (index T).

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a :class:`ToyDenoiser` or ``n`` < 1.

    Examples
    --------
    >>> from conceptref.diffusion import ToyDenoiser, alphas_cumprod, sample_toy_ddpm
    >>> import torch
    >>> zero = ToyDenoiser(torch.nn.Linear(3, 2), alphas_cumprod([0.1, 0.2]))
    >>> sample_toy_ddpm(zero, 5, keep_trajectories=True).shape
    (3, 5, 2)
    """
    if not isinstance(model, ToyDenoiser):
        raise TypeError(f"model must be a ToyDenoiser, got {type(model).__name__}")
    size = as_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((size, 2))
    chain = [x]
    for t in reversed(range(model.alphas_cumprod.size)):
        noise = rng.standard_normal((size, 2)) if t > 0 else None
        x = ddpm_step(model.predict_noise(x, t), t, x, model.alphas_cumprod, noise)
        chain.append(x)
    return np.stack(chain) if keep_trajectories else x
