"""conceptref.batchnorm against PyTorch's layers, on seeded random cases and bad input."""

from __future__ import annotations

import functools
import inspect
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn.utils.fusion import fuse_conv_bn_eval

from conceptref.batchnorm import (
    VarianceShift,
    conv_bn_act,
    expected_variance_shift,
    fold_batchnorm,
    measure_variance_shift,
)
from conceptref.conv import conv_output_size
from helpers import ATOL, F64, TOLERANCE, bad, bad_input_test, hostile, hostile_input_test

# --- fold_batchnorm -----------------------------------------------------------------------------


def random_conv_bn(
    seed: int,
    c_in: int,
    c_out: int,
    k: int,
    *,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
    conv_bias: bool = True,
    affine: bool = True,
    eps: float = 1e-5,
    dtype: torch.dtype = F64,
    padding_mode: str = "zeros",
) -> tuple[torch.nn.Conv2d, torch.nn.BatchNorm2d]:
    """A convolution and an eval-mode batch normalization with random running statistics."""
    g = torch.Generator().manual_seed(seed)
    conv = torch.nn.Conv2d(
        c_in,
        c_out,
        k,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=conv_bias,
        padding_mode=padding_mode,
        dtype=dtype,
    )
    bn = torch.nn.BatchNorm2d(c_out, eps=eps, affine=affine, dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        if conv.bias is not None:
            conv.bias.copy_(torch.randn(c_out, generator=g))
        bn.running_mean.copy_(torch.randn(c_out, generator=g))
        bn.running_var.copy_(torch.rand(c_out, generator=g) * 2 + 0.1)
        if affine:
            bn.weight.copy_(torch.randn(c_out, generator=g))
            bn.bias.copy_(torch.randn(c_out, generator=g))
    return conv, bn.eval()


# (C_in, C_out, kernel, keyword arguments)
FOLD_CONFIGS = [
    (3, 8, 3, {}),
    (3, 8, 3, {"conv_bias": False}),
    (4, 6, 1, {"affine": False}),
    (4, 6, 3, {"conv_bias": False, "affine": False, "eps": 1e-3}),
    (6, 9, 3, {"groups": 3, "stride": 2, "padding": 1}),
    (8, 8, 3, {"groups": 8, "padding": 1, "conv_bias": False}),  # depthwise
    (8, 16, 5, {"groups": 8, "dilation": 2, "padding": 4}),  # depthwise, channel multiplier 2
    (5, 7, 3, {"padding": "same", "padding_mode": "reflect"}),
    (3, 8, 3, {"dtype": torch.float32, "padding": 1}),
    (8, 8, 3, {"dtype": torch.float32, "groups": 8, "conv_bias": False}),
]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("c_in", "c_out", "k", "options"), FOLD_CONFIGS)
def test_fold_batchnorm_matches_eval_conv_bn_and_torch_fusion(seed, c_in, c_out, k, options):
    conv, bn = random_conv_bn(seed, c_in, c_out, k, **options)
    dtype = options.get("dtype", F64)
    before = [{n: t.clone() for n, t in m.state_dict().items()} for m in (conv, bn)]
    folded = fold_batchnorm(conv, bn)
    x = torch.randn(2, c_in, 11, 10, dtype=dtype, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = bn(conv(x))
        torch.testing.assert_close(folded(x), expected, **TOLERANCE[dtype])
        fused = fuse_conv_bn_eval(conv.eval(), bn)
        torch.testing.assert_close(folded.weight, fused.weight, **TOLERANCE[dtype])
        torch.testing.assert_close(folded.bias, fused.bias, **TOLERANCE[dtype])
        torch.testing.assert_close(folded(x), fused(x), **TOLERANCE[dtype])
    assert folded.bias is not None
    assert folded.weight.dtype == dtype
    for attribute in ("kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"):
        assert getattr(folded, attribute) == getattr(conv, attribute)
    for module, state in zip((conv, bn), before, strict=True):
        for name, tensor in module.state_dict().items():
            assert torch.equal(tensor, state[name])


@pytest.mark.skipif(
    "bias" not in inspect.signature(torch.nn.BatchNorm2d).parameters,
    reason="BatchNorm2d(bias=False) needs a recent torch",
)
def test_fold_batchnorm_without_bn_shift():
    conv, _ = random_conv_bn(0, 3, 4, 3)
    bn = torch.nn.BatchNorm2d(4, bias=False, dtype=F64)
    with torch.no_grad():
        bn.running_var.fill_(2.0)
        bn.weight.fill_(3.0)
    bn.eval()
    x = torch.randn(2, 3, 6, 6, dtype=F64)
    with torch.no_grad():
        torch.testing.assert_close(fold_batchnorm(conv, bn)(x), bn(conv(x)), rtol=0, atol=ATOL)


def test_folding_a_trained_block_keeps_its_eval_output():
    torch.manual_seed(0)
    block = conv_bn_act(3, 8, activation=torch.nn.GELU).double()
    for _ in range(5):  # a few training-mode passes fill the running statistics
        block(torch.randn(4, 3, 8, 8, dtype=F64) * 2 + 1)
    block.eval()
    folded = fold_batchnorm(block.conv, block.bn)
    x = torch.randn(2, 3, 8, 8, dtype=F64)
    with torch.no_grad():
        torch.testing.assert_close(block.act(folded(x)), block(x), rtol=0, atol=ATOL)


# --- conv_bn_act and the pages' claims ----------------------------------------------------------

# (C_in, C_out, kernel, stride, activation, activation type, dropout)
BLOCKS = [
    (3, 16, 3, 1, torch.nn.ReLU, torch.nn.ReLU, 0.0),
    (16, 32, 3, 2, torch.nn.SiLU, torch.nn.SiLU, 0.1),
    (8, 8, 1, 1, torch.nn.GELU, torch.nn.GELU, 0.5),
    (4, 6, 5, 3, functools.partial(torch.nn.LeakyReLU, 0.2), torch.nn.LeakyReLU, 0.0),
    (2, 3, 7, 2, lambda: torch.nn.Hardtanh(-2.0, 2.0), torch.nn.Hardtanh, 0.25),
]


@pytest.mark.parametrize(("c_in", "c_out", "k", "s", "activation", "kind", "p"), BLOCKS)
def test_conv_bn_act_structure(c_in, c_out, k, s, activation, kind, p):
    block = conv_bn_act(c_in, c_out, k, stride=s, activation=activation, dropout=p)
    names = [name for name, _ in block.named_children()]
    assert names == (["conv", "bn", "act", "drop"] if p > 0 else ["conv", "bn", "act"])
    conv = block.conv
    assert isinstance(conv, torch.nn.Conv2d)
    assert conv.bias is None
    assert (conv.in_channels, conv.out_channels) == (c_in, c_out)
    assert (conv.kernel_size, conv.stride, conv.padding) == ((k, k), (s, s), (k // 2, k // 2))
    assert isinstance(block.bn, torch.nn.BatchNorm2d)
    assert block.bn.num_features == c_out
    assert block.bn.bias is not None  # beta takes over the conv's bias
    assert isinstance(block.act, kind)
    if p > 0:
        assert isinstance(block.drop, torch.nn.Dropout2d)
        assert block.drop.p == p
    # "Same" padding: the output is ceil(n / s) on each side.
    out = block(torch.randn(2, c_in, 13, 10))
    assert out.shape == (2, c_out, math.ceil(13 / s), math.ceil(10 / s))
    assert out.shape[2] == conv_output_size(13, k, s, k // 2)
    # Every call builds its own activation module.
    assert conv_bn_act(c_in, c_out, k, activation=activation).act is not block.act


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("c_in", "c_out", "k", "groups"), [(3, 8, 3, 1), (4, 4, 3, 4)])
def test_conv_bias_cancels_under_batchnorm_in_training_mode(seed, c_in, c_out, k, groups):
    torch.manual_seed(seed)
    with_bias = torch.nn.Conv2d(c_in, c_out, k, groups=groups, dtype=F64)
    without = torch.nn.Conv2d(c_in, c_out, k, groups=groups, bias=False, dtype=F64)
    with torch.no_grad():
        without.weight.copy_(with_bias.weight)
        with_bias.bias.mul_(100)  # a large bias, to make the point
    bn_a, bn_b = torch.nn.BatchNorm2d(c_out, dtype=F64), torch.nn.BatchNorm2d(c_out, dtype=F64)
    x = torch.randn(4, c_in, 7, 7, dtype=F64)
    out_a, out_b = bn_a(with_bias(x)), bn_b(without(x))
    torch.testing.assert_close(out_a, out_b, rtol=0, atol=ATOL)
    # The bias gets no gradient: the batch mean subtracts whatever it adds.
    (out_a * torch.randn_like(out_a)).sum().backward()
    assert with_bias.bias.grad is not None
    torch.testing.assert_close(
        with_bias.bias.grad, torch.zeros(c_out, dtype=F64), rtol=0, atol=ATOL
    )
    # It only leaks into the running mean, by momentum * bias after one step.
    torch.testing.assert_close(
        bn_a.running_mean - bn_b.running_mean, 0.1 * with_bias.bias.detach(), rtol=0, atol=ATOL
    )


# --- variance shift -----------------------------------------------------------------------------


def variance_standard_error(p: float, mean: float, std: float, n: int) -> float:
    """Standard error of the population variance of n dropped-out normal samples.

    For y = m x / q with m ~ Bernoulli(q), q = 1 - p, the estimator's variance is about
    (E[(y - mu)^4] - Var[y]^2) / n. Given m = 1, y - mu is normal with mean a = mu (1 - q) / q
    and standard deviation s = std / q, whose fourth moment is a^4 + 6 a^2 s^2 + 3 s^4; given
    m = 0 it is the constant -mu.
    """
    q = 1 - p
    a, s = mean * (1 - q) / q, std / q
    fourth = q * (a**4 + 6 * a**2 * s**2 + 3 * s**4) + (1 - q) * mean**4
    var = expected_variance_shift(p, mean=mean, std=std).train_variance
    return math.sqrt((fourth - var**2) / n)


# (p, mean, std)
SHIFTS = [(0.1, 0.0, 1.0), (0.3, 1.0, 1.0), (0.5, 0.0, 2.0), (0.5, 1.0, 1.0), (0.7, -2.0, 0.5), (0.9, 3.0, 2.0)]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("p", "mean", "std"), SHIFTS)
def test_measured_variance_shift_matches_the_closed_form(seed, p, mean, std):
    # Tolerance: 5 standard errors of each variance estimate (computed above), so a correct
    # implementation fails with probability below 1e-6 per case.
    samples = 100_000
    expected = expected_variance_shift(p, mean=mean, std=std)
    measured = measure_variance_shift(p, mean=mean, std=std, samples=samples, seed=seed)
    assert expected.train_variance == pytest.approx((std**2 + mean**2) / (1 - p) - mean**2)
    assert expected.eval_variance == std**2
    assert expected.shift == pytest.approx(
        expected.eval_variance / expected.train_variance, rel=1e-15
    )
    assert expected.shift < 1
    train_error = 5 * variance_standard_error(p, mean, std, samples)
    eval_error = 5 * variance_standard_error(0.0, mean, std, samples)
    assert abs(measured.train_variance - expected.train_variance) < train_error
    assert abs(measured.eval_variance - expected.eval_variance) < eval_error
    assert measured.shift == measured.eval_variance / measured.train_variance


def test_variance_shift_without_dropout_is_one():
    assert expected_variance_shift(0.0, mean=2.0, std=3.0).shift == 1.0
    measured = measure_variance_shift(0.0, mean=2.0, std=3.0, samples=1000)
    assert measured.train_variance == measured.eval_variance
    assert measured.shift == 1.0


def test_measurement_is_seeded_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    first = measure_variance_shift(0.4, samples=500, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert measure_variance_shift(0.4, samples=500, seed=7) == first
    assert measure_variance_shift(0.4, samples=500, seed=8) != first


def test_batchnorm_after_dropout_shrinks_eval_outputs_by_the_shift():
    # Li et al. (2019) in torch: BN's running variance learns the training-mode variance, so in
    # eval mode (dropout off) its outputs have variance Delta = Var_eval / Var_train, not 1.
    p, mean = 0.5, 1.0
    expected = expected_variance_shift(p, mean=mean)
    torch.manual_seed(0)
    dropout, bn = torch.nn.Dropout(p), torch.nn.BatchNorm1d(1, momentum=None, dtype=F64)
    with torch.no_grad():
        for _ in range(50):  # momentum=None: the running statistics are plain averages
            bn(dropout(mean + torch.randn(2000, 1, dtype=F64)))
        dropout.eval(), bn.eval()
        out = bn(dropout(mean + torch.randn(200_000, 1, dtype=F64)))
    assert float(out.var()) == pytest.approx(expected.shift, rel=0.02)


# --- bad input ----------------------------------------------------------------------------------


C3 = torch.nn.Conv2d(4, 3, 3)
BN3 = torch.nn.BatchNorm2d(3).eval()
BAD_INPUT = [
    bad(expected_variance_shift, 0.5, mean=1e200, error=ValueError, match="the training-mode variance (std^2 + p * mean^2) / (1 - p) overflows float64"),
    bad(expected_variance_shift, 0.5, std=1e200, error=ValueError, match="overflows float64"),
    bad(measure_variance_shift, 0.9, samples=2, seed=0, error=ValueError, match="the measured variance is 0: dropout zeroed all samples=2 draws"),
    bad(measure_variance_shift, 0.5, std=1e200, samples=10, error=ValueError, match="the measured variance overflows float64"),
    bad(measure_variance_shift, 0.5, mean=1e100, std=1e-100, samples=10, error=ValueError, match="every draw rounds to the same value"),
    bad(VarianceShift, float("nan"), 1.0, 1.0, error=ValueError, match="train_variance must be a finite number of at least 0, got nan"),
    bad(VarianceShift, 1.0, -1.0, 1.0, error=ValueError, match="eval_variance must be a finite number of at least 0"),
    bad(fold_batchnorm, C3, torch.nn.BatchNorm1d(3).eval(), error=TypeError, match="bn must be a torch.nn.BatchNorm2d, got BatchNorm1d"),
    bad(fold_batchnorm, torch.nn.Conv1d(4, 3, 3), BN3, error=TypeError, match="conv must be a torch.nn.Conv2d, got Conv1d"),
    bad(fold_batchnorm, C3, torch.nn.BatchNorm2d(5).eval(), error=ValueError, match="bn.num_features = 5 must equal conv.out_channels = 3"),
    bad(fold_batchnorm, C3, torch.nn.BatchNorm2d(3), error=ValueError, match="call bn.eval()"),
    bad(fold_batchnorm, C3, torch.nn.BatchNorm2d(3, track_running_stats=False).eval(), error=ValueError, match="bn has no running statistics (track_running_stats=False)"),
    bad(conv_bn_act, 0, 4, error=ValueError, match="in_channels must be at least 1"),
    bad(conv_bn_act, 3, 4, 4, error=ValueError, match="kernel_size must be odd for 'same' padding, got 4"),
    bad(conv_bn_act, 3, 4, stride=0, error=ValueError, match="stride must be at least 1"),
    bad(conv_bn_act, 2**20, 2**10, error=ValueError, match="out_channels = 1024 x in_channels = 1048576 x kernel_size**2 = 9 would need 9663676416 convolution weights"),
    bad(conv_bn_act, 3, 4, seed=-1, error=ValueError, match="seed must lie in 0 … 2**63 - 1"),
    bad(conv_bn_act, 3, 4, seed=True, error=TypeError, match="seed must be an integer, got bool"),
    bad(conv_bn_act, 3, 4, dropout=1.0, error=ValueError, match="dropout must be a finite number in [0, 1), got 1.0"),
    bad(conv_bn_act, 3, 4, dropout=-0.1, error=ValueError, match="dropout must be a finite number in [0, 1)"),
    bad(conv_bn_act, 3, 4, dropout=float("nan"), error=ValueError, match="dropout must be a finite number in [0, 1), got nan"),
    bad(conv_bn_act, 3, 4, dropout="0.1", error=TypeError, match="dropout must be a real number, got str"),
    bad(conv_bn_act, 3, 4, activation=torch.nn.ReLU(), error=TypeError, match="not the module instance ReLU()"),
    bad(conv_bn_act, 3, 4, activation="relu", error=TypeError, match="activation must be a module class or a zero-argument callable"),
    bad(conv_bn_act, 3, 4, activation=lambda: torch.relu, error=TypeError, match="activation() must return a torch.nn.Module, got builtin_function_or_method"),
    bad(expected_variance_shift, 1.0, error=ValueError, match="p must be a finite number in [0, 1)"),
    bad(expected_variance_shift, True, error=TypeError, match="p must be a real number, got bool"),
    bad(expected_variance_shift, 0.5, mean=float("inf"), error=ValueError, match="mean must be finite"),
    bad(expected_variance_shift, 0.5, std=0.0, error=ValueError, match="std must be a finite number greater than 0"),
    bad(measure_variance_shift, 0.5, samples=1, error=ValueError, match="samples must be at least 2, got 1"),
    bad(measure_variance_shift, 0.5, samples=10**7 + 1, error=ValueError, match=r"samples = 10000001 would need 10000001 float64 draws, more than the 10000000"),
    bad(measure_variance_shift, 0.5, samples=10.0, error=TypeError, match="samples must be an integer"),
    bad(measure_variance_shift, 0.5, seed=-1, error=ValueError, match="seed must lie in 0 … 2**63 - 1"),
]  # fmt: skip

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


@pytest.mark.parametrize("mean", [0.0, 1.0, 100000003.0, 1e150])
def test_no_dropout_means_no_shift_however_large_the_mean(mean):
    assert expected_variance_shift(0.0, mean=mean) == VarianceShift(1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("p", "mean", "std"), [(0.5, 1e100, 1.0), (0.5, 1.0, 1e-200), (0.3, 0.0, 1e-150)]
)
def test_variance_shift_is_finite_for_huge_and_tiny_finite_input(p, mean, std):
    shift = expected_variance_shift(p, mean=mean, std=std)
    assert 0 <= shift.shift <= 1
    assert all(map(math.isfinite, (shift.train_variance, shift.eval_variance, shift.shift)))


# --- properties: generated cases against torch ---------------------------------------------------


@given(
    channels=st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3)),
    geometry=st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(1, 2)),
    conv_bias=st.booleans(),
    affine=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fold_batchnorm_equals_conv_then_bn_and_torch_fusion(
    channels, geometry, conv_bias, affine, seed
):
    groups, c_in_per_group, c_out_per_group = channels
    k, stride, padding, dilation = geometry  # kernel size, stride, padding, dilation
    c_in, c_out = groups * c_in_per_group, groups * c_out_per_group
    conv, bn = random_conv_bn(
        seed, c_in, c_out, k, stride=stride, padding=padding, dilation=dilation,
        groups=groups, conv_bias=conv_bias, affine=affine,
    )  # fmt: skip
    x = torch.randn(2, c_in, 5, 5, generator=torch.Generator().manual_seed(seed), dtype=F64)
    folded = fold_batchnorm(conv, bn)
    with torch.no_grad():
        expected = bn(conv(x))
        torch.testing.assert_close(folded(x), expected, rtol=0, atol=1e-12)
        fused = fuse_conv_bn_eval(conv.eval(), bn)
        torch.testing.assert_close(folded.weight, fused.weight, rtol=0, atol=1e-12)
        torch.testing.assert_close(folded.bias, fused.bias, rtol=0, atol=1e-12)


def _conv_and_bn():
    conv, bn = torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3)
    return conv.eval(), bn.eval()


HOSTILE = [
    hostile(
        conv_bn_act, in_channels=2, out_channels=3, kernel_size=3, stride=1,
        activation=torch.nn.ReLU, dropout=0.1,
    ),
    hostile(expected_variance_shift, p=0.3, mean=1.0, std=2.0),
    hostile(measure_variance_shift, p=0.3, mean=1.0, std=2.0, samples=64, seed=1),
    hostile(fold_batchnorm, conv=_conv_and_bn()[0], bn=_conv_and_bn()[1]),
    hostile(VarianceShift, train_variance=2.0, eval_variance=1.0, shift=0.5),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)


def test_seeded_helpers_leave_the_callers_random_state_alone():
    conv, bn = _conv_and_bn()
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1]  # noqa: NPY002
    first = measure_variance_shift(0.3, samples=64, seed=5)
    block = conv_bn_act(2, 3, seed=7)
    fold_batchnorm(conv, bn)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert measure_variance_shift(0.3, samples=64, seed=5) == first
    assert torch.equal(conv_bn_act(2, 3, seed=7).conv.weight, block.conv.weight)
    assert not torch.equal(conv_bn_act(2, 3, seed=8).conv.weight, block.conv.weight)
