"""conceptref.language_models against Hugging Face transformers and PyTorch, and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import (
    BertConfig,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
)
from transformers.loss.loss_utils import ForCausalLMLoss, ForMaskedLMLoss
from transformers.models.bart.modeling_bart import shift_tokens_right

from conceptref.attention import causal_mask
from conceptref.language_models import (
    IGNORE_INDEX,
    CharLanguageModel,
    attention_mask,
    causal_lm_loss,
    greedy_decode,
    mask_tokens,
    masked_lm_loss,
    shift_right,
    train_char_model,
)

torch.set_num_threads(1)

# ---------------------------------------------------------------- tiny models and a tokenizer

SPECIAL = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "[UNK]": 4}
VOCAB = {**SPECIAL, **{f"w{i}": 5 + i for i in range(15)}}  # 20 ids
V = len(VOCAB)
MASK_ID, SPECIAL_IDS = SPECIAL["[MASK]"], tuple(SPECIAL.values())
TOKENIZER = PreTrainedTokenizerFast(
    tokenizer_object=Tokenizer(WordLevel(VOCAB, unk_token="[UNK]")),
    **{f"{name}_token": f"[{name.upper()}]" for name in ("pad", "cls", "sep", "mask", "unk")},
)


def tiny_gpt2(seed: int, vocab: int = V) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab,
        n_positions=32,
        n_embd=8,
        n_layer=1,
        n_head=2,
        bos_token_id=1,  # the defaults (50256) lie outside a tiny vocabulary
        eos_token_id=2,
        pad_token_id=0,
    )
    return GPT2LMHeadModel(config).eval()


def tiny_bert(seed: int) -> BertForMaskedLM:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=V,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=32,
    )
    return BertForMaskedLM(config).double().eval()


@st.composite
def logits_and_labels(draw, min_length=1):
    batch = draw(st.integers(1, 3))
    length = draw(st.integers(min_length, 5))
    vocab = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([0.0, 1.0, 50.0]))  # ties, ordinary, near one-hot
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((batch, length, vocab))
    labels = rng.integers(0, vocab, size=(batch, length))
    ignored = rng.random((batch, length)) < draw(st.sampled_from([0.0, 0.5]))
    labels[ignored] = IGNORE_INDEX
    return logits, labels


def has_target(labels: np.ndarray, causal: bool) -> bool:
    return bool((labels[:, 1:] if causal else labels).__ne__(IGNORE_INDEX).any())


# ---------------------------------------------------------------- losses


@given(case=logits_and_labels(min_length=2))
def test_causal_lm_loss_equals_transformers_loss_function(case):
    logits, labels = case
    if not has_target(labels, causal=True):
        with pytest.raises(ValueError, match="every target is the ignore index"):
            causal_lm_loss(logits, labels)
        return
    ours = causal_lm_loss(logits, labels)
    hf = ForCausalLMLoss(torch.from_numpy(logits), torch.from_numpy(labels), logits.shape[-1])
    assert ours == pytest.approx(float(hf), rel=1e-5, abs=1e-5)  # transformers uses float32
    shifted = torch.nn.functional.cross_entropy(  # the same loss in float64
        torch.from_numpy(logits[:, :-1]).flatten(0, 1), torch.from_numpy(labels[:, 1:]).flatten()
    )
    assert ours == pytest.approx(float(shifted), rel=1e-12, abs=1e-12)


@given(case=logits_and_labels())
def test_masked_lm_loss_equals_transformers_loss_function(case):
    logits, labels = case
    if not has_target(labels, causal=False):
        with pytest.raises(ValueError, match="every target is the ignore index"):
            masked_lm_loss(logits, labels)
        return
    ours = masked_lm_loss(logits, labels)
    hf = ForMaskedLMLoss(torch.from_numpy(logits), torch.from_numpy(labels), logits.shape[-1])
    assert ours == pytest.approx(float(hf), rel=1e-5, abs=1e-5)
    exact = torch.nn.CrossEntropyLoss()(  # what BertForMaskedLM calls, in float64
        torch.from_numpy(logits).flatten(0, 1), torch.from_numpy(labels).flatten()
    )
    assert ours == pytest.approx(float(exact), rel=1e-12, abs=1e-12)


@given(
    seed=st.integers(0, 2**16),
    batch=st.integers(1, 3),
    length=st.integers(2, 6),
    pad=st.booleans(),
)
def test_losses_equal_the_models_own_losses(seed, batch, length, pad):
    rng = np.random.default_rng(seed)
    ids = torch.from_numpy(rng.integers(5, V, size=(batch, length)))
    labels = ids.clone()
    if pad:  # padding after the real tokens: labels -100 there
        labels[:, length // 2 + 1 :] = IGNORE_INDEX
    gpt2 = tiny_gpt2(seed)
    with torch.no_grad():
        out = gpt2(ids, labels=labels)
    assert causal_lm_loss(out.logits, labels) == pytest.approx(float(out.loss), rel=1e-6)

    bert = tiny_bert(seed)
    inputs, mlm_labels = mask_tokens(
        ids.numpy(), vocab_size=V, mask_token=MASK_ID, mask_prob=0.5, seed=seed
    )
    mlm_labels[0, 0] = ids[0, 0]  # at least one selected position
    mlm_labels = torch.from_numpy(mlm_labels)
    with torch.no_grad():
        out = bert(torch.from_numpy(inputs), labels=mlm_labels)
    assert masked_lm_loss(out.logits, mlm_labels) == pytest.approx(float(out.loss), rel=1e-12)


def test_loss_accepts_low_precision_and_grad_tensors():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5, requires_grad=True)
    labels = torch.randint(0, 5, (2, 4))
    expected = causal_lm_loss(logits.detach().double().numpy(), labels.numpy())
    assert causal_lm_loss(logits, labels) == expected
    assert causal_lm_loss(logits.bfloat16(), labels) == pytest.approx(expected, abs=0.05)
    assert masked_lm_loss(logits.half(), labels) == pytest.approx(
        masked_lm_loss(logits.detach().numpy(), labels.numpy()), abs=0.01
    )


def test_causal_loss_is_mean_negative_log_likelihood_by_hand():
    logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]]]))
    # targets: token 1 at position 1 (p = 0.25), token 2 at position 2 (p = 0.8)
    expected = -(math.log(0.25) + math.log(0.8)) / 2
    assert causal_lm_loss(logits, [[0, 1, 2]]) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- mask_tokens


def check_mlm_invariants(tokens, inputs, labels, special, mask_id, vocab):
    selected = labels != IGNORE_INDEX
    assert inputs.shape == labels.shape == tokens.shape
    np.testing.assert_array_equal(labels[selected], tokens[selected])
    np.testing.assert_array_equal(inputs[~selected], tokens[~selected])
    assert not (selected & np.isin(tokens, special)).any()
    assert ((inputs >= 0) & (inputs < vocab)).all()


@st.composite
def token_batches(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, V, size=shape)
    tokens[tokens == MASK_ID] = 5  # text contains no [MASK]
    return tokens, seed


@given(
    case=token_batches(),
    mask_prob=st.sampled_from([0.0, 0.15, 0.5, 1.0]),
    replace=st.sampled_from([(0.8, 0.1), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0), (0.5, 0.5)]),
)
def test_mask_tokens_invariants_hold_for_ours_and_the_collator(case, mask_prob, replace):
    tokens, seed = case
    specials = (0, 1, 2)
    kwargs = {"mask_replace_prob": replace[0], "random_replace_prob": replace[1]}
    inputs, labels = mask_tokens(
        tokens,
        vocab_size=V,
        mask_token=MASK_ID,
        special_tokens=specials,
        mask_prob=mask_prob,
        seed=seed,
        **kwargs,
    )
    check_mlm_invariants(tokens, inputs, labels, specials, MASK_ID, V)
    eligible = ~np.isin(tokens, specials)
    selected = labels != IGNORE_INDEX
    if mask_prob == 1.0:
        np.testing.assert_array_equal(selected, eligible)
    if mask_prob == 0.0:
        assert not selected.any()
    if replace == (1.0, 0.0):
        assert (inputs[selected] == MASK_ID).all()
    if replace == (0.0, 0.0):
        np.testing.assert_array_equal(inputs, tokens)
    again = mask_tokens(
        tokens,
        vocab_size=V,
        mask_token=MASK_ID,
        special_tokens=specials,
        mask_prob=mask_prob,
        seed=seed,
        **kwargs,
    )
    np.testing.assert_array_equal(again[0], inputs)

    collator = DataCollatorForLanguageModeling(
        TOKENIZER, mlm_probability=mask_prob, seed=seed, **kwargs
    )
    rows = tokens.reshape(-1, tokens.shape[-1])
    batch = collator(
        [
            {
                "input_ids": row.tolist(),
                "special_tokens_mask": np.isin(row, specials).astype(int).tolist(),
            }
            for row in rows
        ]
    )
    check_mlm_invariants(
        rows, batch["input_ids"].numpy(), batch["labels"].numpy(), specials, MASK_ID, V
    )


Z = 5.5  # two-sided false-alarm rate of one comparison: 3.8e-8


def assert_rate(count: int, n: int, p: float, what: str) -> None:
    """A binomial z-test: fails when count is more than Z standard deviations from n * p."""
    sd = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= Z * sd + 1e-9, f"{what}: {count} of {n}, expected p = {p}"


def rates(tokens, inputs, labels, special):
    selected = labels != IGNORE_INDEX
    n_sel = int(selected.sum())
    as_mask = int((selected & (inputs == MASK_ID)).sum())
    kept = int((selected & (inputs == tokens)).sum())
    other = selected & (inputs != MASK_ID) & (inputs != tokens)
    return {
        "eligible": int((~np.isin(tokens, special)).sum()),
        "selected": n_sel,
        "mask": as_mask,
        "kept": kept,
        "other": int(other.sum()),
        "other special": int((other & np.isin(inputs, special)).sum()),
    }


@given(seed=st.integers(0, 2**32 - 1), mask_prob=st.sampled_from([0.15, 0.4]))
def test_mask_tokens_rates_match_bert_and_the_collator(seed, mask_prob):
    """The 80/10/10 rule, by rates, for ours and for transformers' collator.

    Each run makes 2 x 6 z-tests at Z = 5.5 standard deviations, a false-alarm rate of
    about 4.6e-7 per run (under 3e-4 for the 600 runs of the fuzz profile).
    """
    rng = np.random.default_rng(seed)
    tokens = rng.integers(5, V, size=(64, 64))
    tokens[:, 0], tokens[:, -1] = 1, 2  # [CLS] ... [SEP]
    specials = (0, 1, 2)
    ours = mask_tokens(
        tokens,
        vocab_size=V,
        mask_token=MASK_ID,
        special_tokens=specials,
        mask_prob=mask_prob,
        seed=seed,
    )
    collator = DataCollatorForLanguageModeling(TOKENIZER, mlm_probability=mask_prob, seed=seed)
    batch = collator(
        [
            {
                "input_ids": row.tolist(),
                "special_tokens_mask": np.isin(row, specials).astype(int).tolist(),
            }
            for row in tokens
        ]
    )
    theirs = (batch["input_ids"].numpy(), batch["labels"].numpy())
    for name, (inputs, labels) in {"ours": ours, "collator": theirs}.items():
        r = rates(tokens, inputs, labels, specials)
        n = r["selected"]
        assert_rate(n, r["eligible"], mask_prob, f"{name} selected")
        # a random draw from the whole vocabulary may hit [MASK] or the original token
        assert_rate(r["mask"], n, 0.8 + 0.1 / V, f"{name} [MASK]")
        assert_rate(r["kept"], n, 0.1 + 0.1 / V, f"{name} unchanged")
        assert_rate(r["other"], n, 0.1 * (V - 2) / V, f"{name} random")
        # random replacements come from the whole vocabulary, special ids included
        assert_rate(r["other special"], r["other"], len(specials) / (V - 2), f"{name} special")
        assert r["mask"] + r["kept"] + r["other"] == n


def test_mask_tokens_accepts_tensors_and_generators():
    tokens = torch.randint(5, V, (3, 7))
    a = mask_tokens(tokens, vocab_size=V, mask_token=MASK_ID, seed=np.random.default_rng(3))
    b = mask_tokens(tokens.numpy(), vocab_size=V, mask_token=MASK_ID, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# ---------------------------------------------------------------- shift_right


@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 6)),
    seed=st.integers(0, 2**16),
    start=st.integers(0, 5),
    pad=st.integers(0, 5),
    ignored=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_shift_right_equals_bart(shape, seed, start, pad, ignored):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 50, size=shape)
    labels[rng.random(shape) < ignored] = IGNORE_INDEX
    expected = shift_tokens_right(torch.from_numpy(labels), pad, start).numpy()
    np.testing.assert_array_equal(shift_right(labels, start, pad), expected)
    # any number of leading axes: row by row
    stacked = np.stack([labels, labels[::-1]])
    np.testing.assert_array_equal(shift_right(stacked, start, pad)[0], expected)
    np.testing.assert_array_equal(shift_right(labels[0], start, pad), expected[0])


# ---------------------------------------------------------------- attention masks


@given(n=st.integers(1, 9), prefix=st.integers(0, 9), source=st.integers(1, 5))
def test_attention_masks_agree_with_torch_and_each_other(n, prefix, source):
    square = torch.nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)
    causal = attention_mask("causal", n)
    np.testing.assert_array_equal(causal, (square == 0).numpy())
    np.testing.assert_array_equal(causal, causal_mask(n))
    assert attention_mask("bidirectional", n).all()
    p = min(prefix, n)
    prefix_mask = attention_mask("prefix", n, prefix_length=p)
    np.testing.assert_array_equal(prefix_mask, causal | (np.arange(n) < p))
    np.testing.assert_array_equal(attention_mask("prefix", n, prefix_length=0), causal)
    assert attention_mask("prefix", n, prefix_length=n).all()
    both = attention_mask("encoder-decoder", n, source_length=source)
    assert both.shape == (n, source + n)
    assert both[:, :source].all()
    np.testing.assert_array_equal(both[:, source:], causal)


def test_causal_mask_drives_torch_sdpa_like_is_causal():
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 5, 4, dtype=torch.float64) for _ in range(3))
    masked = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=torch.from_numpy(attention_mask("causal", 5))
    )
    flagged = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(masked, flagged, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- greedy decoding


@given(
    seed=st.integers(0, 2**16),
    prompt=st.lists(st.integers(3, V - 1), min_size=1, max_size=4),
    new=st.integers(1, 6),
)
def test_greedy_decode_equals_generate(seed, prompt, new):
    model = tiny_gpt2(seed)

    def next_token_logits(tokens):
        with torch.no_grad():
            return model(torch.from_numpy(tokens)[None]).logits[0, -1]

    ours = greedy_decode(next_token_logits, prompt, max_new_tokens=new, eos_token=2)
    with torch.no_grad():
        theirs = model.generate(
            torch.tensor([prompt]),
            attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
            do_sample=False,
            max_new_tokens=new,
        )[0].numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_greedy_decode_stops_at_eos_and_takes_the_first_of_ties():
    out = greedy_decode(lambda t: np.zeros(4), [1, 2], max_new_tokens=3)
    assert out.tolist() == [1, 2, 0, 0, 0]
    assert greedy_decode(lambda t: np.zeros(4), [1], max_new_tokens=3, eos_token=0).tolist() == [
        1,
        0,
    ]


# ---------------------------------------------------------------- the tiny character model


def test_char_model_is_causal_and_learns():
    torch.manual_seed(0)
    model = CharLanguageModel(vocab_size=7, context=10).eval()
    tokens = torch.randint(0, 7, (1, 10))
    changed = tokens.clone()
    changed[0, 7] = (changed[0, 7] + 1) % 7
    with torch.no_grad():
        a, b = model(tokens), model(changed)
    assert torch.equal(a[0, :7], b[0, :7])
    assert not torch.allclose(a[0, 7:], b[0, 7:])
    _, alphabet, losses = train_char_model("abcd" * 10, context=6, steps=60)
    assert alphabet == list("abcd")
    assert losses[-1] < 0.5 * losses[0]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("fn", "args", "error", "fragment"),
    [
        (causal_lm_loss, (np.zeros((1, 1, 3)), [[0]]), ValueError, "length >= 2"),
        (causal_lm_loss, (np.zeros((1, 2, 3)), [[0, 3]]), ValueError, "lies outside 0 … 2"),
        (causal_lm_loss, (np.zeros((1, 2, 3)), [[0, -1]]), ValueError, "lies outside 0 … 2"),
        (causal_lm_loss, (np.zeros((1, 2, 3)), [[0, -100]]), ValueError, "every target is the"),
        (causal_lm_loss, (np.zeros((1, 2, 3)), [[0.0, 1.0]]), TypeError, "tokens must be an array"),
        (
            causal_lm_loss,
            (np.zeros((1, 2, 3)), [[0, 1, 2]]),
            ValueError,
            "tokens must have the shape",
        ),
        (
            causal_lm_loss,
            (np.full((1, 2, 3), np.inf), [[0, 1]]),
            ValueError,
            "logits must be finite",
        ),
        (causal_lm_loss, (np.zeros(3), [0]), ValueError, "logits must have at least 2 dimensions"),
        (causal_lm_loss, (np.zeros((1, 2, 0)), [[0, 1]]), ValueError, "vocabulary axis of size"),
        (masked_lm_loss, (np.zeros((1, 2, 3)), [[-100, -100]]), ValueError, "every target is"),
        (
            masked_lm_loss,
            (np.zeros((1, 2, 3)), [[True, False]]),
            TypeError,
            "labels must be an array",
        ),
    ],
)
def test_losses_reject(fn, args, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        fn(*args)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"tokens": [[0, 20]]}, ValueError, "tokens must lie in the vocabulary 0 … 19"),
        ({"tokens": [[0.0]]}, TypeError, "tokens must be an array of integers"),
        ({"mask_token": 20}, ValueError, "mask_token = 20 lies outside"),
        ({"mask_token": -1}, ValueError, "mask_token must be at least 0"),
        ({"vocab_size": 0}, ValueError, "vocab_size must be at least 1"),
        ({"mask_prob": 1.5}, ValueError, "mask_prob must be a probability in [0, 1], got 1.5"),
        ({"mask_prob": -0.1}, ValueError, "mask_prob must be a probability in [0, 1], got -0.1"),
        ({"mask_replace_prob": 0.9, "random_replace_prob": 0.2}, ValueError, "at most 1"),
        ({"seed": 1.5}, TypeError, "seed must be an integer or a numpy Generator"),
        ({"seed": True}, TypeError, "seed must be an integer or a numpy Generator"),
        ({"special_tokens": "ab"}, TypeError, "special_tokens must be an iterable"),
        ({"special_tokens": [1.0]}, TypeError, "special_tokens must be an integer"),
    ],
)
def test_mask_tokens_rejects(kwargs, error, fragment):
    args = {"tokens": [[5, 6]], "vocab_size": V, "mask_token": MASK_ID, "seed": 0, **kwargs}
    with pytest.raises(error, match=re.escape(fragment)):
        mask_tokens(**args)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "fragment"),
    [
        ((shift_right, [[]], 0, 0), {}, ValueError, "at least one position"),
        ((shift_right, 5, 0, 0), {}, ValueError, "tokens must have at least 1 dimensions"),
        ((shift_right, [[1.0]], 0, 0), {}, TypeError, "tokens must be an array of integers"),
        ((shift_right, [[1]], None, 0), {}, TypeError, "start_token must be an integer"),
        ((shift_right, [[1]], 0, -100), {}, ValueError, "pad_token must be at least 0"),
        ((attention_mask, "full", 3), {}, ValueError, "kind must be one of"),
        ((attention_mask, "causal", 0), {}, ValueError, "length must be at least 1"),
        ((attention_mask, "prefix", 3), {"prefix_length": 4}, ValueError, "exceeds length"),
        ((attention_mask, "causal", 3), {"prefix_length": 1}, ValueError, "only used by kind"),
        ((attention_mask, "causal", 3), {"source_length": 1}, ValueError, "only used by kind"),
        ((attention_mask, "encoder-decoder", 3), {}, ValueError, "needs source_length"),
        ((greedy_decode, 5, [1]), {"max_new_tokens": 1}, TypeError, "must be callable"),
        ((greedy_decode, np.zeros, []), {"max_new_tokens": 1}, ValueError, "non-empty 1-D"),
        ((greedy_decode, np.zeros, [[1]]), {"max_new_tokens": 1}, ValueError, "non-empty 1-D"),
        (
            (greedy_decode, np.zeros, [1]),
            {"max_new_tokens": 0},
            ValueError,
            "max_new_tokens must be at least 1",
        ),
        (
            (greedy_decode, lambda t: np.zeros((2, 2)), [1]),
            {"max_new_tokens": 1},
            ValueError,
            "1-D",
        ),
        ((greedy_decode, lambda t: [np.nan], [1]), {"max_new_tokens": 1}, ValueError, "finite"),
        ((train_char_model, "abc"), {"context": 3}, ValueError, "longer than context = 3"),
        ((train_char_model, b"abcd"), {"context": 2}, TypeError, "text must be a string"),
    ],
)
def test_other_helpers_reject(args, kwargs, error, fragment):
    fn, *rest = args
    with pytest.raises(error, match=re.escape(fragment)):
        fn(*rest, **kwargs)


def test_char_model_rejects_long_input():
    model = CharLanguageModel(vocab_size=3, context=4)
    with pytest.raises(ValueError, match="longer than the context 4"):
        model(torch.zeros(1, 5, dtype=torch.long))
