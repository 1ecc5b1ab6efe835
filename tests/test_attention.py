"""conceptref.attention against PyTorch's attention, on seeded random cases and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conceptref.attention import (
    attention_weights,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test

ATOL = 1e-12

# (batch shape, Lq, Lk, d, dv): a single matrix, batched, multi-head-like, and Lq != Lk.
SHAPES = [
    ((), 1, 1, 1, 1),
    ((), 3, 3, 4, 2),
    ((2,), 5, 7, 8, 3),
    ((2, 3), 4, 6, 16, 5),
    ((1,), 9, 2, 3, 11),
]
SEEDS = range(4)


def random_qkv(
    seed: int, batch: tuple[int, ...], lq: int, lk: int, d: int, dv: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(*batch, lq, d)),
        rng.normal(size=(*batch, lk, d)),
        rng.normal(size=(*batch, lk, dv)),
    )


def random_mask(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """A random boolean mask in which every query row keeps at least one key."""
    rng = np.random.default_rng(seed + 1000)
    mask = rng.random(shape) < 0.6
    keep = rng.integers(0, shape[-1], size=shape[:-1])
    np.put_along_axis(mask, keep[..., None], True, axis=-1)
    return mask


def torch_sdpa(q, k, v, mask=None, **kwargs) -> np.ndarray:
    t = [torch.from_numpy(np.array(a)) for a in (q, k, v)]
    m = None if mask is None else torch.from_numpy(np.array(mask))
    return F.scaled_dot_product_attention(*t, attn_mask=m, **kwargs).numpy()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("batch", "lq", "lk", "d", "dv"), SHAPES)
def test_matches_torch_without_mask(seed, batch, lq, lk, d, dv):
    q, k, v = random_qkv(seed, batch, lq, lk, d, dv)
    np.testing.assert_allclose(
        scaled_dot_product_attention(q, k, v), torch_sdpa(q, k, v), rtol=0, atol=ATOL
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("batch", "lq", "lk", "d", "dv"), SHAPES)
@pytest.mark.parametrize("mask_kind", ["full", "per-query", "per-key"])
def test_matches_torch_with_boolean_mask(seed, batch, lq, lk, d, dv, mask_kind):
    q, k, v = random_qkv(seed, batch, lq, lk, d, dv)
    shape = {"full": (*batch, lq, lk), "per-query": (lq, lk), "per-key": (lk,)}[mask_kind]
    mask = random_mask(seed, shape)
    if mask_kind == "per-key":  # torch wants at least 2 dimensions here
        expected = torch_sdpa(q, k, v, np.broadcast_to(mask, (lq, lk)))
    else:
        expected = torch_sdpa(q, k, v, mask)
    np.testing.assert_allclose(
        scaled_dot_product_attention(q, k, v, mask), expected, rtol=0, atol=ATOL
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("batch", "n", "d", "dv"), [((), 1, 2, 2), ((2,), 5, 4, 3), ((2, 2), 8, 6, 1)]
)
def test_causal_mask_matches_torch_is_causal(seed, batch, n, d, dv):
    q, k, v = random_qkv(seed, batch, n, n, d, dv)
    np.testing.assert_allclose(
        scaled_dot_product_attention(q, k, v, causal_mask(n)),
        torch_sdpa(q, k, v, is_causal=True),
        rtol=0,
        atol=ATOL,
    )
    reference = torch.ones(n, n, dtype=torch.bool).tril().numpy()
    np.testing.assert_array_equal(causal_mask(n), reference)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0])
def test_scale_matches_torch(seed, scale):
    q, k, v = random_qkv(seed, (2,), 4, 5, 6, 3)
    np.testing.assert_allclose(
        scaled_dot_product_attention(q, k, v, scale=scale),
        torch_sdpa(q, k, v, scale=scale),
        rtol=0,
        atol=ATOL,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("batch", "lq", "lk", "d", "dv"), SHAPES)
def test_weights_match_torch(seed, batch, lq, lk, d, dv):
    # Attending over an identity matrix of values returns the weights themselves.
    q, k, _ = random_qkv(seed, batch, lq, lk, d, dv)
    mask = random_mask(seed, (*batch, lq, lk))
    expected = torch_sdpa(q, k, np.broadcast_to(np.eye(lk), (*batch, lk, lk)), mask)
    weights = attention_weights(q, k, mask)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=ATOL)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=ATOL)
    assert np.all(weights[~np.broadcast_to(mask, weights.shape)] == 0.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_multihead_attention_layer(seed):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(6, 1, bias=False, batch_first=True, dtype=torch.float64)
    x = torch.randn(2, 5, 6, dtype=torch.float64)
    blocked = torch.from_numpy(~causal_mask(5))  # MultiheadAttention: True means "blocked"
    out, weights = mha(x, x, x, attn_mask=blocked)
    w_q, w_k, w_v = mha.in_proj_weight.detach().numpy().reshape(3, 6, 6)
    xs = x.numpy()
    ours = scaled_dot_product_attention(xs @ w_q.T, xs @ w_k.T, xs @ w_v.T, causal_mask(5))
    w_o = mha.out_proj.weight.detach().numpy()
    np.testing.assert_allclose(ours @ w_o.T, out.detach().numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        attention_weights(xs @ w_q.T, xs @ w_k.T, causal_mask(5)),
        weights.detach().numpy(),
        rtol=0,
        atol=ATOL,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_padding_equals_truncation(seed):
    lengths = np.array([5, 3, 1])
    q, k, v = random_qkv(seed, (3,), 4, 5, 6, 2)
    out = scaled_dot_product_attention(q, k, v, padding_mask(lengths, 5))
    for b, n in enumerate(lengths):
        expected = scaled_dot_product_attention(q[b], k[b, :n], v[b, :n])
        np.testing.assert_allclose(out[b], expected, rtol=0, atol=ATOL)
    reference = torch.arange(5)[None, :] < torch.from_numpy(lengths)[:, None]
    np.testing.assert_array_equal(padding_mask(lengths, 5)[:, 0, :], reference.numpy())


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_matches_torch(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=30.0, size=(4, 6, 5))
    x[0, 0, :3] = -np.inf
    for axis in (0, 1, -1):
        expected = torch.softmax(torch.from_numpy(x), dim=axis).numpy()
        np.testing.assert_allclose(softmax(x, axis=axis), expected, rtol=0, atol=ATOL)


def test_softmax_does_not_overflow():
    assert softmax([1000.0, 1000.0]).tolist() == [0.5, 0.5]


finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@given(
    q=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.just(3)), elements=finite),
    k=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.just(3)), elements=finite),
    data=st.data(),
)
def test_weights_are_distributions_and_permutation_equivariant(q, k, data):
    weights = attention_weights(q, k)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-9)
    # Reordering the keys (with their values) reorders the weights and leaves the output alone.
    perm = np.array(data.draw(st.permutations(range(len(k)))))
    v = np.arange(len(k) * 2, dtype=np.float64).reshape(len(k), 2)
    np.testing.assert_allclose(attention_weights(q, k[perm]), weights[:, perm], atol=1e-12)
    np.testing.assert_allclose(
        scaled_dot_product_attention(q, k[perm], v[perm]),
        scaled_dot_product_attention(q, k, v),
        atol=1e-9,
    )


small = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def attention_cases(draw):
    """Tiny (q, k, v, mask) with a boolean mask that leaves every query at least one key."""
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    lq, lk, d, dv = (draw(st.integers(1, 4)) for _ in range(4))
    q = draw(hnp.arrays(np.float64, (*batch, lq, d), elements=small))
    k = draw(hnp.arrays(np.float64, (*batch, lk, d), elements=small))
    v = draw(hnp.arrays(np.float64, (*batch, lk, dv), elements=small))
    mask = draw(st.none() | hnp.arrays(np.bool_, (*batch, lq, lk)))
    if mask is not None:
        mask[..., 0] |= ~mask.any(axis=-1)  # every query keeps at least one key
    scale = draw(st.none() | st.floats(0.1, 2.0))
    return q, k, v, mask, scale


@given(case=attention_cases())
def test_attention_equals_torch_sdpa(case):
    q, k, v, mask, scale = case
    t = [torch.from_numpy(a) for a in (q, k, v)]
    expected = F.scaled_dot_product_attention(
        *t, attn_mask=None if mask is None else torch.from_numpy(mask), scale=scale
    )
    out = scaled_dot_product_attention(q, k, v, mask, scale=scale)
    np.testing.assert_allclose(out, expected.numpy(), rtol=0, atol=1e-10)


def test_a_fully_masked_query_is_an_error_here_and_zeros_in_torch():
    """The documented difference: no key for a query means 0/0 weights (see BAD_INPUT)."""
    q, k, v = random_qkv(0, (), 2, 3, 4, 2)
    mask = np.array([[True, False, True], [False, False, False]])
    out = F.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v)), attn_mask=torch.from_numpy(mask)
    )
    assert torch.equal(out[1], torch.zeros(2, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_tensors_are_accepted_with_grad_and_in_half_precision(dtype):
    q, k, v = random_qkv(1, (), 3, 4, 2, 2)
    tensors = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in (q, k, v)]
    exact = [t.detach().double().numpy() for t in tensors]  # the values the tensors hold
    out = scaled_dot_product_attention(*tensors, mask=torch.ones(3, 4, dtype=torch.bool))
    np.testing.assert_allclose(out, scaled_dot_product_attention(*exact), rtol=0, atol=1e-12)
    assert softmax(tensors[0]).dtype == np.float64
    np.testing.assert_array_equal(padding_mask(torch.tensor([2, 1]), 2), padding_mask([2, 1], 2))


def test_inputs_are_not_modified():
    q, k, v = random_qkv(0, (), 3, 3, 4, 2)
    copies = [a.copy() for a in (q, k, v)]
    scaled_dot_product_attention(q, k, v, causal_mask(3))
    for original, copy in zip((q, k, v), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_accepts_lists_and_integer_arrays():
    out = scaled_dot_product_attention([[1, 0]], [[1, 0], [0, 1]], [[10], [20]])
    assert out.dtype == np.float64
    assert out.shape == (1, 1)


Q, K, V = np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2))
BAD_INPUT = [
    bad(attention_weights, Q, np.ones((5, 3)), error=ValueError, match="same feature size d"),
    bad(attention_weights, Q, np.ones((5, 3)), error=ValueError, match="shape (3, 4), key has shape (5, 3)"),
    bad(scaled_dot_product_attention, Q, K, np.ones((4, 2)), error=ValueError, match="same number of positions Lk"),
    bad(scaled_dot_product_attention, Q, K, np.ones((4, 2)), error=ValueError, match="shape (5, 4), value has shape (4, 2)"),
    bad(attention_weights, np.ones(4), K, error=ValueError, match="query must have at least 2 dimensions"),
    bad(attention_weights, Q, np.ones(4), error=ValueError, match="key must have at least 2 dimensions"),
    bad(scaled_dot_product_attention, Q, K, np.ones(5), error=ValueError, match="value must have at least 2"),
    bad(attention_weights, np.ones((2, 3, 4)), np.ones((3, 5, 4)), error=ValueError, match="query and key do not broadcast"),
    bad(scaled_dot_product_attention, np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((3, 5, 2)), error=ValueError, match="weights and value do not broadcast"),
    bad(attention_weights, np.ones((3, 0)), np.ones((5, 0)), error=ValueError, match="feature size d must be at least 1"),
    bad(attention_weights, Q, np.ones((0, 4)), error=ValueError, match="at least one key"),
    bad(attention_weights, [[1.0, np.nan]], [[1.0, 2.0]], error=ValueError, match="query must be finite"),
    bad(attention_weights, [[1.0, 2.0]], [[np.inf, 2.0]], error=ValueError, match="key must be finite"),
    bad(scaled_dot_product_attention, Q, K, np.full((5, 2), np.nan), error=ValueError, match="value must be finite"),
    bad(attention_weights, [["a", "b"]], [[1.0, 2.0]], error=TypeError, match="query must be an array of real numbers"),
    bad(attention_weights, np.ones((1, 2), bool), [[1.0, 2.0]], error=TypeError, match="got dtype bool"),
    bad(attention_weights, np.ones((1, 2), complex), [[1.0, 2.0]], error=TypeError, match="got dtype complex128"),
    bad(attention_weights, [[1.0, 2.0], [1.0]], [[1.0, 2.0]], error=ValueError, match="query must be a rectangular array"),
    bad(attention_weights, Q, K, np.ones((3, 5)), error=TypeError, match="mask must be a boolean array"),
    bad(attention_weights, Q, K, np.ones((3, 4), bool), error=ValueError, match="mask of shape (3, 4) does not broadcast"),
    bad(attention_weights, Q, K, np.ones((2, 3, 5), bool), error=ValueError, match="mask of shape (2, 3, 5) does not broadcast"),
    bad(attention_weights, Q, K, np.arange(15).reshape(3, 5) < 5, error=ValueError, match="no key for query (1,)"),
    bad(attention_weights, Q, K, scale=0.0, error=ValueError, match="scale must be a finite number greater than 0"),
    bad(attention_weights, Q, K, scale=-1.0, error=ValueError, match="scale must be a finite number greater than 0"),
    bad(attention_weights, Q, K, scale=float("nan"), error=ValueError, match="scale must be a finite number"),
    bad(attention_weights, Q, K, scale="2", error=TypeError, match="scale must be a real number"),
    bad(causal_mask, 0, error=ValueError, match="n must be at least 1"),
    bad(causal_mask, 2.0, error=TypeError, match="n must be an integer"),
    bad(causal_mask, True, error=TypeError, match="n must be an integer"),
    bad(padding_mask, [3, 0], 3, error=ValueError, match="lengths[1] = 0 lies outside 1 … n = 3"),
    bad(padding_mask, [4], 3, error=ValueError, match="lengths[0] = 4 lies outside"),
    bad(padding_mask, [1.0, 2.0], 3, error=TypeError, match="lengths must be an array of integers"),
    bad(padding_mask, [[1, 2]], 3, error=ValueError, match="lengths must be one-dimensional"),
    bad(padding_mask, [1], 0, error=ValueError, match="n must be at least 1"),
    bad(softmax, [-np.inf, -np.inf], error=ValueError, match="at least one finite score"),
    bad(softmax, [1.0, np.nan], error=ValueError, match="x must be finite, but it holds NaN or +inf"),
    bad(softmax, [1.0, np.inf], error=ValueError, match="x must be finite, but it holds NaN or +inf"),
    bad(softmax, 1.0, error=ValueError, match="x must have at least 1 dimensions, got shape ()"),
    bad(softmax, [1.0, 2.0], 1, error=ValueError, match="axis must lie in -1 … 0, got 1"),
    bad(softmax, [1.0, 2.0], -2, error=ValueError, match="axis must lie in -1 … 0, got -2"),
    bad(softmax, [1.0, 2.0], 0.0, error=TypeError, match="axis must be an integer, got float"),
    bad(softmax, [1.0, 2.0], None, error=TypeError, match="axis must be an integer, got NoneType"),
    bad(softmax, [], error=ValueError, match="x must hold at least one score along axis -1, got shape (0,)"),
    bad(softmax, np.ones((2, 0)), error=ValueError, match="x must hold at least one score along axis -1"),
    bad(softmax, [[1.0, 2.0], [3.0]], error=ValueError, match="x must be a rectangular array of numbers"),
    bad(padding_mask, [[1, 2], [1]], 3, error=ValueError, match="lengths must be a rectangular array"),
    bad(padding_mask, np.array([2**63], dtype=np.uint64), 3, error=ValueError, match="lengths holds 9223372036854775808, beyond the int64 range"),
    bad(padding_mask, [True, False], 3, error=TypeError, match="lengths must be an array of integers, got dtype bool"),
    bad(padding_mask, [1], 2.0, error=TypeError, match="n must be an integer, got float"),
    bad(attention_weights, Q, K, [[True, False], [True]], error=ValueError, match="mask must be a rectangular array"),
    bad(attention_weights, Q, K, np.ones((3, 5)), error=TypeError, match="mask must be a boolean array, got dtype float64"),
    bad(attention_weights, Q, [[1.0, 2.0], [3.0]], error=ValueError, match="key must be a rectangular array of numbers"),
    bad(attention_weights, Q, K, scale=0.0, error=ValueError, match="scale must be a finite number greater than 0, got 0.0"),
    bad(softmax, ["a"], error=TypeError, match="x must be an array of real numbers"),
    bad(causal_mask, 10**6, error=ValueError, match="n = 1000000 x n = 1000000 would need 1000000000000 mask entries"),
    bad(causal_mask, 2**70, error=ValueError, match="mask entries, more than the 268435456"),
    bad(padding_mask, [1, 2], 2**40, error=ValueError, match="len(lengths) = 2 x n = 1099511627776 would need"),
    bad(attention_weights, [[1e200, 1e200]], [[1e200, 1e200]], error=ValueError, match="query and key are too large: their dot products overflow float64"),
    bad(attention_weights, [[1e150]], [[1e150]], scale=1e10, error=ValueError, match="dot products times scale=10000000000.0 overflow"),
    bad(scaled_dot_product_attention, [[1e200]], [[1e200]], [[1.0]], error=ValueError, match="query and key are too large"),
    bad(attention_weights, Q, K, mask=np.ones(5, np.int64), error=TypeError, match="mask must be a boolean array, got dtype int64"),
    bad(scaled_dot_product_attention, *random_qkv(0, (), 2, 3, 4, 2), np.array([[True, False, True], [False] * 3]), error=ValueError, match="mask allows no key for query (1,)"),
]  # fmt: skip


test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


def test_values_near_the_float64_limit_are_averaged_without_overflow():
    value = np.array([[1.7e308], [1.7e308]])
    out = scaled_dot_product_attention([[0.0]], [[0.0], [0.0]], value)
    np.testing.assert_allclose(out, [[1.7e308]], rtol=1e-15)
    mixed = np.array([[1e308, 1.0], [1e308, 3.0]])
    out = scaled_dot_product_attention([[0.0]], [[0.0], [0.0]], mixed)
    np.testing.assert_array_equal(out, [[1e308, 2.0]])  # the small column is not scaled


HOSTILE = [
    hostile(softmax, x=[[1.0, 2.0], [0.5, -1.0]], axis=-1),
    hostile(causal_mask, n=3),
    hostile(padding_mask, lengths=[3, 1], n=3),
    hostile(attention_weights, query=Q, key=K, mask=np.ones((3, 5), bool), scale=0.5),
    hostile(
        scaled_dot_product_attention, query=Q, key=K, value=V, mask=np.ones(5, bool), scale=None
    ),
]

test_hostile_input = hostile_input_test(HOSTILE)


def test_softmax_of_scores_further_apart_than_the_float64_range():
    np.testing.assert_array_equal(softmax([1e308, -1e308]), [1.0, 0.0])
