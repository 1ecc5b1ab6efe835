"""conceptref.conv against PyTorch's layers, on seeded random cases and bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from conceptref.conv import (
    ConvCost,
    ReceptiveField,
    Savings,
    bottleneck_savings,
    conv1x1_as_linear,
    conv2d_flops,
    conv2d_macs,
    conv2d_parameters,
    conv_output_size,
    inception_savings,
    linear_as_conv1x1,
    receptive_field,
)
from helpers import ATOL, F64, TOLERANCE, bad, bad_input_test, hostile, hostile_input_test


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_flops(module: torch.nn.Module, x: torch.Tensor) -> int:
    """FLOPs that FlopCounterMode records for module(x), run on the meta device (shapes only)."""
    module = copy.deepcopy(module).to("meta")
    with FlopCounterMode(display=False) as counter:
        module(x.to("meta"))
    return counter.get_total_flops()


# --- conv_output_size ---------------------------------------------------------------------------


# (H, W, C_in, C_out, kernel, stride, padding, dilation, groups), each spatial argument per axis.
CONV_CONFIGS = [
    (32, 32, 3, 8, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (224, 224, 3, 4, (7, 7), (2, 2), (3, 3), (1, 1), 1),
    (17, 9, 4, 6, (3, 5), (2, 1), (0, 2), (1, 1), 2),
    (15, 15, 6, 6, (3, 3), (1, 1), (2, 2), (2, 2), 6),
    (8, 12, 8, 16, (1, 1), (3, 2), (0, 0), (1, 1), 4),
    (10, 11, 2, 3, (4, 2), (3, 3), (1, 0), (2, 3), 1),
]


@pytest.mark.parametrize(("h", "w", "c_in", "c_out", "k", "s", "p", "d", "g"), CONV_CONFIGS)
def test_output_size_matches_conv2d_per_axis(h, w, c_in, c_out, k, s, p, d, g):
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g)
    out = conv(torch.zeros(1, c_in, h, w)).shape
    assert out[2] == conv_output_size(h, k[0], s[0], p[0], d[0])
    assert out[3] == conv_output_size(w, k[1], s[1], p[1], d[1])


# --- receptive_field ----------------------------------------------------------------------------


def measured_receptive_field(layers: list[tuple[int, ...]], n: int) -> tuple[int, int, int, int]:
    """Backpropagate from the central output pixel of a stack of all-ones convolutions.

    Returns the input length, the output index used and the first and last input rows that
    receive a nonzero gradient. With all weights 1 and no bias, every input pixel that is
    connected to the output pixel gets a positive gradient (the number of paths), so the
    nonzero rows span the receptive field exactly (dilation can leave holes inside it).
    """
    x = torch.zeros(1, 1, n, n, dtype=F64, requires_grad=True)
    y = x
    for layer in layers:
        k, s, d, *rest = layer
        weight = torch.ones(1, 1, k, k, dtype=F64)
        y = F.conv2d(y, weight, stride=s, padding=rest[0] if rest else 0, dilation=d)
    i = y.shape[-1] // 2
    y[0, 0, i, i].backward()
    assert x.grad is not None
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(dim=0)).flatten()
    assert torch.equal(rows, cols)  # square kernels: the same extent along both axes
    return y.shape[-1], i, int(rows.min()), int(rows.max())


def random_stack(seed: int) -> list[tuple[int, ...]]:
    rng = np.random.default_rng(seed)
    layers: list[tuple[int, ...]] = []
    for _ in range(rng.integers(1, 5)):
        k, s, d = (int(v) for v in rng.integers(1, [6, 4, 4]))
        padded = rng.random() < 0.5
        layers.append((k, s, d, int(rng.integers(0, 3))) if padded else (k, s, d))
    return layers


RF_STACKS = [
    [(3, 1, 1)],
    [(3, 1, 1)] * 2,
    [(3, 1, 1)] * 3,
    [(5, 1, 1)],
    [(7, 2, 1, 3), (3, 2, 1, 1)],  # a ResNet stem, with the max pool written as a convolution
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],  # dilation doubling: 1 + 2 + 4 + 8 = 15
    [(3, 2, 1)] * 3,
    [(2, 2, 1), (2, 2, 1)],  # non-overlapping windows tile the input
    [(1, 1, 1), (1, 3, 1), (3, 1, 2)],
    [(5, 3, 2, 2), (3, 2, 3, 1), (2, 1, 1)],
    *(random_stack(seed) for seed in range(16)),
]


@pytest.mark.parametrize("layers", RF_STACKS)
def test_receptive_field_matches_gradient_measurement(layers):
    rf = receptive_field(layers)
    n = rf.size + 2 * abs(rf.start) + 4 * rf.jump
    out, i, first, last = measured_receptive_field(layers, n)
    # The central output pixel's field lies inside the input, so nothing is cut off by padding.
    assert rf.start + i * rf.jump >= 0
    assert rf.start + i * rf.jump + rf.size - 1 <= n - 1
    assert last - first + 1 == rf.size
    assert first == rf.start + i * rf.jump
    # Output length of the stack, one layer at a time.
    size = n
    for k, s, d, *rest in layers:
        size = conv_output_size(size, k, s, rest[0] if rest else 0, d)
    assert size == out


def test_receptive_field_of_nothing_is_one_pixel():
    assert receptive_field([]) == ReceptiveField(size=1, jump=1, start=0)
    assert receptive_field(iter([(3, 2, 1)])) == ReceptiveField(size=3, jump=2, start=0)


# --- 1x1 convolution and linear layers ----------------------------------------------------------

# (C_in, C_out, bias, dtype, H, W)
ONE_BY_ONE = [
    (1, 1, True, F64, 1, 1),
    (3, 2, True, F64, 5, 7),
    (16, 4, False, F64, 6, 6),
    (8, 32, True, torch.float32, 4, 3),
    (5, 5, False, torch.float32, 9, 2),
]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("c_in", "c_out", "bias", "dtype", "h", "w"), ONE_BY_ONE)
def test_conv1x1_equals_linear_on_every_pixel(seed, c_in, c_out, bias, dtype, h, w):
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(c_in, c_out, 1, bias=bias, dtype=dtype)
    before = {name: t.clone() for name, t in conv.state_dict().items()}
    linear = conv1x1_as_linear(conv)
    assert isinstance(linear, torch.nn.Linear)
    assert (linear.in_features, linear.out_features) == (c_in, c_out)
    assert (linear.bias is not None) == bias
    assert linear.weight.dtype == dtype
    x = torch.randn(2, c_in, h, w, dtype=dtype)
    with torch.no_grad():
        by_pixel = torch.movedim(linear(torch.movedim(x, 1, -1)), -1, 1)  # (N, C_out, H, W)
        torch.testing.assert_close(by_pixel, conv(x), **TOLERANCE[dtype])
    # The round trip gives back exactly the same numbers, and the original is untouched.
    back = linear_as_conv1x1(linear)
    for name, tensor in back.state_dict().items():
        assert torch.equal(tensor, before[name])
        assert torch.equal(conv.state_dict()[name], before[name])
    # Copies, not views of the same storage.
    assert linear.weight.data_ptr() != conv.weight.data_ptr() != back.weight.data_ptr()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("c_in", "c_out", "bias", "dtype", "h", "w"), ONE_BY_ONE)
def test_linear_equals_conv1x1_on_every_pixel(seed, c_in, c_out, bias, dtype, h, w):
    torch.manual_seed(seed)
    linear = torch.nn.Linear(c_in, c_out, bias=bias, dtype=dtype)
    conv = linear_as_conv1x1(linear)
    assert (conv.kernel_size, conv.stride, conv.padding) == ((1, 1), (1, 1), (0, 0))
    assert (conv.bias is not None) == bias
    assert conv.weight.dtype == dtype
    x = torch.randn(3, h, w, c_in, dtype=dtype)  # channels last, as a Linear expects
    with torch.no_grad():
        expected = torch.movedim(linear(x), -1, 1)
        torch.testing.assert_close(conv(torch.movedim(x, -1, 1)), expected, **TOLERANCE[dtype])
    back = conv1x1_as_linear(conv)
    assert torch.equal(back.weight, linear.weight)
    if bias:
        assert torch.equal(back.bias, linear.bias)


@pytest.mark.parametrize(("padding", "dilation"), [("valid", 1), ("same", 1), (0, 3)])
def test_conv1x1_padding_names_and_dilation_change_nothing(padding, dilation):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(4, 3, 1, padding=padding, dilation=dilation, dtype=F64)
    x = torch.randn(2, 4, 5, 5, dtype=F64)
    linear = conv1x1_as_linear(conv)
    with torch.no_grad():
        torch.testing.assert_close(
            torch.movedim(linear(torch.movedim(x, 1, -1)), -1, 1), conv(x), rtol=0, atol=ATOL
        )


# --- parameters and FLOPs -----------------------------------------------------------------------

# (C_in, C_out, kernel, groups, bias)
PARAMETER_CONFIGS = [
    (3, 64, 7, 1, False),
    (64, 128, 3, 1, True),
    (256, 64, 1, 1, False),
    (32, 32, 3, 32, True),  # depthwise
    (8, 24, 5, 8, False),  # depthwise with channel multiplier 3
    (12, 18, (3, 5), 3, True),
    (6, 4, (1, 7), 2, False),
]


@pytest.mark.parametrize(("c_in", "c_out", "k", "g", "bias"), PARAMETER_CONFIGS)
def test_parameters_match_conv2d(c_in, c_out, k, g, bias):
    conv = torch.nn.Conv2d(c_in, c_out, k, groups=g, bias=bias)
    assert conv2d_parameters(c_in, c_out, k, groups=g, bias=bias) == count_parameters(conv)


# (H, W, C_in, C_out, kernel, stride, padding, dilation, groups)
FLOP_CONFIGS = [
    *CONV_CONFIGS,
    (28, 28, 192, 32, (5, 5), (1, 1), (2, 2), (1, 1), 1),
    (14, 14, 32, 32, (3, 3), (1, 1), (1, 1), (1, 1), 32),
]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(("h", "w", "c_in", "c_out", "k", "s", "p", "d", "g"), FLOP_CONFIGS)
def test_flops_match_flop_counter(batch, h, w, c_in, c_out, k, s, p, d, g):
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g)
    out = (conv_output_size(h, k[0], s[0], p[0], d[0]), conv_output_size(w, k[1], s[1], p[1], d[1]))
    counted = count_flops(conv, torch.zeros(batch, c_in, h, w))
    macs = conv2d_macs(c_in, c_out, k, out, groups=g)
    # FlopCounterMode counts 2 FLOPs per multiply-accumulate and leaves the bias out.
    assert counted == batch * 2 * macs
    assert counted == batch * conv2d_flops(c_in, c_out, k, out, groups=g, bias=False)
    bias_adds = out[0] * out[1] * c_out
    assert conv2d_flops(c_in, c_out, k, out, groups=g) == 2 * macs + bias_adds


def same_conv(c_in: int, c_out: int, k: int, bias: bool) -> torch.nn.Conv2d:
    return torch.nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)


def assert_cost_matches(cost: ConvCost, module: torch.nn.Module, x: torch.Tensor) -> None:
    assert cost.parameters == count_parameters(module)
    assert cost.macs * 2 == count_flops(module, x)
    bias_adds = sum(
        m.out_channels * x.shape[2] * x.shape[3]
        for m in module.modules()
        if isinstance(m, torch.nn.Conv2d) and m.bias is not None
    )
    assert cost.flops == cost.macs * 2 + bias_adds


# (channels, bottleneck channels, size, kernel, bias)
BOTTLENECKS = [
    (256, 64, 56, 3, False),  # ResNet-50, conv2_x
    (512, 128, 28, 3, False),  # ResNet-50, conv3_x
    (64, 16, (9, 13), 5, True),
    (8, 8, 4, 1, True),
]


@pytest.mark.parametrize(("c", "b", "size", "k", "bias"), BOTTLENECKS)
def test_bottleneck_savings_match_torch_modules(c, b, size, k, bias):
    savings = bottleneck_savings(c, b, size, kernel_size=k, bias=bias)
    h, w = (size, size) if isinstance(size, int) else size
    x = torch.zeros(1, c, h, w, device="meta")  # the meta device computes shapes only
    plain = same_conv(c, c, k, bias).to("meta")
    block = torch.nn.Sequential(
        same_conv(c, b, 1, bias), same_conv(b, b, k, bias), same_conv(b, c, 1, bias)
    ).to("meta")
    assert block(x).shape == plain(x).shape == x.shape
    assert_cost_matches(savings.plain, plain, x)
    assert_cost_matches(savings.reduced, block, x)
    assert savings.parameter_ratio == savings.plain.parameters / savings.reduced.parameters
    assert savings.flop_ratio == savings.plain.flops / savings.reduced.flops


# (C_in, reduced, C_out, size, kernel, bias)
INCEPTION = [
    (192, 16, 32, 28, 5, False),  # GoogLeNet inception (3a), 5x5 branch
    (192, 96, 128, 28, 3, True),  # GoogLeNet inception (3a), 3x3 branch
    (480, 16, 48, 14, 5, True),  # GoogLeNet inception (4a), 5x5 branch
    (10, 3, 7, (5, 6), 7, False),
]


@pytest.mark.parametrize(("c_in", "r", "c_out", "size", "k", "bias"), INCEPTION)
def test_inception_savings_match_torch_modules(c_in, r, c_out, size, k, bias):
    savings = inception_savings(c_in, r, c_out, size, kernel_size=k, bias=bias)
    h, w = (size, size) if isinstance(size, int) else size
    x = torch.zeros(1, c_in, h, w, device="meta")
    plain = same_conv(c_in, c_out, k, bias).to("meta")
    branch = torch.nn.Sequential(same_conv(c_in, r, 1, bias), same_conv(r, c_out, k, bias))
    branch = branch.to("meta")
    assert branch(x).shape == plain(x).shape == (1, c_out, h, w)
    assert_cost_matches(savings.plain, plain, x)
    assert_cost_matches(savings.reduced, branch, x)


def test_bottleneck_costs_about_as_much_as_the_narrow_basic_block():
    # He et al. (2016): the 256-channel bottleneck against two 3x3 layers on 64 channels.
    basic = torch.nn.Sequential(same_conv(64, 64, 3, False), same_conv(64, 64, 3, False))
    assert count_parameters(basic) == 73_728
    assert bottleneck_savings(256, 64, 56).reduced.parameters == 69_632


# --- bad input ----------------------------------------------------------------------------------


C1 = torch.nn.Conv2d(4, 3, 1)
C3 = torch.nn.Conv2d(4, 3, 3)
BAD_INPUT = [
    bad(ReceptiveField, 0, 1, 0, error=ValueError, match="size must be at least 1, got 0"),
    bad(ReceptiveField, 3, 1, 1, error=ValueError, match="start must be at most 0, got 1"),
    bad(ReceptiveField, 3.0, 1, 0, error=TypeError, match="size must be an integer, got float"),
    bad(ConvCost, -1, 0, 0, error=ValueError, match="parameters must be at least 0, got -1"),
    bad(Savings, ConvCost(1, 1, 2), (1, 1, 2), error=TypeError, match="reduced must be a ConvCost, got tuple"),
    bad(Savings, ConvCost(1, 1, 2), ConvCost(0, 0, 0), error=ValueError, match="reduced must cost at least one parameter and one FLOP"),
    bad(conv_output_size, 0, 3, error=ValueError, match="size must be at least 1, got 0"),
    bad(conv_output_size, 8, 0, error=ValueError, match="kernel_size must be at least 1"),
    bad(conv_output_size, 8, 3, 0, error=ValueError, match="stride must be at least 1"),
    bad(conv_output_size, 8, 3, 1, -1, error=ValueError, match="padding must be at least 0, got -1"),
    bad(conv_output_size, 8, 3, 1, 0, 0, error=ValueError, match="dilation must be at least 1"),
    bad(conv_output_size, 2, 3, error=ValueError, match="the output would be empty"),
    bad(conv_output_size, 4, 3, dilation=2, error=ValueError, match="effective kernel size dilation * (kernel_size - 1) + 1 = 5 (kernel_size=3, dilation=2)"),
    bad(conv_output_size, 1, 5, padding=1, error=ValueError, match="size + 2 * padding = 3 (size=1, padding=1)"),
    bad(conv_output_size, 8.0, 3, error=TypeError, match="size must be an integer, got float"),
    bad(conv_output_size, 8, True, error=TypeError, match="kernel_size must be an integer, got bool"),
    bad(conv_output_size, 8, 3, padding=0.5, error=TypeError, match="padding must be an integer"),
    bad(receptive_field, (3, 1, 1), error=TypeError, match="layers[0] must be a tuple"),
    bad(receptive_field, 3, error=TypeError, match="layers must be an iterable of"),
    bad(receptive_field, [(3, 1)], error=ValueError, match="layers[0] must have 3 entries"),
    bad(receptive_field, [(3, 1, 1), (3, 1, 1, 0, 0)], error=ValueError, match="layers[1] must have 3 entries"),
    bad(receptive_field, [(0, 1, 1)], error=ValueError, match="layers[0] kernel_size must be at least 1"),
    bad(receptive_field, [(3, 0, 1)], error=ValueError, match="layers[0] stride must be at least 1"),
    bad(receptive_field, [(3, 1, 0)], error=ValueError, match="layers[0] dilation must be at least 1"),
    bad(receptive_field, [(3, 1, 1, -1)], error=ValueError, match="layers[0] padding must be at least 0"),
    bad(receptive_field, [(3.0, 1, 1)], error=TypeError, match="layers[0] kernel_size must be an integer"),
    bad(conv1x1_as_linear, torch.nn.Linear(4, 3), error=TypeError, match="conv must be a torch.nn.Conv2d, got Linear"),
    bad(conv1x1_as_linear, C3, error=ValueError, match="conv.kernel_size must be (1, 1)"),
    bad(conv1x1_as_linear, torch.nn.Conv2d(4, 3, (1, 3)), error=ValueError, match="got (1, 3)"),
    bad(conv1x1_as_linear, torch.nn.Conv2d(4, 3, 1, stride=2), error=ValueError, match="conv.stride must be (1, 1)"),
    bad(conv1x1_as_linear, torch.nn.Conv2d(4, 3, 1, padding=1), error=ValueError, match="conv.padding must be (0, 0)"),
    bad(conv1x1_as_linear, torch.nn.Conv2d(4, 4, 1, groups=2), error=ValueError, match="conv.groups must be 1"),
    bad(linear_as_conv1x1, C1, error=TypeError, match="linear must be a torch.nn.Linear, got Conv2d"),
    bad(conv2d_parameters, 0, 4, 3, error=ValueError, match="in_channels must be at least 1"),
    bad(conv2d_parameters, 4, 0, 3, error=ValueError, match="out_channels must be at least 1"),
    bad(conv2d_parameters, 4, 4, 0, error=ValueError, match="kernel_size must be at least 1"),
    bad(conv2d_parameters, 4, 4, (3, 3, 3), error=ValueError, match="kernel_size must be an integer or a pair"),
    bad(conv2d_parameters, 4, 4, 3.0, error=TypeError, match="kernel_size must be an integer"),
    bad(conv2d_parameters, 6, 4, 3, groups=4, error=ValueError, match="in_channels = 6 must be divisible by groups = 4"),
    bad(conv2d_parameters, 4, 6, 3, groups=4, error=ValueError, match="out_channels = 6 must be divisible by groups = 4"),
    bad(conv2d_parameters, 4, 4, 3, groups=0, error=ValueError, match="groups must be at least 1"),
    bad(conv2d_parameters, 4, 4, 3, bias=1, error=TypeError, match="bias must be a bool, got int"),
    bad(conv2d_macs, 4, 4, 3, 0, error=ValueError, match="output_size must be at least 1"),
    bad(conv2d_macs, 4, 4, 3, (8,), error=ValueError, match="output_size must be an integer or a pair"),
    bad(conv2d_flops, 4, 4, 3, (8, 8.0), error=TypeError, match="output_size must be an integer"),
    bad(conv2d_flops, 4, 4, 3, 8, bias=None, error=TypeError, match="bias must be a bool"),
    bad(bottleneck_savings, 256, 0, 56, error=ValueError, match="bottleneck_channels must be at least 1"),
    bad(bottleneck_savings, 256, 64, 56, kernel_size=4, error=ValueError, match="kernel_size must be odd"),
    bad(bottleneck_savings, 256, 64, 56, bias="no", error=TypeError, match="bias must be a bool"),
    bad(inception_savings, 192, 16, 32, 0, error=ValueError, match="size must be at least 1"),
    bad(inception_savings, 192, 16, 0, 28, error=ValueError, match="out_channels must be at least 1"),
]  # fmt: skip

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


# --- properties: generated cases against torch ---------------------------------------------------


@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    s=st.integers(1, 3),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
)
def test_output_size_equals_conv2d_and_maxpool2d(n, k, s, p, d):
    x = torch.empty(1, 1, n, n, device="meta")
    effective = d * (k - 1) + 1
    if n + 2 * p < effective:  # torch refuses the layer exactly then
        with pytest.raises(ValueError, match="the output would be empty"):
            conv_output_size(n, k, s, p, d)
        with pytest.raises(RuntimeError):
            torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, n, n))
        return
    size = conv_output_size(n, k, s, p, d)
    conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, device="meta")
    assert conv(x).shape[-2:] == (size, size)
    if p <= k // 2:  # MaxPool2d allows padding up to half the kernel only
        pool = torch.nn.MaxPool2d(k, stride=s, padding=p, dilation=d)
        assert pool(x).shape[-2:] == (size, size)


layer = st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(1, 2), st.integers(0, 2))


@given(layers=st.lists(layer, min_size=1, max_size=3))
def test_receptive_field_equals_the_gradient_footprint(layers):
    assume(all(p <= k // 2 * d for k, _, d, p in layers))  # padding never exceeds the reach
    field = receptive_field(layers)
    n = field.size + 2 * field.jump + 4
    try:
        _, i, first, last = measured_receptive_field(layers, n)
    except RuntimeError:  # the stack shrinks this input to nothing
        assume(False)
    assert first >= field.start + i * field.jump
    assert last <= field.start + i * field.jump + field.size - 1
    # Where the footprint is not cut off by the input's borders, it is the whole field.
    if field.start + i * field.jump >= 0 and field.start + i * field.jump + field.size <= n:
        assert (first, last) == (
            field.start + i * field.jump,
            field.start + i * field.jump + field.size - 1,
        )


small = st.integers(1, 3)


@given(
    channels=st.tuples(small, small, small),  # groups, input and output channels per group
    kernel=st.tuples(small, small),
    size=st.integers(3, 8),
    s=st.integers(1, 2),
    bias=st.booleans(),
)
def test_macs_and_flops_equal_flop_counter_mode(channels, kernel, size, s, bias):
    groups, c_in_per_group, c_out_per_group = channels
    kh, kw = kernel
    c_in, c_out = groups * c_in_per_group, groups * c_out_per_group
    conv = torch.nn.Conv2d(c_in, c_out, (kh, kw), stride=s, groups=groups, bias=bias)
    x = torch.empty(2, c_in, size, size)
    out = (conv_output_size(size, kh, s), conv_output_size(size, kw, s))
    macs = conv2d_macs(c_in, c_out, (kh, kw), out, groups=groups)
    assert count_flops(conv, x) == 2 * 2 * macs  # batch of 2; FlopCounterMode skips the bias
    assert conv2d_flops(c_in, c_out, (kh, kw), out, groups=groups, bias=False) == 2 * macs
    expected = count_parameters(conv)
    assert conv2d_parameters(c_in, c_out, (kh, kw), groups=groups, bias=bias) == expected


HOSTILE = [
    hostile(conv_output_size, size=32, kernel_size=3, stride=2, padding=1, dilation=1),
    hostile(receptive_field, layers=[(3, 1, 1), (3, 2, 1, 1)]),
    hostile(conv2d_parameters, in_channels=3, out_channels=8, kernel_size=3, groups=1, bias=True),
    hostile(conv2d_macs, in_channels=4, out_channels=8, kernel_size=(3, 1), output_size=7, groups=2),
    hostile(
        conv2d_flops, in_channels=4, out_channels=8, kernel_size=3, output_size=(7, 5), groups=2,
        bias=False,
    ),
    hostile(bottleneck_savings, channels=256, bottleneck_channels=64, size=14, kernel_size=3, bias=False),
    hostile(
        inception_savings, in_channels=192, reduced_channels=16, out_channels=32, size=28,
        kernel_size=5, bias=True,
    ),
    hostile(conv1x1_as_linear, conv=torch.nn.Conv2d(3, 2, 1)),
    hostile(linear_as_conv1x1, linear=torch.nn.Linear(3, 2)),
    hostile(ConvCost, parameters=10, macs=20, flops=40),
    hostile(ReceptiveField, size=3, jump=1, start=0),
    hostile(Savings, plain=ConvCost(10, 20, 40), reduced=ConvCost(5, 10, 20)),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)


def test_conversions_leave_the_callers_random_state_alone():
    conv, linear = torch.nn.Conv2d(3, 2, 1), torch.nn.Linear(3, 2)
    state = torch.get_rng_state()
    converted = conv1x1_as_linear(conv), linear_as_conv1x1(linear)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(converted[0].weight, conv.weight.reshape(2, 3))
    assert torch.equal(converted[1].bias, linear.bias)
