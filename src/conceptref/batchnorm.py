r"""Batch normalization in a convolution block: folding it, ordering the block, dropout before it.

This module is the reference implementation behind two pages:
:doc:`/concepts/bias-false-before-batchnorm` (folding batch normalization into the convolution
before it, and why that convolution needs no bias) and
:doc:`/concepts/conv-bn-activation-dropout-order` (the order of the layers in a block, and the
variance shift between dropout and batch normalization).

``tests/test_batchnorm.py`` checks :func:`fold_batchnorm` against an eval-mode convolution
followed by :class:`torch.nn.BatchNorm2d` and against
:func:`torch.nn.utils.fusion.fuse_conv_bn_eval` (grouped and depthwise convolutions included),
:func:`conv_bn_act` against the layers it is made of, and :func:`measure_variance_shift`
against the closed form of :func:`expected_variance_shift`. The same file checks the pages'
claims in torch itself, such as that a convolution's bias has no effect on a batch-normalized
output in training mode.

Shapes follow PyTorch: feature maps are ``(N, C, H, W)`` tensors, a convolution's weight is
``(C_out, C_in / groups, k_h, k_w)``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch

from conceptref._random import seeded
from conceptref._validation import (
    Interval,
    check_int,
    check_odd_kernel_size,
    check_probability,
    check_real,
    check_size,
)

MAX_SAMPLES = 10**7
"""The most draws :func:`measure_variance_shift` takes (80 MB of float64 per tensor)."""

__all__ = [
    "MAX_SAMPLES",
    "VarianceShift",
    "conv_bn_act",
    "expected_variance_shift",
    "fold_batchnorm",
    "measure_variance_shift",
]


def fold_batchnorm(conv: torch.nn.Conv2d, bn: torch.nn.BatchNorm2d) -> torch.nn.Conv2d:
    r"""Fold an eval-mode batch normalization into the convolution before it.

    In eval mode, :class:`torch.nn.BatchNorm2d` applies a fixed affine map per channel,
    :math:`\gamma\,(z - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta` with the running mean
    :math:`\mu` and variance :math:`\sigma^2`. Applied to a convolution's output
    :math:`z = W * x + b` it is again a convolution, with

    .. math:: W'_c = \frac{\gamma_c}{\sqrt{\sigma_c^2 + \epsilon}}\, W_c , \qquad
              b'_c = \frac{\gamma_c}{\sqrt{\sigma_c^2 + \epsilon}}\, (b_c - \mu_c) + \beta_c

    for every output channel :math:`c` (:math:`b_c = 0` when the convolution has no bias;
    :math:`\gamma_c = 1`, :math:`\beta_c = 0` when the normalization has ``affine=False``).
    Grouped and depthwise convolutions fold the same way, since the scale acts on whole
    filters. The arithmetic runs in float64 and the result is cast to the convolution's dtype.

    Parameters
    ----------
    conv
        The convolution, with or without a bias. Its training flag does not matter.
    bn
        The batch normalization that follows it, in eval mode (``bn.eval()``), with running
        statistics and ``num_features == conv.out_channels``.

    Returns
    -------
    torch.nn.Conv2d
        A new convolution with the same shape, stride, padding, dilation, groups, padding mode,
        dtype and device as ``conv``, always with a bias, that computes ``bn(conv(x))``.
        Neither input is modified.

    Raises
    ------
    TypeError
        If ``conv`` is not a :class:`torch.nn.Conv2d` or ``bn`` is not a
        :class:`torch.nn.BatchNorm2d`.
    ValueError
        If ``bn.num_features`` differs from ``conv.out_channels``, if ``bn`` is in training mode
        (it then normalizes with the statistics of each batch, which no fixed convolution can
        reproduce), or if it has no running statistics (``track_running_stats=False``, which
        uses batch statistics in eval mode too).

    See Also
    --------
    torch.nn.utils.fusion.fuse_conv_bn_eval : PyTorch's version, which this function matches.
    conv_bn_act : the block whose convolution and normalization this folds.

    Examples
    --------
    >>> import torch
    >>> from conceptref.batchnorm import fold_batchnorm
    >>> conv = torch.nn.Conv2d(3, 4, 3, bias=False, dtype=torch.float64)
    >>> bn = torch.nn.BatchNorm2d(4, dtype=torch.float64)
    >>> with torch.no_grad():  # as if training had left these values
    ...     _ = bn.running_mean.fill_(0.5), bn.running_var.fill_(4.0)
    ...     _ = bn.weight.fill_(2.0), bn.bias.fill_(1.0)
    >>> bn = bn.eval()
    >>> folded = fold_batchnorm(conv, bn)
    >>> x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    >>> torch.allclose(folded(x), bn(conv(x)))
    True
    >>> [round(v, 4) for v in folded.bias.tolist()]  # 2 * (0 - 0.5) / sqrt(4 + 1e-5) + 1
    [0.5, 0.5, 0.5, 0.5]
    """
    if not isinstance(conv, torch.nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if not isinstance(bn, torch.nn.BatchNorm2d):
        raise TypeError(f"bn must be a torch.nn.BatchNorm2d, got {type(bn).__name__}")
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"bn.num_features = {bn.num_features} must equal conv.out_channels = "
            f"{conv.out_channels}"
        )
    if bn.training:
        raise ValueError(
            "bn is in training mode, where it normalizes with the statistics of each batch; "
            "call bn.eval() before folding it into the convolution"
        )
    running_mean, running_var = bn.running_mean, bn.running_var
    if running_mean is None or running_var is None:
        raise ValueError(
            "bn has no running statistics (track_running_stats=False), so it normalizes with "
            "the statistics of each batch even in eval mode and cannot be folded"
        )
    f64 = torch.float64
    with torch.no_grad():
        weight = conv.weight.detach().to(f64)  # (C_out, C_in / groups, k_h, k_w)
        zeros = torch.zeros(conv.out_channels, dtype=f64, device=weight.device)
        bias = zeros if conv.bias is None else conv.bias.detach().to(f64)
        # affine=False (or, in recent torch, bias=False) leaves these parameters as None.
        bn_weight: torch.Tensor | None = bn.weight
        bn_bias: torch.Tensor | None = bn.bias
        gamma = zeros + 1 if bn_weight is None else bn_weight.detach().to(f64)
        beta = zeros if bn_bias is None else bn_bias.detach().to(f64)
        scale = gamma * torch.rsqrt(running_var.to(f64) + bn.eps)  # (C_out,)
        folded = torch.nn.Conv2d(  # on the meta device: no random init, every weight is set below
            conv.in_channels,
            conv.out_channels,
            _two(conv.kernel_size),
            stride=_two(conv.stride),
            padding=conv.padding if isinstance(conv.padding, str) else _two(conv.padding),
            dilation=_two(conv.dilation),
            groups=conv.groups,
            bias=True,
            padding_mode=conv.padding_mode,
            device="meta",
            dtype=conv.weight.dtype,
        ).to_empty(device=conv.weight.device)
        folded_bias: torch.Tensor | None = folded.bias
        assert folded_bias is not None  # built with bias=True
        folded.weight.copy_(weight * scale.reshape(-1, 1, 1, 1))
        folded_bias.copy_((bias - running_mean.to(f64)) * scale + beta)
    folded.train(conv.training)
    return folded


def conv_bn_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    *,
    stride: int = 1,
    activation: Callable[[], torch.nn.Module] = torch.nn.ReLU,
    dropout: float = 0.0,
    seed: int = 0,
) -> torch.nn.Sequential:
    r"""Build a convolution block: convolution, batch normalization, activation, dropout.

    .. math:: y = \operatorname{Dropout2d}\bigl(\phi(\operatorname{BN}(W * x))\bigr)

    The order follows Ioffe & Szegedy (2015), who normalize the convolution's output,
    *before* the nonlinearity :math:`\phi`: that input of the nonlinearity is the sum of many
    terms and closer to Gaussian than the sparse, one-sided output of a ReLU, and normalizing
    it keeps the activation working in its useful range. The convolution has no bias, because
    batch normalization subtracts the per-channel mean right away, which removes any constant
    the bias adds; BN's own shift :math:`\beta` takes over its role.

    Dropout comes last, after this block's BN, so it does not disturb *this* BN's statistics.
    It does disturb the next one's when blocks are stacked: the dropped-out output feeds the
    next block's convolution and, through it, that block's BN, which learns the larger
    training-mode variance as its running variance and in eval mode divides by too much (the
    variance shift, see :func:`expected_variance_shift`). The convolution in between mixes
    the values but does not remove the shift. Li et al. (2019) recommend dropout only after
    the last BN of the network (for example just before the classifier), or a noise whose
    variance changes less between training and evaluation; here that means ``dropout=0`` for
    every block that another BN follows.

    The dropout layer is :class:`torch.nn.Dropout2d`, which zeros whole channels (feature
    maps) rather than single values: neighbouring pixels of a feature map are strongly
    correlated, so dropping single pixels removes little information (Tompson et al., 2015).

    Parameters
    ----------
    in_channels
        Input channels.
    out_channels
        Output channels.
    kernel_size
        Odd kernel size :math:`k`; the padding is :math:`\lfloor k/2 \rfloor` on every side,
        so that with stride 1 the output keeps the input's height and width ("same"
        padding). An even kernel has no centre, so "same" padding would need different
        amounts on the two sides, which :class:`torch.nn.Conv2d` cannot express as a number.
    stride
        Stride of the convolution; the output size is then :math:`\lceil n / s \rceil`.
    activation
        A zero-argument callable that returns the activation module, called once: a module
        class such as ``torch.nn.ReLU`` or ``torch.nn.GELU``, or for instance
        ``functools.partial(torch.nn.LeakyReLU, 0.1)``.
    dropout
        Probability of zeroing a channel, with ``0 <= dropout < 1``; 0 leaves the dropout layer
        out.
    seed
        Seed of the convolution's random initial weights, a non-negative integer. The caller's
        global random state of torch is left as it was.

    Returns
    -------
    torch.nn.Sequential
        The layers in order, named ``conv``, ``bn``, ``act`` and (when ``dropout > 0``)
        ``drop``, in float32 and in training mode like any new module.

    Raises
    ------
    TypeError
        If a size is not an integer, ``dropout`` is not a real number, ``activation`` is a
        module instance or not callable, or calling it does not return a
        :class:`torch.nn.Module`.
    ValueError
        If a size is less than 1 or the weights would number more than ``2**25``, ``kernel_size``
        is even, ``dropout`` lies outside ``[0, 1)`` or ``seed`` is negative.

    See Also
    --------
    fold_batchnorm : merge the ``conv`` and ``bn`` layers of a trained block.

    References
    ----------
    S. Ioffe and C. Szegedy, "Batch normalization: accelerating deep network training by
    reducing internal covariate shift", ICML 2015, section 3.2.

    J. Tompson, R. Goroshin, A. Jain, Y. LeCun and C. Bregler, "Efficient object localization
    using convolutional networks", CVPR 2015, section 3.2.

    X. Li, S. Chen, X. Hu and J. Yang, "Understanding the disharmony between dropout and batch
    normalization by variance shift", CVPR 2019.

    Examples
    --------
    >>> import torch
    >>> from conceptref.batchnorm import conv_bn_act
    >>> block = conv_bn_act(3, 16, dropout=0.1)
    >>> [(name, type(layer).__name__) for name, layer in block.named_children()]
    [('conv', 'Conv2d'), ('bn', 'BatchNorm2d'), ('act', 'ReLU'), ('drop', 'Dropout2d')]
    >>> block.conv.padding, block.conv.bias is None
    ((1, 1), True)
    >>> block(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 16, 32, 32])
    >>> down = conv_bn_act(16, 32, stride=2, activation=torch.nn.SiLU)
    >>> down(torch.randn(2, 16, 32, 32)).shape
    torch.Size([2, 32, 16, 16])
    """
    c_in = check_int(in_channels, "in_channels", Interval(1, None))
    c_out = check_int(out_channels, "out_channels", Interval(1, None))
    k = check_odd_kernel_size(kernel_size)
    s = check_int(stride, "stride", Interval(1, None))
    p = check_probability(dropout, "dropout", closed="left")
    if isinstance(activation, torch.nn.Module):
        raise TypeError(
            "activation must be a module class or a zero-argument callable that returns a "
            f"module, such as torch.nn.ReLU, not the module instance {activation}"
        )
    if not callable(activation):
        raise TypeError(
            "activation must be a module class or a zero-argument callable that returns a "
            f"module, got {type(activation).__name__}"
        )
    act = activation()
    if not isinstance(act, torch.nn.Module):
        raise TypeError(f"activation() must return a torch.nn.Module, got {type(act).__name__}")
    check_size(
        [("out_channels", c_out), ("in_channels", c_in), ("kernel_size**2", k * k)],
        limit=2**25,
        what="convolution weights",
    )
    with seeded(seed):  # the convolution's random initial weights
        conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, bias=False)
    layers: OrderedDict[str, torch.nn.Module] = OrderedDict(
        conv=conv, bn=torch.nn.BatchNorm2d(c_out), act=act
    )
    if p > 0:
        layers["drop"] = torch.nn.Dropout2d(p)
    return torch.nn.Sequential(layers)


# --- dropout before batch normalization: the variance shift -----------------------------------


@dataclass(frozen=True)
class VarianceShift:
    r"""Variance of a unit's input to batch normalization with dropout on and off.

    Returned by :func:`expected_variance_shift` and :func:`measure_variance_shift`.
    """

    train_variance: float
    """Variance in training mode, with dropout active and its outputs scaled by
    :math:`1/(1 - p)`."""

    eval_variance: float
    """Variance in eval mode, with dropout switched off."""

    shift: float
    r"""The ratio ``eval_variance / train_variance``, :math:`\Delta` in Li et al. (2019);
    1 when nothing is dropped, and below 1 in expectation otherwise. (Li et al. write
    :math:`p` for the probability of *keeping* a unit, :math:`1 - p` here.) A field rather
    than a property: :func:`expected_variance_shift` computes it from its closed form, which
    stays exact where the two variances overflow or underflow."""

    def __post_init__(self) -> None:
        for name in ("train_variance", "eval_variance", "shift"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, Interval(0, None)))


def expected_variance_shift(p: float, *, mean: float = 0.0, std: float = 1.0) -> VarianceShift:
    r"""Variance of a dropped-out unit in training and eval mode, in closed form.

    Let the unit's value :math:`x` have mean :math:`\mu` and variance :math:`\sigma^2`, and
    let dropout keep it with probability :math:`1 - p`, scaled by :math:`1/(1 - p)` (inverted
    dropout, as :class:`torch.nn.Dropout`): :math:`\tilde x = m x/(1-p)` with
    :math:`m \sim \operatorname{Bernoulli}(1-p)` independent of :math:`x`. The mean is
    unchanged, :math:`E[\tilde x] = \mu`, but with :math:`E[m^2] = 1 - p`

    .. math:: \operatorname{Var}_{\text{train}}[\tilde x]
              = \frac{E[x^2]}{1 - p} - \mu^2 = \frac{\sigma^2 + \mu^2}{1 - p} - \mu^2 ,
              \qquad \operatorname{Var}_{\text{eval}}[x] = \sigma^2 .

    A batch normalization after the dropout learns the larger training variance as its
    running variance and so, in eval mode, divides by too much: the *variance shift*

    .. math:: \Delta = \frac{\operatorname{Var}_{\text{eval}}}{\operatorname{Var}_{\text{train}}}
              = \frac{1 - p}{1 + p\,\mu^2 / \sigma^2} .

    The same happens when a convolution (or any weight layer) sits between the dropout and
    the batch normalization. Li et al. (2019) write :math:`a \sim \operatorname{Bernoulli}(p)`
    and :math:`X = a x / p`: their :math:`p` is the probability of *keeping* a unit, which is
    :math:`1 - p` here.

    Parameters
    ----------
    p
        Dropout probability, ``0 <= p < 1``.
    mean
        Mean :math:`\mu` of the unit, a finite number.
    std
        Standard deviation :math:`\sigma > 0` of the unit.

    Returns
    -------
    VarianceShift
        Both variances and their ratio.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``p`` lies outside ``[0, 1)``, ``mean`` is not finite, or ``std`` is not finite and
        greater than 0.

    See Also
    --------
    measure_variance_shift : the same numbers, measured with :class:`torch.nn.Dropout`.

    References
    ----------
    X. Li, S. Chen, X. Hu and J. Yang, "Understanding the disharmony between dropout and batch
    normalization by variance shift", CVPR 2019, section 3.

    Examples
    --------
    >>> from conceptref.batchnorm import expected_variance_shift
    >>> expected_variance_shift(0.5)
    VarianceShift(train_variance=2.0, eval_variance=1.0, shift=0.5)
    >>> expected_variance_shift(0.5, mean=1.0)
    VarianceShift(train_variance=3.0, eval_variance=1.0, shift=0.3333333333333333)
    """
    q = check_probability(p, "p", closed="left")
    mu = check_real(mean, "mean")
    sigma = check_real(std, "std", Interval(0, None, "neither"))
    # (sigma^2 + mu^2) / (1 - q) - mu^2 rearranged so that nothing cancels: with q = 0 it is
    # sigma^2 exactly, however large mu is.
    ratio = mu / sigma  # may overflow to inf: the shift then tends to 0
    train = (sigma * sigma + q * mu * mu) / (1 - q)  # Python floats overflow to inf quietly
    shift = (1 - q) / (1 + q * ratio * ratio) if q > 0 else 1.0
    evaluation = sigma * sigma
    if not math.isfinite(train):
        raise ValueError(
            f"the training-mode variance (std^2 + p * mean^2) / (1 - p) overflows float64 "
            f"for p={p}, mean={mean}, std={std}; rescale the unit"
        )
    return VarianceShift(train_variance=train, eval_variance=evaluation, shift=shift)


def measure_variance_shift(
    p: float,
    *,
    mean: float = 0.0,
    std: float = 1.0,
    samples: int = 100_000,
    seed: int = 0,
) -> VarianceShift:
    r"""Measure the variance shift of :func:`expected_variance_shift` with torch's dropout.

    Draws ``samples`` values :math:`x \sim \mathcal N(\mu, \sigma^2)` in float64 and passes
    them through one :class:`torch.nn.Dropout` layer, once in training mode and once in eval
    mode. The variances are the population variances (divided by the number of samples),
    which is what :class:`torch.nn.BatchNorm2d` normalizes with in training mode. The caller's
    global random state of torch is left as it was.

    Parameters
    ----------
    p
        Dropout probability, ``0 <= p < 1``.
    mean
        Mean :math:`\mu` of the unit, a finite number.
    std
        Standard deviation :math:`\sigma > 0` of the unit.
    samples
        Number of draws, from 2 to :data:`MAX_SAMPLES`. The relative standard error of each
        variance is of the order of :math:`\sqrt{2/\text{samples}}`, larger for large ``p``.
    seed
        Seed for the draws and the dropout masks, a non-negative integer.

    Returns
    -------
    VarianceShift
        The measured variances and their ratio.

    Raises
    ------
    TypeError
        If an argument is not a real number (``samples`` and ``seed``: not an integer; a
        ``bool`` is neither).
    ValueError
        As :func:`expected_variance_shift`, if ``samples`` is less than 2 or more than
        :data:`MAX_SAMPLES` (checked before anything is drawn) or ``seed`` is negative, or if a
        measured variance is 0 (dropout zeroed every draw) or overflows.

    See Also
    --------
    expected_variance_shift : the closed form.

    Examples
    --------
    >>> from conceptref.batchnorm import measure_variance_shift
    >>> measured = measure_variance_shift(0.5, mean=1.0)
    >>> round(measured.train_variance, 1), round(measured.eval_variance, 1)
    (3.0, 1.0)
    >>> round(measured.shift, 2)
    0.33
    """
    q = check_probability(p, "p", closed="left")
    mu = check_real(mean, "mean")
    sigma = check_real(std, "std", Interval(0, None, "neither"))
    n = check_int(samples, "samples", Interval(2, None))
    check_size([("samples", n)], limit=MAX_SAMPLES, what="float64 draws")
    dropout = torch.nn.Dropout(q)
    with seeded(seed):  # dropout draws its masks from torch's global generator
        x = mu + sigma * torch.randn(n, dtype=torch.float64)  # one unit, n samples
        train = float(dropout.train()(x).var(correction=0))
        evaluation = float(dropout.eval()(x).var(correction=0))
    if not (math.isfinite(train) and math.isfinite(evaluation)):
        raise ValueError(
            f"the measured variance overflows float64 for mean={mean}, std={std}; rescale the unit"
        )
    if evaluation == 0:
        raise ValueError(
            f"the measured variance is 0: std={std} is below the resolution of float64 at "
            f"mean={mean}, so every draw rounds to the same value; rescale the unit"
        )
    if train == 0:
        raise ValueError(
            f"the measured variance is 0: dropout zeroed all samples={n} draws, so there is no "
            "training-mode variance to compare; use more samples"
        )
    return VarianceShift(train_variance=train, eval_variance=evaluation, shift=evaluation / train)


def _two(value: tuple[int, ...]) -> tuple[int, int]:
    """Return a 2-d module attribute such as ``conv.stride`` typed as a pair."""
    return value[0], value[1]
