"""conceptref.transformer against PyTorch's transformer modules, on generated inputs and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conceptref.attention import causal_mask
from conceptref.transformer import (
    alibi_slopes,
    decoder_layer,
    encoder_layer,
    encoder_layer_parameter_count,
    feed_forward,
    layer_norm,
    layer_weights,
    multi_head_attention,
    rotary_embedding,
    sinusoidal_positional_encoding,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

LlamaConfig = lazy("transformers", "LlamaConfig")
build_alibi_tensor = lazy("transformers.models.bloom.modeling_bloom", "build_alibi_tensor")
LlamaRotaryEmbedding = lazy("transformers.models.llama.modeling_llama", "LlamaRotaryEmbedding")
apply_rotary_pos_emb = lazy("transformers.models.llama.modeling_llama", "apply_rotary_pos_emb")
MarianSinusoidalPositionalEmbedding = lazy(
    "transformers.models.marian.modeling_marian", "MarianSinusoidalPositionalEmbedding"
)

ATOL = 1e-12

# The eval-mode fast path of nn.MultiheadAttention (and of the layers) handles fully masked rows
# differently from the documented path; the reference is the documented path.
torch.backends.mha.set_fastpath_enabled(False)


def _mask(rng: np.random.Generator, shape: tuple[int, ...], dead_rows: bool) -> np.ndarray:
    """A random boolean mask (True = may attend); with dead_rows, some rows may allow no key."""
    mask = rng.random(shape) < 0.6
    if not dead_rows:
        keep = rng.integers(0, shape[-1], size=shape[:-1])
        np.put_along_axis(mask, keep[..., None], True, axis=-1)
    return mask


@st.composite
def mha_cases(draw):
    heads = draw(st.integers(1, 3))
    d_model = heads * draw(st.integers(1, 3))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    lq, lk = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kdim = draw(st.sampled_from([d_model, d_model + 1]))
    vdim = draw(st.sampled_from([d_model, 2]))
    bias = draw(st.booleans())
    mask_kind = draw(st.sampled_from(["none", "shared", "batched", "dead rows", "per head"]))
    scale = draw(st.sampled_from([1.0, 1e-3, 30.0]))  # tiny and saturating scores
    seed = draw(st.integers(0, 2**16))
    return heads, d_model, batch, lq, lk, kdim, vdim, bias, mask_kind, scale, seed


def torch_mha(heads, d_model, kdim, vdim, bias, seed):
    torch.manual_seed(seed)
    return torch.nn.MultiheadAttention(
        d_model, heads, bias=bias, kdim=kdim, vdim=vdim, batch_first=True, dtype=torch.float64
    ).eval()


def torch_weights(mha: torch.nn.MultiheadAttention) -> dict[str, np.ndarray | None]:
    e = mha.embed_dim
    if mha.in_proj_weight is not None:
        wq, wk, wv = mha.in_proj_weight.detach().numpy().reshape(3, e, e)
    else:
        wq, wk, wv = (
            w.detach().numpy() for w in (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight)
        )
    out = {"w_q": wq.T, "w_k": wk.T, "w_v": wv.T, "w_o": mha.out_proj.weight.detach().numpy().T}
    if mha.in_proj_bias is not None:
        bq, bk, bv = mha.in_proj_bias.detach().numpy().reshape(3, e)
        out |= {"b_q": bq, "b_k": bk, "b_v": bv, "b_o": mha.out_proj.bias.detach().numpy()}
    return out


def run_torch_mha(mha, q, k, v, mask, heads):
    """Run nn.MultiheadAttention on arrays with any leading batch shape, mask True = may attend."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    flat = [
        torch.tensor(np.broadcast_to(a, (*batch, *a.shape[-2:])).reshape(-1, *a.shape[-2:]))
        for a in (q, k, v)
    ]
    n = flat[0].shape[0]
    attn_mask = None
    if mask is not None and mask.ndim == len(batch) + 3:  # one mask per head
        m = np.broadcast_to(mask, (*batch, heads, q.shape[-2], k.shape[-2]))
        attn_mask = torch.tensor(~m.reshape(n * heads, *mask.shape[-2:]))
    elif mask is not None:
        m = np.broadcast_to(mask, (*batch, q.shape[-2], k.shape[-2])).reshape(n, *mask.shape[-2:])
        attn_mask = torch.tensor(~m).repeat_interleave(heads, dim=0)  # (N * h, Lq, Lk)
    out, _ = mha(*flat, attn_mask=attn_mask, need_weights=False)
    return out.detach().numpy().reshape(*batch, q.shape[-2], -1)


@given(case=mha_cases())
def test_multi_head_attention_equals_torch(case):
    heads, d_model, batch, lq, lk, kdim, vdim, bias, mask_kind, scale, seed = case
    rng = np.random.default_rng(seed)
    q = scale * rng.standard_normal((*batch, lq, d_model))
    k = scale * rng.standard_normal((*batch, lk, kdim))
    v = rng.standard_normal((*batch, lk, vdim))
    mask = {
        "none": None,
        "shared": _mask(rng, (lq, lk), dead_rows=False),
        "batched": _mask(rng, (*batch, lq, lk), dead_rows=False),
        "dead rows": _mask(rng, (*batch, lq, lk), dead_rows=True),
        "per head": _mask(rng, (*batch, heads, lq, lk), dead_rows=True),
    }[mask_kind]
    mha = torch_mha(heads, d_model, kdim, vdim, bias, seed)
    with torch.no_grad():
        for p in mha.parameters():  # nonzero biases, so that every bias is exercised
            p.normal_()
    ours = multi_head_attention(q, k, v, num_heads=heads, mask=mask, **torch_weights(mha))
    theirs = run_torch_mha(mha, q, k, v, mask, heads)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=ATOL * max(1.0, scale**2))


def test_fully_masked_query_gets_the_output_bias():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w = {name: rng.standard_normal((4, 4)) for name in ("w_q", "w_k", "w_v", "w_o")}
    b_o = rng.standard_normal(4)
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    out = multi_head_attention(x, x, x, num_heads=2, mask=mask, b_o=b_o, **w)
    np.testing.assert_array_equal(out[1], b_o)
    assert np.isfinite(out).all()


def test_heads_are_column_blocks_of_the_projections():
    """Head i uses columns i*d_k ... (i+1)*d_k of W_Q, W_K, W_V, and rows of W_O."""
    from conceptref.attention import scaled_dot_product_attention

    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6))
    w = {name: rng.standard_normal((6, 6)) for name in ("w_q", "w_k", "w_v", "w_o")}
    heads = [
        scaled_dot_product_attention(x @ w["w_q"][:, s], x @ w["w_k"][:, s], x @ w["w_v"][:, s])
        for s in (slice(0, 2), slice(2, 4), slice(4, 6))
    ]
    expected = np.concatenate(heads, axis=-1) @ w["w_o"]
    np.testing.assert_allclose(multi_head_attention(x, x, x, num_heads=3, **w), expected, atol=ATOL)


def test_tensor_inputs_are_accepted():
    torch.manual_seed(0)
    x = torch.randn(3, 4, requires_grad=True)
    w = torch.randn(4, 4, dtype=torch.bfloat16)
    out = multi_head_attention(x, x, x, num_heads=2, w_q=w, w_k=w, w_v=w, w_o=w)
    expected = multi_head_attention(
        x.detach().double().numpy(),
        x.detach().double().numpy(),
        x.detach().double().numpy(),
        num_heads=2,
        w_q=w.double().numpy(),
        w_k=w.double().numpy(),
        w_v=w.double().numpy(),
        w_o=w.double().numpy(),
    )
    np.testing.assert_array_equal(out, expected)
    half = multi_head_attention(
        x.half(), x.half(), x.half(), num_heads=1, w_q=w, w_k=w, w_v=w, w_o=w
    )
    assert half.dtype == np.float64


# ---------------------------------------------------------------- positional encoding


@given(n=st.integers(1, 12), d=st.integers(1, 12))
def test_sinusoidal_encoding_matches_the_formula_and_marian(n, d):
    pe = sinusoidal_positional_encoding(n, d)
    assert pe.shape == (n, d)
    for pos in range(n):
        for j in range(d):
            angle = pos / 10000 ** (2 * (j // 2) / d)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert pe[pos, j] == pytest.approx(expected, abs=1e-12)
    # Marian (transformers) puts the sines first and the cosines after: a column permutation.
    marian = MarianSinusoidalPositionalEmbedding(n, d).create_weight().numpy()
    order = np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])
    np.testing.assert_allclose(pe[:, order], marian, atol=1e-6)


def test_sinusoidal_relative_positions_are_rotations():
    """PE(pos + k) is a fixed linear (rotation) map of PE(pos) for each pair of columns."""
    pe = sinusoidal_positional_encoding(20, 8)
    k = 3
    for i in range(4):
        omega = 1 / 10000 ** (2 * i / 8)
        c, s = math.cos(k * omega), math.sin(k * omega)
        rotation = np.array([[c, -s], [s, c]])
        np.testing.assert_allclose(pe[k:, 2 * i : 2 * i + 2], pe[:-k, 2 * i : 2 * i + 2] @ rotation)


# ---------------------------------------------------------------- parameter count


@given(
    heads=st.integers(1, 4),
    dk=st.integers(1, 4),
    d_ff=st.integers(1, 20),
    bias=st.booleans(),
)
def test_parameter_count_equals_torch(heads, dk, d_ff, bias):
    d_model = heads * dk
    layer = torch.nn.TransformerEncoderLayer(d_model, heads, d_ff, bias=bias, batch_first=True)
    expected = sum(p.numel() for p in layer.parameters())
    assert encoder_layer_parameter_count(d_model, heads, d_ff, bias=bias) == expected


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_multi_head_costs_the_same_as_one_head(heads):
    """FLOPs counted by PyTorch: 2 x (4 n d^2 + 2 n^2 d), whatever the number of heads."""
    from torch.utils.flop_counter import FlopCounterMode

    n, d = 10, 64
    x = torch.randn(1, n, d)
    layer = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    with FlopCounterMode(display=False) as counter:
        layer(x, x, x, need_weights=True)  # this path runs its attention as counted bmm calls
    assert counter.get_total_flops() == 2 * (4 * n * d * d + 2 * n * n * d)


def test_base_model_feed_forward_holds_two_thirds():
    total = encoder_layer_parameter_count(512, 8, 2048)
    feed_forward_params = 2 * 512 * 2048 + 2048 + 512
    assert total == 3_152_384
    assert 0.66 < feed_forward_params / total < 0.67


# ---------------------------------------------------------------- layers


@st.composite
def layer_cases(draw):
    heads = draw(st.integers(1, 3))
    d_model = heads * draw(st.integers(1, 3))
    return {
        "heads": heads,
        "d_model": d_model,
        "d_ff": draw(st.integers(1, 6)),
        "batch": draw(st.integers(1, 3)),
        "length": draw(st.integers(1, 4)),
        "source": draw(st.integers(1, 4)),
        "norm_first": draw(st.booleans()),
        "activation": draw(st.sampled_from(["relu", "gelu"])),
        "bias": draw(st.booleans()),
        "eps": draw(st.sampled_from([1e-5, 1e-6, 0.1])),
        "mask": draw(st.sampled_from(["none", "causal", "random", "dead rows"])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _randomize(layer: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in layer.parameters():  # layer norms and biases away from their 1 / 0 defaults
            p.normal_()


def _layer_mask(case, rng, rows, cols):
    kind = case["mask"]
    if kind == "none":
        return None
    if kind == "causal":
        return np.tril(np.ones((rows, cols), dtype=bool))
    return _mask(rng, (case["batch"], rows, cols), dead_rows=kind == "dead rows")


def _torch_mask(mask, case):
    if mask is None:
        return None
    m = torch.from_numpy(~mask)  # PyTorch: True = may not attend
    return m if m.ndim == 2 else m.repeat_interleave(case["heads"], dim=0)


def _torch_layer(cls, case):
    """A PyTorch encoder or decoder layer for a case, in eval mode, with randomized weights."""
    torch.manual_seed(case["seed"])
    layer = cls(
        case["d_model"],
        case["heads"],
        case["d_ff"],
        dropout=0.0,
        activation=case["activation"],
        layer_norm_eps=case["eps"],
        batch_first=True,
        norm_first=case["norm_first"],
        bias=case["bias"],
        dtype=torch.float64,
    ).eval()
    _randomize(layer)
    return layer


@given(case=layer_cases())
def test_encoder_layer_equals_torch(case):
    layer = _torch_layer(torch.nn.TransformerEncoderLayer, case)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["batch"], case["length"], case["d_model"]))
    mask = _layer_mask(case, rng, case["length"], case["length"])
    ours = encoder_layer(
        x,
        layer_weights(layer),
        num_heads=case["heads"],
        norm_first=case["norm_first"],
        activation=case["activation"],
        mask=mask,
        eps=case["eps"],
    )
    with torch.no_grad():
        theirs = layer(torch.from_numpy(x), src_mask=_torch_mask(mask, case)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-11)


@given(case=layer_cases())
def test_decoder_layer_equals_torch(case):
    layer = _torch_layer(torch.nn.TransformerDecoderLayer, case)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["batch"], case["length"], case["d_model"]))
    memory = rng.standard_normal((case["batch"], case["source"], case["d_model"]))
    mask = _layer_mask(case, rng, case["length"], case["length"])
    memory_mask = None
    if case["mask"] != "none":
        memory_mask = _mask(rng, (case["batch"], case["length"], case["source"]), dead_rows=False)
    ours = decoder_layer(
        x,
        memory,
        layer_weights(layer),
        num_heads=case["heads"],
        norm_first=case["norm_first"],
        activation=case["activation"],
        mask=mask,
        memory_mask=memory_mask,
        eps=case["eps"],
    )
    with torch.no_grad():
        theirs = layer(
            torch.from_numpy(x),
            torch.from_numpy(memory),
            tgt_mask=_torch_mask(mask, case),
            memory_mask=_torch_mask(memory_mask, case),
        ).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-11)


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    eps=st.sampled_from([1e-5, 1e-12, 1.0]),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([0.0, 1e-4, 1.0, 1e4]),
)
def test_layer_norm_equals_torch(shape, eps, seed, scale):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape)
    w, b = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    expected = torch.nn.functional.layer_norm(
        torch.from_numpy(x), (shape[-1],), torch.from_numpy(w), torch.from_numpy(b), eps
    ).numpy()
    np.testing.assert_allclose(layer_norm(x, w, b, eps=eps), expected, rtol=1e-9, atol=1e-9)


def test_causal_decoder_layer_uses_no_future_token():
    torch.manual_seed(0)
    layer = torch.nn.TransformerDecoderLayer(8, 2, 16, batch_first=True, dtype=torch.float64)
    weights = layer_weights(layer)
    rng = np.random.default_rng(0)
    x, memory = rng.standard_normal((6, 8)), rng.standard_normal((3, 8))
    changed = x.copy()
    changed[4] += 1.0
    a = decoder_layer(x, memory, weights, num_heads=2, mask=causal_mask(6))
    b = decoder_layer(changed, memory, weights, num_heads=2, mask=causal_mask(6))
    np.testing.assert_array_equal(a[:4], b[:4])
    assert not np.allclose(a[4:], b[4:])


# ---------------------------------------------------------------- RoPE and ALiBi


def llama_rope(x: np.ndarray, positions: np.ndarray, base: float) -> np.ndarray:
    """transformers' LLaMA rotation: its cos/sin (in float64) through apply_rotary_pos_emb."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.from_numpy(positions)[:, None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    t = torch.from_numpy(x)
    # unsqueeze_dim=0 leaves cos/sin as (T, d), broadcast over x's leading axes
    q, _ = apply_rotary_pos_emb(t, t, emb.cos(), emb.sin(), unsqueeze_dim=0)
    return q.numpy().reshape(x.shape)  # a 2-D x gains a leading axis of 1


@given(
    lead=st.lists(st.integers(1, 3), max_size=2),
    length=st.integers(1, 5),
    half=st.integers(1, 4),
    base=st.sampled_from([10000.0, 500000.0, 2.0, 1.0]),
    integer=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_rotary_embedding_equals_llama(lead, length, half, base, integer, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, length, 2 * half))
    positions = (
        rng.integers(0, 4096, size=length).astype(np.float64)
        if integer
        else rng.uniform(-50, 50, size=length)
    )
    # an angle m * theta carries a rounding error of about m * 1e-16
    atol = 1e-12 * max(1.0, np.abs(positions).max() / 100)
    np.testing.assert_allclose(
        rotary_embedding(x, positions, base=base), llama_rope(x, positions, base), rtol=0, atol=atol
    )


def test_rotary_embedding_equals_llama_rotary_module():
    """The cos and sin of LlamaRotaryEmbedding itself (float32), to float32's resolution."""
    config = LlamaConfig(hidden_size=16, num_attention_heads=2, rope_theta=10000.0)
    rope = LlamaRotaryEmbedding(config)
    x = torch.randn(1, 2, 7, 8, generator=torch.Generator().manual_seed(0))
    position_ids = torch.arange(7)[None]
    cos, sin = rope(x, position_ids)
    theirs, _ = apply_rotary_pos_emb(x, x, cos, sin)
    ours = rotary_embedding(x, np.arange(7))
    np.testing.assert_allclose(ours, theirs.double().numpy(), rtol=0, atol=1e-5)


@given(m=st.integers(0, 100), n=st.integers(0, 100), shift=st.integers(0, 1000))
def test_rotary_scores_depend_on_the_offset_only(m, n, shift):
    rng = np.random.default_rng(m * 101 + n)
    q, k = rng.standard_normal((2, 1, 6))
    score = (rotary_embedding(q, [m]) @ rotary_embedding(k, [n]).T).item()
    shifted = (rotary_embedding(q, [m + shift]) @ rotary_embedding(k, [n + shift]).T).item()
    assert shifted == pytest.approx(score, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("heads", [*range(1, 18), 24, 31, 32, 33, 48, 64, 80, 96, 112])
def test_alibi_slopes_equal_bloom(heads):
    mask = torch.ones(1, 3, dtype=torch.long)
    # BLOOM's bias for key j is slope * j: its slopes are the bias at key 1
    theirs = build_alibi_tensor(mask, heads, torch.float32)[:, 0, 1].double().numpy()
    np.testing.assert_allclose(alibi_slopes(heads), theirs, rtol=1e-6, atol=0)


def test_alibi_slopes_of_a_power_of_two_are_a_geometric_sequence():
    np.testing.assert_array_equal(alibi_slopes(8), 0.5 ** np.arange(1, 9))
    np.testing.assert_array_equal(alibi_slopes(16)[1::2], alibi_slopes(8))


# ---------------------------------------------------------------- stability (no silent wrong answer)


def test_layer_norm_survives_an_overflowing_variance():
    out = layer_norm([[1e200, -1e200], [1e308, 1e308]])
    np.testing.assert_allclose(out, [[1.0, -1.0], [0.0, 0.0]], rtol=1e-12)
    x = np.array([3e305, -1e306, 2.5e306, 7e305])
    expected = layer_norm(x / 1e300)  # the same up to eps, which is negligible at both scales
    np.testing.assert_allclose(layer_norm(x), expected, rtol=1e-9)


def test_layer_weights_are_copies():
    layer = torch.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True, dtype=torch.float64)
    weights = layer_weights(layer)
    weights["linear1.weight"][:] = 0.0
    weights["norm1.weight"][:] = 0.0
    assert bool(layer.linear1.weight.abs().sum() > 0)
    assert bool((layer.norm1.weight == 1).all())


def test_overflow_of_an_intermediate_is_named():
    big = np.full((2, 4), 1e200)
    with pytest.raises(ValueError, match=re.escape("query @ w_q + b_q overflows float64")):
        multi_head_attention(big, X, X, num_heads=2, **{**GOOD, "w_q": EYE * 1e200})
    with pytest.raises(ValueError, match="attention scores"):
        multi_head_attention(big, big, big, num_heads=2, **GOOD)


def test_a_fully_masked_query_row_gets_zeros_where_attention_raises():
    """The transformer's attention follows torch (zeros); conceptref.attention raises instead."""
    from conceptref.attention import scaled_dot_product_attention

    mask = np.array([[False, False, False], [True, True, True], [True, False, True]])
    out = multi_head_attention(X, X, X, num_heads=1, mask=mask, **GOOD)
    np.testing.assert_array_equal(out[0], np.zeros(4))
    with pytest.raises(ValueError, match="mask allows no key"):
        scaled_dot_product_attention(X, X, X, mask)


# ---------------------------------------------------------------- bad input

EYE = np.eye(4)
X = np.ones((3, 4))
GOOD = {"w_q": EYE, "w_k": EYE, "w_v": EYE, "w_o": EYE}
MHA = {"query": X, "key": X, "value": X, "num_heads": 2, **GOOD}
_ENC = torch.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True, dtype=torch.float64)
_DEC = torch.nn.TransformerDecoderLayer(4, 2, 8, batch_first=True, dtype=torch.float64)
ENC_W = layer_weights(_ENC)
DEC_W = layer_weights(_DEC)
FF = {
    "x": np.ones((1, 2)),
    "w_1": np.ones((2, 4)),
    "b_1": None,
    "w_2": np.ones((4, 2)),
    "b_2": None,
}


def mha(**kwargs):
    return multi_head_attention(**{**MHA, **kwargs})


def ff(**kwargs):
    return feed_forward(**{**FF, **kwargs})


def without(weights, key):
    return {k: v for k, v in weights.items() if k != key}


BAD_INPUT = [
    bad(mha, num_heads=3, error=ValueError, match="num_heads = 3 must divide d_model = 4"),
    bad(mha, num_heads=0, error=ValueError, match="num_heads must be at least 1"),
    bad(mha, num_heads=2.0, error=TypeError, match="num_heads must be an integer"),
    bad(mha, w_q=np.eye(3), error=ValueError, match="w_q must have shape (4, 4)"),
    bad(mha, w_o=np.ones((4, 2)), error=ValueError, match="w_o must have shape (4, 4)"),
    bad(mha, b_q=np.ones(3), error=ValueError, match="b_q must have shape (4,)"),
    bad(mha, w_k=np.full((4, 4), np.nan), error=ValueError, match="w_k must be finite"),
    bad(mha, mask=np.ones((3, 3)), error=TypeError, match="mask must be a boolean array"),
    bad(mha, mask=np.ones((2, 3, 2), dtype=bool), error=ValueError, match="does not broadcast to"),
    bad(mha, query=np.ones(4), error=ValueError, match="query must have at least 2 dimensions"),
    bad(mha, query=np.ones((0, 4)), error=ValueError, match="at least one position"),
    bad(mha, value=np.ones((2, 4)), error=ValueError, match="key.shape[-2] and value.shape[-2]"),
    bad(
        mha,
        key=np.ones((2, 3, 4)),
        value=np.ones((3, 3, 4)),
        error=ValueError,
        match="do not broadcast",
    ),
    bad(mha, query=np.array([["a"] * 4] * 3), error=TypeError, match="query must be an array of"),
    bad(sinusoidal_positional_encoding, 0, 4, error=ValueError, match="n_positions must be at"),
    bad(sinusoidal_positional_encoding, 3, 0, error=ValueError, match="d_model must be at least 1"),
    bad(
        sinusoidal_positional_encoding, 3.0, 4, error=TypeError, match="n_positions must be an int"
    ),
    bad(
        sinusoidal_positional_encoding, 3, True, error=TypeError, match="d_model must be an integer"
    ),
    bad(sinusoidal_positional_encoding, 10**6, 10**6, error=ValueError, match="would need"),
    bad(
        encoder_layer_parameter_count, 6, 4, 8, error=ValueError, match="num_heads = 4 must divide"
    ),
    bad(
        encoder_layer_parameter_count, 0, 1, 8, error=ValueError, match="d_model must be at least 1"
    ),
    bad(encoder_layer_parameter_count, 4, 1, 0, error=ValueError, match="dim_feedforward must be"),
    bad(
        encoder_layer_parameter_count, 4, 1, 8, bias=1, error=TypeError, match="bias must be a bool"
    ),
    bad(encoder_layer_parameter_count, 4.0, 1, 8, error=TypeError, match="d_model must be an int"),
    bad(
        encoder_layer,
        X,
        without(ENC_W, "linear1.weight"),
        num_heads=2,
        error=ValueError,
        match="weights lacks the key(s) 'linear1.weight'",
    ),
    bad(encoder_layer, X, {}, num_heads=2, error=ValueError, match="'self_attn.w_q'"),
    bad(encoder_layer, X, [1, 2], num_heads=2, error=TypeError, match="weights must be a dict"),
    bad(
        encoder_layer,
        X,
        {**without(ENC_W, "linear1.bias"), "linear1.bais": ENC_W["linear1.bias"]},
        num_heads=2,
        error=ValueError,
        match="weights has unknown key(s) 'linear1.bais'",
    ),
    bad(
        encoder_layer,
        X,
        {**ENC_W, "cross_attn.w_q": EYE},
        num_heads=2,
        error=ValueError,
        match="unknown key(s) 'cross_attn.w_q'",
    ),
    bad(encoder_layer, X, ENC_W, num_heads=2, norm_first="no", error=TypeError, match="norm_first"),
    bad(
        encoder_layer,
        X,
        ENC_W,
        num_heads=2,
        activation="tanh",
        error=ValueError,
        match="activation must be one of 'relu', 'gelu'",
    ),
    bad(
        encoder_layer,
        np.ones((2, 3)),
        ENC_W,
        num_heads=1,
        error=ValueError,
        match="weights['self_attn.w_q'] must have shape (3, 3)",
    ),
    bad(encoder_layer, X, ENC_W, num_heads=2, eps=0.0, error=ValueError, match="eps must be a"),
    bad(
        encoder_layer,
        X,
        ENC_W,
        num_heads=2,
        mask=np.ones((2, 2), dtype=bool),
        error=ValueError,
        match="mask of shape (2, 2) does not broadcast",
    ),
    bad(
        encoder_layer,
        X,
        {**ENC_W, "norm1.weight": np.ones(3)},
        num_heads=2,
        error=ValueError,
        match="weights['norm1.weight'] must have shape (4,)",
    ),
    bad(
        encoder_layer,
        np.full((3, 4), 1e200),
        {**ENC_W, "self_attn.w_q": EYE * 1e200},
        num_heads=2,
        error=ValueError,
        match="x @ weights['self_attn.w_q'] + weights['self_attn.b_q'] overflows",
    ),
    bad(layer_weights, torch.nn.Linear(2, 2), error=TypeError, match="layer must be a torch.nn."),
    bad(decoder_layer, X, np.ones(4), DEC_W, num_heads=2, error=ValueError, match="memory must"),
    bad(
        decoder_layer,
        X,
        X,
        DEC_W,
        num_heads=2,
        memory_mask=np.ones((3, 2), dtype=bool),
        error=ValueError,
        match="memory_mask of shape (3, 2) does not broadcast",
    ),
    bad(
        decoder_layer,
        X,
        np.ones((3, 5)),
        DEC_W,
        num_heads=2,
        error=ValueError,
        match="weights['cross_attn.w_k'] must have shape (5, 4)",
    ),
    bad(decoder_layer, X, X, ENC_W, num_heads=2, error=ValueError, match="'cross_attn.w_q'"),
    bad(ff, w_1=np.ones((3, 4)), error=ValueError, match="x.shape[-1] and w_1.shape[0] must agree"),
    bad(ff, w_2=np.ones((2, 4)), error=ValueError, match="w_2 must have shape (4, 2)"),
    bad(ff, b_1=np.ones(2), error=ValueError, match="b_1 must have shape (4,)"),
    bad(ff, activation="elu", error=ValueError, match="activation must be one of"),
    bad(ff, activation=None, error=TypeError, match="activation must be one of"),
    bad(
        ff, w_2=np.full((4, 2), 1e300), x=np.full((1, 2), 1e10), error=ValueError, match="overflows"
    ),
    bad(layer_norm, np.ones((2, 3)), np.ones(2), error=ValueError, match="weight must have shape"),
    bad(layer_norm, np.ones((2, 0)), error=ValueError, match="x must have at least one feature"),
    bad(layer_norm, [1.0, 2.0], eps=-1.0, error=ValueError, match="eps must be a finite number"),
    bad(
        layer_norm,
        [1.0, 2.0],
        [1e308, 1e308],
        [1e308, 1e308],
        error=ValueError,
        match="layer norm's output",
    ),
    bad(rotary_embedding, np.ones((2, 3)), [0, 1], error=ValueError, match="even, non-zero last"),
    bad(rotary_embedding, np.ones((2, 0)), [0, 1], error=ValueError, match="even, non-zero last"),
    bad(rotary_embedding, np.ones(4), [0], error=ValueError, match="x must have at least 2 dim"),
    bad(
        rotary_embedding,
        np.ones((2, 4)),
        [0, 1, 2],
        error=ValueError,
        match="x.shape[-2] and len(positions) must agree",
    ),
    bad(rotary_embedding, np.ones((1, 4)), [np.nan], error=ValueError, match="positions must be"),
    bad(rotary_embedding, np.ones((1, 4)), [[0]], error=ValueError, match="positions must be one-"),
    bad(rotary_embedding, np.ones((1, 4)), [0], base=0.0, error=ValueError, match="base must be"),
    bad(rotary_embedding, np.ones((1, 4)), [0], base="1", error=TypeError, match="base must be a"),
    bad(
        rotary_embedding,
        np.ones((1, 4)),
        [1e300],
        base=1e-300,
        error=ValueError,
        match="base ** (-2i/d) overflows",
    ),
    bad(
        rotary_embedding,
        np.full((1, 2), 1.7e308),
        [0.7],
        error=ValueError,
        match="the rotated x overflows",
    ),
    bad(alibi_slopes, 0, error=ValueError, match="num_heads must be at least 1"),
    bad(alibi_slopes, 2.0, error=TypeError, match="num_heads must be an integer"),
    bad(alibi_slopes, 2**40, error=ValueError, match="would need"),
]

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)

HOSTILE = [
    hostile(multi_head_attention, **MHA),
    hostile(sinusoidal_positional_encoding, n_positions=3, d_model=4),
    hostile(encoder_layer_parameter_count, d_model=4, num_heads=2, dim_feedforward=8),
    hostile(layer_norm, x=X, weight=np.ones(4), bias=np.zeros(4), eps=1e-5),
    hostile(feed_forward, **FF, activation="gelu"),
    hostile(layer_weights, layer=_ENC),
    hostile(encoder_layer, x=X, weights=ENC_W, num_heads=2, norm_first=True, mask=None),
    hostile(decoder_layer, x=X, memory=X, weights=DEC_W, num_heads=2, memory_mask=None),
    hostile(rotary_embedding, x=np.ones((2, 4)), positions=[0, 1], base=10000.0),
    hostile(alibi_slopes, num_heads=6),
]

test_hostile_input = hostile_input_test(HOSTILE)
