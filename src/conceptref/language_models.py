"""Objectives, masks and decoding of the three transformer model families.

This module is the reference implementation behind the page
:doc:`/concepts/sequence-model-families`: the causal (next-token) and masked language-model
losses, BERT's 80/10/10 corruption of the input, the decoder input of an encoder-decoder model
(``shift_right``), the attention masks of the three families, greedy decoding, beam search,
and the top-k and top-p (nucleus) filters of sampling. The tiny character-level model that the
page trains lives in :mod:`conceptref.demos.language_models`.

``tests/test_language_models.py`` checks the losses against the losses that Hugging Face
``transformers`` computes inside ``GPT2LMHeadModel`` and ``BertForMaskedLM``, :func:`mask_tokens`
against ``DataCollatorForLanguageModeling``, :func:`shift_right` against BART's
``shift_tokens_right``, :func:`attention_mask` against
:func:`torch.nn.Transformer.generate_square_subsequent_mask`, and :func:`greedy_decode` against
``generate(do_sample=False)`` of a tiny GPT-2, :func:`beam_search` against
``generate(num_beams=...)``, and :func:`top_k_filter` and :func:`top_p_filter` against
``TopKLogitsWarper`` and ``TopPLogitsWarper``. Tensors are accepted wherever arrays are (detached,
floating tensors upcast to float64); results are NumPy arrays and Python numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from conceptref._validation import (
    Interval,
    check_array,
    check_int,
    check_int_array,
    check_option,
    check_probability,
    check_real,
    check_seed,
    check_size,
)
from conceptref.attention import causal_mask

__all__ = [
    "IGNORE_INDEX",
    "MASK_KINDS",
    "MAX_BEAMS",
    "MAX_NEW_TOKENS",
    "attention_mask",
    "beam_search",
    "causal_lm_loss",
    "greedy_decode",
    "mask_tokens",
    "masked_lm_loss",
    "shift_right",
    "top_k_filter",
    "top_p_filter",
]

IGNORE_INDEX = -100
"""The label that marks a position without a target (PyTorch's and Hugging Face's default)."""

MASK_KINDS = ("bidirectional", "causal", "prefix", "encoder-decoder")
"""The kinds of :func:`attention_mask`."""

MAX_NEW_TOKENS = 4096
"""The most tokens :func:`greedy_decode` and :func:`beam_search` generate in one call."""

MAX_BEAMS = 256
"""The most beams :func:`beam_search` keeps."""

ALLOCATION_LIMIT = 2**24
"""The largest mask (in entries) that :func:`attention_mask` allocates."""


def _cross_entropy(
    logits: npt.NDArray[np.float64],
    targets: npt.NDArray[np.int64],
    logits_name: str,
    labels_name: str,
    shift: int = 0,
) -> float:
    """Mean of -log softmax(logits)[target] over the targets that are not IGNORE_INDEX.

    ``targets`` are ``labels_name``'s entries from position ``shift`` on (1 for a causal loss),
    so that a message names the entry the caller wrote.
    """
    vocab = logits.shape[-1]
    keep = targets != IGNORE_INDEX
    bad = keep & ((targets < 0) | (targets >= vocab))
    if bad.any():
        where = [int(i) for i in np.argwhere(bad)[0]]
        value = int(targets[tuple(where)])
        where[-1] += shift
        raise ValueError(
            f"target {value} at {labels_name}[{', '.join(map(str, where))}] lies outside "
            f"0 … {vocab - 1} (the vocabulary of {logits_name}) and is not the ignore index "
            f"{IGNORE_INDEX}"
        )
    if not keep.any():
        raise ValueError(
            f"every target in {labels_name} is the ignore index {IGNORE_INDEX}: the mean loss "
            "would be 0/0"
        )
    rows = logits[keep]  # (n, vocab)
    m = rows.max(axis=-1)
    picked = rows[np.arange(rows.shape[0]), targets[keep]]
    # -log softmax(z)[y] = (max z - z_y) + log sum exp(z - max z): every term is computed on
    # shifted logits, so [1e16, 1e16] costs log 2 (adding log 2 to 1e16 first would lose it).
    with np.errstate(over="ignore", invalid="ignore"):
        losses = (m - picked) + np.log(np.exp(rows - m[:, None]).sum(axis=-1))
        loss = float(np.mean(losses))
    if not math.isfinite(loss):
        raise ValueError(
            f"the loss overflows float64: {logits_name} differ by more than float64 can hold"
        )
    return loss


def _logits_and_labels(
    logits: npt.ArrayLike, labels: npt.ArrayLike, labels_name: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    scores = check_array(logits, "logits", min_ndim=2)
    if scores.shape[-1] == 0:
        raise ValueError(f"logits must have a vocabulary axis of size >= 1, got {scores.shape}")
    targets = check_int_array(labels, labels_name, min_ndim=1, empty_any_dtype=True)
    if targets.shape != scores.shape[:-1]:
        raise ValueError(
            f"{labels_name} must have the shape of logits without its last (vocabulary) axis: "
            f"logits {scores.shape}, {labels_name} {targets.shape}"
        )
    return scores, targets


def causal_lm_loss(logits: npt.ArrayLike, tokens: npt.ArrayLike) -> float:
    r"""Compute the causal (next-token) language-model loss.

    The logits at position :math:`t` predict the token at :math:`t + 1`:

    .. math::
        \mathcal{L} = -\frac{1}{|T|} \sum_{(b, t) \in T}
        \log \operatorname{softmax}(z_{b,t})_{x_{b,t+1}},

    that is, the cross-entropy of ``logits[:, :-1]`` against ``tokens[:, 1:]``, averaged over
    the set :math:`T` of targets that are not ``-100``. Equal to the ``loss`` that
    ``transformers``' ``GPT2LMHeadModel`` returns when ``labels=tokens`` (which computes it in
    float32).

    Parameters
    ----------
    logits
        Scores of shape ``(batch, length, vocab)`` (any number of leading axes).
    tokens
        Integer token ids of shape ``(batch, length)``; ``-100`` marks a position that is not
        scored as a target (padding, or a prompt that should not be learned).

    Returns
    -------
    float
        The mean loss in nats.

    Raises
    ------
    TypeError
        If ``logits`` is not real or ``tokens`` is not an integer array.
    ValueError
        If the shapes do not fit, ``logits`` is not finite, a target lies outside the vocabulary
        (and is not ``-100``), or no target is left (length 1, or all ``-100``).

    Examples
    --------
    Uniform logits over 4 tokens cost :math:`\log 4` per predicted token:

    >>> import numpy as np
    >>> from conceptref.language_models import causal_lm_loss
    >>> logits = np.zeros((1, 3, 4))
    >>> round(causal_lm_loss(logits, [[2, 0, 3]]), 4), round(float(np.log(4)), 4)
    (1.3863, 1.3863)
    """
    scores, targets = _logits_and_labels(logits, tokens, "tokens")
    if targets.shape[-1] < 2:
        raise ValueError(
            f"tokens must have length >= 2 along the last axis to predict a next token, "
            f"got shape {targets.shape}"
        )
    return _cross_entropy(scores[..., :-1, :], targets[..., 1:], "logits", "tokens", shift=1)


def masked_lm_loss(logits: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    r"""Compute the masked language-model loss: cross-entropy at the selected positions only.

    .. math::
        \mathcal{L} = -\frac{1}{|S|} \sum_{(b, t) \in S} \log \operatorname{softmax}(z_{b,t})_{y_{b,t}},

    where :math:`S` is the set of positions whose label is not ``-100`` (the positions that
    :func:`mask_tokens` selected). The logits are *not* shifted: position :math:`t` predicts the
    original token at :math:`t`. Equal to the ``loss`` of ``transformers``' ``BertForMaskedLM``.

    Parameters
    ----------
    logits
        Scores of shape ``(batch, length, vocab)``.
    labels
        Integer labels of shape ``(batch, length)``: the original token where it was selected,
        ``-100`` elsewhere.

    Returns
    -------
    float
        The mean loss in nats over the selected positions.

    Raises
    ------
    TypeError
        As :func:`causal_lm_loss`.
    ValueError
        As :func:`causal_lm_loss`; all labels ``-100`` is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.language_models import masked_lm_loss
    >>> logits = np.zeros((1, 3, 4))
    >>> logits[0, 1, 2] = 10.0   # confident and right at the one selected position
    >>> round(masked_lm_loss(logits, [[-100, 2, -100]]), 4)
    0.0001
    """
    scores, targets = _logits_and_labels(logits, labels, "labels")
    return _cross_entropy(scores, targets, "logits", "labels")


def mask_tokens(
    tokens: npt.ArrayLike,
    *,
    vocab_size: int,
    mask_token: int,
    special_tokens: Iterable[int] = (),
    mask_prob: float = 0.15,
    seed: int | np.random.Generator,
    mask_replace_prob: float = 0.8,
    random_replace_prob: float = 0.1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    r"""Corrupt tokens for masked language modeling, with BERT's 80/10/10 rule.

    Each token that is not special is *selected* independently with probability ``mask_prob``
    (15 % in BERT; the number selected varies from batch to batch). A selected token is replaced
    by ``mask_token`` with probability ``mask_replace_prob`` (80 %), by a token drawn uniformly
    from the **whole** vocabulary ``0 … vocab_size - 1`` with probability ``random_replace_prob``
    (10 %; the draw may return the original token or a special token, as in BERT's reference code
    and ``transformers``' ``DataCollatorForLanguageModeling``), and is left unchanged otherwise.
    The labels hold the original token at selected positions and ``-100`` elsewhere, so that
    :func:`masked_lm_loss` scores the selected positions only.

    Parameters
    ----------
    tokens
        Integer token ids in ``0 … vocab_size - 1``, of any shape (a batch of sequences).
    vocab_size
        The vocabulary size; random replacements are drawn from all of it.
    mask_token
        The id of ``[MASK]``.
    special_tokens
        Ids that are never selected (``[CLS]``, ``[SEP]``, ``[PAD]`` …).
    mask_prob
        The selection probability.
    seed
        Seed of :func:`numpy.random.default_rng` (a non-negative integer), or a generator.
    mask_replace_prob, random_replace_prob
        The probabilities of ``[MASK]`` and of a random token for a selected position; their sum
        is at most 1 and the rest is left unchanged.

    Returns
    -------
    tuple of numpy.ndarray
        ``(inputs, labels)``, int64 arrays of the shape of ``tokens``.

    Raises
    ------
    TypeError
        If ``tokens`` is not an integer array, an id or size is not an integer, or ``seed`` is
        neither an integer nor a generator.
    ValueError
        If a token or id lies outside the vocabulary, or a probability lies outside ``[0, 1]``
        (or the two replacement probabilities sum to more than 1).

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.language_models import mask_tokens
    >>> tokens = np.array([[1, 4, 5, 6, 7, 8, 9, 10, 11, 2]])   # 1 [CLS], 2 [SEP], 3 [MASK]
    >>> inputs, labels = mask_tokens(tokens, vocab_size=12, mask_token=3,
    ...                              special_tokens=(1, 2), mask_prob=0.5, seed=6)
    >>> inputs.tolist()
    [[1, 7, 3, 6, 7, 8, 9, 3, 11, 2]]
    >>> labels.tolist()
    [[-100, 4, 5, 6, -100, -100, -100, 10, -100, -100]]

    Four positions were selected: two became ``[MASK]``, 4 became the random token 7, and 6 was
    kept but must still be predicted.
    """
    ids = check_int_array(tokens, "tokens", empty_any_dtype=True)
    vocab = check_int(vocab_size, "vocab_size", Interval(1, None))
    mask_id = check_int(mask_token, "mask_token", Interval(0, None))
    if mask_id >= vocab:
        raise ValueError(f"mask_token = {mask_id} lies outside the vocabulary 0 … {vocab - 1}")
    if isinstance(special_tokens, str | bytes) or not isinstance(special_tokens, Iterable):
        raise TypeError("special_tokens must be an iterable of integer ids")
    special = [
        check_int(t, f"special_tokens[{i}]", Interval(0, None))
        for i, t in enumerate(special_tokens)
    ]
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise ValueError(f"tokens must lie in the vocabulary 0 … {vocab - 1}")
    p = check_probability(mask_prob, "mask_prob", what="a probability")
    p_mask = check_probability(mask_replace_prob, "mask_replace_prob", what="a probability")
    p_random = check_probability(random_replace_prob, "random_replace_prob", what="a probability")
    if p_mask + p_random > 1 + 1e-12:
        raise ValueError(
            f"mask_replace_prob + random_replace_prob must be at most 1, got {p_mask} + {p_random}"
        )
    seed_value: object = seed
    if isinstance(seed_value, np.random.Generator):
        rng = seed_value
    else:
        rng = np.random.default_rng(check_seed(seed_value, "seed"))

    eligible = ~np.isin(ids, special)
    selected = (rng.random(ids.shape) < p) & eligible
    u = rng.random(ids.shape)  # one draw decides [MASK] / random / unchanged
    to_mask = selected & (u < p_mask)
    to_random = selected & (u >= p_mask) & (u < p_mask + p_random)
    random_ids = rng.integers(0, vocab, size=ids.shape)
    inputs = np.where(to_mask, mask_id, np.where(to_random, random_ids, ids)).astype(np.int64)
    labels = np.where(selected, ids, IGNORE_INDEX).astype(np.int64)
    return inputs, labels


def shift_right(tokens: npt.ArrayLike, start_token: int, pad_token: int) -> npt.NDArray[np.int64]:
    """Build a decoder's input from its targets: prepend a start token, drop the last token.

    In an encoder-decoder model trained with teacher forcing, the decoder reads
    ``[start, y_0, …, y_{n-2}]`` and is trained to output ``[y_0, …, y_{n-1}]``. Labels equal
    to ``-100`` (positions without a target) become ``pad_token`` in the decoder input. Equal to
    BART's ``shift_tokens_right`` in ``transformers``.

    Parameters
    ----------
    tokens
        Integer target ids of shape ``(..., length)``, possibly holding ``-100``; the shift runs
        along the last axis.
    start_token
        The decoder start id (BART uses ``</s>``, T5 the pad id).
    pad_token
        The id that replaces ``-100``.

    Returns
    -------
    numpy.ndarray
        Int64 array of the shape of ``tokens``.

    Raises
    ------
    TypeError
        If ``tokens`` is not an integer array or an id is not an integer.
    ValueError
        If ``tokens`` is a scalar or has length 0, or an id is negative.

    Examples
    --------
    >>> from conceptref.language_models import shift_right
    >>> shift_right([[5, 6, 7, -100]], start_token=2, pad_token=1).tolist()
    [[2, 5, 6, 7]]
    >>> shift_right([[5, -100, -100]], start_token=2, pad_token=1).tolist()
    [[2, 5, 1]]
    """
    ids = check_int_array(tokens, "tokens", min_ndim=1, empty_any_dtype=True)
    if ids.shape[-1] == 0:
        raise ValueError(f"tokens must hold at least one position, got shape {ids.shape}")
    start = check_int(start_token, "start_token", Interval(0, None))
    pad = check_int(pad_token, "pad_token", Interval(0, None))
    shifted = np.empty_like(ids)
    shifted[..., 0] = start
    shifted[..., 1:] = ids[..., :-1]
    return np.where(shifted == IGNORE_INDEX, pad, shifted)


def attention_mask(
    kind: str,
    length: int,
    *,
    prefix_length: int = 0,
    source_length: int | None = None,
) -> npt.NDArray[np.bool_]:
    """Build the self-attention mask of each model family (``True`` = may attend).

    - ``"bidirectional"`` (encoder-only, BERT): every position sees every position,
      ``(length, length)`` all ``True``;
    - ``"causal"`` (decoder-only, GPT): position ``i`` sees ``0 … i``, equal to
      :func:`conceptref.attention.causal_mask`;
    - ``"prefix"`` (prefix language model): the first ``prefix_length`` positions are seen by
      every position, the rest causally;
    - ``"encoder-decoder"``: what each of the ``length`` decoder positions sees, as a
      ``(length, source_length + length)`` mask — all ``source_length`` encoder outputs through
      cross-attention (the first columns), then the decoder's own positions causally. (The
      encoder itself uses a bidirectional mask over the source.)

    Parameters
    ----------
    kind
        One of :data:`MASK_KINDS`.
    length
        The number of (decoder) positions.
    prefix_length
        For ``"prefix"``: the length of the bidirectional prefix, ``0 … length``.
    source_length
        For ``"encoder-decoder"``: the number of encoder positions (at least 1).

    Returns
    -------
    numpy.ndarray
        Boolean mask.

    Raises
    ------
    TypeError
        If a length is not an integer or ``kind`` is not a string.
    ValueError
        If ``kind`` is unknown, a length is out of range, the mask would hold more than
        ``2**24`` entries, or an argument is given that the kind does not use.

    Examples
    --------
    >>> from conceptref.language_models import attention_mask
    >>> attention_mask("prefix", 4, prefix_length=2).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    >>> attention_mask("encoder-decoder", 2, source_length=3).astype(int).tolist()
    [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
    """
    kind = check_option(kind, "kind", MASK_KINDS)
    n = check_int(length, "length", Interval(1, None))
    prefix = check_int(prefix_length, "prefix_length", Interval(0, None))
    if kind != "prefix" and prefix:
        raise ValueError(f"prefix_length is only used by kind 'prefix', not {kind!r}")
    if kind != "encoder-decoder" and source_length is not None:
        raise ValueError(f"source_length is only used by kind 'encoder-decoder', not {kind!r}")
    if kind == "encoder-decoder":
        if source_length is None:
            raise ValueError("kind 'encoder-decoder' needs source_length")
        s = check_int(source_length, "source_length", Interval(1, None))
        check_size([("length", n), ("source_length + length", s + n)], limit=ALLOCATION_LIMIT)
        return np.concatenate([np.ones((n, s), dtype=np.bool_), causal_mask(n)], axis=1)
    check_size([("length", n), ("length", n)], limit=ALLOCATION_LIMIT)
    if kind == "bidirectional":
        return np.ones((n, n), dtype=np.bool_)
    if kind == "causal":
        return causal_mask(n)
    # kind == "prefix"
    if prefix > n:
        raise ValueError(f"prefix_length = {prefix} exceeds length = {n}")
    mask = causal_mask(n)
    mask[:, :prefix] = True
    return mask


def _decoding_start(next_token_logits: object, prompt: object) -> npt.NDArray[np.int64]:
    """Check a decoder's model callable and return its prompt as a non-empty 1-D id array."""
    if not callable(next_token_logits):
        raise TypeError("next_token_logits must be callable: tokens -> logits of the next token")
    sequence = check_int_array(prompt, "prompt", min_ndim=1, empty_any_dtype=True)
    if sequence.ndim != 1 or sequence.size == 0:
        raise ValueError(f"prompt must be a non-empty 1-D array of ids, got shape {sequence.shape}")
    return sequence


def greedy_decode(
    next_token_logits: Callable[[npt.NDArray[np.int64]], Any],
    prompt: npt.ArrayLike,
    *,
    max_new_tokens: int,
    eos_token: int | None = None,
) -> npt.NDArray[np.int64]:
    """Generate token by token, always taking the most likely next token.

    At each step the model sees the whole sequence so far and returns the logits of the next
    token; the arg-max (the first one on ties) is appended. Generation stops after
    ``max_new_tokens`` tokens or right after ``eos_token``. This is what ``transformers``'
    ``generate(do_sample=False, num_beams=1)`` does for one sequence.

    Parameters
    ----------
    next_token_logits
        A function from the 1-D int64 sequence so far to the logits of the next token, shape
        ``(vocab,)`` (an array or a tensor).
    prompt
        The 1-D sequence of ids to continue (at least one token).
    max_new_tokens
        The largest number of tokens to add, ``1 … MAX_NEW_TOKENS`` (at least 1, as in
        ``generate``).
    eos_token
        Optional end-of-sequence id; generation stops once it has been appended.

    Returns
    -------
    numpy.ndarray
        The prompt followed by the generated ids (int64, 1-D).

    Raises
    ------
    TypeError
        If ``next_token_logits`` is not callable, ``prompt`` is not an integer array, or a
        count or id is not an integer.
    ValueError
        If ``prompt`` is not a non-empty 1-D array, or the function returns logits that are not
        a 1-D array of finite numbers or ``-inf`` (filtered logits) with at least one finite.

    Examples
    --------
    A "model" that always predicts the previous token plus one:

    >>> import numpy as np
    >>> from conceptref.language_models import greedy_decode
    >>> def next_token_logits(tokens):
    ...     return np.eye(10)[(tokens[-1] + 1) % 10]
    >>> greedy_decode(next_token_logits, [7], max_new_tokens=5).tolist()
    [7, 8, 9, 0, 1, 2]
    >>> greedy_decode(next_token_logits, [7], max_new_tokens=5, eos_token=9).tolist()
    [7, 8, 9]
    """
    sequence = _decoding_start(next_token_logits, prompt)
    steps = check_int(
        max_new_tokens, "max_new_tokens", Interval(1, MAX_NEW_TOKENS), high_name="MAX_NEW_TOKENS"
    )
    eos = None if eos_token is None else check_int(eos_token, "eos_token", Interval(0, None))
    out = [int(t) for t in sequence]
    for _ in range(steps):
        logits = _returned_logits(next_token_logits(np.array(out, dtype=np.int64)))
        token = int(np.argmax(logits))
        out.append(token)
        if token == eos:
            break
    return np.array(out, dtype=np.int64)


def _returned_logits(value: object, vocab: int | None = None) -> npt.NDArray[np.float64]:
    """Check what ``next_token_logits`` returned: 1-D logits, ``-inf`` allowed, one finite."""
    logits = check_array(
        value, "the logits that next_token_logits returned", allow_neg_inf=True, ndim=1
    )
    if logits.size == 0 or not np.isfinite(logits).any():
        raise ValueError(
            "next_token_logits must return a non-empty 1-D array (vocab,) with a finite entry, "
            f"got shape {logits.shape}" + (" and only -inf" if logits.size else "")
        )
    if vocab is not None and logits.size != vocab:
        raise ValueError(
            f"next_token_logits returned {logits.size} logits after {vocab} at an earlier call"
        )
    return logits


def _filter_input(logits: object) -> npt.NDArray[np.float64]:
    scores = check_array(logits, "logits", min_ndim=1, allow_neg_inf=True)
    if scores.shape[-1] == 0:
        raise ValueError(f"logits must have a vocabulary axis of size >= 1, got {scores.shape}")
    return scores


def _working_dtype(logits: object) -> torch.dtype:
    """Return the precision of ``logits`` if it is a lower-precision float, else float64.

    Upcasting those is exact, so converting the float64 copy back recovers the caller's values.
    """
    if isinstance(logits, torch.Tensor) and logits.dtype in (
        torch.float32,
        torch.float16,
        torch.bfloat16,
    ):
        return logits.dtype
    if isinstance(logits, np.ndarray) and logits.dtype in (np.float32, np.float16):
        return torch.float32 if logits.dtype == np.float32 else torch.float16
    return torch.float64


def top_k_filter(logits: npt.ArrayLike, k: int) -> npt.NDArray[np.float64]:
    r"""Keep the ``k`` largest logits of each row and set the others to :math:`-\infty`.

    Sampling from the filtered logits draws only among the :math:`k` most likely tokens
    (top-k sampling, Fan et al., 2018). Logits tied with the :math:`k`-th largest are all kept,
    so a row may keep more than :math:`k`; a ``k`` beyond the vocabulary keeps everything. Equal
    to ``transformers``' ``TopKLogitsWarper(k)`` (with ``min_tokens_to_keep=1``).

    Parameters
    ----------
    logits
        Scores of shape ``(..., vocab)``; entries may be ``-inf`` (already filtered).
    k
        The number of tokens to keep, at least 1.

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``logits``: kept entries unchanged, the rest ``-inf``.

    Raises
    ------
    TypeError
        If ``logits`` is not real or ``k`` is not an integer.
    ValueError
        If ``logits`` holds NaN or ``+inf``, is a scalar or has an empty vocabulary axis, or
        ``k`` is less than 1.

    Examples
    --------
    >>> from conceptref.language_models import top_k_filter
    >>> top_k_filter([[1.0, 3.0, 2.0, 3.0]], 2).tolist()
    [[-inf, 3.0, -inf, 3.0]]
    >>> top_k_filter([[1.0, 3.0, 2.0, 2.0]], 2).tolist()   # ties with the 2nd are kept
    [[-inf, 3.0, 2.0, 2.0]]
    """
    scores = _filter_input(logits)
    count = min(check_int(k, "k", Interval(1, None)), scores.shape[-1])
    kth = -np.partition(-scores, count - 1, axis=-1)[..., count - 1 : count]  # k-th largest
    return np.where(scores < kth, -np.inf, scores)


def top_p_filter(logits: npt.ArrayLike, p: float) -> npt.NDArray[np.float64]:
    r"""Keep the most likely tokens whose probabilities add up to ``p``; set the rest to :math:`-\infty`.

    Nucleus (top-p) sampling (Holtzman et al., 2020) draws from the smallest set of most likely
    tokens whose probability reaches ``p``. In ``transformers``' ``TopPLogitsWarper`` (with
    ``min_tokens_to_keep=1``), which this function equals, the rule is written from the other
    end: sort the tokens from least to most likely, and remove each token whose cumulative
    probability (its own included) is at most :math:`1 - p`; the most likely token is always
    kept. Tokens of equal probability are ordered as ``torch.sort`` orders them, as there, and
    the probabilities are computed in the precision of ``logits`` (a float32 tensor or array in
    float32, as the warper would; the result is float64 either way).

    Parameters
    ----------
    logits
        Scores of shape ``(..., vocab)``; entries may be ``-inf`` (already filtered).
    p
        The probability mass to keep, in ``[0, 1]``: 0 keeps the most likely token only, 1
        removes only tokens of probability 0.

    Returns
    -------
    numpy.ndarray
        Float64 array of the shape of ``logits``: kept entries unchanged, the rest ``-inf``.

    Raises
    ------
    TypeError
        If ``logits`` is not real or ``p`` is not a real number.
    ValueError
        If ``logits`` holds NaN or ``+inf``, is a scalar or has an empty vocabulary axis, or
        ``p`` lies outside ``[0, 1]``.

    Examples
    --------
    Probabilities 0.5, 0.3, 0.15, 0.05: the first two reach 0.75.

    >>> import numpy as np
    >>> from conceptref.language_models import top_p_filter
    >>> logits = np.log([0.05, 0.5, 0.15, 0.3])
    >>> np.isfinite(top_p_filter(logits, 0.75)).tolist()
    [False, True, False, True]
    """
    scores = _filter_input(logits)
    mass = check_probability(p, "p", what="a probability")
    flat = torch.from_numpy(np.ascontiguousarray(scores.reshape(-1, scores.shape[-1])))
    ascending, order = torch.sort(flat.to(_working_dtype(logits)), descending=False)
    cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= 1 - mass
    remove[..., -1] = False  # the most likely token stays
    removed = remove.scatter(1, order, remove)
    out = flat.masked_fill(removed, -math.inf).numpy().reshape(scores.shape)
    return np.asarray(out, dtype=np.float64)


def beam_search(
    next_token_logits: Callable[[npt.NDArray[np.int64]], Any],
    prompt: npt.ArrayLike,
    *,
    num_beams: int,
    max_new_tokens: int,
    eos_token: int | None = None,
    length_penalty: float = 1.0,
) -> npt.NDArray[np.int64]:
    r"""Generate by beam search: keep the ``num_beams`` most likely sequences at every step.

    Greedy decoding commits to the most likely token at each step; beam search keeps ``num_beams``
    partial sequences (beams), scored by their summed log-probabilities
    :math:`\sum_t \log p(y_t \mid y_{<t})`. At each step every beam is extended by every token,
    and the best ``2 * num_beams`` extensions are ranked. An extension that ends with
    ``eos_token`` (or reaches ``max_new_tokens``) and ranks among the first ``num_beams`` is a
    finished hypothesis, scored :math:`\text{sum of log-probs} / L^{\alpha}` with :math:`L` the
    number of generated tokens and :math:`\alpha` the ``length_penalty``; the best
    ``num_beams`` unfinished extensions continue. The search stops when no running beam can beat
    the finished ones (``transformers``' heuristic for ``early_stopping=False``: the best running
    score divided by the current length, against the worst of ``num_beams`` finished), or at
    ``max_new_tokens``. It returns the best finished hypothesis.

    This is ``transformers``' ``generate(num_beams=..., do_sample=False)`` for one sequence,
    written out with its float32 scores, and the tests compare the two on tiny models. With
    ``num_beams=1`` it is :func:`greedy_decode`, as in ``generate``.

    Parameters
    ----------
    next_token_logits
        A function from a 1-D int64 sequence to the logits of its next token, shape
        ``(vocab,)``, as for :func:`greedy_decode` (called once per beam and step).
    prompt
        The 1-D sequence of ids to continue (at least one token).
    num_beams
        The number of beams, ``1 … MAX_BEAMS``.
    max_new_tokens
        The largest number of tokens to add, ``1 … MAX_NEW_TOKENS``.
    eos_token
        Optional end-of-sequence id.
    length_penalty
        The exponent :math:`\alpha` of the length normalization, in ``[-10, 10]``
        (``generate``'s default 1.0; 0 compares plain sums, which favours short hypotheses).

    Returns
    -------
    numpy.ndarray
        The prompt followed by the ids of the best hypothesis (int64, 1-D).

    Raises
    ------
    TypeError
        As :func:`greedy_decode`, or if ``length_penalty`` is not a real number.
    ValueError
        As :func:`greedy_decode`; also if the vocabulary has fewer than 2 tokens, or the
        function returns logits of different lengths.

    Examples
    --------
    Token 1 looks best at first (probability 0.5 against 0.4), but after it nothing is likely;
    after token 2, token 3 is almost certain. Greedy decoding takes 1; two beams find 2, 3:

    >>> import numpy as np
    >>> from conceptref.language_models import beam_search, greedy_decode
    >>> table = {0: [0.0, 0.5, 0.4, 0.1], 1: [0.3, 0.2, 0.3, 0.2], 2: [0.0, 0.0, 0.05, 0.95]}
    >>> def next_token_logits(tokens):
    ...     with np.errstate(divide="ignore"):
    ...         return np.log(table.get(int(tokens[-1]), [0.25] * 4))
    >>> greedy_decode(next_token_logits, [0], max_new_tokens=2).tolist()
    [0, 1, 0]
    >>> beam_search(next_token_logits, [0], num_beams=2, max_new_tokens=2).tolist()
    [0, 2, 3]
    """
    sequence = _decoding_start(next_token_logits, prompt)
    beams = check_int(num_beams, "num_beams", Interval(1, MAX_BEAMS), high_name="MAX_BEAMS")
    steps = check_int(
        max_new_tokens, "max_new_tokens", Interval(1, MAX_NEW_TOKENS), high_name="MAX_NEW_TOKENS"
    )
    eos = None if eos_token is None else check_int(eos_token, "eos_token", Interval(0, None))
    alpha = check_real(length_penalty, "length_penalty", Interval(-10, 10))
    if beams == 1:
        return greedy_decode(next_token_logits, sequence, max_new_tokens=steps, eos_token=eos)

    prompt_len = len(sequence)
    max_length = prompt_len + steps
    keep = 2 * beams  # enough extensions to leave num_beams unfinished ones
    first = [int(t) for t in sequence]
    running = [first] * beams
    running_scores = torch.zeros(beams, dtype=torch.float32)
    running_scores[1:] = -1.0e9  # one real beam at the start; the copies never win
    finished = [first] * beams
    finished_scores = torch.full((beams,), -1.0e9, dtype=torch.float32)
    is_finished = torch.zeros(beams, dtype=torch.bool)
    improvable = True
    vocab: int | None = None
    cur_len = prompt_len
    while True:
        rows: dict[tuple[int, ...], npt.NDArray[np.float64]] = {}
        for beam in running:
            if tuple(beam) not in rows:
                rows[tuple(beam)] = _returned_logits(
                    next_token_logits(np.array(beam, dtype=np.int64)), vocab
                )
                vocab = rows[tuple(beam)].size
        assert vocab is not None
        if vocab < 2:
            raise ValueError("beam search needs a vocabulary of at least 2 tokens, got 1")
        logits = torch.from_numpy(np.stack([rows[tuple(b)] for b in running])).to(torch.float32)
        scores = torch.log_softmax(logits, dim=-1) + running_scores[:, None]
        top_scores, top_index = torch.topk(scores.reshape(-1), keep)
        origin, token = top_index // vocab, top_index % vocab
        candidates = [running[int(b)] + [int(t)] for b, t in zip(origin, token, strict=True)]
        hits = torch.tensor([cur_len + 1 >= max_length or int(t) == eos for t in token])
        # the best num_beams extensions that go on
        going_on = top_scores + hits.to(torch.float32) * -1.0e9
        chosen = torch.topk(going_on, beams).indices
        running = [candidates[int(i)] for i in chosen]
        running_scores = going_on[chosen]
        # finished hypotheses: among the first num_beams extensions only
        just_finished = hits & (torch.arange(keep) < beams)
        normalized = top_scores / ((cur_len + 1 - prompt_len) ** alpha)
        normalized += float(not improvable) * -1.0e9
        normalized += (~just_finished) * -1.0e9
        merged_scores = torch.cat((finished_scores, normalized))
        merged = finished + candidates
        merged_finished = torch.cat((is_finished, just_finished))
        best = torch.topk(merged_scores, beams).indices
        finished = [merged[int(i)] for i in best]
        finished_scores = merged_scores[best]
        is_finished = merged_finished[best]
        cur_len += 1
        best_possible = running_scores[:1] / ((cur_len - prompt_len) ** alpha)
        worst = torch.where(is_finished, finished_scores.min(), -1.0e9)
        improvable = improvable and bool((best_possible > worst).any())
        if not improvable or bool(hits.all()):
            break
    return np.array(finished[0], dtype=np.int64)
