"""conceptref.selfsupervised against pytorch-metric-learning and transformers' ViT-MAE."""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conceptref.demos.selfsupervised import (
    ContentStyleData,
    augment,
    content_style_data,
    contrastive_pretrain,
    nearest_centroid_probe,
    tiny_encoder,
)
from conceptref.selfsupervised import (
    barlow_twins_loss,
    info_nce_loss,
    negative_cosine_similarity,
    nt_xent_loss,
    random_masking,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

NTXentLoss = lazy("pytorch_metric_learning.losses", "NTXentLoss")
SelfSupervisedLoss = lazy("pytorch_metric_learning.losses", "SelfSupervisedLoss")
ViTMAEConfig = lazy("transformers", "ViTMAEConfig")
ViTMAEEmbeddings = lazy("transformers.models.vit_mae.modeling_vit_mae", "ViTMAEEmbeddings")

ATOL = 1e-12
RTOL = 1e-12


@functools.cache
def mae() -> Any:
    """One tiny ViT-MAE embedding layer, built from a config (no weights are downloaded) when a
    test first needs it; its random_masking reads config.mask_ratio, which each test sets."""
    return ViTMAEEmbeddings(
        ViTMAEConfig(hidden_size=4, num_hidden_layers=1, num_attention_heads=1,
                     intermediate_size=4, image_size=4, patch_size=2, num_channels=1)
    )  # fmt: skip


def mae_masking(x: torch.Tensor, ratio: float, noise: torch.Tensor):
    layer = mae()
    layer.config.mask_ratio = ratio
    return layer.random_masking(x, noise=noise)


def _lightly(module: str, name: str):
    """Load one of lightly's loss classes by path (``import lightly`` needs torchvision)."""
    spec = importlib.util.find_spec("lightly")
    root = Path(spec.origin).parent if spec and spec.origin else None
    assert root is not None, "lightly is not installed"
    loader = importlib.util.spec_from_file_location(
        f"_lightly_{module}", root / "loss" / f"{module}.py"
    )
    loaded = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(loaded)
    return getattr(loaded, name)


BarlowTwinsLoss = _lightly("barlow_twins_loss", "BarlowTwinsLoss")
NegativeCosineSimilarity = _lightly("negative_cosine_similarity", "NegativeCosineSimilarity")


def pml_nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    n = z1.shape[0]
    return NTXentLoss(temperature=temperature)(torch.cat([z1, z2]), torch.arange(n).repeat(2))


def pml_info_nce(q: torch.Tensor, k: torch.Tensor, temperature: float) -> torch.Tensor:
    return SelfSupervisedLoss(NTXentLoss(temperature=temperature), symmetric=False)(q, k)


# Awkward values on purpose: zeros (zero rows have cosine similarity 0), exact ties, signs, and
# tiny and large magnitudes that stress the normalization.
AWKWARD = st.one_of(
    st.floats(-10, 10, allow_subnormal=False),
    st.sampled_from([0.0, 1.0, -1.0, 2.0, 1e-200, -1e-8, 1e100, -1e150]),
)
TEMPERATURES = st.one_of(st.floats(0.01, 10.0), st.sampled_from([0.07, 0.1, 0.5, 1.0, 1e-3]))


@st.composite
def view_pairs(draw):
    n = draw(st.integers(1, 4))
    d = draw(st.integers(1, 4))
    views = draw(hnp.arrays(np.float64, (2, n, d), elements=AWKWARD))
    return torch.from_numpy(views[0]), torch.from_numpy(views[1])


def assert_close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.dtype == torch.float64
    assert actual.shape == ()
    torch.testing.assert_close(actual, expected.to(torch.float64), atol=ATOL, rtol=RTOL)


# --- NT-Xent and InfoNCE against pytorch-metric-learning ---------------------------------


@given(pair=view_pairs(), temperature=TEMPERATURES)
def test_nt_xent_equals_pml_ntxentloss(pair, temperature):
    z1, z2 = pair
    assert_close(nt_xent_loss(z1, z2, temperature), pml_nt_xent(z1, z2, temperature))


@given(pair=view_pairs(), temperature=TEMPERATURES)
def test_info_nce_equals_pml_self_supervised_loss_and_cross_entropy(pair, temperature):
    q, k = pair
    assert_close(info_nce_loss(q, k, temperature), pml_info_nce(q, k, temperature))
    # Away from underflow (pml's `+ tiny` guard), it is a plain cross-entropy on the diagonal.
    logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / temperature
    if (logits.max(dim=1).values - logits.diagonal()).max() < 600:
        expected = F.cross_entropy(logits, torch.arange(len(q)))
        torch.testing.assert_close(info_nce_loss(q, k, temperature), expected, atol=1e-9, rtol=0)


@given(pair=view_pairs(), temperature=st.floats(0.05, 5.0))
def test_gradients_equal_pml(pair, temperature):
    # The gradient of u / |u| grows like 1 / |u|: near-zero rows amplify rounding (1e-16 / 1e-8)
    # into differences that say nothing about the loss, so they are left to the value tests.
    assume(all(bool((z.norm(dim=1) > 1e-3).all()) for z in pair))
    a1, a2 = (z.clone().requires_grad_(True) for z in pair)
    b1, b2 = (z.clone().requires_grad_(True) for z in pair)
    ours = torch.autograd.grad(nt_xent_loss(a1, a2, temperature), (a1, a2), allow_unused=True)
    theirs = torch.autograd.grad(pml_nt_xent(b1, b2, temperature), (b1, b2), allow_unused=True)
    for g_ours, g_theirs in zip(ours, theirs, strict=True):
        if g_theirs is None:  # N = 1: pml returns a constant 0, with no graph to the inputs
            assert g_ours is None or torch.all(g_ours == 0)
        else:
            torch.testing.assert_close(g_ours, g_theirs, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("n", "d"), [(1, 3), (2, 2), (8, 16), (32, 5)])
def test_nt_xent_seeded_cases(seed, n, d):
    g = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(2, n, d, generator=g, dtype=torch.float64)
    assert_close(nt_xent_loss(z1, z2), pml_nt_xent(z1, z2, 0.07))  # both default to 0.07
    assert_close(nt_xent_loss(z1, z2, 0.5), pml_nt_xent(z1, z2, 0.5))
    assert_close(info_nce_loss(z1, z2, 0.5), pml_info_nce(z1, z2, 0.5))


def test_nt_xent_has_2n_minus_2_negatives_written_out():
    """The formula by hand: for each of the 2N anchors, its positive against the others."""
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    terms = []
    for i in range(6):
        p = (i + 3) % 6
        others = [k for k in range(6) if k != i]  # the positive and 2(N - 1) = 4 negatives
        assert len(others) == 1 + 4
        logits = torch.stack([z[i] @ z[k] for k in others]) / 0.3
        terms.append(-torch.log_softmax(logits, 0)[others.index(p)])
    assert_close(nt_xent_loss(z1, z2, 0.3), torch.stack(terms).mean())


def test_nt_xent_is_symmetric_in_the_views_and_scale_free():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(nt_xent_loss(z1, z2, 0.2), nt_xent_loss(z2, z1, 0.2))
    torch.testing.assert_close(nt_xent_loss(z1, z2, 0.2), nt_xent_loss(7 * z1, 0.1 * z2, 0.2))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.int64])
def test_losses_accept_other_dtypes_and_compute_in_float64(dtype):
    g = torch.Generator().manual_seed(2)
    z1, z2 = (3 * torch.randn(2, 4, 3, generator=g)).to(dtype)
    expected = pml_nt_xent(z1.double(), z2.double(), 0.5)
    assert_close(nt_xent_loss(z1, z2, 0.5), expected)
    assert_close(nt_xent_loss(z1.numpy() if dtype == torch.int64 else z1, z2, 0.5), expected)


def test_losses_keep_the_graph_of_inputs_that_require_grad():
    z1 = torch.randn(4, 3, requires_grad=True)
    z2 = torch.randn(4, 3)
    loss = nt_xent_loss(z1, z2, 0.5)
    loss.backward()
    assert z1.grad is not None
    assert z1.grad.shape == (4, 3)
    assert info_nce_loss(z1, z2).requires_grad


def test_nt_xent_accepts_numpy_and_lists():
    z = [[1.0, 0.0], [0.0, 1.0]]
    assert float(nt_xent_loss(np.array(z), z, 0.5)) == pytest.approx(math.log(1 + 2 / math.e**2))


# --- negative cosine similarity and Barlow Twins against lightly ------------------------------


@given(pair=view_pairs())
def test_negative_cosine_similarity_equals_lightly(pair):
    p, z = pair
    assume(all(bool(torch.isfinite(v.pow(2).sum(dim=1)).all()) for v in pair))
    assert_close(negative_cosine_similarity(p, z), NegativeCosineSimilarity()(p, z))


@st.composite
def batches(draw):
    """Two views (N, d), N >= 2, moderate values so that no column's variance overflows."""
    n = draw(st.integers(2, 5))
    d = draw(st.integers(1, 4))
    elements = st.one_of(
        st.floats(-10, 10, allow_subnormal=False), st.sampled_from([0.0, 1.0, 1e6])
    )
    views = draw(hnp.arrays(np.float64, (2, n, d), elements=elements))
    return torch.from_numpy(views[0]), torch.from_numpy(views[1])


@given(pair=batches(), lambda_param=st.one_of(st.just(5e-3), st.floats(0, 10)))
def test_barlow_twins_equals_lightly(pair, lambda_param):
    z1, z2 = pair
    expected = BarlowTwinsLoss(lambda_param=lambda_param)(z1, z2)
    torch.testing.assert_close(
        barlow_twins_loss(z1, z2, lambda_param=lambda_param), expected, atol=1e-9, rtol=1e-9
    )


@given(pair=batches())
def test_gradients_of_the_non_contrastive_losses_equal_lightly(pair):
    for ours, theirs in [(negative_cosine_similarity, NegativeCosineSimilarity()),
                         (barlow_twins_loss, BarlowTwinsLoss())]:  # fmt: skip
        a = [v.clone().requires_grad_(True) for v in pair]
        b = [v.clone().requires_grad_(True) for v in pair]
        got = torch.autograd.grad(ours(*a), a)
        want = torch.autograd.grad(theirs(*b), b)
        for g_ours, g_theirs in zip(got, want, strict=True):
            scale = 1 + float(g_theirs.abs().max())
            torch.testing.assert_close(g_ours, g_theirs, atol=1e-9 * scale, rtol=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_non_contrastive_losses_on_seeded_batches(seed):
    g = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(2, 16, 8, generator=g, dtype=torch.float64)
    assert_close(negative_cosine_similarity(z1, z2), NegativeCosineSimilarity()(z1, z2))
    assert_close(barlow_twins_loss(z1, z2), BarlowTwinsLoss()(z1, z2))
    # float32 input: computed in float64, equal to lightly's float32 result to its rounding
    a, b = z1.float(), z2.float()
    torch.testing.assert_close(barlow_twins_loss(a, b), BarlowTwinsLoss()(a, b).double(),
                               atol=1e-5, rtol=1e-5)  # fmt: skip


def test_barlow_twins_is_zero_at_the_identity_and_counts_redundancy():
    """The formula by hand: standardized columns, C = Z1^T Z2 / N, the two terms."""
    g = torch.Generator().manual_seed(4)
    z1, z2 = torch.randn(2, 6, 3, generator=g, dtype=torch.float64)
    s1 = (z1 - z1.mean(0)) / torch.sqrt(z1.var(0, unbiased=False) + 1e-5)
    s2 = (z2 - z2.mean(0)) / torch.sqrt(z2.var(0, unbiased=False) + 1e-5)
    c = s1.T @ s2 / 6
    off = c - torch.diag(torch.diagonal(c))
    expected = ((1 - torch.diagonal(c)) ** 2).sum() + 0.3 * (off**2).sum()
    torch.testing.assert_close(barlow_twins_loss(z1, z2, lambda_param=0.3), expected)
    assert float(barlow_twins_loss(z1, z1, lambda_param=0.0)) < 1e-8


def test_negative_cosine_similarity_keeps_the_graph_and_stop_gradient_is_the_callers():
    p = torch.randn(4, 3, requires_grad=True)
    z = torch.randn(4, 3, requires_grad=True)
    negative_cosine_similarity(p, z.detach()).backward()
    assert p.grad is not None
    assert z.grad is None


# --- random_masking against transformers' ViTMAEEmbeddings.random_masking -----------------


@st.composite
def masking_cases(draw):
    b, length, d = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
    x = draw(hnp.arrays(np.float32, (b, length, d), elements=st.floats(-5, 5, width=32)))
    # Few distinct values on purpose, so ties in the noise are common.
    noise = draw(
        hnp.arrays(np.float32, (b, length), elements=st.one_of(
            st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1, width=32)))
    )  # fmt: skip
    ratio = draw(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9, 1.0]), st.floats(0, 1)))
    return torch.from_numpy(x), torch.from_numpy(noise), ratio


def assert_same_masking(ours, theirs) -> None:
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype
        assert a.shape == b.shape
        assert torch.equal(a, b)


@given(case=masking_cases())
def test_random_masking_equals_vit_mae(case):
    x, noise, ratio = case
    assert_same_masking(random_masking(x, ratio, noise), mae_masking(x, ratio, noise))


@given(case=masking_cases())
def test_random_masking_invariants(case):
    x, noise, ratio = case
    kept, mask, ids_restore = random_masking(x, ratio, noise)
    b, length, d = x.shape
    len_keep = int(length * (1 - ratio))
    assert kept.shape == (b, len_keep, d)
    assert mask.sum(dim=1).tolist() == [float(length - len_keep)] * b  # 1 = removed
    assert torch.equal(torch.sort(ids_restore, dim=1).values, torch.arange(length).expand(b, -1))
    # The kept tokens are the ones the mask marks 0, in the order of increasing noise.
    for row in range(b):
        kept_positions = torch.nonzero(mask[row] == 0).flatten()
        assert torch.equal(torch.sort(kept[row], dim=0).values,
                           torch.sort(x[row, kept_positions], dim=0).values)  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16, torch.int32])
@pytest.mark.parametrize("ratio", [0.0, 0.75, 0.9, 1.0])
def test_random_masking_dtypes_and_edge_ratios(dtype, ratio):
    g = torch.Generator().manual_seed(0)
    x = (10 * torch.randn(2, 10, 3, generator=g)).to(dtype)
    noise = torch.rand(2, 10, generator=g, dtype=torch.float64)
    ours = random_masking(x, ratio, noise)
    assert_same_masking(ours, mae_masking(x, ratio, noise))
    assert ours.kept.dtype == dtype


def test_random_masking_keeps_the_graph_and_rounds_down_like_mae():
    x = torch.randn(1, 10, 2, requires_grad=True)
    kept, _mask, _ = random_masking(x, 0.9, torch.rand(1, 10))
    assert kept.shape == (1, 0, 2)  # int(10 * (1 - 0.9)) = int(0.99...) = 0
    kept, _, _ = random_masking(x, 0.7, torch.rand(1, 10))
    kept.sum().backward()
    assert x.grad is not None
    assert float(x.grad.sum()) == 3 * 2


def test_random_masking_draws_noise_from_the_generator():
    x = torch.randn(2, 8, 4)
    a = random_masking(x, 0.75, generator=torch.Generator().manual_seed(5))
    noise = torch.rand(2, 8, generator=torch.Generator().manual_seed(5))
    assert_same_masking(a, mae_masking(x, 0.75, noise))
    assert_same_masking(random_masking(x.numpy(), 0.75, noise.numpy()), a)


# --- the demonstration ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1])
def test_contrastive_pretraining_helps_a_five_label_probe_unless_the_views_are_wrong(seed):
    """The page's claim (shown there for seed 0) on other seeds."""
    torch.set_num_threads(1)
    data = content_style_data(100, seed=seed)
    right = contrastive_pretrain(data.x, data.style_basis, seed=seed)
    wrong = contrastive_pretrain(data.x, data.content_basis, seed=seed)
    with torch.no_grad():
        acc = {
            name: nearest_centroid_probe(f(data.x), data.labels, per_class=5, seed=seed)
            for name, f in [("random", tiny_encoder(10, seed=seed)), ("right", right),
                            ("wrong", wrong)]
        }  # fmt: skip
    assert acc["right"] > 0.9
    assert acc["random"] < 0.5
    assert acc["wrong"] < 0.3
    assert acc["right"] > acc["random"] + 0.3


def test_content_style_data_hides_the_class_in_the_content_subspace():
    data = content_style_data(50, seed=3)
    basis = torch.cat([data.content_basis, data.style_basis], dim=1)
    torch.testing.assert_close(basis.T @ basis, torch.eye(10), atol=1e-5, rtol=0)
    content = data.x @ data.content_basis
    style = data.x @ data.style_basis
    assert content.var(dim=0).sum() < style.var(dim=0).sum() / 5  # style dominates the input
    assert nearest_centroid_probe(content, data.labels, seed=0) > 0.95
    assert nearest_centroid_probe(style, data.labels, seed=0) < 0.45
    assert nearest_centroid_probe(data.x, data.labels, normalize=False, seed=0) < 0.6


def test_nearest_centroid_probe_is_a_linear_rule_on_a_known_case():
    h = torch.tensor([[0.0, 0.0], [0.2, 0.0], [4.0, 0.0], [4.2, 0.0], [2.5, 0.0], [1.9, 0.0]])
    y = torch.tensor([0, 0, 1, 1, 1, 0])
    # With per_class = 2 of 3, one example of each class is held out; both are on their side.
    assert nearest_centroid_probe(h, y, per_class=2, normalize=False, seed=0) == 1.0


# --- the demonstration's conventions: seeds, no global state, divergence ------------------------


def test_seeded_demonstrations_leave_the_global_random_state_alone():
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    data = content_style_data(6, n_classes=2, dim=4, seed=3)
    augment(data.x, data.style_basis, 1.0, seed=1)
    tiny_encoder(4, seed=2)
    f = contrastive_pretrain(data.x, data.style_basis, steps=2, batch_size=4, seed=5)
    with torch.no_grad():
        nearest_centroid_probe(f(data.x), data.labels, per_class=1, seed=4)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == numpy_state[0]
    assert np.array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]


def test_seeded_demonstrations_are_deterministic():
    data = content_style_data(6, n_classes=2, dim=4, seed=3)
    assert torch.equal(data.x, content_style_data(6, n_classes=2, dim=4, seed=3).x)
    one = contrastive_pretrain(data.x, data.style_basis, steps=2, batch_size=4, seed=5)
    two = contrastive_pretrain(data.x, data.style_basis, steps=2, batch_size=4, seed=5)
    for a, b in zip(one.parameters(), two.parameters(), strict=True):
        assert torch.equal(a, b)
    # the encoder starts from tiny_encoder(dim, seed=seed), the page's "random encoder"
    start = tiny_encoder(4, seed=5)
    moved = contrastive_pretrain(data.x, data.style_basis, steps=1, batch_size=4, seed=5)
    assert not torch.equal(start[0].weight, moved[0].weight)
    assert (start[0].weight - moved[0].weight).abs().max() < 0.02  # one Adam step of 0.01


def test_training_that_diverges_says_so():
    data = content_style_data(6, n_classes=2, dim=4)
    with pytest.raises(ValueError, match="training diverged at step 1"):
        contrastive_pretrain(data.x, data.style_basis, steps=5, batch_size=4, learning_rate=1e38)


def test_the_demonstration_does_not_change_its_inputs():
    data = content_style_data(6, n_classes=2, dim=4)
    x, basis = data.x.clone(), data.style_basis.clone()
    view = augment(data.x, data.style_basis, 1.0)
    contrastive_pretrain(data.x, data.style_basis, steps=1, batch_size=4)
    assert torch.equal(data.x, x)
    assert torch.equal(data.style_basis, basis)
    assert view.data_ptr() != data.x.data_ptr()


# --- bad input ---------------------------------------------------------------------------------

Z = [[1.0, 0.0], [0.0, 1.0]]
ZZ = {"z1": Z, "z2": Z}
X = torch.zeros(1, 4, 2)
MASK = {"x": X, "mask_ratio": 0.5, "noise": torch.rand(1, 4, generator=torch.Generator())}
DATA = content_style_data(6, n_classes=2, dim=4)

BAD_INPUT = [
    bad(nt_xent_loss, [[True, False]], [[True, False]], error=TypeError, match="z1 must be an array of real"),
    bad(nt_xent_loss, torch.ones(2, 2, dtype=torch.bool), Z, error=TypeError, match="z1 must be an array of real numbers"),
    bad(nt_xent_loss, Z, torch.ones(2, 2, dtype=torch.complex64), error=TypeError, match="z2 must be an array of real numbers"),
    bad(nt_xent_loss, [["a", "b"], ["c", "d"]], Z, error=TypeError, match="z1 must be an array of real numbers"),
    bad(nt_xent_loss, [[1.0, 2.0], [3.0]], Z, error=ValueError, match="z1 must be a rectangular array"),
    bad(nt_xent_loss, [1.0, 0.0], Z, error=ValueError, match="z1 must be two-dimensional, got shape (2,)"),
    bad(nt_xent_loss, Z, torch.ones(2, 2, 1), error=ValueError, match="z2 must be two-dimensional"),
    bad(nt_xent_loss, np.ones((0, 2)), np.ones((0, 2)), error=ValueError, match="z1 must not have an empty"),
    bad(nt_xent_loss, np.ones((2, 0)), np.ones((2, 0)), error=ValueError, match="z1 must not have an empty"),
    bad(nt_xent_loss, Z, [[1.0, 0.0]], error=ValueError, match="z1 and z2 must have the same shape, got (2, 2) and (1, 2)"),
    bad(nt_xent_loss, [[math.nan, 0.0], [0.0, 1.0]], Z, error=ValueError, match="z1 must be finite"),
    bad(nt_xent_loss, Z, torch.tensor([[math.inf, 0.0], [0.0, 1.0]]), error=ValueError, match="z2 must be finite"),
    bad(nt_xent_loss, **ZZ, temperature=0.0, error=ValueError, match="temperature must be a finite number greater than 0"),
    bad(nt_xent_loss, **ZZ, temperature=-0.1, error=ValueError, match="temperature must be a finite number greater than 0"),
    bad(nt_xent_loss, **ZZ, temperature=math.inf, error=ValueError, match="temperature must be a finite number greater"),
    bad(nt_xent_loss, **ZZ, temperature=1e-309, error=ValueError, match="1 / temperature overflows float64"),
    bad(nt_xent_loss, **ZZ, temperature=True, error=TypeError, match="temperature must be a real number"),
    bad(nt_xent_loss, **ZZ, temperature=torch.tensor(0.5), error=TypeError, match="temperature must be a real number"),
    bad(nt_xent_loss, Z, [[1e200, 1e200], [0.0, 1.0]], error=ValueError, match="z2 holds a row whose squared norm overflows"),
    bad(info_nce_loss, [[1e200, 0.0], [0.0, 1.0]], Z, error=ValueError, match="query holds a row whose squared norm overflows"),
    bad(info_nce_loss, [1.0, 0.0], Z, error=ValueError, match="query must be two-dimensional"),
    bad(info_nce_loss, Z, [[1.0, 0.0]], error=ValueError, match="query and key must have the same shape"),
    bad(info_nce_loss, Z, [[math.nan, 0.0], [0.0, 1.0]], error=ValueError, match="key must be finite"),
    bad(info_nce_loss, Z, Z, temperature=0, error=ValueError, match="temperature must be a finite number greater than 0"),
    bad(negative_cosine_similarity, [1.0, 0.0], Z, error=ValueError, match="p must be two-dimensional"),
    bad(negative_cosine_similarity, Z, [[1.0, 0.0]], error=ValueError, match="p and z must have the same shape"),
    bad(negative_cosine_similarity, Z, [[True, False], [False, True]], error=TypeError, match="z must be an array of real numbers"),
    bad(negative_cosine_similarity, [[1e200, 1e200]], [[1.0, 0.0]], error=ValueError, match="p holds a row whose squared norm overflows"),
    bad(barlow_twins_loss, [[1.0, 0.0]], [[1.0, 0.0]], error=ValueError, match="must have at least 2 rows"),
    bad(barlow_twins_loss, Z, [[1.0, 0.0], [0.0, math.nan]], error=ValueError, match="z2 must be finite"),
    bad(barlow_twins_loss, Z, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], error=ValueError, match="z1 and z2 must have the same shape"),
    bad(barlow_twins_loss, [[1e300, 0.0], [-1e300, 1.0]], Z, error=ValueError, match="z1 is too large to standardize"),
    bad(barlow_twins_loss, **ZZ, lambda_param=-1.0, error=ValueError, match="lambda_param must be a finite number of at least 0"),
    bad(barlow_twins_loss, **ZZ, lambda_param="0.005", error=TypeError, match="lambda_param must be a real number"),
    bad(random_masking, torch.zeros(4, 2), 0.5, error=ValueError, match="x must be three-dimensional, got shape (4, 2)"),
    bad(random_masking, torch.zeros(1, 0, 2), 0.5, error=ValueError, match="x must not have an empty axis"),
    bad(random_masking, torch.zeros(1, 4, 2, dtype=torch.bool), 0.5, error=TypeError, match="x must be an array of real numbers"),
    bad(random_masking, torch.full((1, 4, 2), math.nan), 0.5, error=ValueError, match="x must be finite"),
    bad(random_masking, X, 1.5, error=ValueError, match="mask_ratio must lie in [0, 1], got 1.5"),
    bad(random_masking, X, -0.25, error=ValueError, match="mask_ratio must lie in [0, 1]"),
    bad(random_masking, X, math.nan, error=ValueError, match="mask_ratio must be finite"),
    bad(random_masking, X, "0.5", error=TypeError, match="mask_ratio must be a real number"),
    bad(random_masking, X, 0.5, torch.rand(1, 5), error=ValueError, match="noise must have shape (B, L) = (1, 4)"),
    bad(random_masking, X, 0.5, torch.rand(4), error=ValueError, match="noise must be two-dimensional"),
    bad(random_masking, X, 0.5, torch.tensor([[0.1, math.nan, 0.2, 0.3]]), error=ValueError, match="noise must be finite"),
    bad(random_masking, X, 0.5, torch.ones(1, 4, dtype=torch.bool), error=TypeError, match="noise must be an array of real numbers"),
    bad(random_masking, X, 0.5, generator=7, error=TypeError, match="generator must be a torch.Generator"),
    bad(content_style_data, 0, error=ValueError, match="n_per_class must be at least 1"),
    bad(content_style_data, 5, n_classes=1, error=ValueError, match="n_classes must be at least 2"),
    bad(content_style_data, 5, dim=2, error=ValueError, match="dim must be at least 3"),
    bad(content_style_data, 5, radius=0.0, error=ValueError, match="radius must be a finite number greater than 0"),
    bad(content_style_data, 5, style_std=1e300, error=ValueError, match="the inputs overflow float32"),
    bad(content_style_data, 5, seed=-1, error=ValueError, match="seed must lie in 0"),
    bad(content_style_data, 5, seed=True, error=TypeError, match="seed must be an integer"),
    bad(content_style_data, 5, seed=1.5, error=TypeError, match="seed must be an integer"),
    bad(content_style_data, 2.5, error=TypeError, match="n_per_class must be an integer"),
    bad(content_style_data, 10**6, dim=10**5, error=ValueError, match="more than the"),
    bad(ContentStyleData, DATA.x, DATA.labels[:3], DATA.content_basis, DATA.style_basis, error=ValueError, match="len(x) and len(labels) must agree"),
    bad(ContentStyleData, DATA.x, DATA.labels, DATA.content_basis.T, DATA.style_basis, error=ValueError, match="the columns of x, the rows of content_basis and the rows of style_basis must agree"),
    bad(augment, DATA.x, DATA.style_basis.T, 1.0, error=ValueError, match="basis must have one row per column of x"),
    bad(augment, DATA.x, DATA.style_basis, -1.0, error=ValueError, match="scale must be a finite number of at least 0"),
    bad(augment, DATA.x[0], DATA.style_basis, 1.0, error=ValueError, match="x must be two-dimensional"),
    bad(augment, DATA.x.double() * 1e300, DATA.style_basis, 1.0, error=ValueError, match="x holds values too large for float32"),
    bad(augment, DATA.x, DATA.style_basis, 1.0, seed="0", error=TypeError, match="seed must be an integer"),
    bad(tiny_encoder, 0, error=ValueError, match="dim must be at least 1"),
    bad(tiny_encoder, 4, width=2.0, error=TypeError, match="width must be an integer"),
    bad(tiny_encoder, 10**6, width=10**6, error=ValueError, match="more than the"),
    bad(contrastive_pretrain, DATA.x, DATA.style_basis, steps=0, error=ValueError, match="steps must be at least 1"),
    bad(contrastive_pretrain, DATA.x, DATA.style_basis, learning_rate=0.0, error=ValueError, match="learning_rate must be a finite number greater than 0"),
    bad(contrastive_pretrain, DATA.x, DATA.style_basis, temperature=-1.0, error=ValueError, match="temperature must be a finite number greater than 0"),
    bad(contrastive_pretrain, DATA.x, DATA.style_basis, seed=-2, error=ValueError, match="seed must lie in 0"),
    bad(contrastive_pretrain, DATA.x, DATA.style_basis, batch_size=1025, error=ValueError, match="2 * batch_size = 2050"),
    bad(nearest_centroid_probe, DATA.x, DATA.labels.double(), error=TypeError, match="labels must be an array of integers"),
    bad(nearest_centroid_probe, DATA.x, DATA.labels[:3], error=ValueError, match="labels must have shape (n,) = (12,)"),
    bad(nearest_centroid_probe, DATA.x, DATA.labels, per_class=6, error=ValueError, match="class 0 has 6 examples"),
    bad(nearest_centroid_probe, DATA.x[0], DATA.labels, error=ValueError, match="features must be two-dimensional"),
    bad(nearest_centroid_probe, DATA.x, DATA.labels, normalize="no", error=TypeError, match="normalize must be a bool"),
    bad(nearest_centroid_probe, DATA.x.double() * 1e300, DATA.labels, error=ValueError, match="squared norm overflows"),
    bad(nearest_centroid_probe, DATA.x.double() * 1e300, DATA.labels, normalize=False, error=ValueError, match="distances overflow"),
]  # fmt: skip

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)

HOSTILE = [
    hostile(nt_xent_loss, **ZZ, temperature=0.5),
    hostile(info_nce_loss, query=Z, key=Z, temperature=0.5),
    hostile(negative_cosine_similarity, p=Z, z=Z),
    hostile(barlow_twins_loss, **ZZ, lambda_param=5e-3),
    hostile(random_masking, **MASK, generator=None),
    hostile(content_style_data, n_per_class=2, n_classes=2, dim=3, radius=2.0, content_std=0.4,
            style_std=3.0, seed=0),
    hostile(ContentStyleData, x=DATA.x, labels=DATA.labels, content_basis=DATA.content_basis,
            style_basis=DATA.style_basis),
    hostile(augment, x=DATA.x, basis=DATA.style_basis, scale=1.0, seed=0),
    hostile(tiny_encoder, dim=3, width=2, out=2, seed=0),
    hostile(contrastive_pretrain, x=DATA.x, basis=DATA.style_basis, scale=1.0, steps=1,
            batch_size=2, temperature=0.5, learning_rate=0.01, seed=0),
    hostile(nearest_centroid_probe, features=DATA.x, labels=DATA.labels, per_class=1,
            normalize=True, seed=0),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)
