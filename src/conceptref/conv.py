r"""Building blocks of convolutional networks: output sizes, 1x1 convolutions, conv-BN blocks.

This module is the reference implementation behind four pages:
:doc:`/concepts/feature-map-vs-activation-map` (output sizes and receptive fields),
:doc:`/concepts/one-by-one-convolution` (a 1x1 convolution is a linear layer applied at every
pixel, and what a 1x1 reduction saves in a bottleneck),
:doc:`/concepts/bias-false-before-batchnorm` (folding batch normalization into the convolution)
and :doc:`/concepts/conv-bn-activation-dropout-order` (the order of the layers in a block, and
the variance shift between dropout and batch normalization).

``tests/test_conv.py`` checks every function against PyTorch: :func:`conv_output_size` against
the output shapes of :class:`torch.nn.Conv2d` over a grid of sizes, kernels, strides, paddings
and dilations; :func:`receptive_field` against the input region that receives gradient from one
output pixel of a stack of convolutions; :func:`conv1x1_as_linear` and
:func:`linear_as_conv1x1` against the outputs of the layers they convert; the parameter counts
against ``sum(p.numel() for p in module.parameters())``; the FLOP counts against
:class:`torch.utils.flop_counter.FlopCounterMode`; :func:`fold_batchnorm` against an eval-mode
convolution followed by :class:`torch.nn.BatchNorm2d` and against
:func:`torch.nn.utils.fusion.fuse_conv_bn_eval`; and :func:`measure_variance_shift` against the
closed form of :func:`expected_variance_shift`. The same file checks the pages' claims in torch
itself, such as that a convolution's bias has no effect on a batch-normalized output in
training mode.

Shapes follow PyTorch: feature maps are ``(N, C, H, W)`` tensors, a convolution's weight is
``(C_out, C_in / groups, k_h, k_w)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from conceptref._validation import as_finite_float, as_int, as_positive_float, as_positive_int

__all__ = [
    "ConvCost",
    "ReceptiveField",
    "Savings",
    "VarianceShift",
    "bottleneck_savings",
    "conv1x1_as_linear",
    "conv2d_flops",
    "conv2d_macs",
    "conv2d_parameters",
    "conv_bn_act",
    "conv_output_size",
    "expected_variance_shift",
    "fold_batchnorm",
    "inception_savings",
    "linear_as_conv1x1",
    "measure_variance_shift",
    "receptive_field",
]


# --- output size and receptive field ----------------------------------------------------------


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    r"""Length of a convolution's output along one spatial axis.

    .. math:: n_{\text{out}} = \left\lfloor
              \frac{n + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1 ,

    where :math:`n` is the input length, :math:`k` the kernel size, :math:`s` the stride,
    :math:`p` the zero padding added on each side and :math:`d` the dilation. The kernel
    covers :math:`d\,(k - 1) + 1` input positions (its *effective* size); the formula counts
    the positions, ``s`` apart, at which it fits inside the padded input. This is the formula in
    the documentation of :class:`torch.nn.Conv2d` (and of the pooling layers), and the result
    equals the size of that layer's output for every valid combination of arguments.

    Parameters
    ----------
    size
        Input length :math:`n` (height or width), at least 1.
    kernel_size
        Kernel size :math:`k`, at least 1.
    stride
        Stride :math:`s`, at least 1.
    padding
        Zero padding :math:`p` on each side, at least 0.
    dilation
        Dilation :math:`d`, at least 1: the spacing between the kernel's taps.

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    TypeError
        If an argument is not an integer (``bool`` included).
    ValueError
        If ``padding`` is negative or another argument is less than 1, or if the padded input
        is shorter than the effective kernel size, so that the output would be empty.

    See Also
    --------
    receptive_field : how much of the input one output position sees.

    Examples
    --------
    A 3x3 kernel shrinks a 32-pixel side by 2, unless one pixel of padding is added; a stride
    of 2 halves it.

    >>> from conceptref.conv import conv_output_size
    >>> conv_output_size(32, 3), conv_output_size(32, 3, padding=1)
    (30, 32)
    >>> conv_output_size(224, 7, stride=2, padding=3)
    112
    >>> conv_output_size(32, 3, dilation=2)
    28
    """
    n = as_positive_int(size, "size")
    k = as_positive_int(kernel_size, "kernel_size")
    s = as_positive_int(stride, "stride")
    p = as_int(padding, "padding", minimum=0)
    d = as_positive_int(dilation, "dilation")
    effective = d * (k - 1) + 1
    if n + 2 * p < effective:
        raise ValueError(
            f"the output would be empty: the padded input size + 2 * padding = {n + 2 * p} "
            f"(size={n}, padding={p}) is smaller than the effective kernel size "
            f"dilation * (kernel_size - 1) + 1 = {effective} (kernel_size={k}, dilation={d})"
        )
    return (n + 2 * p - effective) // s + 1


@dataclass(frozen=True)
class ReceptiveField:
    r"""The receptive field of a stack of convolutions, as returned by :func:`receptive_field`.

    Output position :math:`i` of the last layer (counting from 0, along one axis) depends on
    the input positions ``start + i * jump`` to ``start + i * jump + size - 1``; positions
    below 0 or past the end of the input lie in the zero padding.
    """

    size: int
    """Length :math:`r_L` of the input interval one output position depends on."""

    jump: int
    """Distance :math:`j_L` in input positions between neighbouring output positions: the
    product of the strides."""

    start: int
    """First input position :math:`u_L` seen by output position 0; negative when it lies in
    the padding, 0 without padding."""


def receptive_field(layers: Iterable[tuple[int, ...]]) -> ReceptiveField:
    r"""Receptive field of a stack of convolutions (or pooling layers) along one axis.

    Starting from a single input position, :math:`r_0 = 1`, :math:`j_0 = 1`, :math:`u_0 = 0`,
    layer :math:`l` with kernel size :math:`k_l`, stride :math:`s_l`, dilation :math:`d_l`
    and padding :math:`p_l` gives

    .. math::
        r_l &= r_{l-1} + (k_l - 1)\, d_l\, j_{l-1} , \\
        j_l &= j_{l-1}\, s_l , \\
        u_l &= u_{l-1} - p_l\, j_{l-1} :

    each of the layer's :math:`k_l` taps is :math:`d_l` positions of the layer below apart,
    and one position of the layer below is :math:`j_{l-1}` input positions wide.

    Parameters
    ----------
    layers
        The layers from input to output, each a tuple ``(kernel_size, stride, dilation)`` or
        ``(kernel_size, stride, dilation, padding)`` of integers (padding defaults to 0 and
        only moves :attr:`ReceptiveField.start`). An empty stack has a receptive field of one
        position.

    Returns
    -------
    ReceptiveField
        The size :math:`r_L`, jump :math:`j_L` and start :math:`u_L` of the whole stack.

    Raises
    ------
    TypeError
        If ``layers`` is not an iterable of tuples, or an entry is not an integer.
    ValueError
        If a tuple does not have 3 or 4 entries, or an entry is out of range (padding below 0,
        the others below 1).

    See Also
    --------
    conv_output_size : the length of each layer's output.

    References
    ----------
    A. Araujo, W. Norris and J. Sim, "Computing receptive fields of convolutional neural
    networks", Distill, 2019.

    Examples
    --------
    Two 3x3 convolutions see 5x5 pixels, three see 7x7 (the VGG argument); stride 2 doubles
    the growth of every later layer, and dilation spreads the taps apart.

    >>> from conceptref.conv import receptive_field
    >>> receptive_field([(3, 1, 1)] * 3)
    ReceptiveField(size=7, jump=1, start=0)
    >>> receptive_field([(3, 2, 1, 1), (3, 2, 1, 1)])
    ReceptiveField(size=7, jump=4, start=-3)
    >>> receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]).size
    15
    """
    if isinstance(layers, torch.Tensor | str) or not isinstance(layers, Iterable):
        raise TypeError(
            "layers must be an iterable of (kernel_size, stride, dilation[, padding]) tuples, "
            f"got {type(layers).__name__}"
        )
    size, jump, start = 1, 1, 0
    for index, layer in enumerate(layers):
        if not isinstance(layer, tuple):
            raise TypeError(
                f"layers[{index}] must be a tuple (kernel_size, stride, dilation[, padding]), "
                f"got {type(layer).__name__}"
            )
        if len(layer) not in (3, 4):
            raise ValueError(
                f"layers[{index}] must have 3 entries (kernel_size, stride, dilation) or 4 "
                f"(kernel_size, stride, dilation, padding), got {len(layer)}"
            )
        k = as_positive_int(layer[0], f"layers[{index}] kernel_size")
        s = as_positive_int(layer[1], f"layers[{index}] stride")
        d = as_positive_int(layer[2], f"layers[{index}] dilation")
        p = as_int(layer[3], f"layers[{index}] padding", minimum=0) if len(layer) == 4 else 0
        size += (k - 1) * d * jump
        start -= p * jump
        jump *= s
    return ReceptiveField(size=size, jump=jump, start=start)


# --- 1x1 convolution and linear layers --------------------------------------------------------


def conv1x1_as_linear(conv: torch.nn.Conv2d) -> torch.nn.Linear:
    r"""Return the linear layer that a 1x1 convolution applies at every pixel.

    A 1x1 convolution with weight :math:`W` of shape ``(C_out, C_in, 1, 1)`` and bias :math:`b`
    computes, at every pixel :math:`(h, w)` separately,

    .. math:: y_{:, h, w} = W' x_{:, h, w} + b ,

    with :math:`W'` the weight reshaped to ``(C_out, C_in)``: a fully connected layer from the
    ``C_in`` channels of the pixel to ``C_out`` channels, shared by all pixels. Applied to the
    feature map with its channels moved last, ``torch.movedim(x, 1, -1)``, the returned layer
    gives the convolution's output with its channels last.

    Parameters
    ----------
    conv
        A 1x1 convolution with stride 1, no padding and ``groups=1``. Its dilation is ignored:
        a single tap has no spacing to dilate.

    Returns
    -------
    torch.nn.Linear
        A new layer with ``in_features = C_in`` and ``out_features = C_out``, a copy of the
        weight (and of the bias, if ``conv`` has one), the same dtype and device. ``conv`` is
        not modified.

    Raises
    ------
    TypeError
        If ``conv`` is not a :class:`torch.nn.Conv2d`.
    ValueError
        If ``conv.kernel_size`` is not ``(1, 1)``, ``conv.stride`` is not ``(1, 1)``,
        ``conv.padding`` is not zero or ``conv.groups`` is not 1; the message names the
        attribute.

    See Also
    --------
    linear_as_conv1x1 : the conversion the other way.

    Examples
    --------
    >>> import torch
    >>> from conceptref.conv import conv1x1_as_linear
    >>> conv = torch.nn.Conv2d(3, 2, kernel_size=1, dtype=torch.float64)
    >>> linear = conv1x1_as_linear(conv)
    >>> linear
    Linear(in_features=3, out_features=2, bias=True)
    >>> x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    >>> torch.allclose(torch.movedim(linear(torch.movedim(x, 1, -1)), -1, 1), conv(x))
    True
    """
    if not isinstance(conv, torch.nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    checks = [
        ("kernel_size", tuple(conv.kernel_size), (1, 1)),
        ("stride", tuple(conv.stride), (1, 1)),
        ("groups", conv.groups, 1),
    ]
    for attribute, value, wanted in checks:
        if value != wanted:
            raise ValueError(
                f"conv.{attribute} must be {wanted} for a 1x1 convolution that acts as a linear "
                f"layer at every pixel, got {value}"
            )
    # padding="same" on a 1x1 kernel pads nothing; "valid" never pads.
    if not isinstance(conv.padding, str) and tuple(conv.padding) != (0, 0):
        raise ValueError(
            "conv.padding must be (0, 0) for a 1x1 convolution that acts as a linear layer at "
            f"every pixel (padded border pixels would only see the bias), got {conv.padding}"
        )
    weight = conv.weight
    linear = torch.nn.Linear(
        conv.in_channels,
        conv.out_channels,
        bias=conv.bias is not None,
        device=weight.device,
        dtype=weight.dtype,
    )
    with torch.no_grad():
        linear.weight.copy_(weight.reshape(conv.out_channels, conv.in_channels))
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear


def linear_as_conv1x1(linear: torch.nn.Linear) -> torch.nn.Conv2d:
    r"""Return the 1x1 convolution that applies a linear layer at every pixel of a feature map.

    .. math:: y_{:, h, w} = W x_{:, h, w} + b \quad \text{for every pixel } (h, w),

    where :math:`W` of shape ``(out_features, in_features)`` becomes a convolution weight of
    shape ``(out_features, in_features, 1, 1)``.

    Parameters
    ----------
    linear
        The linear layer; its ``in_features`` become the convolution's input channels.

    Returns
    -------
    torch.nn.Conv2d
        A new 1x1 convolution (stride 1, no padding) holding a copy of the weight (and of the
        bias, if ``linear`` has one), with the same dtype and device. ``linear`` is not
        modified.

    Raises
    ------
    TypeError
        If ``linear`` is not a :class:`torch.nn.Linear`.

    See Also
    --------
    conv1x1_as_linear : the conversion the other way.

    Examples
    --------
    >>> import torch
    >>> from conceptref.conv import linear_as_conv1x1
    >>> linear = torch.nn.Linear(3, 2, bias=False)
    >>> linear_as_conv1x1(linear)
    Conv2d(3, 2, kernel_size=(1, 1), stride=(1, 1), bias=False)
    """
    if not isinstance(linear, torch.nn.Linear):
        raise TypeError(f"linear must be a torch.nn.Linear, got {type(linear).__name__}")
    weight = linear.weight
    conv = torch.nn.Conv2d(
        linear.in_features,
        linear.out_features,
        kernel_size=1,
        bias=linear.bias is not None,
        device=weight.device,
        dtype=weight.dtype,
    )
    conv_bias: torch.Tensor | None = conv.bias
    with torch.no_grad():
        conv.weight.copy_(weight.reshape(linear.out_features, linear.in_features, 1, 1))
        if conv_bias is not None:  # built with a bias exactly when linear has one
            conv_bias.copy_(linear.bias)
    return conv


# --- parameters and FLOPs ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConvCost:
    """Size and arithmetic cost of a convolution, or of a stack of them."""

    parameters: int
    """Number of learnable parameters (weights and biases)."""

    macs: int
    """Multiply-accumulate operations for one input image; see :func:`conv2d_macs`."""

    flops: int
    """Floating-point operations for one input image; see :func:`conv2d_flops`."""


@dataclass(frozen=True)
class Savings:
    """A plain convolution compared with a block that reduces the channels first.

    Returned by :func:`bottleneck_savings` and :func:`inception_savings`.
    """

    plain: ConvCost
    """Cost of the plain convolution."""

    reduced: ConvCost
    """Cost of the block with the 1x1 reduction, summed over its convolutions."""

    @property
    def parameter_ratio(self) -> float:
        """How many times more parameters the plain convolution has."""
        return self.plain.parameters / self.reduced.parameters

    @property
    def flop_ratio(self) -> float:
        """How many times more FLOPs the plain convolution needs."""
        return self.plain.flops / self.reduced.flops


def conv2d_parameters(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    groups: int = 1,
    bias: bool = True,
) -> int:
    r"""Count the parameters of a :class:`torch.nn.Conv2d`.

    .. math:: P = C_{\text{out}} \cdot \frac{C_{\text{in}}}{g} \cdot k_h k_w
              \; + \; C_{\text{out}} \cdot [\text{bias}] ,

    because each of the :math:`C_{\text{out}}` filters spans the :math:`C_{\text{in}}/g`
    input channels of its group :math:`g` and a :math:`k_h \times k_w` window, plus one bias
    per output channel. A depthwise convolution (:math:`g = C_{\text{in}}`) has only
    :math:`k_h k_w` weights per filter.

    Parameters
    ----------
    in_channels
        Input channels :math:`C_{\text{in}}`, divisible by ``groups``.
    out_channels
        Output channels :math:`C_{\text{out}}`, divisible by ``groups``.
    kernel_size
        :math:`k` for a square kernel, or ``(k_h, k_w)``.
    groups
        Number of groups :math:`g`.
    bias
        Whether the layer has a bias.

    Returns
    -------
    int
        The parameter count, equal to ``sum(p.numel() for p in conv.parameters())``.

    Raises
    ------
    TypeError
        If a size is not an integer or ``bias`` is not a ``bool``.
    ValueError
        If a size is less than 1, or a channel count is not divisible by ``groups``.

    See Also
    --------
    conv2d_flops : the arithmetic cost of the same layer.

    Examples
    --------
    >>> from conceptref.conv import conv2d_parameters
    >>> conv2d_parameters(64, 128, 3), conv2d_parameters(64, 128, 1, bias=False)
    (73856, 8192)
    >>> conv2d_parameters(64, 64, 3, groups=64)  # depthwise
    640
    """
    c_in, c_out, kh, kw, g = _conv_shape(in_channels, out_channels, kernel_size, groups)
    has_bias = _as_bool(bias, "bias")
    return c_out * (c_in // g) * kh * kw + (c_out if has_bias else 0)


def conv2d_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int],
    *,
    groups: int = 1,
) -> int:
    r"""Count the multiply-accumulate operations (MACs) of a :class:`torch.nn.Conv2d` on one image.

    .. math:: \text{MACs} = H_{\text{out}} W_{\text{out}} \cdot C_{\text{out}} \cdot
              \frac{C_{\text{in}}}{g} \cdot k_h k_w :

    every one of the :math:`H_{\text{out}} W_{\text{out}} C_{\text{out}}` output values is a
    dot product of length :math:`(C_{\text{in}}/g)\,k_h k_w`. The bias is not counted. Stride,
    padding and dilation enter only through the output size (see :func:`conv_output_size`).

    Parameters
    ----------
    in_channels
        Input channels :math:`C_{\text{in}}`, divisible by ``groups``.
    out_channels
        Output channels :math:`C_{\text{out}}`, divisible by ``groups``.
    kernel_size
        :math:`k` for a square kernel, or ``(k_h, k_w)``.
    output_size
        Spatial size of the output: :math:`H_{\text{out}} = W_{\text{out}}` as one integer,
        or ``(H_out, W_out)``.
    groups
        Number of groups :math:`g`.

    Returns
    -------
    int
        The number of MACs for one image (multiply by the batch size for a batch).

    Raises
    ------
    TypeError
        If a size is not an integer.
    ValueError
        If a size is less than 1, or a channel count is not divisible by ``groups``.

    See Also
    --------
    conv2d_flops : the same cost in FLOPs.

    Examples
    --------
    The 5x5 convolution from 192 to 32 channels on a 28x28 map, Inception's example of an
    expensive layer:

    >>> from conceptref.conv import conv2d_macs
    >>> conv2d_macs(192, 32, 5, 28)
    120422400
    """
    c_in, c_out, kh, kw, g = _conv_shape(in_channels, out_channels, kernel_size, groups)
    h, w = _pair(output_size, "output_size")
    return h * w * c_out * (c_in // g) * kh * kw


def conv2d_flops(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int],
    *,
    groups: int = 1,
    bias: bool = True,
) -> int:
    r"""Count the floating-point operations (FLOPs) of a :class:`torch.nn.Conv2d` on one image.

    .. math:: \text{FLOPs} = 2 \cdot \text{MACs}
              \; + \; H_{\text{out}} W_{\text{out}} C_{\text{out}} \cdot [\text{bias}] :

    each multiply-accumulate is one multiplication and one addition, and the bias adds one
    addition per output value. Conventions differ, so compare like with like:
    :class:`torch.utils.flop_counter.FlopCounterMode` reports :math:`2 \cdot \text{MACs}` for
    a convolution and ignores the bias, which is this function with ``bias=False``; many papers
    and tools quote MACs and call them FLOPs (see :func:`conv2d_macs`).

    Parameters
    ----------
    in_channels
        Input channels :math:`C_{\text{in}}`, divisible by ``groups``.
    out_channels
        Output channels :math:`C_{\text{out}}`, divisible by ``groups``.
    kernel_size
        :math:`k` for a square kernel, or ``(k_h, k_w)``.
    output_size
        Spatial size of the output, one integer or ``(H_out, W_out)``.
    groups
        Number of groups :math:`g`.
    bias
        Whether to count the bias additions.

    Returns
    -------
    int
        The number of FLOPs for one image (multiply by the batch size for a batch).

    Raises
    ------
    TypeError
        If a size is not an integer or ``bias`` is not a ``bool``.
    ValueError
        If a size is less than 1, or a channel count is not divisible by ``groups``.

    See Also
    --------
    conv2d_macs : the count of multiply-accumulates.
    conv2d_parameters : the size of the same layer.

    Examples
    --------
    >>> from conceptref.conv import conv2d_flops
    >>> conv2d_flops(3, 8, 3, 4, bias=False)  # 16 pixels * 8 channels * 27 MACs * 2
    6912
    >>> conv2d_flops(3, 8, 3, 4)  # plus 16 * 8 bias additions
    7040
    """
    macs = conv2d_macs(in_channels, out_channels, kernel_size, output_size, groups=groups)
    h, w = _pair(output_size, "output_size")
    return 2 * macs + (h * w * out_channels if _as_bool(bias, "bias") else 0)


def bottleneck_savings(
    channels: int,
    bottleneck_channels: int,
    size: int | tuple[int, int],
    *,
    kernel_size: int = 3,
    bias: bool = False,
) -> Savings:
    r"""Compare a plain convolution with a ResNet bottleneck of the same width.

    The plain layer is one :math:`k \times k` convolution from ``channels`` to ``channels``.
    The bottleneck (He et al., 2016) does the same job in three steps: a 1x1 convolution
    reduces the channels to ``bottleneck_channels``, the :math:`k \times k` convolution works
    on the reduced map, and a second 1x1 convolution expands back to ``channels``. With
    :math:`C` channels and :math:`B` bottleneck channels, the weights number

    .. math:: k^2 C^2 \quad\text{against}\quad C B + k^2 B^2 + B C .

    All layers have stride 1 and "same" padding, so every output is ``size``.

    Parameters
    ----------
    channels
        Channels :math:`C` of the block's input and output.
    bottleneck_channels
        Channels :math:`B` inside the bottleneck.
    size
        Spatial size of the feature map, one integer or ``(H, W)``.
    kernel_size
        Kernel size :math:`k` of the middle convolution, odd.
    bias
        Whether every convolution has a bias. ResNet's have none, because batch
        normalization follows each of them.

    Returns
    -------
    Savings
        The costs of the plain layer and of the bottleneck, per image.

    Raises
    ------
    TypeError
        If a size is not an integer or ``bias`` is not a ``bool``.
    ValueError
        If a size is less than 1 or ``kernel_size`` is even.

    See Also
    --------
    inception_savings : a 1x1 reduction before a larger kernel, without the expansion.

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for image recognition",
    CVPR 2016, section 4.1 and figure 5. The paper compares the bottleneck on 256 channels
    with the two-layer block on 64 channels (:math:`2 \cdot 9 \cdot 64^2 = 73\,728`
    weights), which costs about as much.

    Examples
    --------
    A bottleneck block of ResNet-50's 56x56 stage (``conv2_x``), 256 channels reduced to 64 (the
    second and third blocks; the first one takes the 64 channels of the stem as its input):

    >>> from conceptref.conv import bottleneck_savings
    >>> savings = bottleneck_savings(256, 64, 56)
    >>> savings.plain.parameters, savings.reduced.parameters
    (589824, 69632)
    >>> savings.plain.macs, savings.reduced.macs
    (1849688064, 218365952)
    >>> round(savings.parameter_ratio, 2), round(savings.flop_ratio, 2)
    (8.47, 8.47)
    """
    c = as_positive_int(channels, "channels")
    b = as_positive_int(bottleneck_channels, "bottleneck_channels")
    k = _as_odd_kernel(kernel_size)
    hw = _pair(size, "size")
    has_bias = _as_bool(bias, "bias")
    plain = _cost([(c, c, k)], hw, has_bias)
    reduced = _cost([(c, b, 1), (b, b, k), (b, c, 1)], hw, has_bias)
    return Savings(plain=plain, reduced=reduced)


def inception_savings(
    in_channels: int,
    reduced_channels: int,
    out_channels: int,
    size: int | tuple[int, int],
    *,
    kernel_size: int = 5,
    bias: bool = False,
) -> Savings:
    r"""Compare a large convolution with the same convolution after a 1x1 channel reduction.

    The plain layer is one :math:`k \times k` convolution from :math:`C_{\text{in}}` to
    :math:`C_{\text{out}}` channels; the reduced branch of an Inception module (Szegedy et
    al., 2015) first maps the input to :math:`R` channels with a 1x1 convolution. The
    weights number

    .. math:: k^2 C_{\text{in}} C_{\text{out}} \quad\text{against}\quad
              C_{\text{in}} R + k^2 R\, C_{\text{out}} .

    Both layers have stride 1 and "same" padding, so every output is ``size``.

    Parameters
    ----------
    in_channels
        Input channels :math:`C_{\text{in}}`.
    reduced_channels
        Channels :math:`R` after the 1x1 reduction.
    out_channels
        Output channels :math:`C_{\text{out}}`.
    size
        Spatial size of the feature map, one integer or ``(H, W)``.
    kernel_size
        Kernel size :math:`k` of the large convolution, odd.
    bias
        Whether every convolution has a bias (GoogLeNet's have, but a bias adds little to
        either count).

    Returns
    -------
    Savings
        The costs of the plain layer and of the reduced branch, per image.

    Raises
    ------
    TypeError
        If a size is not an integer or ``bias`` is not a ``bool``.
    ValueError
        If a size is less than 1 or ``kernel_size`` is even.

    See Also
    --------
    bottleneck_savings : reduce, convolve and expand again.

    References
    ----------
    C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke
    and A. Rabinovich, "Going deeper with convolutions", CVPR 2015, section 4 and table 1
    (module 3a: 192 channels on 28x28, "#5x5 reduce" 16, "#5x5" 32).

    Examples
    --------
    >>> from conceptref.conv import inception_savings
    >>> savings = inception_savings(192, 16, 32, 28)
    >>> savings.plain.macs, savings.reduced.macs
    (120422400, 12443648)
    >>> savings.plain.parameters, savings.reduced.parameters
    (153600, 15872)
    >>> round(savings.flop_ratio, 2)
    9.68
    """
    c_in = as_positive_int(in_channels, "in_channels")
    r = as_positive_int(reduced_channels, "reduced_channels")
    c_out = as_positive_int(out_channels, "out_channels")
    k = _as_odd_kernel(kernel_size)
    hw = _pair(size, "size")
    has_bias = _as_bool(bias, "bias")
    plain = _cost([(c_in, c_out, k)], hw, has_bias)
    reduced = _cost([(c_in, r, 1), (r, c_out, k)], hw, has_bias)
    return Savings(plain=plain, reduced=reduced)


# --- convolution, batch normalization, activation, dropout ------------------------------------


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
    >>> from conceptref.conv import fold_batchnorm
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
        folded = torch.nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            _two(conv.kernel_size),
            stride=_two(conv.stride),
            padding=conv.padding if isinstance(conv.padding, str) else _two(conv.padding),
            dilation=_two(conv.dilation),
            groups=conv.groups,
            bias=True,
            padding_mode=conv.padding_mode,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
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
        If a size is less than 1, ``kernel_size`` is even or ``dropout`` lies outside
        ``[0, 1)``.

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
    >>> from conceptref.conv import conv_bn_act
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
    c_in = as_positive_int(in_channels, "in_channels")
    c_out = as_positive_int(out_channels, "out_channels")
    k = _as_odd_kernel(kernel_size)
    s = as_positive_int(stride, "stride")
    p = _as_probability(dropout, "dropout")
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
    layers: OrderedDict[str, torch.nn.Module] = OrderedDict(
        conv=torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, bias=False),
        bn=torch.nn.BatchNorm2d(c_out),
        act=act,
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
    at most 1, and 1 only when nothing is dropped. (Li et al. write :math:`p` for the
    probability of *keeping* a unit, :math:`1 - p` here.)"""


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
    >>> from conceptref.conv import expected_variance_shift
    >>> expected_variance_shift(0.5)
    VarianceShift(train_variance=2.0, eval_variance=1.0, shift=0.5)
    >>> expected_variance_shift(0.5, mean=1.0)
    VarianceShift(train_variance=3.0, eval_variance=1.0, shift=0.3333333333333333)
    """
    q = _as_probability(p, "p")
    mu = as_finite_float(mean, "mean")
    sigma = as_positive_float(std, "std")
    train = (sigma**2 + mu**2) / (1 - q) - mu**2
    evaluation = sigma**2
    return VarianceShift(train_variance=train, eval_variance=evaluation, shift=evaluation / train)


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
    which is what :class:`torch.nn.BatchNorm2d` normalizes with in training mode. The global
    random state of torch is seeded inside :func:`torch.random.fork_rng` and left as it was.

    Parameters
    ----------
    p
        Dropout probability, ``0 <= p < 1``.
    mean
        Mean :math:`\mu` of the unit, a finite number.
    std
        Standard deviation :math:`\sigma > 0` of the unit.
    samples
        Number of draws, at least 2. The relative standard error of each variance is of the
        order of :math:`\sqrt{2/\text{samples}}`, larger for large ``p``.
    seed
        Seed for the draws and the dropout masks, at least 0.

    Returns
    -------
    VarianceShift
        The measured variances and their ratio.

    Raises
    ------
    TypeError
        If an argument is not a real number (``samples`` and ``seed``: not an integer).
    ValueError
        As :func:`expected_variance_shift`, and if ``samples`` is less than 2 or ``seed`` is
        negative.

    See Also
    --------
    expected_variance_shift : the closed form.

    Examples
    --------
    >>> from conceptref.conv import measure_variance_shift
    >>> measured = measure_variance_shift(0.5, mean=1.0)
    >>> round(measured.train_variance, 1), round(measured.eval_variance, 1)
    (3.0, 1.0)
    >>> round(measured.shift, 2)
    0.33
    """
    q = _as_probability(p, "p")
    mu = as_finite_float(mean, "mean")
    sigma = as_positive_float(std, "std")
    n = as_int(samples, "samples", minimum=2)
    start = as_int(seed, "seed", minimum=0)
    dropout = torch.nn.Dropout(q)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(start)
        x = mu + sigma * torch.randn(n, dtype=torch.float64)  # one unit, n samples
        train = float(dropout.train()(x).var(correction=0))
        evaluation = float(dropout.eval()(x).var(correction=0))
    return VarianceShift(train_variance=train, eval_variance=evaluation, shift=evaluation / train)


# --- private helpers --------------------------------------------------------------------------


def _as_probability(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` in ``[0, 1)``, a dropout probability."""
    result = as_finite_float(value, name)
    if not 0 <= result < 1:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1, got {value}")
    return result


def _as_bool(value: object, name: str) -> bool:
    """Return ``value`` if it is a ``bool``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def _as_odd_kernel(value: object) -> int:
    """Return ``value`` as an odd positive ``int``: a kernel size with a centre."""
    k = as_positive_int(value, "kernel_size")
    if k % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd for 'same' padding, got {k}: an even kernel has no centre "
            "pixel, so the padding would differ between the two sides"
        )
    return k


def _pair(value: object, name: str) -> tuple[int, int]:
    """Return ``value`` (an integer or a pair of integers, each at least 1) as a pair."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or a pair of integers, got {value}")
        return as_positive_int(value[0], name), as_positive_int(value[1], name)
    side = as_positive_int(value, name)
    return side, side


def _two(value: tuple[int, ...]) -> tuple[int, int]:
    """Return a 2-d module attribute such as ``conv.stride`` typed as a pair."""
    return value[0], value[1]


def _conv_shape(
    in_channels: object, out_channels: object, kernel_size: object, groups: object
) -> tuple[int, int, int, int, int]:
    """Validate the shape arguments of a convolution: ``(C_in, C_out, k_h, k_w, groups)``."""
    c_in = as_positive_int(in_channels, "in_channels")
    c_out = as_positive_int(out_channels, "out_channels")
    kh, kw = _pair(kernel_size, "kernel_size")
    g = as_positive_int(groups, "groups")
    for name, channels in (("in_channels", c_in), ("out_channels", c_out)):
        if channels % g:
            raise ValueError(f"{name} = {channels} must be divisible by groups = {g}")
    return c_in, c_out, kh, kw, g


def _cost(layers: list[tuple[int, int, int]], size: tuple[int, int], bias: bool) -> ConvCost:
    """Sum the cost of stride-1, same-padded convolutions ``(C_in, C_out, k)`` on ``size``."""
    return ConvCost(
        parameters=sum(conv2d_parameters(a, b, k, bias=bias) for a, b, k in layers),
        macs=sum(conv2d_macs(a, b, k, size) for a, b, k in layers),
        flops=sum(conv2d_flops(a, b, k, size, bias=bias) for a, b, k in layers),
    )
