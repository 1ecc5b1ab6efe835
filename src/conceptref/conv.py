r"""Convolution arithmetic: output sizes, receptive fields, 1x1 convolutions and their costs.

This module is the reference implementation behind two pages:
:doc:`/concepts/feature-map-vs-activation-map` (output sizes and receptive fields) and
:doc:`/concepts/one-by-one-convolution` (a 1x1 convolution is a linear layer applied at every
pixel, and what a 1x1 reduction saves in a bottleneck). Batch normalization in a convolution
block lives in :mod:`conceptref.batchnorm`.

``tests/test_conv.py`` checks every function against PyTorch: :func:`conv_output_size` against
the output shapes of :class:`torch.nn.Conv2d` and :class:`torch.nn.MaxPool2d` on generated
sizes, kernels, strides, paddings and dilations; :func:`receptive_field` against the input
region that receives gradient from one output pixel of a stack of convolutions;
:func:`conv1x1_as_linear` and :func:`linear_as_conv1x1` against the outputs of the layers they
convert; the parameter counts against ``sum(p.numel() for p in module.parameters())``; and the
MAC and FLOP counts against :class:`torch.utils.flop_counter.FlopCounterMode`.

Tensors are laid out as in PyTorch: ``(N, C, H, W)`` for feature maps and
``(C_out, C_in / groups, k_h, k_w)`` for a convolution's weight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from conceptref._validation import (
    Interval,
    check_bool,
    check_int,
    check_odd_kernel_size,
)

__all__ = [
    "ConvCost",
    "ReceptiveField",
    "Savings",
    "bottleneck_savings",
    "conv1x1_as_linear",
    "conv2d_flops",
    "conv2d_macs",
    "conv2d_parameters",
    "conv_output_size",
    "inception_savings",
    "linear_as_conv1x1",
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
    n = check_int(size, "size", Interval(1, None))
    k = check_int(kernel_size, "kernel_size", Interval(1, None))
    s = check_int(stride, "stride", Interval(1, None))
    p = check_int(padding, "padding", Interval(0, None))
    d = check_int(dilation, "dilation", Interval(1, None))
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

    def __post_init__(self) -> None:
        check_int(self.size, "size", Interval(1, None))
        check_int(self.jump, "jump", Interval(1, None))
        check_int(self.start, "start", Interval(None, 0))


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
        k = check_int(layer[0], f"layers[{index}] kernel_size", Interval(1, None))
        s = check_int(layer[1], f"layers[{index}] stride", Interval(1, None))
        d = check_int(layer[2], f"layers[{index}] dilation", Interval(1, None))
        p = (
            check_int(layer[3], f"layers[{index}] padding", Interval(0, None))
            if len(layer) == 4
            else 0
        )
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
    linear = torch.nn.Linear(  # on the meta device: no random init, every weight is copied below
        conv.in_channels,
        conv.out_channels,
        bias=conv.bias is not None,
        device="meta",
        dtype=weight.dtype,
    ).to_empty(device=weight.device)
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
    conv = torch.nn.Conv2d(  # on the meta device: no random init, every weight is copied below
        linear.in_features,
        linear.out_features,
        kernel_size=1,
        bias=linear.bias is not None,
        device="meta",
        dtype=weight.dtype,
    ).to_empty(device=weight.device)
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

    def __post_init__(self) -> None:
        for name in ("parameters", "macs", "flops"):
            check_int(getattr(self, name), name, Interval(0, None))


@dataclass(frozen=True)
class Savings:
    """A plain convolution compared with a block that reduces the channels first.

    Returned by :func:`bottleneck_savings` and :func:`inception_savings`.
    """

    plain: ConvCost
    """Cost of the plain convolution."""

    reduced: ConvCost
    """Cost of the block with the 1x1 reduction, summed over its convolutions."""

    def __post_init__(self) -> None:
        for name in ("plain", "reduced"):
            if not isinstance(getattr(self, name), ConvCost):
                raise TypeError(
                    f"{name} must be a ConvCost, got {type(getattr(self, name)).__name__}"
                )
        if self.reduced.parameters == 0 or self.reduced.flops == 0:
            raise ValueError(
                f"reduced must cost at least one parameter and one FLOP, got {self.reduced}"
            )

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
    has_bias = check_bool(bias, "bias")
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
    return 2 * macs + (h * w * out_channels if check_bool(bias, "bias") else 0)


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
    c = check_int(channels, "channels", Interval(1, None))
    b = check_int(bottleneck_channels, "bottleneck_channels", Interval(1, None))
    k, hw, has_bias = _savings_layout(kernel_size, size, bias)
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
    c_in = check_int(in_channels, "in_channels", Interval(1, None))
    r = check_int(reduced_channels, "reduced_channels", Interval(1, None))
    c_out = check_int(out_channels, "out_channels", Interval(1, None))
    k, hw, has_bias = _savings_layout(kernel_size, size, bias)
    plain = _cost([(c_in, c_out, k)], hw, has_bias)
    reduced = _cost([(c_in, r, 1), (r, c_out, k)], hw, has_bias)
    return Savings(plain=plain, reduced=reduced)


# --- private helpers --------------------------------------------------------------------------


def _pair(value: object, name: str) -> tuple[int, int]:
    """Return ``value`` (an integer or a pair of integers, each at least 1) as a pair."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or a pair of integers, got {value}")
        return check_int(value[0], name, Interval(1, None)), check_int(
            value[1], name, Interval(1, None)
        )
    side = check_int(value, name, Interval(1, None))
    return side, side


def _conv_shape(
    in_channels: object, out_channels: object, kernel_size: object, groups: object
) -> tuple[int, int, int, int, int]:
    """Validate the shape arguments of a convolution: ``(C_in, C_out, k_h, k_w, groups)``."""
    c_in = check_int(in_channels, "in_channels", Interval(1, None))
    c_out = check_int(out_channels, "out_channels", Interval(1, None))
    kh, kw = _pair(kernel_size, "kernel_size")
    g = check_int(groups, "groups", Interval(1, None))
    for name, channels in (("in_channels", c_in), ("out_channels", c_out)):
        if channels % g:
            raise ValueError(f"{name} = {channels} must be divisible by groups = {g}")
    return c_in, c_out, kh, kw, g


def _savings_layout(
    kernel_size: object, size: object, bias: object
) -> tuple[int, tuple[int, int], bool]:
    """Check the kernel size, the spatial size and the bias flag shared by the savings helpers."""
    return check_odd_kernel_size(kernel_size), _pair(size, "size"), check_bool(bias, "bias")


def _cost(layers: list[tuple[int, int, int]], size: tuple[int, int], bias: bool) -> ConvCost:
    """Sum the cost of stride-1, same-padded convolutions ``(C_in, C_out, k)`` on ``size``."""
    return ConvCost(
        parameters=sum(conv2d_parameters(a, b, k, bias=bias) for a, b, k in layers),
        macs=sum(conv2d_macs(a, b, k, size) for a, b, k in layers),
        flops=sum(conv2d_flops(a, b, k, size, bias=bias) for a, b, k in layers),
    )
