"""The transformer's blocks, written out in NumPy.

This module is the reference implementation behind the page :doc:`/concepts/transformer`:
multi-head attention, the sinusoidal positional encoding, layer normalization, the position-wise
feed-forward block, and the encoder and decoder layers of Vaswani et al. (2017) in both the
post-LN (the paper's) and pre-LN arrangement, and two relative position schemes, the rotary
embedding (RoPE) and ALiBi's slopes. ``tests/test_transformer.py`` checks them against
:class:`torch.nn.MultiheadAttention`, :class:`torch.nn.TransformerEncoderLayer`,
:class:`torch.nn.TransformerDecoderLayer` (float64) and ``transformers``' LLaMA and BLOOM.

Conventions, as in :mod:`conceptref.attention`:

- weights act on row vectors, ``X @ W`` (PyTorch's :class:`torch.nn.Linear` stores the
  transpose); :func:`layer_weights` converts a PyTorch layer's parameters;
- boolean masks mean ``True`` = *this query may attend to this key* (the opposite of
  :class:`torch.nn.MultiheadAttention`'s ``attn_mask`` and ``key_padding_mask``);
- a query whose mask allows no key at all receives a zero attention output (before the output
  projection), as in :func:`torch.nn.functional.scaled_dot_product_attention`, in
  :class:`torch.nn.MultiheadAttention` called with ``need_weights=False`` and in the transformer
  layers. (:class:`torch.nn.MultiheadAttention` with its default ``need_weights=True`` returns
  NaN there instead, and :func:`conceptref.attention.scaled_dot_product_attention`, one head
  with its weights, raises a ValueError: its weights would be 0/0.)

Every error names the caller's argument: in :func:`encoder_layer`, a misshapen query projection
is ``weights['self_attn.w_q']``, not ``w_q``; a product that overflows float64 is reported as
that product (``x @ weights['self_attn.w_q'] + ...``), not as a non-finite input.

Tensors are accepted wherever arrays are: they are detached and converted to float64.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from conceptref._validation import (
    Interval,
    check_array,
    check_bool,
    check_bool_array,
    check_dims_agree,
    check_int,
    check_keys,
    check_option,
    check_real,
    check_size,
)

__all__ = [
    "alibi_slopes",
    "decoder_layer",
    "encoder_layer",
    "encoder_layer_parameter_count",
    "feed_forward",
    "layer_norm",
    "layer_weights",
    "multi_head_attention",
    "rotary_embedding",
    "sinusoidal_positional_encoding",
]

ACTIVATIONS = ("relu", "gelu")

ALLOCATION_LIMIT = 2**24
"""The largest number of entries that a helper building an array from sizes alone allocates."""


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def multi_head_attention(
    query: npt.ArrayLike,
    key: npt.ArrayLike,
    value: npt.ArrayLike,
    *,
    num_heads: int,
    w_q: npt.ArrayLike,
    w_k: npt.ArrayLike,
    w_v: npt.ArrayLike,
    w_o: npt.ArrayLike,
    b_q: npt.ArrayLike | None = None,
    b_k: npt.ArrayLike | None = None,
    b_v: npt.ArrayLike | None = None,
    b_o: npt.ArrayLike | None = None,
    mask: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    r"""Multi-head attention (Vaswani et al., 2017, section 3.2.2).

    .. math::
        \operatorname{MultiHead}(Q, K, V) = \operatorname{Concat}(\text{head}_1, \dots,
        \text{head}_h)\, W_O + b_O, \qquad
        \text{head}_i = \operatorname{Attention}(Q W_Q^{(i)}, K W_K^{(i)}, V W_V^{(i)}),

    where :math:`W_Q^{(i)}` is the block of columns :math:`i d_k \dots (i+1) d_k - 1` of
    :math:`W_Q` and :math:`d_k = d_\text{model} / h`. Splitting one
    :math:`d_\text{model} \times d_\text{model}` projection into :math:`h` heads of width
    :math:`d_k` costs the same as one head of width :math:`d_\text{model}`.

    Parameters
    ----------
    query
        Queries of shape ``(..., Lq, d_model)``.
    key
        Keys of shape ``(..., Lk, kdim)``; leading dimensions broadcast.
    value
        Values of shape ``(..., Lk, vdim)``.
    num_heads
        The number of heads :math:`h`; it must divide ``d_model``.
    w_q, w_k, w_v
        Input projections of shapes ``(d_model, d_model)``, ``(kdim, d_model)`` and
        ``(vdim, d_model)``, applied as ``X @ W``.
    w_o
        Output projection of shape ``(d_model, d_model)``.
    b_q, b_k, b_v, b_o
        Optional biases of shape ``(d_model,)``.
    mask
        Optional boolean array broadcastable to ``(..., Lq, Lk)``, shared by all heads, or
        with a head axis, ``(..., h, Lq, Lk)``; ``True`` means the query may attend to the key.
        A query row with no allowed key gets a zero output from that head (as in PyTorch's
        ``scaled_dot_product_attention``), so a fully masked query's result is ``b_o``.
        (:func:`conceptref.attention.scaled_dot_product_attention` raises a ValueError for
        such a row instead.)

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(..., Lq, d_model)``.

    Raises
    ------
    TypeError
        If an input is not numeric, ``mask`` is not boolean, or ``num_heads`` is not an integer.
    ValueError
        If a shape does not fit the rules above, ``num_heads`` does not divide ``d_model``, an
        input holds NaN or infinity, a sequence is empty, or a projection, the scores or the
        output overflow float64.

    See Also
    --------
    conceptref.attention.scaled_dot_product_attention : one head.

    Examples
    --------
    With identity projections and one head, multi-head attention is plain attention:

    >>> import numpy as np
    >>> from conceptref.transformer import multi_head_attention
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> eye = np.eye(2)
    >>> out = multi_head_attention(x, x, x, num_heads=1, w_q=eye, w_k=eye, w_v=eye, w_o=eye)
    >>> np.round(out, 4).tolist()
    [[0.6698, 0.3302], [0.3302, 0.6698]]
    """
    return _multi_head_attention(
        query,
        key,
        value,
        num_heads,
        {"w_q": w_q, "w_k": w_k, "w_v": w_v, "w_o": w_o},
        {"b_q": b_q, "b_k": b_k, "b_v": b_v, "b_o": b_o},
        mask,
        _PLAIN_NAMES,
    )


_PLAIN_NAMES = {
    name: name
    for name in (
        *("query", "key", "value", "num_heads", "mask"),
        *("w_q", "w_k", "w_v", "w_o", "b_q", "b_k", "b_v", "b_o"),
    )
}


def _finite(array: npt.NDArray[np.float64], what: str) -> npt.NDArray[np.float64]:
    """Return ``array`` if it is finite, else raise ValueError: ``what`` overflowed float64."""
    if not np.isfinite(array).all():
        raise ValueError(f"{what} overflows float64 (finite inputs too large in magnitude)")
    return array


def _multi_head_attention(
    query: object,
    key: object,
    value: object,
    num_heads: object,
    weights: Mapping[str, object],
    biases: Mapping[str, object | None],
    mask: object,
    names: Mapping[str, str],
) -> npt.NDArray[np.float64]:
    """Multi-head attention with every message naming the caller's argument (``names``)."""
    n = names
    q_in = check_array(query, n["query"], min_ndim=2)
    k_in = check_array(key, n["key"], min_ndim=2)
    v_in = check_array(value, n["value"], min_ndim=2)
    heads = check_int(num_heads, n["num_heads"], Interval(1, None))
    d_model = q_in.shape[-1]
    if d_model == 0:
        raise ValueError(f"{n['query']} must have at least one feature, got shape {q_in.shape}")
    if d_model % heads:
        raise ValueError(f"{n['num_heads']} = {heads} must divide d_model = {d_model}")
    if q_in.shape[-2] == 0 or k_in.shape[-2] == 0:
        raise ValueError(
            f"{n['query']} and {n['key']} must hold at least one position, got shapes "
            f"{q_in.shape}, {k_in.shape}"
        )
    check_dims_agree(
        [(f"{n['key']}.shape[-2]", k_in.shape[-2]), (f"{n['value']}.shape[-2]", v_in.shape[-2])],
        what="the number of positions Lk",
    )
    try:
        batch = np.broadcast_shapes(q_in.shape[:-2], k_in.shape[:-2], v_in.shape[:-2])
    except ValueError:
        raise ValueError(
            f"the leading (batch) dimensions of {n['query']}, {n['key']} and {n['value']} do not "
            f"broadcast: {q_in.shape}, {k_in.shape}, {v_in.shape}"
        ) from None
    shapes = {
        "w_q": (d_model, d_model),
        "w_k": (k_in.shape[-1], d_model),
        "w_v": (v_in.shape[-1], d_model),
        "w_o": (d_model, d_model),
    }
    w = {role: check_array(weights[role], n[role], ndim=2, shape=shapes[role]) for role in shapes}
    b = {
        role: np.zeros(d_model) if bias is None else check_array(bias, n[role], shape=(d_model,))
        for role, bias in biases.items()
    }
    lq, lk = q_in.shape[-2], k_in.shape[-2]
    allowed: npt.NDArray[np.bool_] | None = None
    dead: npt.NDArray[np.bool_] | None = None
    if mask is not None:
        allowed = check_bool_array(mask, n["mask"])
        allowed = allowed.reshape((1,) * max(0, 2 - allowed.ndim) + allowed.shape)
        target = (*batch, lq, lk)
        per_head = (*batch, heads, lq, lk)
        if _broadcasts(allowed.shape, target):
            allowed = allowed[..., None, :, :]  # (..., 1, Lq, Lk): shared by the heads
        elif allowed.ndim == len(per_head) and _broadcasts(allowed.shape, per_head):
            pass  # (..., h, Lq, Lk): one mask per head
        else:
            raise ValueError(
                f"{n['mask']} of shape {allowed.shape} does not broadcast to (..., Lq, Lk) = "
                f"{target} (or, with a head axis, to (..., h, Lq, Lk) = {per_head})"
            )
        dead = np.logical_not(allowed.any(axis=-1, keepdims=True))  # rows with no key

    d_k = d_model // heads

    def split(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        # (..., L, d_model) -> (..., h, L, d_k)
        return np.swapaxes(x.reshape(*x.shape[:-1], heads, d_k), -2, -3)

    with np.errstate(over="ignore", invalid="ignore"):
        q = split(_finite(q_in @ w["w_q"] + b["b_q"], f"{n['query']} @ {n['w_q']} + {n['b_q']}"))
        k = split(_finite(k_in @ w["w_k"] + b["b_k"], f"{n['key']} @ {n['w_k']} + {n['b_k']}"))
        v = split(_finite(v_in @ w["w_v"] + b["b_v"], f"{n['value']} @ {n['w_v']} + {n['b_v']}"))
        scores = _finite(
            (q @ np.swapaxes(k, -1, -2)) / math.sqrt(d_k), "the attention scores Q K^T / sqrt(d_k)"
        )  # (..., h, Lq, Lk)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        top = scores.max(axis=-1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)  # a row with no allowed key: all -inf
        e = np.exp(scores - top)
        total = e.sum(axis=-1, keepdims=True)
        weights_ = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
        heads_out = weights_ @ v  # (..., h, Lq, d_k); a row with no allowed key gets zeros
        if dead is not None:
            heads_out = np.where(dead, 0.0, heads_out)
        concat = np.swapaxes(heads_out, -2, -3)  # (..., Lq, h, d_k)
        concat = concat.reshape(*concat.shape[:-2], d_model)  # (..., Lq, d_model)
        out = _finite(concat @ w["w_o"] + b["b_o"], f"the attention output @ {n['w_o']}")
    return np.asarray(out, dtype=np.float64)


def sinusoidal_positional_encoding(n_positions: int, d_model: int) -> npt.NDArray[np.float64]:
    r"""Compute the sinusoidal positional encoding of Vaswani et al. (2017), section 3.5.

    .. math::
        PE_{(pos,\, 2i)} = \sin\!\left(\frac{pos}{10000^{2i/d_\text{model}}}\right), \qquad
        PE_{(pos,\, 2i+1)} = \cos\!\left(\frac{pos}{10000^{2i/d_\text{model}}}\right).

    Sines and cosines are interleaved (even columns sine, odd columns cosine), as in the paper;
    many codebases put all sines first and all cosines after, which is the same matrix with its
    columns permuted. For an odd ``d_model`` the last column is a sine.

    Parameters
    ----------
    n_positions
        The number of positions (rows), ``pos = 0 … n_positions - 1``.
    d_model
        The width of the encoding (columns).

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n_positions, d_model)`` with entries in ``[-1, 1]``.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is less than 1.

    Examples
    --------
    >>> from conceptref.transformer import sinusoidal_positional_encoding
    >>> pe = sinusoidal_positional_encoding(3, 4)
    >>> [[round(v, 4) for v in row] for row in pe.tolist()]
    [[0.0, 1.0, 0.0, 1.0], [0.8415, 0.5403, 0.01, 1.0], [0.9093, -0.4161, 0.02, 0.9998]]
    """
    n = check_int(n_positions, "n_positions", Interval(1, None))
    d = check_int(d_model, "d_model", Interval(1, None))
    check_size([("n_positions", n), ("d_model", d)], limit=ALLOCATION_LIMIT)
    position = np.arange(n, dtype=np.float64)[:, None]  # (n, 1)
    pair = np.arange(d) // 2  # i for column 2i and 2i + 1
    angle = position / np.power(10000.0, 2.0 * pair / d)  # (n, d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angle), np.cos(angle))


def encoder_layer_parameter_count(
    d_model: int, num_heads: int, dim_feedforward: int, *, bias: bool = True
) -> int:
    r"""Count the parameters of one transformer encoder layer.

    .. math::
        \underbrace{4 d^2 + 4d}_{\text{attention}}
        + \underbrace{2 d\, d_\text{ff} + d_\text{ff} + d}_{\text{feed-forward}}
        + \underbrace{2 \cdot 2d}_{\text{two layer norms}}

    with :math:`d = d_\text{model}`; without biases (``bias=False``, as in
    :class:`torch.nn.TransformerEncoderLayer`, which then drops the layer norms' biases too) the
    terms :math:`4d`, :math:`d_\text{ff} + d` and half of the layer norms' :math:`4d` go. The
    number of heads does not enter: the heads split :math:`W_Q, W_K, W_V` rather than adding to
    them.

    Parameters
    ----------
    d_model
        The model width :math:`d`.
    num_heads
        The number of heads; it must divide ``d_model``.
    dim_feedforward
        The inner width :math:`d_\text{ff}` of the feed-forward block.
    bias
        Whether the linear maps and layer norms have biases.

    Returns
    -------
    int
        The parameter count; a decoder layer adds one more attention block and one more layer
        norm.

    Raises
    ------
    TypeError
        If a size is not an integer or ``bias`` is not a bool.
    ValueError
        If a size is less than 1 or ``num_heads`` does not divide ``d_model``.

    Examples
    --------
    The base model of the paper (:math:`d = 512`, :math:`h = 8`, :math:`d_\text{ff} = 2048`):

    >>> from conceptref.transformer import encoder_layer_parameter_count
    >>> encoder_layer_parameter_count(512, 8, 2048)
    3152384
    """
    d = check_int(d_model, "d_model", Interval(1, None))
    h = check_int(num_heads, "num_heads", Interval(1, None))
    d_ff = check_int(dim_feedforward, "dim_feedforward", Interval(1, None))
    bias = check_bool(bias, "bias")
    if d % h:
        raise ValueError(f"num_heads = {h} must divide d_model = {d}")
    b = int(bool(bias))
    attention = 4 * d * d + b * 4 * d
    feed = 2 * d * d_ff + b * (d_ff + d)
    norms = 2 * (d + b * d)
    return attention + feed + norms


def layer_norm(
    x: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    bias: npt.ArrayLike | None = None,
    *,
    eps: float = 1e-5,
) -> npt.NDArray[np.float64]:
    r"""Layer normalization over the last axis (Ba et al., 2016).

    .. math:: \operatorname{LN}(x) = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}
              \odot \gamma + \beta,

    with :math:`\mu` and the biased variance :math:`\sigma^2` of the features of one position,
    as :class:`torch.nn.LayerNorm` computes it.

    Parameters
    ----------
    x
        Array of shape ``(..., d)``.
    weight, bias
        Optional gain :math:`\gamma` and shift :math:`\beta` of shape ``(d,)``.
    eps
        The :math:`\varepsilon` added to the variance.

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``x``.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        If a shape does not fit, an input is not finite, or ``eps`` is not positive.

    Examples
    --------
    >>> from conceptref.transformer import layer_norm
    >>> [round(v, 4) for v in layer_norm([1.0, 2.0, 3.0]).tolist()]
    [-1.2247, 0.0, 1.2247]
    """
    return _layer_norm(x, weight, bias, eps, {"x": "x", "weight": "weight", "bias": "bias"})


def _layer_norm(
    x: object, weight: object, bias: object, eps: object, names: Mapping[str, str]
) -> npt.NDArray[np.float64]:
    """Layer normalization with every message naming the caller's argument (``names``).

    Each row is first divided by a power of two near its largest magnitude, which is exact, so
    that the mean and the (two-pass) variance never overflow: ``[1e200, -1e200]`` normalizes to
    ``[1, -1]`` instead of dividing by an infinite variance.
    """
    a = check_array(x, names["x"], min_ndim=1)
    d = a.shape[-1]
    if d == 0:
        raise ValueError(f"{names['x']} must have at least one feature, got shape {a.shape}")
    epsilon = check_real(eps, "eps", Interval(0, None, "neither"))
    largest = np.abs(a).max(axis=-1, keepdims=True)
    _, exponent = np.frexp(largest)  # largest = m * 2**exponent with 0.5 <= m < 1 (0 for 0)
    scaled = np.ldexp(a, -exponent)  # entries in [-1, 1]
    centred = scaled - scaled.mean(axis=-1, keepdims=True)
    var = (centred**2).mean(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):
        eps_scaled = np.ldexp(epsilon, -2 * exponent)  # eps in the scaled units (may be inf)
    denominator = np.sqrt(var + eps_scaled)
    out = np.divide(centred, denominator, out=np.zeros_like(centred), where=centred != 0)
    with np.errstate(over="ignore", invalid="ignore"):
        if weight is not None:
            out = out * check_array(weight, names["weight"], shape=(d,))
        if bias is not None:
            out = out + check_array(bias, names["bias"], shape=(d,))
    return _finite(np.asarray(out, dtype=np.float64), "the layer norm's output (weight * x̂ + bias)")


def feed_forward(
    x: npt.ArrayLike,
    w_1: npt.ArrayLike,
    b_1: npt.ArrayLike | None,
    w_2: npt.ArrayLike,
    b_2: npt.ArrayLike | None,
    *,
    activation: str = "relu",
) -> npt.NDArray[np.float64]:
    r"""Apply the position-wise feed-forward block, :math:`f(x W_1 + b_1) W_2 + b_2`.

    The same two-layer network is applied to every position separately (section 3.3 of
    Vaswani et al., 2017, with :math:`f` = ReLU; many later models use GELU).

    Parameters
    ----------
    x
        Array of shape ``(..., d_model)``.
    w_1, b_1
        First layer, shapes ``(d_model, d_ff)`` and ``(d_ff,)`` (``b_1`` may be ``None``).
    w_2, b_2
        Second layer, shapes ``(d_ff, d_model)`` and ``(d_model,)`` (``b_2`` may be ``None``).
    activation
        ``"relu"`` or ``"gelu"`` (the exact, erf-based GELU).

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``x``.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        If a shape does not fit, an input is not finite, or ``activation`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.transformer import feed_forward
    >>> x = np.array([[1.0, -1.0]])
    >>> feed_forward(x, np.eye(2), None, np.ones((2, 2)), None).tolist()
    [[1.0, 1.0]]
    """
    names = {"x": "x", "w_1": "w_1", "b_1": "b_1", "w_2": "w_2", "b_2": "b_2"}
    return _feed_forward(x, w_1, b_1, w_2, b_2, activation, names)


def _feed_forward(
    x: object,
    w_1: object,
    b_1: object,
    w_2: object,
    b_2: object,
    activation: object,
    names: Mapping[str, str],
) -> npt.NDArray[np.float64]:
    """Apply the feed-forward block, every message naming the caller's argument (``names``)."""
    n = names
    a = check_array(x, n["x"], min_ndim=1)
    d_model = a.shape[-1]
    w1 = check_array(w_1, n["w_1"], ndim=2)
    check_dims_agree(
        [(f"{n['x']}.shape[-1]", d_model), (f"{n['w_1']}.shape[0]", w1.shape[0])],
        what="the model width d_model",
    )
    d_ff = w1.shape[1]
    w2 = check_array(w_2, n["w_2"], ndim=2, shape=(d_ff, d_model))
    kind = check_option(activation, "activation", ACTIVATIONS)
    b1 = None if b_1 is None else check_array(b_1, n["b_1"], shape=(d_ff,))
    b2 = None if b_2 is None else check_array(b_2, n["b_2"], shape=(d_model,))
    with np.errstate(over="ignore", invalid="ignore"):
        hidden = a @ w1 if b1 is None else a @ w1 + b1
        hidden = _activate(_finite(hidden, f"{n['x']} @ {n['w_1']} + {n['b_1']}"), kind)
        out = hidden @ w2 if b2 is None else hidden @ w2 + b2
    return _finite(np.asarray(out, dtype=np.float64), f"the hidden layer @ {n['w_2']} + {n['b_2']}")


def _activate(x: npt.NDArray[np.float64], activation: str) -> npt.NDArray[np.float64]:
    if activation == "relu":
        return np.maximum(x, 0.0)
    from scipy.special import erf  # type: ignore[import-untyped]

    return np.asarray(0.5 * x * (1.0 + erf(x / math.sqrt(2.0))), dtype=np.float64)


def layer_weights(layer: torch.nn.Module) -> dict[str, npt.NDArray[np.float64]]:
    """Return a PyTorch transformer layer's parameters in this module's ``X @ W`` convention.

    Parameters
    ----------
    layer
        A :class:`torch.nn.TransformerEncoderLayer` or :class:`torch.nn.TransformerDecoderLayer`
        (any dtype; values are converted to float64).

    Returns
    -------
    dict
        Float64 arrays under the names that :func:`encoder_layer` and :func:`decoder_layer`
        read: ``"self_attn.w_q"`` … ``"self_attn.b_o"``, for a decoder also
        ``"cross_attn.w_q"`` … ``"cross_attn.b_o"``, ``"linear1.weight"``, ``"linear1.bias"``,
        ``"linear2.weight"``, ``"linear2.bias"`` and ``"norm1.weight"``, ``"norm1.bias"``, …
        (a decoder has three norms). Biases are absent when the layer has none.

    Raises
    ------
    TypeError
        If ``layer`` is not one of the two PyTorch layers.

    Examples
    --------
    >>> import torch
    >>> from conceptref.transformer import layer_weights
    >>> layer = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    >>> weights = layer_weights(layer)
    >>> weights["self_attn.w_q"].shape, weights["linear1.weight"].shape
    ((8, 8), (8, 16))
    """
    if isinstance(layer, torch.nn.TransformerEncoderLayer):
        blocks: dict[str, Any] = {"self_attn": layer.self_attn}
        norms: tuple[str, ...] = ("norm1", "norm2")
    elif isinstance(layer, torch.nn.TransformerDecoderLayer):
        blocks = {"self_attn": layer.self_attn, "cross_attn": layer.multihead_attn}
        norms = ("norm1", "norm2", "norm3")
    else:
        raise TypeError(
            "layer must be a torch.nn.TransformerEncoderLayer or TransformerDecoderLayer, "
            f"got {type(layer).__name__}"
        )

    def arr(t: torch.Tensor) -> npt.NDArray[np.float64]:
        return np.array(t.detach().cpu().to(torch.float64).numpy(), dtype=np.float64)  # a copy

    out: dict[str, npt.NDArray[np.float64]] = {}
    for prefix, mha in blocks.items():
        packed: torch.Tensor | None = mha.in_proj_weight  # None when kdim or vdim differ
        if packed is not None:
            wq, wk, wv = arr(packed).reshape(3, mha.embed_dim, -1)
        else:
            wq, wk, wv = (arr(w) for w in (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight))
        out |= {f"{prefix}.w_q": wq.T, f"{prefix}.w_k": wk.T, f"{prefix}.w_v": wv.T}
        out[f"{prefix}.w_o"] = arr(mha.out_proj.weight).T
        if mha.in_proj_bias is not None:
            bq, bk, bv = arr(mha.in_proj_bias).reshape(3, mha.embed_dim)
            out |= {f"{prefix}.b_q": bq, f"{prefix}.b_k": bk, f"{prefix}.b_v": bv}
        if mha.out_proj.bias is not None:
            out[f"{prefix}.b_o"] = arr(mha.out_proj.bias)
    for name in ("linear1", "linear2"):
        linear = getattr(layer, name)
        out[f"{name}.weight"] = arr(linear.weight).T
        if linear.bias is not None:
            out[f"{name}.bias"] = arr(linear.bias)
    for name in norms:
        norm = getattr(layer, name)
        if norm.weight is not None:
            out[f"{name}.weight"] = arr(norm.weight)
        if norm.bias is not None:
            out[f"{name}.bias"] = arr(norm.bias)
    return out


_ATTENTION_KEYS = ("w_q", "w_k", "w_v", "w_o")
_ATTENTION_BIASES = ("b_q", "b_k", "b_v", "b_o")


def _layer_keys(blocks: tuple[str, ...], norms: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Return the required and optional weight names of a layer with these attention blocks and norms."""
    required = [f"{block}.{w}" for block in blocks for w in _ATTENTION_KEYS]
    required += ["linear1.weight", "linear2.weight"]
    optional = [f"{block}.{b}" for block in blocks for b in _ATTENTION_BIASES]
    optional += ["linear1.bias", "linear2.bias"]
    optional += [f"{norm}.{p}" for norm in norms for p in ("weight", "bias")]
    return required, optional


def _attention_block(
    weights: Mapping[str, object],
    prefix: str,
    query: npt.NDArray[np.float64],
    memory: npt.NDArray[np.float64],
    heads: int,
    mask: object,
    names: Mapping[str, str],
) -> npt.NDArray[np.float64]:
    """One attention sub-layer of a layer; ``names`` holds the caller's names of its inputs."""
    keyed = {role: f"weights['{prefix}.{role}']" for role in _ATTENTION_KEYS + _ATTENTION_BIASES}
    return _multi_head_attention(
        query,
        memory,
        memory,
        heads,
        {role: weights[f"{prefix}.{role}"] for role in _ATTENTION_KEYS},
        {role: weights.get(f"{prefix}.{role}") for role in _ATTENTION_BIASES},
        mask,
        {**keyed, **names, "num_heads": "num_heads"},
    )


def _ff_block(
    weights: Mapping[str, object], x: npt.NDArray[np.float64], activation: str, x_name: str
) -> npt.NDArray[np.float64]:
    names = {
        "x": x_name,
        "w_1": "weights['linear1.weight']",
        "b_1": "weights['linear1.bias']",
        "w_2": "weights['linear2.weight']",
        "b_2": "weights['linear2.bias']",
    }
    return _feed_forward(
        x,
        weights["linear1.weight"],
        weights.get("linear1.bias"),
        weights["linear2.weight"],
        weights.get("linear2.bias"),
        activation,
        names,
    )


def _norm(
    weights: Mapping[str, object], name: str, x: npt.NDArray[np.float64], eps: float, x_name: str
) -> npt.NDArray[np.float64]:
    names = {"x": x_name, "weight": f"weights['{name}.weight']", "bias": f"weights['{name}.bias']"}
    return _layer_norm(x, weights.get(f"{name}.weight"), weights.get(f"{name}.bias"), eps, names)


def _add(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return the residual sum ``a + b``, or raise ValueError if it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite(a + b, "a residual sum (x + sub-layer(x))")


def _check_layer(
    weights: object,
    blocks: tuple[str, ...],
    norms: tuple[str, ...],
    num_heads: object,
    norm_first: object,
    activation: object,
    eps: object,
) -> tuple[dict[str, Any], int, bool, str, float]:
    required, optional = _layer_keys(blocks, norms)
    checked = check_keys(weights, "weights", required=required, optional=optional)
    return (
        checked,
        check_int(num_heads, "num_heads", Interval(1, None)),
        check_bool(norm_first, "norm_first"),
        check_option(activation, "activation", ACTIVATIONS),
        check_real(eps, "eps", Interval(0, None, "neither")),
    )


def encoder_layer(
    x: npt.ArrayLike,
    weights: Mapping[str, npt.ArrayLike],
    *,
    num_heads: int,
    norm_first: bool = False,
    activation: str = "relu",
    mask: npt.ArrayLike | None = None,
    eps: float = 1e-5,
) -> npt.NDArray[np.float64]:
    r"""One transformer encoder layer: self-attention and a feed-forward block.

    Post-LN (the paper's arrangement, ``norm_first=False``):

    .. math::
        h = \operatorname{LN}_1(x + \operatorname{MHA}(x)), \qquad
        y = \operatorname{LN}_2(h + \operatorname{FFN}(h)).

    Pre-LN (``norm_first=True``; Xiong et al., 2020, and most models since):

    .. math::
        h = x + \operatorname{MHA}(\operatorname{LN}_1(x)), \qquad
        y = h + \operatorname{FFN}(\operatorname{LN}_2(h)).

    Equal to :class:`torch.nn.TransformerEncoderLayer` in eval mode (dropout off).

    Parameters
    ----------
    x
        Input of shape ``(..., L, d_model)``.
    weights
        The parameters, named as :func:`layer_weights` returns them.
    num_heads
        The number of attention heads.
    norm_first
        ``False`` for post-LN, ``True`` for pre-LN.
    activation
        ``"relu"`` or ``"gelu"``.
    mask
        Optional boolean self-attention mask broadcastable to ``(..., L, L)``, ``True`` = may
        attend (combine a padding mask with ``&``).
    eps
        The layer norms' :math:`\varepsilon`.

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``x``.

    Raises
    ------
    TypeError
        If ``weights`` is not a mapping, ``norm_first`` is not a bool, or an array is not numeric.
    ValueError
        If a weight is missing or has the wrong shape, or as :func:`multi_head_attention`.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from conceptref.transformer import encoder_layer, layer_weights
    >>> _ = torch.manual_seed(0)
    >>> layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
    ...                                          dtype=torch.float64).eval()
    >>> x = torch.randn(1, 5, 8, dtype=torch.float64)
    >>> ours = encoder_layer(x, layer_weights(layer), num_heads=2)
    >>> bool(np.allclose(ours, layer(x).detach().numpy(), rtol=0, atol=1e-12))
    True
    """
    w, heads, pre, kind, epsilon = _check_layer(
        weights, ("self_attn",), ("norm1", "norm2"), num_heads, norm_first, activation, eps
    )
    a = check_array(x, "x", min_ndim=2)
    own = {"query": "x", "key": "x", "value": "x", "mask": "mask"}
    if pre:
        n = _norm(w, "norm1", a, epsilon, "x")
        a = _add(a, _attention_block(w, "self_attn", n, n, heads, mask, own))
        return _add(a, _ff_block(w, _norm(w, "norm2", a, epsilon, "x"), kind, "x"))
    a = _add(a, _attention_block(w, "self_attn", a, a, heads, mask, own))
    a = _norm(w, "norm1", a, epsilon, "x")
    return _norm(w, "norm2", _add(a, _ff_block(w, a, kind, "x")), epsilon, "x")


def decoder_layer(
    x: npt.ArrayLike,
    memory: npt.ArrayLike,
    weights: Mapping[str, npt.ArrayLike],
    *,
    num_heads: int,
    norm_first: bool = False,
    activation: str = "relu",
    mask: npt.ArrayLike | None = None,
    memory_mask: npt.ArrayLike | None = None,
    eps: float = 1e-5,
) -> npt.NDArray[np.float64]:
    r"""One transformer decoder layer: masked self-attention, cross-attention, feed-forward.

    Post-LN (``norm_first=False``), with :math:`m` the encoder's output (the *memory*):

    .. math::
        h_1 = \operatorname{LN}_1(x + \operatorname{MHA}(x, x)), \quad
        h_2 = \operatorname{LN}_2(h_1 + \operatorname{MHA}(h_1, m)), \quad
        y = \operatorname{LN}_3(h_2 + \operatorname{FFN}(h_2)).

    Pre-LN (``norm_first=True``) normalizes each block's input instead, as in
    :func:`encoder_layer`. Equal to :class:`torch.nn.TransformerDecoderLayer` in eval mode.
    The queries of the cross-attention come from the decoder, its keys and values from
    ``memory``.

    Parameters
    ----------
    x
        Decoder input of shape ``(..., L, d_model)``.
    memory
        Encoder output of shape ``(..., S, d_model)``.
    weights
        The parameters, named as :func:`layer_weights` returns them for a decoder layer.
    num_heads
        The number of heads of both attention blocks.
    norm_first
        ``False`` for post-LN, ``True`` for pre-LN.
    activation
        ``"relu"`` or ``"gelu"``.
    mask
        Optional boolean self-attention mask broadcastable to ``(..., L, L)``, usually causal.
    memory_mask
        Optional boolean cross-attention mask broadcastable to ``(..., L, S)``, for example to
        hide the source's padding.
    eps
        The layer norms' :math:`\varepsilon`.

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``x``.

    Raises
    ------
    TypeError
        As :func:`encoder_layer`.
    ValueError
        As :func:`encoder_layer`.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from conceptref.attention import causal_mask
    >>> from conceptref.transformer import decoder_layer, layer_weights
    >>> _ = torch.manual_seed(0)
    >>> layer = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
    ...                                          dtype=torch.float64).eval()
    >>> x = torch.randn(1, 4, 8, dtype=torch.float64)
    >>> memory = torch.randn(1, 6, 8, dtype=torch.float64)
    >>> ours = decoder_layer(x, memory, layer_weights(layer), num_heads=2, mask=causal_mask(4))
    >>> blocked = torch.from_numpy(~causal_mask(4))   # PyTorch: True = may not attend
    >>> theirs = layer(x, memory, tgt_mask=blocked).detach().numpy()
    >>> bool(np.allclose(ours, theirs, rtol=0, atol=1e-12))
    True
    """
    w, heads, pre, kind, epsilon = _check_layer(
        weights,
        ("self_attn", "cross_attn"),
        ("norm1", "norm2", "norm3"),
        num_heads,
        norm_first,
        activation,
        eps,
    )
    a = check_array(x, "x", min_ndim=2)
    m = check_array(memory, "memory", min_ndim=2)
    own = {"query": "x", "key": "x", "value": "x", "mask": "mask"}
    cross = {"query": "x", "key": "memory", "value": "memory", "mask": "memory_mask"}
    if pre:
        n = _norm(w, "norm1", a, epsilon, "x")
        a = _add(a, _attention_block(w, "self_attn", n, n, heads, mask, own))
        n = _norm(w, "norm2", a, epsilon, "x")
        a = _add(a, _attention_block(w, "cross_attn", n, m, heads, memory_mask, cross))
        return _add(a, _ff_block(w, _norm(w, "norm3", a, epsilon, "x"), kind, "x"))
    a = _norm(
        w, "norm1", _add(a, _attention_block(w, "self_attn", a, a, heads, mask, own)), epsilon, "x"
    )
    a = _add(a, _attention_block(w, "cross_attn", a, m, heads, memory_mask, cross))
    a = _norm(w, "norm2", a, epsilon, "x")
    return _norm(w, "norm3", _add(a, _ff_block(w, a, kind, "x")), epsilon, "x")


def rotary_embedding(
    x: npt.ArrayLike, positions: npt.ArrayLike, *, base: float = 10000.0
) -> npt.NDArray[np.float64]:
    r"""Rotate queries or keys by their positions: the rotary position embedding (RoPE).

    The last axis of ``x`` (width :math:`d`, even) is split in two halves, and dimension
    :math:`i` is paired with dimension :math:`i + d/2`; the pair at position :math:`m` is rotated
    by the angle :math:`m \theta_i` with :math:`\theta_i = \text{base}^{-2i/d}`:

    .. math::
        \begin{pmatrix} y_i \\ y_{i + d/2} \end{pmatrix} =
        \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\
                        \sin m\theta_i & \cos m\theta_i \end{pmatrix}
        \begin{pmatrix} x_i \\ x_{i + d/2} \end{pmatrix}, \qquad i = 0, \dots, d/2 - 1.

    This is the half-split pairing of Hugging Face's LLaMA (``rotate_half``), equal to
    ``transformers``' ``apply_rotary_pos_emb``. Su et al. (2024) pair neighbouring dimensions
    :math:`(2i, 2i+1)` instead, the same rotation with the dimensions permuted. Because
    rotations compose, the dot product of a query rotated at position :math:`m` with a key rotated
    at position :math:`n` depends on :math:`m - n` only.

    Parameters
    ----------
    x
        Queries or keys of shape ``(..., T, d)`` with an even ``d``.
    positions
        The position of each of the ``T`` rows, shape ``(T,)`` (integers, or any finite reals).
    base
        The base of the frequencies :math:`\theta_i`, greater than 0 (10000 in the paper and
        in LLaMA).

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``x``.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        If ``d`` is odd or 0, ``positions`` does not hold ``T`` finite values, ``base`` is not
        positive, or an angle or the result overflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.transformer import rotary_embedding
    >>> q = np.array([[1.0, 0.0]])   # d = 2: one pair, theta_0 = 1
    >>> np.round(rotary_embedding(q, [np.pi / 2]), 6).tolist()
    [[0.0, 1.0]]
    """
    a = check_array(x, "x", min_ndim=2)
    d = a.shape[-1]
    if d == 0 or d % 2:
        raise ValueError(f"x must have an even, non-zero last axis d, got shape {a.shape}")
    pos = check_array(positions, "positions", ndim=1, axes="(T,)")
    check_dims_agree(
        [("x.shape[-2]", a.shape[-2]), ("len(positions)", pos.shape[0])],
        what="the number of positions T",
    )
    b = check_real(base, "base", Interval(0, None, "neither"))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        theta = _finite(1.0 / np.power(b, np.arange(0, d, 2) / d), "base ** (-2i/d)")  # (d/2,)
        angle = _finite(pos[:, None] * theta[None, :], "positions * base ** (-2i/d)")
        angle = np.concatenate([angle, angle], axis=-1)  # (T, d): dims i and i + d/2 share
        half = d // 2
        rotated = np.concatenate([-a[..., half:], a[..., :half]], axis=-1)  # rotate_half
        out = a * np.cos(angle) + rotated * np.sin(angle)
    return _finite(np.asarray(out, dtype=np.float64), "the rotated x")


def alibi_slopes(num_heads: int) -> npt.NDArray[np.float64]:
    r"""Return ALiBi's per-head slopes (Press et al., 2022).

    ALiBi adds :math:`-m_h \cdot (i - j)` to the attention score of query :math:`i` and key
    :math:`j \le i` in head :math:`h`, a penalty growing linearly with the distance, instead of
    adding position embeddings. For :math:`n` heads, :math:`n` a power of two, the slopes are the
    geometric sequence :math:`m_h = 2^{-8h/n}`, :math:`h = 1, \dots, n`. Otherwise, with
    :math:`c` the largest power of two below :math:`n`, they are the :math:`c` slopes for
    :math:`c` heads followed by the first :math:`n - c` odd-indexed slopes for :math:`2c` heads,
    :math:`2^{-4(2j - 1)/c}`, :math:`j = 1, \dots, n - c`. Equal to the slopes in
    ``transformers``' BLOOM (``build_alibi_tensor``), which computes them in float32.

    Parameters
    ----------
    num_heads
        The number of attention heads, at least 1.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(num_heads,)``, slopes in :math:`(0, 1)`.

    Raises
    ------
    TypeError
        If ``num_heads`` is not an integer.
    ValueError
        If ``num_heads`` is less than 1 or too large to allocate.

    Examples
    --------
    >>> from conceptref.transformer import alibi_slopes
    >>> (1 / alibi_slopes(8)).tolist()
    [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]
    """
    n = check_int(num_heads, "num_heads", Interval(1, None))
    check_size([("num_heads", n)], limit=ALLOCATION_LIMIT)
    c = 1 << (n.bit_length() - 1)  # the largest power of two <= n
    slopes = np.exp2(-8.0 * np.arange(1, c + 1) / c)
    extra = np.exp2(-4.0 * np.arange(1, 2 * (n - c), 2) / c)
    return np.concatenate([slopes, extra])
