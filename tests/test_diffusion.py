"""conceptref.diffusion (and its demonstration) against diffusers' schedulers and helpers."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conceptref.demos.diffusion import ToyDenoiser, sample_toy_ddpm, train_toy_ddpm
from conceptref.demos.vae import ring_of_gaussians
from conceptref.diffusion import (
    alphas_cumprod,
    beta_schedule,
    classifier_free_guidance,
    ddim_step,
    ddpm_step,
    latent_scale_factor,
    latent_shape,
    q_sample,
    rescale_guidance,
    rescale_zero_terminal_snr,
    sampling_timesteps,
    signal_to_noise,
    velocity,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

AutoencoderKL = lazy("diffusers", "AutoencoderKL")
DDIMScheduler = lazy("diffusers", "DDIMScheduler")
DDPMScheduler = lazy("diffusers", "DDPMScheduler")
rescale_noise_cfg = lazy("diffusers.guiders.guider_utils", "rescale_noise_cfg")
diffusers_rescale_zero_terminal_snr = lazy(
    "diffusers.schedulers.scheduling_ddpm", "rescale_zero_terminal_snr"
)

DIFFUSERS_NAME = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "cosine": "squaredcos_cap_v2",
}
F32 = 2e-6  # diffusers computes in float32
F64 = torch.float64

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
    zero_snr=st.booleans(),
)
def test_ddpm_step_equals_diffusers(case, data, variance_type, prediction_type, zero_snr):
    kind, t_len, out, x, seed = case
    sched = scheduler(
        DDPMScheduler,
        kind,
        t_len,
        1e-4,
        0.2,
        variance_type=variance_type,
        prediction_type=prediction_type,
        rescale_betas_zero_snr=zero_snr,
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
    if a[t] >= 1.0:
        return
    if prediction_type == "epsilon" and a[t] == 0.0:  # zero SNR: diffusers divides by 0
        with pytest.raises(ValueError, match="use 'v_prediction'"):
            ddpm_step(out, t, x, a, np.zeros_like(x), prev_t=prev, prediction_type="epsilon")
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
    zero_snr=st.booleans(),
)
def test_ddim_step_equals_diffusers(
    case, data, eta, set_alpha_to_one, spacing, prediction_type, zero_snr
):
    kind, t_len, out, x, seed = case
    sched = scheduler(
        DDIMScheduler,
        kind,
        t_len,
        1e-4,
        0.2,
        set_alpha_to_one=set_alpha_to_one,
        timestep_spacing=spacing,
        prediction_type="v_prediction" if zero_snr else prediction_type,
        rescale_betas_zero_snr=zero_snr,
    )
    prediction_type = sched.config.prediction_type
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
    a = sched.alphas_cumprod.double().numpy()
    if a[t] >= 1.0 or (not set_alpha_to_one and a[0] == 0.0):
        return
    ours = ddim_step(
        out,
        t,
        x,
        a,
        num_inference_steps=n,
        eta=eta,
        noise=noise,
        set_alpha_to_one=set_alpha_to_one,
        prediction_type=prediction_type,
    )
    if zero_snr and eta == 1.0 and not torch.isfinite(expected).all():
        # from zero SNR with eta = 1 the direction's weight sqrt(1 - a' - sigma^2) is exactly 0;
        # in float32 diffusers takes the square root of a rounding error below 0 (NaN)
        assert np.isfinite(ours).all()
        return
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


# --- the helpers for zero terminal SNR, v-prediction and rescaled guidance ------------------


@functools.cache
def velocity_scheduler():
    """One scheduler: get_velocity reads only its alphas_cumprod, set per case."""
    return DDPMScheduler()


@given(case=noising_cases(), zero_snr=st.booleans())
def test_velocity_equals_get_velocity(case, zero_snr):
    kind, t_len, x0, noise, t = case
    betas = beta_schedule(kind, t_len, **({} if kind == "cosine" else {"beta_end": 0.02}))
    if zero_snr and t_len > 1:
        betas = rescale_zero_terminal_snr(betas)
    a = alphas_cumprod(betas)
    sched = velocity_scheduler()
    sched.alphas_cumprod = torch.tensor(a)  # float64: get_velocity computes in the sample's dtype
    x0_64, noise_64 = torch.tensor(x0, dtype=F64), torch.tensor(noise, dtype=F64)
    expected = sched.get_velocity(x0_64, noise_64, torch.tensor(t)).numpy()
    np.testing.assert_allclose(velocity(x0, noise, t, a), expected, rtol=1e-12, atol=1e-12)
    # the rotation: x_0 and the noise come back from (x_t, v)
    xt, v = q_sample(x0, t, noise, a), velocity(x0, noise, t, a)
    ab = a[t].reshape((-1,) + (1,) * (x0.ndim - 1))
    np.testing.assert_allclose(np.sqrt(ab) * xt - np.sqrt(1 - ab) * v, x0, atol=1e-9)


betas_arrays = hnp.arrays(
    np.float64,
    st.integers(2, 40),
    elements=st.one_of(st.floats(1e-6, 0.5), st.sampled_from([0.0, 1e-4, 0.02])),
)


@given(betas=betas_arrays, last=st.one_of(st.floats(1e-6, 0.5), st.just(1.0)))
def test_rescale_zero_terminal_snr_equals_diffusers(betas, last):
    betas[-1] = last
    ours = rescale_zero_terminal_snr(betas)
    theirs = diffusers_rescale_zero_terminal_snr(torch.tensor(betas)).numpy()  # in float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    a = alphas_cumprod(ours)
    assert a[-1] == 0.0
    assert signal_to_noise(a)[-1] == 0.0
    assert np.isclose(a[0], 1 - betas[0], rtol=1e-12)  # the first step is kept
    np.testing.assert_allclose(rescale_zero_terminal_snr(ours), ours, rtol=1e-9, atol=1e-12)


def test_rescaled_stable_diffusion_schedule_equals_the_scheduler():
    sched = DDPMScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        rescale_betas_zero_snr=True,
    )
    ours = alphas_cumprod(rescale_zero_terminal_snr(beta_schedule("scaled_linear", 1000)))
    np.testing.assert_allclose(ours, sched.alphas_cumprod.double().numpy(), atol=2e-6)
    assert ours[-1] == 0.0


@st.composite
def guidance_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3))
    shape = (shape[0], 2, *shape[2:])  # at least two numbers per sample
    elements = st.floats(-5, 5)
    cond = draw(hnp.arrays(np.float64, shape, elements=elements))
    uncond = draw(hnp.arrays(np.float64, shape, elements=elements))
    return cond, uncond


@given(case=guidance_cases(), scale=st.floats(0, 15), phi=st.floats(0, 1))
def test_rescale_guidance_equals_rescale_noise_cfg(case, scale, phi):
    cond, uncond = case
    cfg = classifier_free_guidance(uncond, cond, scale)
    flat = cfg.reshape(cfg.shape[0], -1)
    spread = np.ptp(flat, axis=1)
    if (spread == 0).any():
        with pytest.raises(ValueError, match="is constant"):
            rescale_guidance(cfg, cond, phi)
        return
    if (spread < 1e-6).any():  # nearly constant: the ratio of spreads is too ill-conditioned
        return
    expected = rescale_noise_cfg(torch.tensor(cfg), torch.tensor(cond), phi).numpy()
    np.testing.assert_allclose(rescale_guidance(cfg, cond, phi), expected, rtol=1e-9, atol=1e-9)


def test_full_rescale_restores_the_conditional_spread():
    cond = np.random.default_rng(0).standard_normal((2, 4, 3, 3))
    cfg = classifier_free_guidance(np.zeros_like(cond), cond, 7.5)
    spread = rescale_guidance(cfg, cond, 1.0).reshape(2, -1).std(axis=1, ddof=1)
    np.testing.assert_allclose(spread, cond.reshape(2, -1).std(axis=1, ddof=1), rtol=1e-12)


# --- schedules that are not schedules (silent wrong answers before) ----------------------------


def test_rising_alphas_cumprod_is_rejected_everywhere():
    rising = [0.5, 0.9]  # would mean a negative beta
    for call in (
        lambda: ddpm_step([[0.0]], 1, [[0.0]], rising, [[0.0]]),
        lambda: ddim_step([[0.0]], 1, [[0.0]], rising, num_inference_steps=1),
        lambda: q_sample([[0.0]], [0], [[0.0]], rising),
        lambda: signal_to_noise(rising),
        lambda: velocity([[0.0]], [[0.0]], [0], rising),
    ):
        with pytest.raises(ValueError, match=r"alphas_cumprod must not increase"):
            call()


def test_a_long_schedule_that_underflows_is_an_error_not_zeros():
    with pytest.raises(ValueError, match="underflows float64 at index"):
        alphas_cumprod(beta_schedule("linear", 100_000, beta_start=0.02, beta_end=0.02))
    with pytest.raises(ValueError, match="may be 0 only at its last step"):
        signal_to_noise([0.5, 0.0, 0.0])


def test_zero_terminal_snr_is_a_schedule_and_epsilon_cannot_use_it():
    a = alphas_cumprod([0.1, 0.5, 1.0])
    assert a[-1] == 0.0
    assert signal_to_noise(a)[-1] == 0.0
    with pytest.raises(ValueError, match="use 'v_prediction'"):
        ddpm_step([[0.0]], 2, [[1.0]], a, [[0.0]])
    # v-prediction at zero SNR: x_0 = -v, so a zero velocity gives back x_0 = 0
    np.testing.assert_allclose(
        ddim_step([[0.5]], 2, [[1.0]], a, num_inference_steps=3, prediction_type="v_prediction"),
        [[np.sqrt(a[1]) * -0.5 + np.sqrt(1 - a[1]) * 1.0]],
    )


def test_huge_schedules_are_refused_before_allocating():
    with pytest.raises(ValueError, match="num_steps = 1000000000000000000"):
        beta_schedule("cosine", 10**18)
    with pytest.raises(ValueError, match="num_train_steps = 1000000000000000000"):
        sampling_timesteps(10**18, 10**17)


def test_flags_are_booleans_and_options_strings():
    with pytest.raises(TypeError, match="set_alpha_to_one must be a bool"):
        ddim_step([[0.0]], 1, [[0.0]], A, num_inference_steps=1, set_alpha_to_one="False")
    with pytest.raises(TypeError, match="keep_trajectories must be a bool"):
        sample_toy_ddpm(ToyDenoiser(torch.nn.Linear(3, 2), A), 2, keep_trajectories="yes")


# --- the demonstration -----------------------------------------------------------------------


def test_toy_ddpm_runs_owns_its_schedule_and_keeps_global_state():
    a = alphas_cumprod(beta_schedule("cosine", 10))
    torch.manual_seed(123)
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    torch_state = torch.get_rng_state()
    model = train_toy_ddpm(ring_of_gaussians(8, seed=1), a, steps=2, seed=3)
    chain = sample_toy_ddpm(model, 4, keep_trajectories=True, seed=3)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert (np.random.get_state()[1] == numpy_state).all()  # noqa: NPY002
    assert isinstance(model, ToyDenoiser)
    assert chain.shape == (11, 4, 2)
    a[:] = 0.5  # the caller's array changes; the model's schedule does not
    assert model.alphas_cumprod[0] != 0.5
    again = train_toy_ddpm(ring_of_gaussians(8, seed=1), model.alphas_cumprod, steps=2, seed=3)
    np.testing.assert_array_equal(sample_toy_ddpm(again, 4, seed=3), chain[-1])


def test_toy_ddpm_divergence_is_reported():
    a = alphas_cumprod(beta_schedule("cosine", 10))
    with pytest.raises(ValueError, match="training diverged at step"):
        train_toy_ddpm(np.full((4, 2), 1e30), a, steps=3)


A = [0.9, 0.5]
BAD_INPUT = [
    bad(
        sampling_timesteps,
        15,
        13,
        spacing="trailing",
        error=ValueError,
        match="rounding adds a timestep -1",
    ),
    bad(beta_schedule, "sigmoid", 10, error=ValueError, match="kind must be one of"),
    bad(beta_schedule, 3, 10, error=TypeError, match="kind must be one of"),
    bad(beta_schedule, "linear", 0, error=ValueError, match="num_steps must be at least 1"),
    bad(
        beta_schedule,
        "linear",
        10,
        beta_end=1.0,
        error=ValueError,
        match="beta_end must be a finite number in [0, 1), got 1.0",
    ),
    bad(beta_schedule, "cosine", 10, beta_start=0.1, error=ValueError, match="takes no beta_start"),
    bad(beta_schedule, "cosine", 10**7, error=ValueError, match="num_steps = 10000000 would need"),
    bad(alphas_cumprod, [[0.1]], error=ValueError, match="one-dimensional"),
    bad(alphas_cumprod, [1.0, 0.5], error=ValueError, match="except the last, which may be 1"),
    bad(alphas_cumprod, [1.5], error=ValueError, match="betas must lie in [0, 1]"),
    bad(signal_to_noise, [0.5, 0.9], error=ValueError, match="must not increase"),
    bad(signal_to_noise, [0.0, 0.0], error=ValueError, match="may be 0 only at its last step"),
    bad(signal_to_noise, [1.5], error=ValueError, match="alphas_cumprod must lie in [0, 1]"),
    bad(q_sample, [[1.0]], [2], [[0.0]], A, error=ValueError, match="t must lie in 0"),
    bad(
        q_sample,
        [[1.0]],
        [0.5],
        [[0.0]],
        A,
        error=TypeError,
        match="t must be an array of integers",
    ),
    bad(
        q_sample,
        [[1.0], [1.0]],
        [0, 1, 1],
        [[0.0], [0.0]],
        A,
        error=ValueError,
        match="one timestep",
    ),
    bad(q_sample, [[1.0]], [0], [[0.0, 0.0]], A, error=ValueError, match="same shape"),
    bad(q_sample, [[np.nan]], [0], [[0.0]], A, error=ValueError, match="x0 must be finite"),
    bad(q_sample, [[1.7e308]], [0], [[1.7e308]], A, error=ValueError, match="overflows float64"),
    bad(velocity, [[1.0]], [[0.0]], [2], A, error=ValueError, match="t must lie in 0"),
    bad(velocity, [[1.0]], [[0.0, 1.0]], [0], A, error=ValueError, match="same shape"),
    bad(velocity, [[1.0]], [[0.0]], [0], [0.5, 0.9], error=ValueError, match="must not increase"),
    bad(rescale_zero_terminal_snr, [0.1], error=ValueError, match="at least 2 steps"),
    bad(rescale_zero_terminal_snr, [0.1, 0.0], error=ValueError, match="betas[-1] must be greater"),
    bad(rescale_zero_terminal_snr, [1.0, 0.5], error=ValueError, match="except the last"),
    bad(
        rescale_guidance,
        [1.0, 2.0],
        [1.0, 2.0],
        0.7,
        error=ValueError,
        match="noise_cfg must have at least 2 dimensions",
    ),
    bad(
        rescale_guidance,
        [[1.0], [2.0]],
        [[1.0], [2.0]],
        0.7,
        error=ValueError,
        match="at least two numbers per sample",
    ),
    bad(
        rescale_guidance,
        [[1.0, 1.0]],
        [[1.0, 2.0]],
        0.7,
        error=ValueError,
        match="noise_cfg[0] is constant",
    ),
    bad(
        rescale_guidance, [[1.0, 2.0]], [[1.0, 2.0, 3.0]], 0.7, error=ValueError, match="same shape"
    ),
    bad(
        rescale_guidance,
        [[1.0, 2.0]],
        [[1.0, 2.0]],
        1.5,
        error=ValueError,
        match="guidance_rescale must be a finite number in [0, 1]",
    ),
    bad(
        rescale_guidance,
        [[1.0, 2.0]],
        [[1.0, 2.0]],
        True,
        error=TypeError,
        match="guidance_rescale must be a real number",
    ),
    bad(ddpm_step, [[0.0]], 1, [[0.0]], A, error=ValueError, match="noise is required"),
    bad(ddpm_step, [[0.0]], 1, [[0.0]], A, [[0.0]], prev_t=1, error=ValueError, match="prev_t"),
    bad(ddpm_step, [[0.0]], 0, [[0.0, 1.0]], A, error=ValueError, match="same shape"),
    bad(
        ddpm_step,
        [[0.0]],
        0,
        [[0.0]],
        A,
        variance_type="learned",
        error=ValueError,
        match="variance_type must be one of",
    ),
    bad(
        ddpm_step,
        [[0.0]],
        0,
        [[0.0]],
        A,
        prediction_type="x",
        error=ValueError,
        match="prediction_type must be one of",
    ),
    bad(ddpm_step, [[0.0]], 0, [[0.0]], [1.0], error=ValueError, match="must be below 1"),
    bad(ddpm_step, [[0.0]], True, [[0.0]], A, error=TypeError, match="t must be an integer"),
    bad(
        ddpm_step,
        [[0.0]],
        2,
        [[0.0]],
        A,
        error=ValueError,
        match="t must lie in 0 … len(alphas_cumprod) - 1 = 1",
    ),
    bad(ddpm_step, [[-1.7e308]], 1, [[1.7e308]], A, [[0.0]], error=ValueError, match="overflows"),
    bad(ddim_step, [[0.0]], 1, [[0.0]], A, num_inference_steps=3, error=ValueError, match="exceed"),
    bad(
        ddim_step,
        [[0.0]],
        1,
        [[0.0]],
        A,
        num_inference_steps=1,
        eta=2,
        error=ValueError,
        match="eta",
    ),
    bad(
        ddim_step,
        [[0.0]],
        1,
        [[0.0]],
        A,
        num_inference_steps=1,
        eta=1,
        error=ValueError,
        match="noise is required",
    ),
    bad(
        ddim_step,
        [[0.0]],
        1,
        [[0.0]],
        A,
        num_inference_steps=1,
        set_alpha_to_one="False",
        error=TypeError,
        match="set_alpha_to_one must be a bool, got str",
    ),
    bad(classifier_free_guidance, [0.0], [0.0, 1.0], 7.5, error=ValueError, match="same shape"),
    bad(classifier_free_guidance, [0.0], [0.0], np.inf, error=ValueError, match="guidance_scale"),
    bad(classifier_free_guidance, [-1e308], [1e308], 7.5, error=ValueError, match="overflows"),
    bad(sampling_timesteps, 10, 11, error=ValueError, match="cannot exceed"),
    bad(
        sampling_timesteps, 10, 5, spacing="even", error=ValueError, match="spacing must be one of"
    ),
    bad(sampling_timesteps, 10, 5, steps_offset=10, error=ValueError, match="pushes a timestep"),
    bad(latent_shape, 512, 512, downsampling_factor=6, error=ValueError, match="power of 2"),
    bad(latent_shape, 4, 512, error=ValueError, match="at least downsampling_factor"),
    bad(latent_shape, 512.0, 512, error=TypeError, match="height must be an integer"),
    bad(latent_scale_factor, [1.0], error=ValueError, match="at least two"),
    bad(latent_scale_factor, [1.0, 1.0], error=ValueError, match="not all be equal"),
    bad(train_toy_ddpm, np.zeros((3, 3)), A, error=ValueError, match="shape (n, 2)"),
    bad(train_toy_ddpm, np.zeros((3, 2)), [0.5, 0.9], error=ValueError, match="must not increase"),
    bad(train_toy_ddpm, np.zeros((3, 2)), A, seed=-1, error=ValueError, match="seed must lie in"),
    bad(train_toy_ddpm, np.zeros((3, 2)), A, seed=True, error=TypeError, match="seed must be an"),
    bad(train_toy_ddpm, np.zeros((3, 2)), A, steps=10**6, error=ValueError, match="steps must"),
    bad(train_toy_ddpm, np.zeros((3, 2)), A, hidden=10**5, error=ValueError, match="hidden = "),
    bad(sample_toy_ddpm, "model", 3, error=TypeError, match="ToyDenoiser"),
    bad(
        sample_toy_ddpm,
        ToyDenoiser(torch.nn.Linear(3, 2), A),
        10**9,
        error=ValueError,
        match="would need",
    ),
    bad(ToyDenoiser, "net", A, error=TypeError, match="network must be a torch.nn.Module"),
    bad(
        ToyDenoiser, torch.nn.Linear(3, 2), [0.5, 0.9], error=ValueError, match="must not increase"
    ),
]

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)

_X = [[1.0, -0.5], [0.25, 2.0]]
_TOY = ToyDenoiser(torch.nn.Linear(3, 2), [0.9, 0.5, 0.2])
HOSTILE = [
    hostile(beta_schedule, kind="linear", num_steps=5, beta_start=0.001, beta_end=0.02),
    hostile(alphas_cumprod, betas=[0.1, 0.2]),
    hostile(signal_to_noise, alphas_cumprod=[0.9, 0.5], allow_non_finite=True),  # inf at 1
    hostile(q_sample, x0=_X, t=[0, 1], noise=_X, alphas_cumprod=A),
    hostile(velocity, x0=_X, noise=_X, t=[0, 1], alphas_cumprod=A),
    hostile(rescale_zero_terminal_snr, betas=[0.1, 0.2, 0.3]),
    hostile(
        rescale_guidance, noise_cfg=_X, noise_cond=[[0.5, 0.0], [1.0, 0.5]], guidance_rescale=0.7
    ),
    hostile(
        sampling_timesteps,
        num_train_steps=10,
        num_inference_steps=5,
        spacing="leading",
        steps_offset=1,
    ),
    hostile(
        ddpm_step,
        model_output=_X,
        t=1,
        sample=_X,
        alphas_cumprod=A,
        noise=_X,
        prev_t=0,
        variance_type="fixed_small",
        prediction_type="epsilon",
    ),
    hostile(
        ddim_step,
        model_output=_X,
        t=1,
        sample=_X,
        alphas_cumprod=A,
        num_inference_steps=2,
        eta=0.5,
        noise=_X,
        set_alpha_to_one=True,
        prediction_type="epsilon",
    ),
    hostile(classifier_free_guidance, eps_uncond=_X, eps_cond=_X, guidance_scale=7.5),
    hostile(latent_shape, height=64, width=32, downsampling_factor=8, latent_channels=4),
    hostile(latent_scale_factor, latents=_X),
    hostile(
        train_toy_ddpm, data=_X, alphas_cumprod=A, hidden=4, steps=2, batch_size=4, lr=1e-3, seed=0
    ),
    hostile(sample_toy_ddpm, model=_TOY, n=3, seed=0, keep_trajectories=False),
    hostile(ToyDenoiser, network=torch.nn.Linear(3, 2), alphas_cumprod=A),
    hostile(_TOY.predict_noise, x=_X, t=1),
]

test_hostile_input_gives_a_clear_error_or_a_finite_answer = hostile_input_test(HOSTILE)
