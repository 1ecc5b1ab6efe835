"""Scaled dot-product attention, written out in NumPy.

This module is the reference implementation behind the page :doc:`/concepts/query-key-value`,
tested against :func:`torch.nn.functional.scaled_dot_product_attention` and
:class:`torch.nn.MultiheadAttention` in ``tests/test_attention.py``. All functions work in
float64 and are batched over any number of leading dimensions: a query of shape
``(..., Lq, d)`` attends over keys ``(..., Lk, d)`` and values ``(..., Lk, dv)``.

Masks follow PyTorch's boolean convention for
:func:`torch.nn.functional.scaled_dot_product_attention`: ``True`` means *this query may attend
to this key*. (:class:`torch.nn.MultiheadAttention`'s ``attn_mask`` and ``key_padding_mask``
use the opposite convention, ``True`` meaning *ignore*.) A query that the mask leaves with no
key at all has no weights (they would be 0/0), and these functions raise :class:`ValueError`
for it; PyTorch's function instead returns a row of zeros for such a query, which
``tests/test_attention.py`` checks, so that the difference is deliberate.

Inputs may be NumPy arrays, nested lists or PyTorch tensors; a tensor is detached (it may
require grad) and read as float64, float16 and bfloat16 included.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from conceptref._validation import (
    Interval,
    check_array,
    check_bool_array,
    check_int,
    check_int_array,
    check_real,
    check_size,
)

__all__ = [
    "attention_weights",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "softmax",
]


# The most entries a mask builder allocates: a 16384 x 16384 causal mask, one byte each.
_MASK_LIMIT = 2**28


def softmax(x: npt.ArrayLike, axis: int = -1) -> npt.NDArray[np.float64]:
    r"""Softmax along one axis, computed stably.

    .. math:: \operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},
              \qquad m = \max_j x_j .

    Subtracting the maximum :math:`m` changes nothing mathematically but keeps :math:`e^{x}`
    from overflowing. Entries equal to ``-inf`` get weight 0, which is how masked keys drop out.

    Parameters
    ----------
    x
        Scores; finite values or ``-inf``. Along ``axis`` at least one entry must be finite.
    axis
        The axis to normalize over.

    Returns
    -------
    numpy.ndarray
        Non-negative float64 weights of the same shape as ``x`` that sum to 1 along ``axis``.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, or ``axis`` is not an integer.
    ValueError
        If ``x`` is a scalar or a ragged nested sequence, if ``axis`` is out of range, if ``x``
        holds NaN or ``+inf``, or if a slice along ``axis`` is empty or all ``-inf`` (its
        weights would be 0/0).

    Examples
    --------
    >>> from conceptref.attention import softmax
    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    >>> [round(w, 4) for w in softmax([1.0, 2.0, 3.0]).tolist()]
    [0.09, 0.2447, 0.6652]
    """
    scores = check_array(x, "x", min_ndim=1, allow_neg_inf=True)
    ax = check_int(axis, "axis", Interval(-scores.ndim, scores.ndim - 1))
    if scores.shape[ax] == 0:
        raise ValueError(
            f"x must hold at least one score along axis {ax}, got shape {scores.shape}"
        )
    m = np.max(scores, axis=ax, keepdims=True)
    if np.isneginf(m).any():
        raise ValueError("every slice of x along axis must hold at least one finite score")
    with np.errstate(over="ignore"):  # a gap beyond the float64 range is -inf: weight 0
        e = np.exp(scores - m)
    return np.asarray(e / e.sum(axis=ax, keepdims=True), dtype=np.float64)


def causal_mask(n: int) -> npt.NDArray[np.bool_]:
    """Boolean causal mask: position ``i`` may attend to positions ``0 … i`` only.

    Parameters
    ----------
    n
        Sequence length (at least 1).

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(n, n)``, ``True`` on and below the diagonal.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is less than 1, or the mask would hold more than ``2**28`` entries.

    Examples
    --------
    >>> from conceptref.attention import causal_mask
    >>> causal_mask(3).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    size = check_int(n, "n", Interval(1, None))
    check_size([("n", size), ("n", size)], limit=_MASK_LIMIT, what="mask entries")
    position = np.arange(size, dtype=np.int32)  # int32 suffices below the limit
    return position[:, None] >= position  # one (n, n) boolean array, nothing larger


def padding_mask(lengths: npt.ArrayLike, n: int) -> npt.NDArray[np.bool_]:
    """Boolean key-padding mask for a batch of sequences padded to length ``n``.

    Sequence ``b`` has ``lengths[b]`` real tokens followed by padding; no query may attend to the
    padding. The result has a singleton query axis so that it broadcasts against scores of shape
    ``(B, Lq, n)``.

    Parameters
    ----------
    lengths
        Integer array of shape ``(B,)`` with ``1 <= lengths[b] <= n``.
    n
        The padded length (the key axis).

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(B, 1, n)``: ``True`` for real tokens, ``False`` for padding.

    Raises
    ------
    TypeError
        If ``lengths`` is not an integer array or ``n`` is not an integer.
    ValueError
        If ``lengths`` is not one-dimensional or a length lies outside ``1 … n`` (a length of 0
        would leave a query with nothing to attend to), or the mask would hold more than
        ``2**28`` entries.

    Examples
    --------
    >>> from conceptref.attention import padding_mask
    >>> padding_mask([3, 1], 3).astype(int).tolist()
    [[[1, 1, 1]], [[1, 0, 0]]]
    """
    size = check_int(n, "n", Interval(1, None))
    lens = check_int_array(lengths, "lengths", ndim=1, axes="(B,)")
    check_size([("len(lengths)", lens.size), ("n", size)], limit=_MASK_LIMIT, what="mask entries")
    bad = (lens < 1) | (lens > size)
    if bad.any():
        b = int(np.flatnonzero(bad)[0])
        raise ValueError(f"lengths[{b}] = {lens[b]} lies outside 1 … n = {size}")
    if lens.size >= size:  # many short rows: one comparison
        return (np.arange(size, dtype=np.int32) < lens[:, None])[:, None, :]
    mask = np.zeros((lens.size, 1, size), dtype=np.bool_)  # few long rows: one slice each
    for b, length in enumerate(lens.tolist()):
        mask[b, 0, :length] = True
    return mask


def attention_weights(
    query: npt.ArrayLike,
    key: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    *,
    scale: float | None = None,
) -> npt.NDArray[np.float64]:
    r"""Attention weights :math:`\operatorname{softmax}(QK^\top / \sqrt{d_k})`.

    .. math:: A_{ij} = \frac{\exp(s_{ij})}{\sum_{j'} \exp(s_{ij'})}, \qquad
              s_{ij} = \frac{q_i \cdot k_j}{\sqrt{d_k}},

    where the sum runs over the keys that ``mask`` allows for query :math:`i`
    (masked keys get weight 0).

    Parameters
    ----------
    query
        Queries of shape ``(..., Lq, d)``.
    key
        Keys of shape ``(..., Lk, d)``; leading dimensions broadcast against ``query``'s.
    mask
        Optional boolean array broadcastable to ``(..., Lq, Lk)``; ``True`` means the query may
        attend to the key. Every query row must allow at least one key.
    scale
        Factor applied to the dot products; ``None`` means :math:`1/\sqrt{d}`, as in the paper.

    Returns
    -------
    numpy.ndarray
        Float64 weights of shape ``(..., Lq, Lk)``; each row is non-negative and sums to 1.

    Raises
    ------
    TypeError
        If an input is not numeric, or ``mask`` is not boolean.
    ValueError
        If ``query`` and ``key`` differ in ``d`` or in non-broadcastable leading dimensions, if
        an input holds NaN or infinity, if ``mask`` does not broadcast to the scores, if a query
        row is fully masked, or if ``scale`` is not a finite positive number.

    See Also
    --------
    scaled_dot_product_attention : the weights applied to the values.

    Examples
    --------
    >>> from conceptref.attention import attention_weights
    >>> q = [[1.0, 0.0]]
    >>> k = [[1.0, 0.0], [0.0, 1.0]]
    >>> [round(w, 4) for w in attention_weights(q, k)[0].tolist()]
    [0.6698, 0.3302]
    """
    q = check_array(query, "query", min_ndim=2)
    k = check_array(key, "key", min_ndim=2)
    return _weights(q, k, mask, scale)


def scaled_dot_product_attention(
    query: npt.ArrayLike,
    key: npt.ArrayLike,
    value: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    *,
    scale: float | None = None,
) -> npt.NDArray[np.float64]:
    r"""Scaled dot-product attention (Vaswani et al., 2017).

    .. math:: \operatorname{Attention}(Q, K, V) =
              \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V

    Each output row is a weighted average of the rows of ``value``, with the weights of
    :func:`attention_weights`.

    Parameters
    ----------
    query
        Queries of shape ``(..., Lq, d)``.
    key
        Keys of shape ``(..., Lk, d)``.
    value
        Values of shape ``(..., Lk, dv)``: one value row per key.
    mask
        Optional boolean array broadcastable to ``(..., Lq, Lk)``; ``True`` means the query may
        attend to the key (PyTorch's boolean ``attn_mask`` convention).
    scale
        Factor applied to the dot products; ``None`` means :math:`1/\sqrt{d}`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(..., Lq, dv)``.

    Raises
    ------
    TypeError
        If an input is not numeric, or ``mask`` is not boolean.
    ValueError
        As :func:`attention_weights`, and if ``key`` and ``value`` differ in ``Lk`` or in
        non-broadcastable leading dimensions.

    See Also
    --------
    attention_weights : the weights alone.
    torch.nn.functional.scaled_dot_product_attention : PyTorch's implementation, which this
        function matches.

    References
    ----------
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, Ł. Kaiser and
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, section 3.2.1.

    Examples
    --------
    >>> from conceptref.attention import scaled_dot_product_attention
    >>> q = [[1.0, 0.0]]
    >>> k = [[1.0, 0.0], [0.0, 1.0]]
    >>> v = [[10.0], [20.0]]
    >>> round(float(scaled_dot_product_attention(q, k, v)[0, 0]), 4)
    13.3024
    """
    q = check_array(query, "query", min_ndim=2)
    k = check_array(key, "key", min_ndim=2)
    v = check_array(value, "value", min_ndim=2)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            "key and value must hold the same number of positions Lk (second-to-last axis): "
            f"key has shape {k.shape}, value has shape {v.shape}"
        )
    weights = _weights(q, k, mask, scale)  # (..., Lq, Lk)
    _check_batch_dims(("the weights", weights.shape), ("value", v.shape))
    # Each output entry is an average of one column of value: a column near the float64 limit
    # is scaled down by a power of two (exact) so that the weighted sum cannot overflow.
    if np.abs(v).max(initial=0.0) > 2.0**1000:
        shift = np.frexp(np.abs(v).max(axis=-2, keepdims=True))[1]  # (..., 1, dv)
        shift = np.where(shift > 1000, shift, 0)
        out = np.ldexp(weights @ np.ldexp(v, -shift), shift)
    else:
        out = weights @ v
    if not np.isfinite(out).all():
        raise ValueError("value is too large: the weighted average of its rows overflows float64")
    return np.asarray(out, dtype=np.float64)  # (..., Lq, dv)


def _weights(
    q: npt.NDArray[np.float64],
    k: npt.NDArray[np.float64],
    mask: npt.ArrayLike | None,
    scale: float | None,
) -> npt.NDArray[np.float64]:
    """Check the shapes of validated ``q`` and ``k`` and return the attention weights."""
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            "query and key must have the same feature size d (last axis): "
            f"query has shape {q.shape}, key has shape {k.shape}"
        )
    if q.shape[-1] == 0:
        raise ValueError(f"the feature size d must be at least 1, got query shape {q.shape}")
    if k.shape[-2] == 0:
        raise ValueError(f"key must hold at least one key (Lk >= 1), got shape {k.shape}")
    _check_batch_dims(("query", q.shape), ("key", k.shape))
    factor = (
        1.0 / math.sqrt(q.shape[-1])
        if scale is None
        else check_real(scale, "scale", Interval(0, None, "neither"))
    )

    with np.errstate(over="ignore", invalid="ignore"):
        scores = (q @ np.swapaxes(k, -1, -2)) * factor  # (..., Lq, Lk)
    if not np.isfinite(scores).all():
        scaled = "" if scale is None else f" times scale={factor}"
        raise ValueError(
            f"query and key are too large: their dot products{scaled} overflow float64; "
            "rescale them"
        )
    if mask is not None:
        allowed = check_bool_array(mask, "mask")
        try:
            fits = np.broadcast_shapes(allowed.shape, scores.shape) == scores.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"mask of shape {allowed.shape} does not broadcast to the scores' shape "
                f"{scores.shape} (..., Lq, Lk)"
            )
        allowed = np.broadcast_to(allowed, scores.shape)
        dead = ~allowed.any(axis=-1)
        if dead.any():
            where = tuple(int(i) for i in np.argwhere(dead)[0])
            raise ValueError(f"mask allows no key for query {where}: its weights would be 0/0")
        scores = np.where(allowed, scores, -np.inf)
    return softmax(scores, axis=-1)


def _check_batch_dims(*arrays: tuple[str, tuple[int, ...]]) -> None:
    """Raise ValueError unless the leading (batch) axes of the named shapes broadcast."""
    try:
        np.broadcast_shapes(*(shape[:-2] for _, shape in arrays))
    except ValueError:
        (first, a), (second, b) = arrays
        raise ValueError(
            f"the leading (batch) dimensions of {first} and {second} do not broadcast: "
            f"{first} has shape {a}, {second} has shape {b}"
        ) from None
