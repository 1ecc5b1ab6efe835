"""conceptref.vae (and its demonstration) against torch.distributions and torch's losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conceptref.demos.vae import (
    AutoencoderFit,
    decode_prior_samples,
    fraction_near_modes,
    ring_of_gaussians,
    train_autoencoder,
)
from conceptref.vae import (
    bernoulli_elbo,
    beta_of_mean_mse,
    gaussian_elbo,
    gaussian_kl,
    reparameterize,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test

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


def test_demonstration_helpers_run_and_keep_the_global_random_state():
    data = ring_of_gaussians(64, seed=1)
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    for variational in (False, True):
        fit = train_autoencoder(data, variational=variational, steps=3, seed=1)
        assert isinstance(fit, AutoencoderFit)
        assert fit.codes(data).shape == (64, 2)
        samples = decode_prior_samples(fit, 10, seed=1)
        assert samples.shape == (10, 2)
        assert 0.0 <= fraction_near_modes(samples) <= 1.0
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert (np.random.get_state()[1] == numpy_state).all()  # noqa: NPY002
    again = train_autoencoder(data, variational=True, steps=3, seed=1)
    np.testing.assert_array_equal(again.codes(data), fit.codes(data))  # seeded: reproducible


def test_one_code_for_a_batch_is_not_broadcast():
    # three samples and a single code: the KL would be counted once for all three
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        gaussian_elbo(np.zeros((3, 2)), np.zeros((3, 2)), [0.0], [0.0])
    with pytest.raises(ValueError, match="one code per sample"):
        gaussian_elbo(np.zeros((3, 2)), np.zeros((3, 2)), [[0.0]], [[0.0]])


def test_divergence_is_reported_with_its_step():
    with pytest.raises(ValueError, match=r"training diverged at step \d+"):
        train_autoencoder(np.full((4, 2), 1e30), variational=True, steps=3)


_X = [[0.5, -1.0], [2.0, 0.25]]
_CODE = [[0.1], [-0.2]]
_FIT = train_autoencoder(ring_of_gaussians(8, seed=0), variational=True, steps=1, hidden=4)

BAD_INPUT = [
    bad(gaussian_kl, [1e200], [0.0], error=ValueError, match="KL divergence overflows"),
    bad(
        gaussian_elbo,
        [[0.0], [1.0]],
        [[0.0], [0.0]],
        [[0.0]] * 3,
        [[0.0]] * 3,
        error=ValueError,
        match="one code per sample",
    ),
    bad(
        gaussian_elbo,
        [[0.0], [1.0], [2.0]],
        [[0.0]] * 3,
        [0.0],
        [0.0],
        error=ValueError,
        match="mu must have at least 2 dimensions",
    ),
    bad(
        gaussian_elbo,
        [[1.0]],
        [[0.0]],
        [[0.0]],
        [[0.0]],
        sigma=1e-200,
        error=ValueError,
        match="ELBO overflows",
    ),
    bad(gaussian_kl, [0.0, 1.0], [0.0], error=ValueError, match="same shape"),
    bad(gaussian_kl, 0.0, 0.0, error=ValueError, match="at least 1 dimensions"),
    bad(gaussian_kl, [np.nan], [0.0], error=ValueError, match="mu must be finite"),
    bad(gaussian_kl, [0.0], [800.0], error=ValueError, match="logvar must lie within"),
    bad(gaussian_kl, ["a"], [0.0], error=TypeError, match="mu must be an array of real numbers"),
    bad(gaussian_kl, torch.tensor([True]), [0.0], error=TypeError, match="real numbers"),
    bad(
        reparameterize,
        [0.0, 0.0],
        [0.0, 0.0],
        [1.0, 2.0, 3.0],
        error=ValueError,
        match="eps must have the shape of mu",
    ),
    bad(reparameterize, [0.0, 0.0], [0.0], [1.0, 2.0], error=ValueError, match="same shape"),
    bad(
        reparameterize,
        [0.0, 0.0],
        [0.0, 0.0],
        [1.0],
        error=ValueError,
        match="eps must have the shape of mu",
    ),
    bad(reparameterize, [0.0], [0.0], [np.inf], error=ValueError, match="eps must be finite"),
    bad(reparameterize, [1e308], [1.0], [1e308], error=ValueError, match="overflows float64"),
    bad(gaussian_elbo, [[0.0]], [[0.0, 1.0]], [[0]], [[0]], error=ValueError, match="x_mean"),
    bad(gaussian_elbo, [[0.0]], [[0.0]], [[0]], [[0]], sigma=0, error=ValueError, match="sigma"),
    bad(gaussian_elbo, [[0.0]], [[0.0]], [[0]], [[0]], beta=-1, error=ValueError, match="beta"),
    bad(
        gaussian_elbo, [[0.0]], [[0.0]], [[0]], [[0]], sigma=[1, 2], error=ValueError, match="sigma"
    ),
    bad(gaussian_elbo, [[0.0]], [[0.0]], [[0]], [[0]], sigma=True, error=TypeError, match="sigma"),
    bad(bernoulli_elbo, [[2.0]], [[0.0]], [[0]], [[0]], error=ValueError, match="[0, 1]"),
    bad(bernoulli_elbo, [[1.0]], [[0.0, 0.0]], [[0]], [[0]], error=ValueError, match="logits"),
    bad(
        bernoulli_elbo,
        [[1.0]] * 3,
        [[0.0]] * 3,
        [0.0],
        [0.0],
        error=ValueError,
        match="mu must have at least 2 dimensions",
    ),
    bad(beta_of_mean_mse, 0, error=ValueError, match="num_features"),
    bad(beta_of_mean_mse, 2.5, error=TypeError, match="num_features"),
    bad(beta_of_mean_mse, 784, sigma=1e-200, error=ValueError, match="overflows float64"),
    bad(ring_of_gaussians, 0, error=ValueError, match="n must be"),
    bad(ring_of_gaussians, 5, std=-1.0, error=ValueError, match="std"),
    bad(ring_of_gaussians, 5, seed=1.5, error=TypeError, match="seed must be an integer"),
    bad(ring_of_gaussians, 5, seed=True, error=TypeError, match="seed must be an integer"),
    bad(ring_of_gaussians, 10**9, error=ValueError, match="would need"),
    bad(ring_of_gaussians, 5, radius=1e308, std=1e308, error=ValueError, match="overflow float64"),
    bad(fraction_near_modes, [1.0, 2.0], error=ValueError, match="two-dimensional"),
    bad(fraction_near_modes, np.zeros((3, 3)), error=ValueError, match="shape (n, 2)"),
    bad(train_autoencoder, np.zeros(3), variational=True, error=ValueError, match="data"),
    bad(train_autoencoder, np.zeros((3, 2)), variational=True, lr=0, error=ValueError, match="lr"),
    bad(
        train_autoencoder,
        np.zeros((3, 2)),
        variational="no",
        error=TypeError,
        match="variational must be a bool, got str",
    ),
    bad(
        train_autoencoder,
        np.zeros((3, 2)),
        variational=True,
        steps=10**6,
        error=ValueError,
        match="steps must lie in 1",
    ),
    bad(
        train_autoencoder,
        np.zeros((3, 2)),
        variational=True,
        seed=-1,
        error=ValueError,
        match="seed must lie in",
    ),
    bad(decode_prior_samples, object(), 3, error=TypeError, match="AutoencoderFit"),
    bad(decode_prior_samples, _FIT, 10**8, error=ValueError, match="would need"),
    bad(_FIT.codes, np.zeros((3, 5)), error=ValueError, match="data must have 2 features"),
    bad(
        AutoencoderFit,
        "enc",
        torch.nn.Linear(1, 2),
        True,
        1,
        error=TypeError,
        match="encoder must be a torch.nn.Module",
    ),
    bad(
        AutoencoderFit,
        torch.nn.Linear(2, 2),
        torch.nn.Linear(1, 2),
        "yes",
        1,
        error=TypeError,
        match="variational must be a bool",
    ),
]

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)

HOSTILE = [
    hostile(gaussian_kl, mu=_CODE, logvar=_CODE),
    hostile(reparameterize, mu=_CODE, logvar=_CODE, eps=_CODE),
    hostile(gaussian_elbo, x=_X, x_mean=_X, mu=_CODE, logvar=_CODE, sigma=0.5, beta=1.0),
    hostile(
        bernoulli_elbo, x=[[1.0, 0.0], [0.5, 1.0]], logits=_X, mu=_CODE, logvar=_CODE, beta=1.0
    ),
    hostile(beta_of_mean_mse, num_features=784, sigma=0.1),
    hostile(ring_of_gaussians, n=5, modes=3, radius=2.0, std=0.1, seed=0),
    hostile(fraction_near_modes, points=_X, modes=8, radius=2.0, tolerance=0.3),
    hostile(
        train_autoencoder,
        data=_X,
        variational=True,
        latent_dim=1,
        hidden=4,
        steps=2,
        lr=1e-2,
        sigma=0.1,
        beta=1.0,
        seed=0,
    ),
    hostile(decode_prior_samples, fit=_FIT, n=3, seed=0),
    hostile(_FIT.codes, data=_X),
    hostile(
        AutoencoderFit,
        encoder=torch.nn.Linear(2, 2),
        decoder=torch.nn.Linear(1, 2),
        variational=True,
        latent_dim=1,
    ),
]

test_hostile_input_gives_a_clear_error_or_a_finite_answer = hostile_input_test(HOSTILE)
