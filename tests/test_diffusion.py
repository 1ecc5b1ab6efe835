"""conceptref.diffusion against Hugging Face diffusers' schedulers and AutoencoderKL."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

with warnings.catch_warnings():
    # diffusers' import may warn about optional backends it does not find; nothing here uses them
    warnings.simplefilter("ignore")
    from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler

from conceptref.diffusion import (
    ToyDenoiser,
    alphas_cumprod,
    beta_schedule,
    classifier_free_guidance,
    ddim_step,
    ddpm_step,
    latent_scale_factor,
    latent_shape,
    q_sample,
    sample_toy_ddpm,
    sampling_timesteps,
    signal_to_noise,
    train_toy_ddpm,
)

DIFFUSERS_NAME = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "cosine": "squaredcos_cap_v2",
}
F32 = 2e-6  # diffusers computes in float32

kinds = st.sampled_from(["linear", "scaled_linear", "cosine"])
num_steps = st.one_of(st.integers(1, 50), st.sampled_from([999, 1000]))
betas_pair = st.tuples(st.floats(0, 0.05), st.floats(0, 0.05))


def scheduler(cls, kind, t, start=None, end=None, **kwargs):
    if kind != "cosine":
        kwargs["beta_start"], kwargs["beta_end"] = start, end
    return cls(
        num_train_timesteps=t, beta_schedule=DIFFUSERS_NAME[kind], clip_sample=False, **kwargs
    )


@given(kind=kinds, t=num_steps, pair=betas_pair)
def test_schedules_equal_diffusers(kind, t, pair):
    start, end = pair
    ours = (
        beta_schedule(kind, t)
        if kind == "cosine"
        else beta_schedule(kind, t, beta_start=start, beta_end=end)
    )
    theirs = scheduler(DDPMScheduler, kind, t, start, end)
    np.testing.assert_allclose(ours, theirs.betas.double().numpy(), rtol=0, atol=1e-6)
    # diffusers rounds each 1 - beta to float32 (to within 6e-8) and multiplies in float32:
    # over t factors its products drift from the exact ones by up to about t * 1.2e-7.
    bound = 1.2e-7 * np.arange(1, t + 1) + 1e-6
    drift = np.abs(alphas_cumprod(ours) - theirs.alphas_cumprod.double().numpy())
    assert (drift <= bound).all()
    # ... and that drift is float32 rounding: their betas multiplied in float32 give theirs, up
    # to the same bound (NumPy and torch accumulate the float32 product in different orders)
    in_float32 = np.cumprod(1 - theirs.betas.numpy(), dtype=np.float32).astype(np.float64)
    assert (np.abs(in_float32 - theirs.alphas_cumprod.double().numpy()) <= bound).all()


@pytest.mark.parametrize("kind", ["linear", "scaled_linear"])
def test_default_ranges_are_ddpm_and_stable_diffusion(kind):
    start, end = {"linear": (1e-4, 0.02), "scaled_linear": (0.00085, 0.012)}[kind]
    theirs = scheduler(DDPMScheduler, kind, 1000, start, end)
    np.testing.assert_allclose(beta_schedule(kind, 1000), theirs.betas.double(), atol=1e-9)


def test_terminal_alphas_cumprod_and_snr():
    table = {
        kind: float(alphas_cumprod(beta_schedule(kind, 1000))[-1])
        for kind in ("linear", "scaled_linear", "cosine")
    }
    assert round(table["linear"], 7) == 4.04e-05
    assert round(table["scaled_linear"], 4) == 0.0047
    assert table["cosine"] < 1e-8
    assert (
        signal_to_noise([table["scaled_linear"]])[0] > 100 * signal_to_noise([table["linear"]])[0]
    )


@st.composite
def noising_cases(draw):
    t_len = draw(st.integers(1, 30))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    x0 = draw(hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32)))
    noise = draw(hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32)))
    t = draw(hnp.arrays(np.int64, (shape[0],), elements=st.integers(0, t_len - 1)))
    return draw(kinds), t_len, x0, noise, t


@given(case=noising_cases())
def test_q_sample_equals_add_noise(case):
    kind, t_len, x0, noise, t = case
    sched = scheduler(DDPMScheduler, kind, t_len, 1e-4, 0.02)
    expected = sched.add_noise(torch.tensor(x0), torch.tensor(noise), torch.tensor(t))
    ours = q_sample(x0, t, noise, sched.alphas_cumprod.double().numpy())
    np.testing.assert_allclose(ours, expected.double().numpy(), rtol=0, atol=1e-5)


@st.composite
def step_cases(draw):
    t_len = draw(st.integers(2, 40))
    shape = draw(st.sampled_from([(1, 1), (2, 3), (1, 2, 2, 2)]))
    out = draw(hnp.arrays(np.float32, shape, elements=st.floats(-2, 2, width=32)))
    x = draw(hnp.arrays(np.float32, shape, elements=st.floats(-2, 2, width=32)))
    return draw(kinds), t_len, out, x, draw(st.integers(0, 2**31 - 1))


@given(
    case=step_cases(),
    data=st.data(),
    variance_type=st.sampled_from(["fixed_small", "fixed_large"]),
    prediction_type=st.sampled_from(["epsilon", "sample", "v_prediction"]),
)
def test_ddpm_step_equals_diffusers(case, data, variance_type, prediction_type):
    kind, t_len, out, x, seed = case
    sched = scheduler(
        DDPMScheduler,
        kind,
        t_len,
        1e-4,
        0.2,
        variance_type=variance_type,
        prediction_type=prediction_type,
    )
    n = data.draw(st.one_of(st.none(), st.integers(1, t_len)))
    if n is None:
        t = data.draw(st.integers(0, t_len - 1))
        prev = None
    else:
        sched.set_timesteps(n)
        steps = sched.timesteps.tolist()
        i = data.draw(st.integers(0, n - 1))
        t, prev = steps[i], steps[i + 1] if i + 1 < n else -1
    a = sched.alphas_cumprod.double().numpy()
    if prediction_type == "sample" and a[t] >= 1.0:
        return
    expected = sched.step(
        torch.tensor(out), t, torch.tensor(x), generator=torch.Generator().manual_seed(seed)
    ).prev_sample
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    ours = ddpm_step(
        out,
        t,
        x,
        a,
        noise,
        prev_t=prev,
        variance_type=variance_type,
        prediction_type=prediction_type,
    )
    np.testing.assert_allclose(ours, expected.double().numpy(), rtol=1e-4, atol=1e-4)


@given(
    case=step_cases(),
    data=st.data(),
    eta=st.sampled_from([0.0, 0.5, 1.0]),
    set_alpha_to_one=st.booleans(),
    spacing=st.sampled_from(["leading", "trailing", "linspace"]),
    prediction_type=st.sampled_from(["epsilon", "v_prediction"]),
)
def test_ddim_step_equals_diffusers(case, data, eta, set_alpha_to_one, spacing, prediction_type):
    kind, t_len, out, x, seed = case
    sched = scheduler(
        DDIMScheduler,
        kind,
        t_len,
        1e-4,
        0.2,
        set_alpha_to_one=set_alpha_to_one,
        timestep_spacing=spacing,
        prediction_type=prediction_type,
    )
    n = data.draw(st.integers(1, t_len))
    sched.set_timesteps(n)
    expected_steps = sched.timesteps.numpy()
    if len(expected_steps) != n or expected_steps.min() < 0:  # diffusers' trailing -1 quirk
        with pytest.raises(ValueError, match="rounding adds a timestep -1"):
            sampling_timesteps(t_len, n, spacing=spacing)
        return
    np.testing.assert_array_equal(expected_steps, sampling_timesteps(t_len, n, spacing=spacing))
    t = int(data.draw(st.sampled_from(sched.timesteps.tolist())))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    expected = sched.step(
        torch.tensor(out), t, torch.tensor(x), eta=eta, variance_noise=noise.clone()
    ).prev_sample
    ours = ddim_step(
        out,
        t,
        x,
        sched.alphas_cumprod.double().numpy(),
        num_inference_steps=n,
        eta=eta,
        noise=noise,
        set_alpha_to_one=set_alpha_to_one,
        prediction_type=prediction_type,
    )
    np.testing.assert_allclose(ours, expected.double().numpy(), rtol=1e-4, atol=1e-4)


@given(t_len=st.integers(1, 1000), data=st.data(), offset=st.integers(0, 1))
def test_leading_timesteps_with_offset_equal_diffusers(t_len, data, offset):
    n = data.draw(st.integers(1, t_len))
    sched = DDPMScheduler(num_train_timesteps=t_len, steps_offset=offset)
    if (n - 1) * (t_len // n) + offset >= t_len:
        with pytest.raises(ValueError, match="pushes a timestep"):
            sampling_timesteps(t_len, n, steps_offset=offset)
        return
    sched.set_timesteps(n)
    np.testing.assert_array_equal(
        sched.timesteps.numpy(), sampling_timesteps(t_len, n, steps_offset=offset)
    )


@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
    data=st.data(),
    scale=st.floats(-20, 20),
)
def test_guidance_equals_the_pipeline_formula_and_the_paper(shape, data, scale):
    u = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    c = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)))
    ours = classifier_free_guidance(u, c, scale)
    tu, tc = torch.tensor(u), torch.tensor(c)
    np.testing.assert_allclose(ours, (tu + scale * (tc - tu)).numpy(), rtol=1e-12, atol=1e-12)
    w = scale - 1
    np.testing.assert_allclose(ours, (1 + w) * c - w * u, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("levels", "size"), [(1, (5, 7)), (2, (8, 12)), (3, (17, 8)), (4, (64, 40))]
)
def test_latent_shape_equals_autoencoder_kl(levels, size):
    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=(8,) * levels,
        layers_per_block=1,
        norm_num_groups=4,
    )
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        z = vae.encode(x).latent_dist.mean
    f = 2 ** (levels - 1)
    assert tuple(z.shape[1:]) == latent_shape(*size, downsampling_factor=f, latent_channels=4)
    assert abs(vae.config.scaling_factor - 0.18215) < 1e-12  # the default is Stable Diffusion's


def test_stable_diffusion_latent_is_48_times_smaller():
    c, h, w = latent_shape(512, 512)
    assert (c, h, w) == (4, 64, 64)
    assert 512 * 512 * 3 / (c * h * w) == 48


@given(z=hnp.arrays(np.float64, st.integers(2, 20), elements=st.floats(-5, 5)))
def test_scale_factor_is_one_over_torch_std(z):
    # std(z) = peak * std(z / peak): torch on the rescaled data, so tiny spreads do not underflow
    peak = float(np.abs(z).max())
    std = peak * torch.tensor(z / peak).flatten().std().item() if peak > 0 else 0.0
    expected = 1 / std if std > 0 else np.inf
    if np.ptp(z) == 0 or not np.isfinite(expected):
        with pytest.raises(ValueError, match="latents"):
            latent_scale_factor(z)
        return
    assert np.isclose(latent_scale_factor(z), expected, rtol=1e-9, atol=0)


def test_tensors_with_grad_and_low_precision_are_accepted():
    x0 = torch.ones(2, 2, dtype=torch.bfloat16, requires_grad=True)
    noise = torch.zeros(2, 2, dtype=torch.float16)
    out = q_sample(x0, torch.tensor([0, 1]), noise, [0.25, 0.25])
    assert out.tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_toy_ddpm_runs():
    a = alphas_cumprod(beta_schedule("cosine", 10))
    model = train_toy_ddpm(np.zeros((8, 2)), a, steps=2)
    assert isinstance(model, ToyDenoiser)
    assert sample_toy_ddpm(model, 4, keep_trajectories=True).shape == (11, 4, 2)


A = [0.9, 0.5]
BAD = [
    (
        lambda: sampling_timesteps(15, 13, spacing="trailing"),
        ValueError,
        "rounding adds a timestep -1",
    ),
    (lambda: beta_schedule("sigmoid", 10), ValueError, "kind must be"),
    (lambda: beta_schedule(3, 10), TypeError, "kind must be a string"),
    (lambda: beta_schedule("linear", 0), ValueError, "num_steps"),
    (
        lambda: beta_schedule("linear", 10, beta_end=1.0),
        ValueError,
        "beta_end must be a finite number in [0, 1), got 1.0",
    ),
    (lambda: beta_schedule("cosine", 10, beta_start=0.1), ValueError, "takes no beta_start"),
    (lambda: alphas_cumprod([[0.1]]), ValueError, "one-dimensional"),
    (lambda: alphas_cumprod([1.0]), ValueError, "betas must lie in [0, 1)"),
    (lambda: signal_to_noise([0.0]), ValueError, "alphas_cumprod must lie in (0, 1]"),
    (lambda: q_sample([[1.0]], [2], [[0.0]], A), ValueError, "t must lie in 0"),
    (lambda: q_sample([[1.0]], [0.5], [[0.0]], A), TypeError, "t must be an array of integers"),
    (lambda: q_sample([[1.0], [1.0]], [0, 1, 1], [[0.0], [0.0]], A), ValueError, "one timestep"),
    (lambda: q_sample([[1.0]], [0], [[0.0, 0.0]], A), ValueError, "same shape"),
    (lambda: q_sample([[np.nan]], [0], [[0.0]], A), ValueError, "x0 must be finite"),
    (lambda: ddpm_step([[0.0]], 1, [[0.0]], A), ValueError, "noise is required"),
    (lambda: ddpm_step([[0.0]], 1, [[0.0]], A, [[0.0]], prev_t=1), ValueError, "prev_t"),
    (lambda: ddpm_step([[0.0]], 0, [[0.0, 1.0]], A), ValueError, "same shape"),
    (lambda: ddpm_step([[0.0]], 0, [[0.0]], A, variance_type="learned"), ValueError, "variance"),
    (lambda: ddpm_step([[0.0]], 0, [[0.0]], A, prediction_type="x"), ValueError, "prediction"),
    (lambda: ddpm_step([[0.0]], 0, [[0.0]], [1.0]), ValueError, "must be below 1"),
    (lambda: ddpm_step([[0.0]], True, [[0.0]], A), TypeError, "t must be an integer"),
    (lambda: ddim_step([[0.0]], 1, [[0.0]], A, num_inference_steps=3), ValueError, "exceed"),
    (lambda: ddim_step([[0.0]], 1, [[0.0]], A, num_inference_steps=1, eta=2), ValueError, "eta"),
    (lambda: ddim_step([[0.0]], 1, [[0.0]], A, num_inference_steps=1, eta=1), ValueError, "noise"),
    (lambda: classifier_free_guidance([0.0], [0.0, 1.0], 7.5), ValueError, "same shape"),
    (lambda: classifier_free_guidance([0.0], [0.0], np.inf), ValueError, "guidance_scale"),
    (lambda: sampling_timesteps(10, 11), ValueError, "cannot exceed"),
    (lambda: sampling_timesteps(10, 5, spacing="even"), ValueError, "spacing"),
    (lambda: latent_shape(512, 512, downsampling_factor=6), ValueError, "power of 2"),
    (lambda: latent_shape(4, 512), ValueError, "at least downsampling_factor"),
    (lambda: latent_scale_factor([1.0]), ValueError, "at least two"),
    (lambda: latent_scale_factor([1.0, 1.0]), ValueError, "not all be equal"),
    (lambda: train_toy_ddpm(np.zeros((3, 3)), A), ValueError, "shape (n, 2)"),
    (lambda: sample_toy_ddpm("model", 3), TypeError, "ToyDenoiser"),
]


@pytest.mark.parametrize(("call", "error", "fragment"), BAD)
def test_bad_input(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()
