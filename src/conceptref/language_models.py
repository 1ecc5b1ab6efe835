"""Objectives, masks and decoding of the three transformer model families.

This module is the reference implementation behind the page
:doc:`/concepts/sequence-model-families`: the causal (next-token) and masked language-model
losses, BERT's 80/10/10 corruption of the input, the decoder input of an encoder-decoder model
(``shift_right``), the attention masks of the three families, greedy decoding, and a tiny
character-level decoder-only transformer that trains in about a second.

``tests/test_language_models.py`` checks the losses against the losses that Hugging Face
``transformers`` computes inside ``GPT2LMHeadModel`` and ``BertForMaskedLM``, :func:`mask_tokens`
against ``DataCollatorForLanguageModeling``, :func:`shift_right` against BART's
``shift_tokens_right``, :func:`attention_mask` against
:func:`torch.nn.Transformer.generate_square_subsequent_mask`, and :func:`greedy_decode` against
``generate(do_sample=False)`` of a tiny GPT-2. Tensors are accepted wherever arrays are (detached,
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
    as_int,
    as_positive_float,
    as_positive_int,
    check_array,
    check_int_array,
    check_probability,
)
from conceptref.attention import causal_mask
from conceptref.regularization import Adam

__all__ = [
    "IGNORE_INDEX",
    "MASK_KINDS",
    "CharLanguageModel",
    "attention_mask",
    "causal_lm_loss",
    "greedy_decode",
    "mask_tokens",
    "masked_lm_loss",
    "shift_right",
    "train_char_model",
]

IGNORE_INDEX = -100
"""The label that marks a position without a target (PyTorch's and Hugging Face's default)."""

MASK_KINDS = ("bidirectional", "causal", "prefix", "encoder-decoder")
"""The kinds of :func:`attention_mask`."""


def _cross_entropy(
    logits: npt.NDArray[np.float64], targets: npt.NDArray[np.int64], logits_name: str
) -> float:
    """Mean of -log softmax(logits)[target] over the targets that are not IGNORE_INDEX."""
    vocab = logits.shape[-1]
    keep = targets != IGNORE_INDEX
    bad = keep & ((targets < 0) | (targets >= vocab))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"target {int(targets[where])} at {where} lies outside 0 … {vocab - 1} (the vocabulary "
            f"of {logits_name}) and is not the ignore index {IGNORE_INDEX}"
        )
    if not keep.any():
        raise ValueError(
            f"every target is the ignore index {IGNORE_INDEX}: the mean loss would be 0/0"
        )
    rows = logits[keep]  # (n, vocab)
    m = rows.max(axis=-1)
    log_z = m + np.log(np.exp(rows - m[:, None]).sum(axis=-1))  # log-sum-exp
    picked = rows[np.arange(rows.shape[0]), targets[keep]]
    return float(np.mean(log_z - picked))


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
    return _cross_entropy(scores[..., :-1, :], targets[..., 1:], "logits")


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
    return _cross_entropy(scores, targets, "logits")


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
        Seed of :func:`numpy.random.default_rng`, or a generator.
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
    vocab = as_positive_int(vocab_size, "vocab_size")
    mask_id = as_int(mask_token, "mask_token", minimum=0)
    if mask_id >= vocab:
        raise ValueError(f"mask_token = {mask_id} lies outside the vocabulary 0 … {vocab - 1}")
    if isinstance(special_tokens, str | bytes) or not isinstance(special_tokens, Iterable):
        raise TypeError("special_tokens must be an iterable of integer ids")
    special = [as_int(t, "special_tokens", minimum=0) for t in special_tokens]
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
    elif isinstance(seed_value, int | np.integer) and not isinstance(seed_value, bool):
        rng = np.random.default_rng(int(seed_value))
    else:
        raise TypeError(
            f"seed must be an integer or a numpy Generator, got {type(seed_value).__name__}"
        )

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
    start = as_int(start_token, "start_token", minimum=0)
    pad = as_int(pad_token, "pad_token", minimum=0)
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
        If a length is not an integer.
    ValueError
        If ``kind`` is unknown, a length is out of range, or an argument is given that the kind
        does not use.

    Examples
    --------
    >>> from conceptref.language_models import attention_mask
    >>> attention_mask("prefix", 4, prefix_length=2).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    >>> attention_mask("encoder-decoder", 2, source_length=3).astype(int).tolist()
    [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    n = as_positive_int(length, "length")
    prefix = as_int(prefix_length, "prefix_length", minimum=0)
    if kind != "prefix" and prefix:
        raise ValueError(f"prefix_length is only used by kind 'prefix', not {kind!r}")
    if kind != "encoder-decoder" and source_length is not None:
        raise ValueError(f"source_length is only used by kind 'encoder-decoder', not {kind!r}")
    if kind == "bidirectional":
        return np.ones((n, n), dtype=np.bool_)
    if kind == "causal":
        return causal_mask(n)
    if kind == "prefix":
        if prefix > n:
            raise ValueError(f"prefix_length = {prefix} exceeds length = {n}")
        mask = causal_mask(n)
        mask[:, :prefix] = True
        return mask
    if source_length is None:
        raise ValueError("kind 'encoder-decoder' needs source_length")
    s = as_positive_int(source_length, "source_length")
    return np.concatenate([np.ones((n, s), dtype=np.bool_), causal_mask(n)], axis=1)


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
        The largest number of tokens to add (at least 1, as in ``generate``).
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
        a finite 1-D array.

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
    if not callable(next_token_logits):
        raise TypeError("next_token_logits must be callable: tokens -> logits of the next token")
    sequence = check_int_array(prompt, "prompt", min_ndim=1, empty_any_dtype=True)
    if sequence.ndim != 1 or sequence.size == 0:
        raise ValueError(f"prompt must be a non-empty 1-D array of ids, got shape {sequence.shape}")
    steps = as_positive_int(max_new_tokens, "max_new_tokens")
    eos = None if eos_token is None else as_int(eos_token, "eos_token", minimum=0)
    out = [int(t) for t in sequence]
    for _ in range(steps):
        logits = check_array(
            next_token_logits(np.array(out, dtype=np.int64)), "the returned logits"
        )
        if logits.ndim != 1 or logits.size == 0:
            raise ValueError(
                f"next_token_logits must return a 1-D array (vocab,), got shape {logits.shape}"
            )
        token = int(np.argmax(logits))
        out.append(token)
        if token == eos:
            break
    return np.array(out, dtype=np.int64)


class CharLanguageModel(torch.nn.Module):
    """A tiny decoder-only (GPT-style) transformer over characters.

    Token and learned position embeddings, ``num_layers`` pre-LN
    :class:`torch.nn.TransformerEncoderLayer` blocks run with a causal mask (a decoder without
    cross-attention), a final layer norm and a linear head to the vocabulary.

    Parameters
    ----------
    vocab_size
        The number of distinct characters.
    context
        The longest sequence the model reads (its number of learned positions).
    d_model, num_heads, num_layers
        Width, heads and depth.

    Examples
    --------
    >>> import torch
    >>> from conceptref.language_models import CharLanguageModel
    >>> _ = torch.manual_seed(0)
    >>> model = CharLanguageModel(vocab_size=5, context=8)
    >>> tuple(model(torch.tensor([[0, 1, 2]])).shape)   # (batch, length, vocab)
    (1, 3, 5)
    """

    def __init__(
        self,
        vocab_size: int,
        context: int,
        *,
        d_model: int = 32,
        num_heads: int = 2,
        num_layers: int = 1,
    ) -> None:
        super().__init__()
        self.context = as_positive_int(context, "context")
        vocab = as_positive_int(vocab_size, "vocab_size")
        width = as_positive_int(d_model, "d_model")
        self.token = torch.nn.Embedding(vocab, width)
        self.position = torch.nn.Embedding(self.context, width)
        self.blocks = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(
                width,
                as_positive_int(num_heads, "num_heads"),
                4 * width,
                dropout=0.0,
                batch_first=True,
                norm_first=True,
            )
            for _ in range(as_positive_int(num_layers, "num_layers"))
        )
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return next-token logits of shape ``(batch, length, vocab)`` for ``(batch, length)`` ids."""
        length = tokens.shape[-1]
        if length > self.context:
            raise ValueError(f"tokens are {length} long, longer than the context {self.context}")
        x = self.token(tokens) + self.position(torch.arange(length))  # (B, T, C)
        blocked = torch.ones(length, length, dtype=torch.bool).triu(1)  # True = may not attend
        for block in self.blocks:
            x = block(x, src_mask=blocked)
        logits: torch.Tensor = self.head(self.norm(x))  # (B, T, vocab)
        return logits


def train_char_model(
    text: str,
    *,
    context: int = 16,
    steps: int = 150,
    batch_size: int = 16,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> tuple[CharLanguageModel, list[str], list[float]]:
    """Train a :class:`CharLanguageModel` on ``text`` with the causal language-model loss.

    Each step draws ``batch_size`` random windows of ``context + 1`` characters and minimizes
    the cross-entropy of the logits at positions ``0 … context - 1`` against the characters at
    ``1 … context`` (teacher forcing: every position is trained at once). Adam, fixed learning
    rate (:class:`conceptref.regularization.Adam`, which equals :class:`torch.optim.Adam`), CPU;
    seeded with ``seed``.

    Parameters
    ----------
    text
        The training text (longer than ``context``).
    context
        The window length.
    steps
        The number of optimizer steps.
    batch_size
        Windows per step.
    learning_rate
        Adam's learning rate.
    seed
        Seeds the model's initialization and the choice of windows.

    Returns
    -------
    tuple
        ``(model, alphabet, losses)``: the trained model in eval mode, the sorted list of
        characters (character ``alphabet[i]`` is token ``i``), and the loss of every step.

    Raises
    ------
    TypeError
        If ``text`` is not a string or a count is not an integer.
    ValueError
        If ``text`` is not longer than ``context`` or a number is out of range.

    Examples
    --------
    >>> from conceptref.language_models import train_char_model
    >>> model, alphabet, losses = train_char_model("abcabcabcabc", context=4, steps=40)
    >>> "".join(alphabet), losses[-1] < losses[0]
    ('abc', True)
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    window = as_positive_int(context, "context")
    if len(text) <= window:
        raise ValueError(f"text must be longer than context = {window}, got {len(text)} characters")
    n_steps = as_int(steps, "steps", minimum=0)
    batch = as_positive_int(batch_size, "batch_size")
    lr = as_positive_float(learning_rate, "learning_rate")
    generator = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
    alphabet = sorted(set(text))
    ids = torch.tensor([alphabet.index(c) for c in text])
    torch.manual_seed(int(seed))
    model = CharLanguageModel(len(alphabet), window)
    # conceptref's Adam equals torch.optim.Adam and avoids the seconds that importing
    # torch.optim's compiler support costs on first use.
    optimizer = Adam(lr=lr)
    params = list(model.parameters())
    losses: list[float] = []
    offsets = torch.arange(window + 1)
    for _ in range(n_steps):
        starts = torch.randint(len(text) - window, (batch,), generator=generator)
        chunk = ids[starts[:, None] + offsets]  # (B, context + 1)
        logits = model(chunk[:, :-1])  # (B, context, vocab)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten())
        grads = torch.autograd.grad(loss, params)
        new = optimizer.step([p.detach() for p in params], list(grads))
        with torch.no_grad():
            for p, w in zip(params, new, strict=True):
                p.copy_(torch.from_numpy(w))
        losses.append(float(loss.detach()))
    model.eval()
    if not all(math.isfinite(v) for v in losses):
        raise ValueError("training diverged (a non-finite loss); lower learning_rate")
    return model, alphabet, losses
