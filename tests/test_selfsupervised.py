"""conceptref.selfsupervised against pytorch-metric-learning and transformers' ViT-MAE."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pytorch_metric_learning.losses import NTXentLoss, SelfSupervisedLoss
from transformers import ViTMAEConfig
from transformers.models.vit_mae.modeling_vit_mae import ViTMAEEmbeddings

from conceptref.selfsupervised import (
    augment,
    barlow_twins_loss,
    content_style_data,
    contrastive_pretrain,
    info_nce_loss,
    nearest_centroid_probe,
    negative_cosine_similarity,
    nt_xent_loss,
    random_masking,
    tiny_encoder,
)

ATOL = 1e-12
RTOL = 1e-12

# One tiny ViT-MAE embedding layer, built from a config (no weights are downloaded); its
# random_masking reads config.mask_ratio, which each test sets.
MAE = ViTMAEEmbeddings(
    ViTMAEConfig(hidden_size=4, num_hidden_layers=1, num_attention_heads=1, intermediate_size=4,
                 image_size=4, patch_size=2, num_channels=1)
)  # fmt: skip


def mae_masking(x: torch.Tensor, ratio: float, noise: torch.Tensor):
    MAE.config.mask_ratio = ratio
    return MAE.random_masking(x, noise=noise)


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


@pytest.mark.parametrize("seed", [1, 2])
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


# --- bad input ---------------------------------------------------------------------------------

Z = [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"z1": [[True, False]], "z2": [[True, False]]}, TypeError, "z1 must be an array of real"),
        (
            {"z1": torch.ones(2, 2, dtype=torch.bool)},
            TypeError,
            "z1 must be an array of real numbers",
        ),
        (
            {"z2": torch.ones(2, 2, dtype=torch.complex64)},
            TypeError,
            "z2 must be an array of real numbers",
        ),
        ({"z1": [["a", "b"], ["c", "d"]]}, TypeError, "z1 must be an array of real numbers"),
        ({"z1": [[1.0, 2.0], [3.0]]}, ValueError, "z1 must be a rectangular array"),
        ({"z1": [1.0, 0.0]}, ValueError, r"z1 must be two-dimensional, got shape \(2,\)"),
        ({"z2": torch.ones(2, 2, 1)}, ValueError, "z2 must be two-dimensional"),
        ({"z1": np.ones((0, 2)), "z2": np.ones((0, 2))}, ValueError, "z1 must not have an empty"),
        ({"z1": np.ones((2, 0)), "z2": np.ones((2, 0))}, ValueError, "z1 must not have an empty"),
        (
            {"z2": [[1.0, 0.0]]},
            ValueError,
            r"z1 and z2 must have the same shape, got \(2, 2\) and \(1, 2\)",
        ),
        ({"z1": [[math.nan, 0.0], [0.0, 1.0]]}, ValueError, "z1 must be finite"),
        ({"z2": torch.tensor([[math.inf, 0.0], [0.0, 1.0]])}, ValueError, "z2 must be finite"),
        ({"temperature": 0.0}, ValueError, "temperature must be a finite number greater than 0"),
        ({"temperature": -0.1}, ValueError, "temperature must be a finite number greater than 0"),
        ({"temperature": math.inf}, ValueError, "temperature must be a finite number greater"),
        ({"temperature": 1e-309}, ValueError, "1 / temperature overflows float64"),
        ({"temperature": True}, TypeError, "temperature must be a real number"),
        ({"temperature": torch.tensor(0.5)}, TypeError, "temperature must be a real number"),
    ],
)
def test_nt_xent_rejects_bad_input(kwargs, error, match):
    arguments = {"z1": Z, "z2": Z, "temperature": 0.5, **kwargs}
    with pytest.raises(error, match=match):
        nt_xent_loss(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"query": [1.0, 0.0]}, ValueError, "query must be two-dimensional"),
        ({"key": [[1.0, 0.0]]}, ValueError, "query and key must have the same shape"),
        ({"key": [[math.nan, 0.0], [0.0, 1.0]]}, ValueError, "key must be finite"),
        ({"temperature": 0}, ValueError, "temperature must be a finite number greater than 0"),
    ],
)
def test_info_nce_rejects_bad_input(kwargs, error, match):
    arguments = {"query": Z, "key": Z, "temperature": 0.5, **kwargs}
    with pytest.raises(error, match=match):
        info_nce_loss(**arguments)


X = torch.zeros(1, 4, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": torch.zeros(4, 2)}, ValueError, r"x must be three-dimensional, got shape \(4, 2\)"),
        ({"x": torch.zeros(1, 0, 2)}, ValueError, "x must not have an empty axis"),
        (
            {"x": torch.zeros(1, 4, 2, dtype=torch.bool)},
            TypeError,
            "x must be an array of real numbers",
        ),
        ({"x": torch.full((1, 4, 2), math.nan)}, ValueError, "x must be finite"),
        ({"mask_ratio": 1.5}, ValueError, r"mask_ratio must lie in \[0, 1\], got 1.5"),
        ({"mask_ratio": -0.25}, ValueError, r"mask_ratio must lie in \[0, 1\]"),
        ({"mask_ratio": math.nan}, ValueError, "mask_ratio must be finite"),
        ({"mask_ratio": "0.5"}, TypeError, "mask_ratio must be a real number"),
        ({"noise": torch.rand(1, 5)}, ValueError, r"noise must have shape \(B, L\) = \(1, 4\)"),
        ({"noise": torch.rand(4)}, ValueError, "noise must be two-dimensional"),
        ({"noise": torch.tensor([[0.1, math.nan, 0.2, 0.3]])}, ValueError, "noise must be finite"),
        (
            {"noise": torch.ones(1, 4, dtype=torch.bool)},
            TypeError,
            "noise must be an array of real numbers",
        ),
    ],
)
def test_random_masking_rejects_bad_input(kwargs, error, match):
    arguments = {"x": X, "mask_ratio": 0.5, "noise": torch.rand(1, 4), **kwargs}
    with pytest.raises(error, match=match):
        random_masking(**arguments)


def test_demonstration_helpers_reject_bad_input():
    data = content_style_data(6, n_classes=2, dim=4)
    g = torch.Generator()
    cases = [
        (lambda: content_style_data(0), ValueError, "n_per_class must be at least 1"),
        (lambda: content_style_data(5, n_classes=1), ValueError, "n_classes must be at least 2"),
        (lambda: content_style_data(5, dim=2), ValueError, "dim must be at least 3"),
        (lambda: content_style_data(5, radius=0.0), ValueError, "radius must be a finite number"),
        (lambda: content_style_data(5, seed=-1), ValueError, "seed must be at least 0"),
        (lambda: content_style_data(2.5), TypeError, "n_per_class must be an integer"),
        (lambda: augment(data.x, data.style_basis.T, 1.0, g), ValueError, "basis"),
        (lambda: augment(data.x, data.style_basis, -1.0, g), ValueError, "scale must be a finite"),
        (lambda: tiny_encoder(0), ValueError, "dim must be at least 1"),
        (lambda: contrastive_pretrain(data.x, data.style_basis, steps=0), ValueError, "steps"),
        (lambda: nearest_centroid_probe(data.x, data.labels.double()), TypeError, "labels must"),
        (lambda: nearest_centroid_probe(data.x, data.labels[:3]), ValueError, "labels must have"),
        (lambda: nearest_centroid_probe(data.x, data.labels, per_class=6), ValueError, "class 0"),
        (lambda: nearest_centroid_probe(data.x[0], data.labels), ValueError, "features must"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
