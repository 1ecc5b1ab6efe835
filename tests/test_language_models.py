"""conceptref.language_models against Hugging Face transformers and PyTorch, and bad input."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer
from tokenizers.models import WordLevel

from conceptref._random import seeded
from conceptref.attention import causal_mask
from conceptref.demos.language_models import (
    CharLanguageModel,
    continue_text,
    train_char_model,
)
from conceptref.language_models import (
    IGNORE_INDEX,
    attention_mask,
    beam_search,
    causal_lm_loss,
    greedy_decode,
    mask_tokens,
    masked_lm_loss,
    shift_right,
    top_k_filter,
    top_p_filter,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

BertConfig = lazy("transformers", "BertConfig")
BertForMaskedLM = lazy("transformers", "BertForMaskedLM")
DataCollatorForLanguageModeling = lazy("transformers", "DataCollatorForLanguageModeling")
GPT2Config = lazy("transformers", "GPT2Config")
GPT2LMHeadModel = lazy("transformers", "GPT2LMHeadModel")
PreTrainedTokenizerFast = lazy("transformers", "PreTrainedTokenizerFast")
TopKLogitsWarper = lazy("transformers.generation.logits_process", "TopKLogitsWarper")
TopPLogitsWarper = lazy("transformers.generation.logits_process", "TopPLogitsWarper")
ForCausalLMLoss = lazy("transformers.loss.loss_utils", "ForCausalLMLoss")
ForMaskedLMLoss = lazy("transformers.loss.loss_utils", "ForMaskedLMLoss")
shift_tokens_right = lazy("transformers.models.bart.modeling_bart", "shift_tokens_right")

torch.set_num_threads(1)

# ---------------------------------------------------------------- tiny models and a tokenizer

SPECIAL = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "[UNK]": 4}
VOCAB = {**SPECIAL, **{f"w{i}": 5 + i for i in range(15)}}  # 20 ids
V = len(VOCAB)
MASK_ID, SPECIAL_IDS = SPECIAL["[MASK]"], tuple(SPECIAL.values())


@functools.cache
def tokenizer() -> Any:
    """A word-level tokenizer over VOCAB, built when a test first needs it (transformers)."""
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel(VOCAB, unk_token="[UNK]")),
        **{f"{name}_token": f"[{name.upper()}]" for name in ("pad", "cls", "sep", "mask", "unk")},
    )


def tiny_gpt2(seed: int, vocab: int = V) -> GPT2LMHeadModel:
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
    with seeded(seed):
        return GPT2LMHeadModel(config).eval()


def tiny_bert(seed: int) -> BertForMaskedLM:
    config = BertConfig(
        vocab_size=V,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=32,
    )
    with seeded(seed):
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


def loss_matching_transformers(loss, hf_loss, logits, labels, *, causal: bool) -> float | None:
    """Our loss, checked against transformers' (float32) loss function; None where no label is
    a target, after checking that ours refuses such labels."""
    if not has_target(labels, causal=causal):
        with pytest.raises(ValueError, match="is the ignore index -100: the mean loss"):
            loss(logits, labels)
        return None
    ours = loss(logits, labels)
    hf = hf_loss(torch.from_numpy(logits), torch.from_numpy(labels), logits.shape[-1])
    assert ours == pytest.approx(float(hf), rel=1e-5, abs=1e-5)  # transformers uses float32
    return ours


@given(case=logits_and_labels(min_length=2))
def test_causal_lm_loss_equals_transformers_loss_function(case):
    logits, labels = case
    ours = loss_matching_transformers(causal_lm_loss, ForCausalLMLoss, logits, labels, causal=True)
    if ours is None:
        return
    shifted = torch.nn.functional.cross_entropy(  # the same loss in float64
        torch.from_numpy(logits[:, :-1]).flatten(0, 1), torch.from_numpy(labels[:, 1:]).flatten()
    )
    assert ours == pytest.approx(float(shifted), rel=1e-12, abs=1e-12)


@given(case=logits_and_labels())
def test_masked_lm_loss_equals_transformers_loss_function(case):
    logits, labels = case
    ours = loss_matching_transformers(masked_lm_loss, ForMaskedLMLoss, logits, labels, causal=False)
    if ours is None:
        return
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


def bert_masks(tokens, specials, mask_prob, seed, **kwargs):
    """Our masked inputs and labels for ``tokens`` (the vocabulary and [MASK] of the tests)."""
    return mask_tokens(
        tokens,
        vocab_size=V,
        mask_token=MASK_ID,
        special_tokens=specials,
        mask_prob=mask_prob,
        seed=seed,
        **kwargs,
    )


def collator_masks(rows, specials, mask_prob, seed, **kwargs):
    """transformers' collator's masked inputs and labels for the 2-D ``rows``."""
    collator = DataCollatorForLanguageModeling(
        tokenizer(), mlm_probability=mask_prob, seed=seed, **kwargs
    )
    batch = collator(
        [
            {
                "input_ids": row.tolist(),
                "special_tokens_mask": np.isin(row, specials).astype(int).tolist(),
            }
            for row in rows
        ]
    )
    return batch["input_ids"].numpy(), batch["labels"].numpy()


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
    inputs, labels = bert_masks(tokens, specials, mask_prob, seed, **kwargs)
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
    again = bert_masks(tokens, specials, mask_prob, seed, **kwargs)  # the same seed, same masks
    np.testing.assert_array_equal(again[0], inputs)

    rows = tokens.reshape(-1, tokens.shape[-1])
    theirs = collator_masks(rows, specials, mask_prob, seed, **kwargs)
    check_mlm_invariants(rows, *theirs, specials, MASK_ID, V)


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
    ours = bert_masks(tokens, specials, mask_prob, seed)
    theirs = collator_masks(tokens, specials, mask_prob, seed)
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


# ---------------------------------------------------------------- stable losses


def test_losses_are_stable_for_huge_logits():
    """Shifted log-sum-exp: equal huge logits cost log 2, not 0."""
    assert masked_lm_loss([[1e16, 1e16]], [1]) == pytest.approx(math.log(2), rel=1e-15)
    assert causal_lm_loss([[[0.0, 0.0], [1e16, 1e16]]], [[0, 1]]) == pytest.approx(math.log(2))
    big = np.array([[[1e10, 1e10 + 1.0, 1e10 - 2.0]]])
    expected = torch.nn.functional.cross_entropy(
        torch.tensor([[0.0, 1.0, -2.0]], dtype=torch.float64), torch.tensor([0])
    )
    assert masked_lm_loss(big, [[0]]) == pytest.approx(float(expected), rel=1e-12)


# ---------------------------------------------------------------- top-k and top-p


@st.composite
def logit_batches(draw):
    shape = (*draw(st.lists(st.integers(1, 3), max_size=2)), draw(st.integers(1, 8)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["normal", "ties", "filtered", "peaked"]))
    if kind == "ties":  # many equal logits: the tie rules matter
        logits = rng.integers(-2, 2, size=shape).astype(np.float64)
    elif kind == "peaked":
        logits = 30.0 * rng.standard_normal(shape)
    else:
        logits = rng.standard_normal(shape)
    if kind == "filtered":  # -inf from an earlier filter, never a whole row
        logits[..., 1:][rng.random((*shape[:-1], shape[-1] - 1)) < 0.3] = -np.inf
    return logits


def warp(warper, logits: np.ndarray) -> np.ndarray:
    flat = torch.from_numpy(logits.reshape(-1, logits.shape[-1]))
    return warper(None, flat).numpy().reshape(logits.shape)


@given(logits=logit_batches(), k=st.integers(1, 10))
def test_top_k_filter_equals_transformers(logits, k):
    np.testing.assert_array_equal(top_k_filter(logits, k), warp(TopKLogitsWarper(k), logits))


@given(
    logits=logit_batches(),
    p=st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.95, 1.0]), st.floats(0, 1)),
)
def test_top_p_filter_equals_transformers(logits, p):
    np.testing.assert_array_equal(top_p_filter(logits, p), warp(TopPLogitsWarper(p), logits))


@given(logits=logit_batches(), p=st.floats(0, 1))
def test_top_p_filter_of_float32_equals_transformers_in_float32(logits, p):
    low = torch.from_numpy(logits).float()
    theirs = warp(TopPLogitsWarper(p), low.numpy())
    np.testing.assert_array_equal(top_p_filter(low, p), theirs)
    np.testing.assert_array_equal(top_p_filter(low.numpy(), p), theirs)


def test_filters_keep_their_input_and_the_top_token():
    logits = np.array([[0.0, 2.0, 1.0, 2.0]])
    copy = logits.copy()
    assert np.isfinite(top_p_filter(logits, 0.0)).sum() == 1
    assert top_k_filter(logits, 1).tolist() == [[-np.inf, 2.0, -np.inf, 2.0]]
    np.testing.assert_array_equal(logits, copy)
    assert top_k_filter([[1.0, 2.0]], 5).tolist() == [[1.0, 2.0]]  # k beyond the vocabulary


# ---------------------------------------------------------------- beam search


def gpt2_next_token_logits(model):
    def next_token_logits(tokens):
        with torch.no_grad():
            return model(torch.from_numpy(tokens)[None]).logits[0, -1]

    return next_token_logits


@given(
    seed=st.integers(0, 2**16),
    prompt=st.lists(st.integers(3, V - 1), min_size=1, max_size=3),
    new=st.integers(1, 5),
    beams=st.integers(1, 4),
    eos=st.booleans(),
    length_penalty=st.sampled_from([1.0, 0.0, 2.0]),
)
def test_beam_search_equals_generate(seed, prompt, new, beams, eos, length_penalty):
    model = tiny_gpt2(seed, vocab=6)  # a small vocabulary: EOS (2) is often among the beams
    if not eos:
        model.generation_config.eos_token_id = None
    ours = beam_search(
        gpt2_next_token_logits(model),
        [t % 6 for t in prompt],
        num_beams=beams,
        max_new_tokens=new,
        eos_token=2 if eos else None,
        length_penalty=length_penalty,
    )
    with torch.no_grad():
        theirs = model.generate(
            torch.tensor([[t % 6 for t in prompt]]),
            attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
            do_sample=False,
            num_beams=beams,
            max_new_tokens=new,
            length_penalty=length_penalty,
        )[0].numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_beam_search_finds_what_greedy_misses():
    table = {0: [0.0, 0.5, 0.4, 0.1], 1: [0.3, 0.2, 0.3, 0.2], 2: [0.0, 0.0, 0.05, 0.95]}

    def next_token_logits(tokens):
        with np.errstate(divide="ignore"):
            return np.log(table.get(int(tokens[-1]), [0.25] * 4))

    assert greedy_decode(next_token_logits, [0], max_new_tokens=2).tolist() == [0, 1, 0]
    assert beam_search(next_token_logits, [0], num_beams=2, max_new_tokens=2).tolist() == [0, 2, 3]


# ---------------------------------------------------------------- the tiny character model


def test_char_model_is_causal_and_learns_without_touching_global_rng():
    with seeded(0):
        model = CharLanguageModel(vocab_size=7, context=10).eval()
    tokens = torch.randint(0, 7, (1, 10), generator=torch.Generator().manual_seed(0))
    changed = tokens.clone()
    changed[0, 7] = (changed[0, 7] + 1) % 7
    with torch.no_grad():
        a, b = model(tokens), model(changed)
    assert torch.equal(a[0, :7], b[0, :7])
    assert not torch.allclose(a[0, 7:], b[0, 7:])
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    model, alphabet, losses = train_char_model("abcd" * 10, context=6, steps=60, seed=3)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()[1]  # noqa: NPY002
    np.testing.assert_array_equal(after, numpy_state)
    assert alphabet == list("abcd")
    assert losses[-1] < 0.5 * losses[0]
    again = train_char_model("abcd" * 10, context=6, steps=60, seed=3)[2]
    assert again == losses  # the seed alone decides
    assert continue_text(model, alphabet, "ab", max_new_tokens=6) == "abcdabcd"
    assert continue_text(model, alphabet, "ab", max_new_tokens=6, num_beams=2) == "abcdabcd"


def test_char_model_training_stops_when_it_diverges():
    with pytest.raises(ValueError, match="training diverged at step"):
        train_char_model("abcd" * 10, context=6, steps=5, learning_rate=1e30)


# ---------------------------------------------------------------- bad input

L3 = np.zeros((1, 2, 3))


def eye_logits(tokens):
    return np.eye(5)[(tokens[-1] + 1) % 5]


with seeded(0):
    SMALL_MODEL = CharLanguageModel(vocab_size=3, context=4)


def mask(**kwargs):
    return mask_tokens(
        **{"tokens": [[5, 6]], "vocab_size": V, "mask_token": MASK_ID, "seed": 0, **kwargs}
    )


BAD_INPUT = [
    bad(causal_lm_loss, np.zeros((1, 1, 3)), [[0]], error=ValueError, match="length >= 2"),
    bad(
        causal_lm_loss,
        L3,
        [[0, 3]],
        error=ValueError,
        match="target 3 at tokens[0, 1] lies outside",
    ),
    bad(causal_lm_loss, L3, [[0, -1]], error=ValueError, match="lies outside 0 … 2"),
    bad(causal_lm_loss, L3, [[0, -100]], error=ValueError, match="every target in tokens is"),
    bad(causal_lm_loss, L3, [[0.0, 1.0]], error=TypeError, match="tokens must be an array"),
    bad(causal_lm_loss, L3, [[0, 1, 2]], error=ValueError, match="tokens must have the shape"),
    bad(
        causal_lm_loss,
        np.full((1, 2, 3), np.inf),
        [[0, 1]],
        error=ValueError,
        match="logits must be finite",
    ),
    bad(
        causal_lm_loss,
        np.zeros(3),
        [0],
        error=ValueError,
        match="logits must have at least 2 dimensions",
    ),
    bad(
        causal_lm_loss,
        np.zeros((1, 2, 0)),
        [[0, 1]],
        error=ValueError,
        match="vocabulary axis of size",
    ),
    bad(masked_lm_loss, L3, [[-100, -100]], error=ValueError, match="every target in labels is"),
    bad(masked_lm_loss, L3, [[0, 7]], error=ValueError, match="target 7 at labels[0, 1] lies"),
    bad(masked_lm_loss, L3, [[True, False]], error=TypeError, match="labels must be an array"),
    bad(
        masked_lm_loss, [[1e308, -1e308]], [1], error=ValueError, match="the loss overflows float64"
    ),
    bad(mask, tokens=[[0, 20]], error=ValueError, match="tokens must lie in the vocabulary 0 … 19"),
    bad(mask, tokens=[[0.0]], error=TypeError, match="tokens must be an array of integers"),
    bad(mask, mask_token=20, error=ValueError, match="mask_token = 20 lies outside"),
    bad(mask, mask_token=-1, error=ValueError, match="mask_token must be at least 0"),
    bad(mask, vocab_size=0, error=ValueError, match="vocab_size must be at least 1"),
    bad(
        mask,
        mask_prob=1.5,
        error=ValueError,
        match="mask_prob must be a probability in [0, 1], got 1.5",
    ),
    bad(mask, mask_prob=-0.1, error=ValueError, match="mask_prob must be a probability in [0, 1]"),
    bad(mask, mask_replace_prob=0.9, random_replace_prob=0.2, error=ValueError, match="at most 1"),
    bad(mask, seed=1.5, error=TypeError, match="seed must be an integer, got float"),
    bad(mask, seed=True, error=TypeError, match="seed must be an integer, got bool"),
    bad(mask, seed=-1, error=ValueError, match="seed must lie in 0 …"),
    bad(mask, special_tokens="ab", error=TypeError, match="special_tokens must be an iterable"),
    bad(
        mask, special_tokens=[1, 1.0], error=TypeError, match="special_tokens[1] must be an integer"
    ),
    bad(shift_right, [[]], 0, 0, error=ValueError, match="at least one position"),
    bad(shift_right, 5, 0, 0, error=ValueError, match="tokens must have at least 1 dimensions"),
    bad(shift_right, [[1.0]], 0, 0, error=TypeError, match="tokens must be an array of integers"),
    bad(shift_right, [[1]], None, 0, error=TypeError, match="start_token must be an integer"),
    bad(shift_right, [[1]], 0, -100, error=ValueError, match="pad_token must be at least 0"),
    bad(attention_mask, "full", 3, error=ValueError, match="kind must be one of 'bidirectional'"),
    bad(attention_mask, None, 3, error=TypeError, match="kind must be one of"),
    bad(attention_mask, "causal", 0, error=ValueError, match="length must be at least 1"),
    bad(attention_mask, "causal", 10**6, error=ValueError, match="length = 1000000 x length"),
    bad(
        attention_mask,
        "encoder-decoder",
        10**4,
        source_length=10**4,
        error=ValueError,
        match="would need",
    ),
    bad(attention_mask, "prefix", 3, prefix_length=4, error=ValueError, match="exceeds length"),
    bad(attention_mask, "causal", 3, prefix_length=1, error=ValueError, match="only used by kind"),
    bad(attention_mask, "causal", 3, source_length=1, error=ValueError, match="only used by kind"),
    bad(attention_mask, "encoder-decoder", 3, error=ValueError, match="needs source_length"),
    bad(greedy_decode, 5, [1], max_new_tokens=1, error=TypeError, match="must be callable"),
    bad(greedy_decode, np.zeros, [], max_new_tokens=1, error=ValueError, match="non-empty 1-D"),
    bad(greedy_decode, np.zeros, [[1]], max_new_tokens=1, error=ValueError, match="non-empty 1-D"),
    bad(
        greedy_decode,
        np.zeros,
        [1],
        max_new_tokens=0,
        error=ValueError,
        match="max_new_tokens must lie in 1",
    ),
    bad(
        greedy_decode, np.zeros, [1], max_new_tokens=10**9, error=ValueError, match="MAX_NEW_TOKENS"
    ),
    bad(
        greedy_decode,
        lambda t: np.zeros((2, 2)),
        [1],
        max_new_tokens=1,
        error=ValueError,
        match="one-dimensional",
    ),
    bad(greedy_decode, lambda t: [np.nan], [1], max_new_tokens=1, error=ValueError, match="finite"),
    bad(
        greedy_decode,
        lambda t: [-np.inf],
        [1],
        max_new_tokens=1,
        error=ValueError,
        match="only -inf",
    ),
    bad(top_k_filter, [[1.0, np.nan]], 1, error=ValueError, match="logits must be finite"),
    bad(top_k_filter, [[1.0, np.inf]], 1, error=ValueError, match="NaN or +inf"),
    bad(top_k_filter, 1.0, 1, error=ValueError, match="logits must have at least 1 dimensions"),
    bad(top_k_filter, np.zeros((2, 0)), 1, error=ValueError, match="vocabulary axis"),
    bad(top_k_filter, [1.0, 2.0], 0, error=ValueError, match="k must be at least 1"),
    bad(top_k_filter, [1.0, 2.0], 1.0, error=TypeError, match="k must be an integer"),
    bad(top_p_filter, [1.0, 2.0], 1.1, error=ValueError, match="p must be a probability in [0, 1]"),
    bad(top_p_filter, [1.0, 2.0], "0.9", error=TypeError, match="p must be a real number"),
    bad(top_p_filter, [["a", "b"]], 0.9, error=TypeError, match="logits must be an array of real"),
    bad(
        beam_search,
        eye_logits,
        [1],
        num_beams=0,
        max_new_tokens=2,
        error=ValueError,
        match="num_beams must lie in 1 … MAX_BEAMS",
    ),
    bad(
        beam_search,
        eye_logits,
        [1],
        num_beams=2,
        max_new_tokens=2,
        length_penalty=np.nan,
        error=ValueError,
        match="length_penalty must be a finite number in [-10, 10]",
    ),
    bad(
        beam_search,
        lambda t: [0.0],
        [1],
        num_beams=2,
        max_new_tokens=2,
        error=ValueError,
        match="at least 2 tokens",
    ),
    bad(
        beam_search,
        lambda t: np.zeros(len(t) + 1),
        [1],
        num_beams=2,
        max_new_tokens=3,
        error=ValueError,
        match="returned 3 logits after 2",
    ),
    bad(
        beam_search,
        eye_logits,
        [1],
        num_beams=2,
        max_new_tokens=2,
        length_penalty=647.0,
        error=ValueError,
        match="length_penalty must be a finite number in [-10, 10], got 647.0",
    ),
    bad(
        beam_search,
        eye_logits,
        [1],
        num_beams=257,
        max_new_tokens=2,
        error=ValueError,
        match="num_beams must lie in 1 … MAX_BEAMS = 256",
    ),
    bad(train_char_model, "abc", context=3, error=ValueError, match="longer than context = 3"),
    bad(train_char_model, b"abcd", context=2, error=TypeError, match="text must be a string"),
    bad(
        train_char_model,
        "abcdef",
        context=2,
        seed=True,
        error=TypeError,
        match="seed must be an integer, got bool",
    ),
    bad(train_char_model, "abcdef", context=2, steps=10**6, error=ValueError, match="MAX_STEPS"),
    bad(
        train_char_model,
        "abcdef",
        context=2,
        learning_rate=0.0,
        error=ValueError,
        match="learning_rate must be",
    ),
    bad(
        CharLanguageModel,
        3,
        4,
        num_heads=3,
        error=ValueError,
        match="num_heads = 3 must divide d_model = 32",
    ),
    bad(
        CharLanguageModel,
        3,
        4,
        d_model=4096,
        num_layers=8,
        error=ValueError,
        match="parameters, more than",
    ),
    bad(
        SMALL_MODEL,
        torch.zeros(1, 5, dtype=torch.long),
        error=ValueError,
        match="longer than the context 4",
    ),
    bad(
        continue_text,
        SMALL_MODEL,
        list("abc"),
        "abz",
        max_new_tokens=2,
        error=ValueError,
        match="outside alphabet: ['z']",
    ),
    bad(
        continue_text,
        SMALL_MODEL,
        list("ab"),
        "ab",
        max_new_tokens=2,
        error=ValueError,
        match="alphabet holds 2 characters",
    ),
    bad(
        continue_text,
        torch.nn.Linear(2, 2),
        list("abc"),
        "ab",
        max_new_tokens=2,
        error=TypeError,
        match="model must be a CharLanguageModel",
    ),
]

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)

TOKENS = np.array([[5, 6, 7]])
HOSTILE = [
    hostile(causal_lm_loss, logits=np.zeros((1, 3, 4)), tokens=[[0, 1, 2]]),
    hostile(masked_lm_loss, logits=np.zeros((1, 3, 4)), labels=[[0, -100, 2]]),
    hostile(
        mask_tokens,
        tokens=TOKENS,
        vocab_size=V,
        mask_token=MASK_ID,
        special_tokens=(1,),
        mask_prob=0.5,
        seed=0,
        mask_replace_prob=0.8,
        random_replace_prob=0.1,
    ),
    hostile(shift_right, tokens=TOKENS, start_token=1, pad_token=0),
    hostile(attention_mask, kind="encoder-decoder", length=3, source_length=2),
    hostile(greedy_decode, next_token_logits=eye_logits, prompt=[1], max_new_tokens=3, eos_token=4),
    hostile(
        beam_search,
        next_token_logits=eye_logits,
        prompt=[1],
        num_beams=2,
        max_new_tokens=3,
        eos_token=4,
        length_penalty=1.0,
    ),
    hostile(top_k_filter, allow_non_finite=True, logits=[[1.0, 2.0, 0.5]], k=2),
    hostile(top_p_filter, allow_non_finite=True, logits=[[1.0, 2.0, 0.5]], p=0.9),
    hostile(
        train_char_model,
        text="abcabcab",
        context=3,
        steps=2,
        batch_size=2,
        learning_rate=0.01,
        seed=0,
    ),
    hostile(CharLanguageModel, vocab_size=3, context=4, d_model=4, num_heads=2, num_layers=1),
    hostile(
        continue_text,
        model=SMALL_MODEL,
        alphabet=list("abc"),
        prompt="ab",
        max_new_tokens=2,
        num_beams=2,
    ),
]

test_hostile_input = hostile_input_test(HOSTILE)
