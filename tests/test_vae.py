"""conceptref.vae against torch.distributions and torch's losses, on generated and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conceptref.vae import (
    AutoencoderFit,
    _Adam,
    bernoulli_elbo,
    beta_of_mean_mse,
    decode_prior_samples,
    fraction_near_modes,
    gaussian_elbo,
    gaussian_kl,
    reparameterize,
    ring_of_gaussians,
    train_autoencoder,
)

RTOL, ATOL = 1e-9, 1e-9
values = st.floats(-30, 30, allow_nan=False, width=64)
logvars = st.one_of(st.floats(-20, 20, width=64), st.sampled_from([0.0, -1e-12, 1e-12]))
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def gaussians(draw):
    shape = draw(shapes)
    mu = draw(hnp.arrays(np.float64, shape, elements=values))
    logvar = draw(hnp.arrays(np.float64, shape, elements=logvars))
    return mu, logvar


def torch_kl(mu, logvar):
    q = torch.distributions.Normal(torch.tensor(mu), torch.exp(torch.tensor(logvar) / 2))
    p = torch.distributions.Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))
    return torch.distributions.kl_divergence(q, p).sum(-1).numpy()


@given(case=gaussians())
def test_kl_equals_torch_kl_divergence(case):
    mu, logvar = case
    np.testing.assert_allclose(gaussian_kl(mu, logvar), torch_kl(mu, logvar), rtol=1e-7, atol=1e-9)


@given(case=gaussians())
def test_kl_is_non_negative_and_zero_at_the_prior(case):
    mu, logvar = case
    assert (gaussian_kl(mu, logvar) >= 0).all()
    assert (gaussian_kl(np.zeros_like(mu), np.zeros_like(mu)) == 0).all()


@given(case=gaussians(), data=st.data())
def test_reparameterize_equals_torch_affine_draw(case, data):
    mu, logvar = case
    eps = data.draw(hnp.arrays(np.float64, mu.shape, elements=st.floats(-4, 4)))
    loc, scale = torch.tensor(mu), torch.exp(torch.tensor(logvar) / 2)
    expected = loc + scale * torch.tensor(eps)
    np.testing.assert_allclose(reparameterize(mu, logvar, eps), expected.numpy(), RTOL, ATOL)


def test_rsample_is_the_same_formula():
    torch.manual_seed(0)
    loc, scale = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([0.5, 3.0])
    z = torch.distributions.Normal(loc, scale.double()).rsample()
    torch.manual_seed(0)
    eps = torch.randn(2, dtype=torch.float64)
    np.testing.assert_allclose(reparameterize(loc, 2 * torch.log(scale), eps), z.numpy(), 1e-6)


def test_gradients_pass_through_the_trick():
    mu = torch.tensor([0.5], requires_grad=True)
    logvar = torch.tensor([0.0], requires_grad=True)
    z = mu + torch.exp(logvar / 2) * torch.tensor([2.0])
    z.sum().backward()
    assert mu.grad.item() == 1.0
    assert logvar.grad.item() == 1.0  # d z / d logvar = eps * sigma / 2


@st.composite
def batches(draw):
    n, k, d = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    x = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-5, 5)))
    x_mean = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-5, 5)))
    mu = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-5, 5)))
    logvar = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-5, 5)))
    return x, x_mean, mu, logvar


@given(case=batches(), sigma=st.floats(0.01, 10), beta=st.floats(0, 4))
def test_gaussian_elbo_equals_normal_log_prob_minus_kl(case, sigma, beta):
    x, x_mean, mu, logvar = case
    log_prob = torch.distributions.Normal(torch.tensor(x_mean), sigma).log_prob(torch.tensor(x))
    expected = log_prob.sum().item() - beta * torch_kl(mu, logvar).sum()
    got = gaussian_elbo(x, x_mean, mu, logvar, sigma=sigma, beta=beta)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-7)


@given(case=batches(), data=st.data())
def test_gaussian_elbo_with_one_sigma_per_feature(case, data):
    x, x_mean, mu, logvar = case
    sigma = data.draw(hnp.arrays(np.float64, x.shape[-1:], elements=st.floats(0.01, 10)))
    normal = torch.distributions.Normal(torch.tensor(x_mean), torch.tensor(sigma))
    expected = normal.log_prob(torch.tensor(x)).sum().item() - torch_kl(mu, logvar).sum()
    got = gaussian_elbo(x, x_mean, mu, logvar, sigma=sigma)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-7)


@given(case=gaussians(), data=st.data())
def test_reparameterize_broadcasts_several_draws(case, data):
    mu, logvar = case
    eps = data.draw(hnp.arrays(np.float64, (2, *mu.shape), elements=st.floats(-4, 4)))
    expected = torch.tensor(mu) + torch.exp(torch.tensor(logvar) / 2) * torch.tensor(eps)
    np.testing.assert_allclose(reparameterize(mu, logvar, eps), expected.numpy(), RTOL, ATOL)


@given(case=batches(), beta=st.floats(0, 4), data=st.data())
def test_bernoulli_elbo_equals_minus_bce_with_logits(case, beta, data):
    _, logits, mu, logvar = case
    x = data.draw(hnp.arrays(np.float64, logits.shape, elements=st.sampled_from([0.0, 0.3, 1.0])))
    bce = F.binary_cross_entropy_with_logits(
        torch.tensor(logits), torch.tensor(x), reduction="sum"
    ).item()
    expected = -bce - beta * torch_kl(mu, logvar).sum()
    got = bernoulli_elbo(x, logits, mu, logvar, beta=beta)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-7)


def test_bernoulli_elbo_is_stable_for_large_logits():
    got = bernoulli_elbo([[1.0, 0.0]], [[800.0, -800.0]], [[0.0]], [[0.0]])
    assert got == 0.0


@given(d=st.integers(1, 10_000), sigma=st.floats(0.01, 10))
def test_mean_mse_plus_kl_is_a_scaled_beta_vae_loss(d, sigma):
    rng = np.random.default_rng(d)
    x, x_hat = rng.normal(size=d), rng.normal(size=d)
    kl = 1.7
    mean_loss = F.mse_loss(torch.tensor(x_hat), torch.tensor(x)).item() + kl
    beta = beta_of_mean_mse(d, sigma=sigma)
    beta_loss = np.sum((x - x_hat) ** 2) / (2 * sigma**2) + beta * kl
    assert math.isclose(mean_loss * d / (2 * sigma**2), beta_loss, rel_tol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_low_precision_and_grad_tensors_are_accepted(dtype):
    mu = torch.tensor([[0.5, -1.0]], dtype=dtype, requires_grad=True)
    logvar = torch.tensor([[0.25, 0.0]], dtype=dtype, requires_grad=True)
    expected = torch_kl(mu.detach().double().numpy(), logvar.detach().double().numpy())
    np.testing.assert_allclose(gaussian_kl(mu, logvar), expected, rtol=1e-12)
    assert reparameterize(mu, logvar, torch.zeros(1, 2)).dtype == np.float64


def test_demonstration_helpers_run_and_give_shapes():
    data = ring_of_gaussians(64, seed=1)
    for variational in (False, True):
        fit = train_autoencoder(data, variational=variational, steps=3, seed=1)
        assert isinstance(fit, AutoencoderFit)
        assert fit.codes(data).shape == (64, 2)
        samples = decode_prior_samples(fit, 10, seed=1)
        assert samples.shape == (10, 2)
        assert 0.0 <= fraction_near_modes(samples) <= 1.0


@given(
    shapes=st.lists(hnp.array_shapes(max_dims=2, max_side=3), min_size=1, max_size=3),
    lr=st.floats(1e-4, 0.5),
    steps=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_written_out_adam_equals_torch_optim_adam(shapes, lr, steps, seed):
    # the training helpers use _Adam; torch.optim.Adam on the same loss must take the same steps
    generator = torch.Generator().manual_seed(seed)
    start = [torch.randn(shape, generator=generator) for shape in shapes]
    targets = [torch.randn(shape, generator=generator) for shape in shapes]

    def loss(params):
        return sum(
            ((p - t) ** 4 + torch.sin(p)).sum() for p, t in zip(params, targets, strict=True)
        )

    ours = [p.clone().requires_grad_() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    adam, reference = _Adam(ours, lr), torch.optim.Adam(theirs, lr=lr)
    for _ in range(steps):
        adam.step(loss(ours))
        reference.zero_grad()
        loss(theirs).backward()
        reference.step()
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: gaussian_kl([1e200], [0.0]), ValueError, "KL divergence overflows"),
        (
            lambda: gaussian_elbo([[0.0], [1.0]], [[0.0], [0.0]], [[0.0]] * 3, [[0.0]] * 3),
            ValueError,
            "one code per sample",
        ),
        (
            lambda: gaussian_elbo([[1.0]], [[0.0]], [[0.0]], [[0.0]], sigma=1e-200),
            ValueError,
            "ELBO overflows",
        ),
        (lambda: gaussian_kl([0.0, 1.0], [0.0]), ValueError, "same shape"),
        (lambda: gaussian_kl(0.0, 0.0), ValueError, "at least 1 dimensions"),
        (lambda: gaussian_kl([np.nan], [0.0]), ValueError, "mu must be finite"),
        (lambda: gaussian_kl([0.0], [800.0]), ValueError, "logvar must lie within"),
        (lambda: gaussian_kl(["a"], [0.0]), TypeError, "mu must be an array of real numbers"),
        (lambda: gaussian_kl(torch.tensor([True]), [0.0]), TypeError, "real numbers"),
        (lambda: reparameterize([0.0, 0.0], [0.0, 0.0], [1.0, 2.0, 3.0]), ValueError, "broadcast"),
        (lambda: reparameterize([0.0], [0.0], [np.inf]), ValueError, "eps must be finite"),
        (lambda: gaussian_elbo([[0.0]], [[0.0, 1.0]], [[0]], [[0]]), ValueError, "x_mean"),
        (lambda: gaussian_elbo([[0.0]], [[0.0]], [[0]], [[0]], sigma=0), ValueError, "sigma"),
        (lambda: gaussian_elbo([[0.0]], [[0.0]], [[0]], [[0]], beta=-1), ValueError, "beta"),
        (lambda: gaussian_elbo([[0.0]], [[0.0]], [[0]], [[0]], sigma=[1, 2]), ValueError, "sigma"),
        (lambda: gaussian_elbo([[0.0]], [[0.0]], [[0]], [[0]], sigma=True), TypeError, "sigma"),
        (lambda: bernoulli_elbo([[2.0]], [[0.0]], [[0]], [[0]]), ValueError, "[0, 1]"),
        (lambda: bernoulli_elbo([[1.0]], [[0.0, 0.0]], [[0]], [[0]]), ValueError, "logits"),
        (lambda: beta_of_mean_mse(0), ValueError, "num_features"),
        (lambda: beta_of_mean_mse(2.5), TypeError, "num_features"),
        (lambda: ring_of_gaussians(0), ValueError, "n must be"),
        (lambda: ring_of_gaussians(5, std=-1.0), ValueError, "std"),
        (lambda: fraction_near_modes([1.0, 2.0]), ValueError, "at least 2 dimensions"),
        (lambda: fraction_near_modes(np.zeros((3, 3))), ValueError, "shape (n, 2)"),
        (lambda: train_autoencoder(np.zeros(3), variational=True), ValueError, "data"),
        (lambda: train_autoencoder(np.zeros((3, 2)), variational=True, lr=0), ValueError, "lr"),
        (lambda: decode_prior_samples(object(), 3), TypeError, "AutoencoderFit"),
    ],
)
def test_bad_input(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()
