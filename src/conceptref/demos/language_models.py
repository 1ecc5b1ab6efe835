"""The tiny character-level language model of :doc:`/concepts/sequence-model-families`.

A decoder-only (GPT-style) transformer over characters, the few-line text it learns, its
training with the causal language-model loss, and text generated from it by greedy decoding or
beam search. The formulas these demonstrations use (the loss, the causal mask, the decoders)
are in :mod:`conceptref.language_models`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch

from conceptref._random import seeded, torch_generator
from conceptref._validation import (
    Interval,
    check_int,
    check_module,
    check_real,
    check_seed,
)
from conceptref.demos._training import fit
from conceptref.language_models import beam_search, greedy_decode

__all__ = [
    "MAX_PARAMETERS",
    "MAX_STEPS",
    "TEXT",
    "CharLanguageModel",
    "continue_text",
    "train_char_model",
]

TEXT = "the cat sat on the mat. the dog sat on the log. " * 4
"""The page's training text, two sentences four times (192 characters, 14 distinct)."""

MAX_STEPS = 2000
"""The most optimizer steps :func:`train_char_model` takes (the page takes 150)."""

MAX_PARAMETERS = 2**24
"""The largest :class:`CharLanguageModel` (in parameters) this module builds."""


class CharLanguageModel(torch.nn.Module):
    """A tiny decoder-only (GPT-style) transformer over characters.

    Token and learned position embeddings, ``num_layers`` pre-LN
    :class:`torch.nn.TransformerEncoderLayer` blocks run with a causal mask (a decoder without
    cross-attention), a final layer norm and a linear head to the vocabulary. Its weights are
    initialized from torch's global generator, as any module's: build it inside
    ``conceptref._random.seeded`` to make it reproducible without touching the caller's
    random state (as :func:`train_char_model` does).

    Parameters
    ----------
    vocab_size
        The number of distinct characters.
    context
        The longest sequence the model reads (its number of learned positions).
    d_model, num_heads, num_layers
        Width, heads and depth.

    Raises
    ------
    TypeError
        If a size is not an integer.
    ValueError
        If a size is less than 1, ``num_heads`` does not divide ``d_model``, or the model would
        have more than :data:`MAX_PARAMETERS` parameters.

    Examples
    --------
    >>> import torch
    >>> from conceptref._random import seeded
    >>> from conceptref.demos.language_models import CharLanguageModel
    >>> with seeded(0):
    ...     model = CharLanguageModel(vocab_size=5, context=8)
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
        vocab = check_int(vocab_size, "vocab_size", Interval(1, None))
        self.context = check_int(context, "context", Interval(1, None))
        width = check_int(d_model, "d_model", Interval(1, None))
        heads = check_int(num_heads, "num_heads", Interval(1, None))
        depth = check_int(num_layers, "num_layers", Interval(1, None))
        if width % heads:
            raise ValueError(f"num_heads = {heads} must divide d_model = {width}")
        count = (2 * vocab + self.context) * width + 12 * width * width * depth  # about
        if count > MAX_PARAMETERS:
            raise ValueError(
                f"vocab_size = {vocab}, context = {self.context}, d_model = {width} and "
                f"num_layers = {depth} give about {count} parameters, more than {MAX_PARAMETERS}"
            )
        self.token = torch.nn.Embedding(vocab, width)
        self.position = torch.nn.Embedding(self.context, width)
        self.blocks = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(
                width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
            )
            for _ in range(depth)
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
    ``1 … context`` (teacher forcing: every position is trained at once), with the package's
    Adam (``conceptref.demos._training.fit``), on the CPU. The caller's random state is left
    as it was.

    Parameters
    ----------
    text
        The training text (longer than ``context``).
    context
        The window length, ``1 … 256``.
    steps
        The number of optimizer steps, ``0 … MAX_STEPS``.
    batch_size
        Windows per step, ``1 … 1024``.
    learning_rate
        Adam's learning rate, greater than 0.
    seed
        Seeds the model's initialization and the choice of windows (a non-negative integer).

    Returns
    -------
    tuple
        ``(model, alphabet, losses)``: the trained model in eval mode, the sorted list of
        characters (character ``alphabet[i]`` is token ``i``), and the loss of every step.

    Raises
    ------
    TypeError
        If ``text`` is not a string or a number is of the wrong type.
    ValueError
        If ``text`` is not longer than ``context``, a number is out of range, or training
        diverges (``training diverged at step N``).

    Examples
    --------
    >>> from conceptref.demos.language_models import train_char_model
    >>> model, alphabet, losses = train_char_model("abcabcabcabc", context=4, steps=40)
    >>> "".join(alphabet), losses[-1] < losses[0]
    ('abc', True)
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    window = check_int(context, "context", Interval(1, 256))
    if len(text) <= window:
        raise ValueError(f"text must be longer than context = {window}, got {len(text)} characters")
    n_steps = check_int(steps, "steps", Interval(0, MAX_STEPS), high_name="MAX_STEPS")
    batch = check_int(batch_size, "batch_size", Interval(1, 1024))
    lr = check_real(learning_rate, "learning_rate", Interval(0, None, "neither"))
    seed_value = check_seed(seed)
    generator = torch_generator(seed_value)
    alphabet = sorted(set(text))
    index = {c: i for i, c in enumerate(alphabet)}
    ids = torch.tensor([index[c] for c in text])
    with seeded(seed_value):
        model = CharLanguageModel(len(alphabet), window)
    offsets = torch.arange(window + 1)

    def loss_at(_: int) -> torch.Tensor:
        starts = torch.randint(len(text) - window, (batch,), generator=generator)
        chunk = ids[starts[:, None] + offsets]  # (B, context + 1)
        logits = model(chunk[:, :-1])  # (B, context, vocab)
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten())

    losses = fit(list(model.parameters()), loss_at, steps=n_steps, learning_rate=lr)
    model.eval()
    return model, alphabet, losses


def continue_text(
    model: CharLanguageModel,
    alphabet: Sequence[str],
    prompt: str,
    *,
    max_new_tokens: int,
    num_beams: int = 1,
) -> str:
    """Continue ``prompt`` with ``model``: greedy decoding, or beam search with ``num_beams > 1``.

    The model sees at most its last ``model.context`` characters at each step.

    Parameters
    ----------
    model
        A trained :class:`CharLanguageModel`.
    alphabet
        Its characters, ``alphabet[i]`` being token ``i`` (as :func:`train_char_model` returns).
    prompt
        The text to continue; every character must be in ``alphabet``.
    max_new_tokens
        The number of characters to add, ``1 … 256``.
    num_beams
        1 for :func:`conceptref.language_models.greedy_decode`, ``2 … 16`` for
        :func:`conceptref.language_models.beam_search`.

    Returns
    -------
    str
        The prompt and its continuation.

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`CharLanguageModel`, ``prompt`` is not a string, or a count
        is not an integer.
    ValueError
        If ``prompt`` is empty or holds a character outside ``alphabet``, or ``alphabet`` does
        not fit the model.

    Examples
    --------
    >>> from conceptref.demos.language_models import continue_text, train_char_model
    >>> model, alphabet, _ = train_char_model("abcabcabcabc", context=4, steps=40)
    >>> continue_text(model, alphabet, "ab", max_new_tokens=4)
    'abcabc'
    """
    check_module(model, "model")
    if not isinstance(model, CharLanguageModel):
        raise TypeError(f"model must be a CharLanguageModel, got {type(model).__name__}")
    if isinstance(alphabet, str) or not isinstance(alphabet, Sequence):
        raise TypeError(f"alphabet must be a list of characters, got {type(alphabet).__name__}")
    if len(alphabet) != model.head.out_features:
        raise ValueError(
            f"alphabet holds {len(alphabet)} characters, the model's vocabulary "
            f"{model.head.out_features}"
        )
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}")
    if not prompt:
        raise ValueError("prompt must hold at least one character")
    index = {c: i for i, c in enumerate(alphabet)}
    unknown = sorted(set(prompt) - set(index))
    if unknown:
        raise ValueError(f"prompt holds characters outside alphabet: {unknown}")
    beams = check_int(num_beams, "num_beams", Interval(1, 16))
    steps = check_int(max_new_tokens, "max_new_tokens", Interval(1, 256))
    window = model.context

    def next_token_logits(ids: npt.NDArray[np.int64]) -> torch.Tensor:
        with torch.no_grad():
            logits: torch.Tensor = model(torch.from_numpy(ids[-window:])[None])[0, -1]
        return logits

    tokens = [index[c] for c in prompt]
    if beams == 1:
        out = greedy_decode(next_token_logits, tokens, max_new_tokens=steps)
    else:
        out = beam_search(next_token_logits, tokens, num_beams=beams, max_new_tokens=steps)
    return "".join(alphabet[int(i)] for i in out)
