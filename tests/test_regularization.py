"""conceptref.regularization against torch.optim, the page's claims, and bad input."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

from conceptref.regularization import SGD, Adam, AdamW, l2_penalty, parameter_groups
from helpers import bad, bad_input_test, hostile, hostile_input_test

ATOL = 1e-12
SEEDS = range(3)
STEPS = 12

# A tiny two-layer regression: parameters W1 (4, 5), b1 (5,), W2 (5, 2).
SHAPES = [(4, 5), (5,), (5, 2)]

SGD_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.02, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.2},
    {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
]
ADAM_CONFIGS = [
    {},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.5},
    {"lr": 0.01, "betas": (0.3, 0.6), "weight_decay": 0.01},  # 1 - beta >= 0.5: other lerp form
    {"lr": 0.1, "betas": (0.0, 0.9), "eps": 1e-3},
]


def config_id(config: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in config.items()) or "defaults"


def problem(seed: int):
    """Seeded parameters (float64 tensors) and the regression loss they are trained on."""
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.normal(size=(16, 4)))
    y = torch.from_numpy(rng.normal(size=(16, 2)))
    generator = torch.Generator().manual_seed(seed)
    params = [
        (0.5 * torch.randn(shape, generator=generator, dtype=torch.float64)).requires_grad_()
        for shape in SHAPES
    ]

    def loss(w1, b1, w2):
        return ((torch.tanh(x @ w1 + b1) @ w2 - y) ** 2).mean()

    return params, loss


def squared_norms(params) -> torch.Tensor:
    """The L2 term in torch, so that autograd sees it: sum of p.pow(2).sum()."""
    return sum(p.pow(2).sum() for p in params)


def train(optimizer_class, config: dict, seed: int, l2: float = 0.0) -> list[np.ndarray]:
    """Train with a torch optimizer on loss + l2 / 2 * squared_norms; return the parameters."""
    params, loss = problem(seed)
    optimizer = optimizer_class(params, foreach=False, **config)
    for _ in range(STEPS):
        optimizer.zero_grad()
        total = loss(*params)
        if l2:
            total = total + l2 / 2 * squared_norms(params)
        total.backward()
        optimizer.step()
    return [p.detach().numpy().copy() for p in params]


def assert_matches_torch(ours, torch_class, config: dict, seed: int) -> None:
    """Feed the same gradients to both optimizers for STEPS steps; compare after every step."""
    params, loss = problem(seed)
    optimizer = torch_class(params, foreach=False, **config)
    current = [p.detach().numpy().copy() for p in params]
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss(*params).backward()
        grads = [p.grad.numpy().copy() for p in params]
        optimizer.step()
        current = ours.step(current, grads)
        for mine, theirs in zip(current, params, strict=True):
            np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", SGD_CONFIGS, ids=config_id)
def test_sgd_matches_torch(seed, config):
    assert_matches_torch(SGD(**config), torch.optim.SGD, config, seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=config_id)
def test_adam_matches_torch(seed, config):
    assert_matches_torch(Adam(**config), torch.optim.Adam, config, seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "config", [*ADAM_CONFIGS, {"lr": 0.01, "weight_decay": 0.0}], ids=config_id
)
def test_adamw_matches_torch(seed, config):
    assert_matches_torch(AdamW(**config), torch.optim.AdamW, config, seed)


# The page's claims, checked in torch itself.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_equals_an_l2_term_in_the_loss(seed, momentum):
    decayed = train(torch.optim.SGD, {"lr": 0.05, "momentum": momentum, "weight_decay": 0.1}, seed)
    penalized = train(torch.optim.SGD, {"lr": 0.05, "momentum": momentum}, seed, l2=0.1)
    for a, b in zip(decayed, penalized, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_weight_decay_equals_an_l2_term_in_the_loss(seed):
    coupled = train(torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1}, seed)
    penalized = train(torch.optim.Adam, {"lr": 0.01}, seed, l2=0.1)
    for a, b in zip(coupled, penalized, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_adamw_differs_from_adam_with_weight_decay(seed):
    config = {"lr": 0.01, "weight_decay": 0.1}
    coupled = train(torch.optim.Adam, config, seed)
    decoupled = train(torch.optim.AdamW, config, seed)
    assert max(np.max(np.abs(a - b)) for a, b in zip(coupled, decoupled, strict=True)) > 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_adamw_is_a_shrink_then_a_plain_adam_step(seed):
    lr, lam = 0.01, 0.1
    expected = train(torch.optim.AdamW, {"lr": lr, "weight_decay": lam}, seed)
    params, loss = problem(seed)
    adam = torch.optim.Adam(params, lr=lr, foreach=False)
    for _ in range(STEPS):
        adam.zero_grad()
        loss(*params).backward()
        with torch.no_grad():
            for p in params:
                p.mul_(1 - lr * lam)
        adam.step()
    for a, p in zip(expected, params, strict=True):
        np.testing.assert_allclose(a, p.detach().numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("lr", "lam"), [(0.1, 0.0), (0.1, 0.5), (0.01, 2.0)])
def test_sgd_step_shrinks_the_weights_then_follows_the_gradient(seed, lr, lam):
    rng = np.random.default_rng(seed)
    w = [rng.normal(size=s) for s in SHAPES]
    g = [rng.normal(size=s) for s in SHAPES]
    for new, wk, gk in zip(SGD(lr, weight_decay=lam).step(w, g), w, g, strict=True):
        np.testing.assert_allclose(new, (1 - lr * lam) * wk - lr * gk, rtol=0, atol=ATOL)


# l2_penalty


@pytest.mark.parametrize("seed", SEEDS)
def test_l2_penalty_matches_torch_and_the_frobenius_norm(seed):
    params, _ = problem(seed)
    expected = float(squared_norms(params).detach())
    assert l2_penalty(params) == pytest.approx(expected, rel=1e-12, abs=0)
    arrays = [p.detach().numpy() for p in params]
    assert l2_penalty(arrays) == pytest.approx(expected, rel=1e-12, abs=0)
    fro = sum(np.linalg.norm(a.reshape(a.shape[0], -1), "fro") ** 2 for a in arrays)
    assert l2_penalty(arrays) == pytest.approx(fro, rel=1e-12, abs=0)


def test_l2_penalty_accepts_a_model_and_lists():
    model = nn.Linear(3, 2, dtype=torch.float64)
    expected = float(squared_norms(model.parameters()).detach())
    assert l2_penalty(model.parameters()) == pytest.approx(expected, rel=1e-12, abs=0)
    assert l2_penalty([[1, 2], [[2]], 3.0]) == 18.0


@pytest.mark.parametrize("seed", SEEDS)
def test_half_l2_penalty_has_gradient_lambda_w(seed):
    params, _ = problem(seed)
    (0.3 / 2 * squared_norms(params)).backward()
    for p in params:
        np.testing.assert_allclose(p.grad.numpy(), 0.3 * p.detach().numpy(), rtol=0, atol=ATOL)


# parameter_groups


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.conv = nn.Conv2d(4, 3, 1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 4)
        self.ln = nn.LayerNorm(4)
        self.head = nn.Linear(4, 10, bias=False)


def by_identity(group) -> set[int]:
    return {id(p) for p in group["params"]}


def test_parameter_groups_split_weights_from_biases_and_norms():
    net = Net()
    groups = parameter_groups(net, weight_decay=0.05)
    assert [g["weight_decay"] for g in groups] == [0.05, 0.0]
    decayed = [net.embed.weight, net.conv.weight, net.fc.weight, net.head.weight]
    exempt = [net.conv.bias, net.bn.weight, net.bn.bias, net.fc.bias, net.ln.weight, net.ln.bias]
    assert by_identity(groups[0]) == {id(p) for p in decayed}
    assert by_identity(groups[1]) == {id(p) for p in exempt}
    # every parameter exactly once, each group in model.parameters() order
    listed = [id(p) for g in groups for p in g["params"]]
    assert sorted(listed) == sorted(id(p) for p in net.parameters())
    for group in groups:
        order = [id(p) for p in net.parameters() if id(p) in by_identity(group)]
        assert [id(p) for p in group["params"]] == order


def test_parameter_groups_work_with_adamw():
    # With zero gradients AdamW's Adam step is 0, so only the decoupled decay moves anything.
    torch.manual_seed(0)
    net = Net().double()
    lr, lam = 0.01, 0.1
    optimizer = torch.optim.AdamW(parameter_groups(net, lam), lr=lr, foreach=False)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [lam, 0.0]
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    for name, p in net.named_parameters():
        decayed = name.endswith("weight") and not name.startswith(("bn.", "ln."))
        factor = 1 - lr * lam if decayed else 1.0
        torch.testing.assert_close(p.detach(), factor * before[name], rtol=0, atol=ATOL)


def test_parameter_groups_list_shared_parameters_once_and_skip_frozen_ones():
    net = Net()
    net.head.weight = net.embed.weight  # tied input and output embeddings
    net.conv.weight.requires_grad_(False)
    groups = parameter_groups(net, 0.01)
    listed = [p for g in groups for p in g["params"]]
    assert len(listed) == len({id(p) for p in listed}) == len(list(net.parameters())) - 1
    assert id(net.embed.weight) in by_identity(groups[0])
    assert id(net.conv.weight) not in {id(p) for p in listed}


@pytest.mark.parametrize(
    ("layer", "exempt_names"),
    [
        (nn.GroupNorm(2, 4), {"weight", "bias"}),
        (nn.InstanceNorm1d(4, affine=True), {"weight", "bias"}),
        (nn.BatchNorm1d(4), {"weight", "bias"}),
        (nn.RMSNorm(4), {"weight"}),
        (nn.MultiheadAttention(4, 2, add_bias_kv=True), {"in_proj_bias", "bias_k", "bias_v", "out_proj.bias"}),
        (nn.LSTM(3, 4), {"bias_ih_l0", "bias_hh_l0"}),
        (nn.Bilinear(2, 3, 4), {"bias"}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "",
)  # fmt: skip
def test_parameter_groups_exempt_each_kind_of_bias_and_norm(layer, exempt_names):
    groups = parameter_groups(layer, 0.1)
    exempt = next(g for g in groups if g["weight_decay"] == 0.0)
    named = dict(layer.named_parameters())
    assert by_identity(exempt) == {id(named[name]) for name in exempt_names}


def test_parameter_groups_drop_an_empty_group():
    weights_only = parameter_groups(nn.Linear(3, 2, bias=False), 0.1)
    assert [(len(g["params"]), g["weight_decay"]) for g in weights_only] == [(1, 0.1)]
    norm_only = parameter_groups(nn.LayerNorm(3), 0.1)
    assert [(len(g["params"]), g["weight_decay"]) for g in norm_only] == [(2, 0.0)]


# step(): state, inputs, tensors


@pytest.mark.parametrize(
    "optimizer", [SGD(0.1, momentum=0.9, weight_decay=0.1), Adam(weight_decay=0.1), AdamW()]
)
def test_step_does_not_modify_its_inputs(optimizer):
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) for s in SHAPES]
    grads = [rng.normal(size=s) for s in SHAPES]
    copies = [a.copy() for a in (*params, *grads)]
    for _ in range(2):
        new = optimizer.step(params, grads)
    assert all(n.dtype == np.float64 for n in new)
    for original, copy in zip((*params, *grads), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_step_accepts_tensors_and_lists(optimizer_class):
    params, loss = problem(0)
    loss(*params).backward()
    from_tensors = optimizer_class(0.1).step(params, [p.grad for p in params])
    from_lists = optimizer_class(0.1).step(
        [p.detach().numpy().tolist() for p in params], [p.grad.numpy().tolist() for p in params]
    )
    for a, b in zip(from_tensors, from_lists, strict=True):
        np.testing.assert_array_equal(a, b)


def test_each_optimizer_keeps_its_own_state():
    w, g = [np.ones(2)], [np.full(2, 0.5)]
    ahead, behind = Adam(0.1), Adam(0.1)
    ahead.step(w, g)
    np.testing.assert_array_equal(behind.step(w, g)[0], Adam(0.1).step(w, g)[0])
    assert not np.array_equal(ahead.step(w, g)[0], Adam(0.1).step(w, g)[0])


# bad input


def sgd_step(params, grads):
    return SGD(0.1).step(params, grads)


def adam_step(params, grads):
    return Adam().step(params, grads)


def second_step(first_params, params):
    """Step an AdamW once with first_params, then with params (zero gradients both times)."""
    optimizer = AdamW()
    optimizer.step(first_params, [np.zeros_like(p) for p in first_params])
    return optimizer.step(params, [np.zeros_like(p) for p in params])


W = np.ones((2, 3))
BAD_INPUT = [
    bad(l2_penalty, [np.array([1e200, 1.0])], error=ValueError, match="the sum of squares of parameters overflows float64"),
    bad(l2_penalty, [[[1.0, 2.0], [3.0]]], error=ValueError, match="parameters[0] must be a rectangular array of numbers"),
    bad(SGD(lr=0.1).step, [np.ones(2)], [[1.0, "a"]], error=TypeError, match="grads[0] must be an array of real numbers"),
    bad(SGD, 0.0, error=ValueError, match="lr must be a finite number greater than 0, got 0.0"),
    bad(SGD, -0.1, error=ValueError, match="lr must be a finite number greater than 0, got -0.1"),
    bad(SGD, float("inf"), error=ValueError, match="lr must be a finite number greater than 0, got inf"),
    bad(SGD, "0.1", error=TypeError, match="lr must be a real number, got str"),
    bad(SGD, 0.1, momentum=-0.5, error=ValueError, match="momentum must be a finite number of at least 0, got -0.5"),
    bad(SGD, 0.1, weight_decay=-1e-4, error=ValueError, match="weight_decay must be a finite number of at least 0, got -0.0001"),
    bad(SGD, 0.1, dampening=-0.1, error=ValueError, match="dampening must be a finite number of at least 0, got -0.1"),
    bad(SGD, 0.1, momentum=True, error=TypeError, match="momentum must be a real number, got bool"),
    bad(SGD, 0.1, nesterov=True, error=ValueError, match="nesterov=True requires momentum > 0 and dampening == 0, got momentum=0.0"),
    bad(SGD, 0.1, momentum=0.9, dampening=0.1, nesterov=True, error=ValueError, match="got momentum=0.9 and dampening=0.1"),
    bad(SGD, 0.1, momentum=0.9, nesterov=1, error=TypeError, match="nesterov must be a bool, got int"),
    bad(Adam, lr=0.0, error=ValueError, match="lr must be a finite number greater than 0, got 0.0"),
    bad(Adam, lr=float("nan"), error=ValueError, match="lr must be a finite number greater than 0, got nan"),
    bad(Adam, eps=0.0, error=ValueError, match="eps must be a finite number greater than 0, got 0.0"),
    bad(Adam, eps=-1e-8, error=ValueError, match="eps must be a finite number greater than 0, got -1e-08"),
    bad(Adam, betas=(1.0, 0.999), error=ValueError, match="betas[0] must be a finite number in [0, 1), got 1.0"),
    bad(Adam, betas=(-0.1, 0.999), error=ValueError, match="betas[0] must be a finite number in [0, 1), got -0.1"),
    bad(Adam, betas=(0.9, 1.5), error=ValueError, match="betas[1] must be a finite number in [0, 1), got 1.5"),
    bad(Adam, betas=(0.9, "0.999"), error=TypeError, match="betas[1] must be a real number, got str"),
    bad(Adam, betas=(0.9,), error=ValueError, match="betas must hold 2 decay rates, got 1"),
    bad(Adam, betas=0.9, error=TypeError, match="betas must be a sequence of decay rates, got float"),
    bad(Adam, weight_decay=-0.1, error=ValueError, match="weight_decay must be a finite number of at least 0, got -0.1"),
    bad(AdamW, weight_decay=float("nan"), error=ValueError, match="weight_decay must be a finite number of at least 0, got nan"),
    bad(AdamW, lr=-1.0, error=ValueError, match="lr must be a finite number greater than 0, got -1.0"),
    bad(AdamW, betas=(0.9, 1.0), error=ValueError, match="betas[1] must be a finite number in [0, 1), got 1.0"),
    bad(sgd_step, [W], [W, W], error=ValueError, match="params and grads must have the same length, got 1 params and 2 grads"),
    bad(adam_step, [W, W], [W], error=ValueError, match="got 2 params and 1 grads"),
    bad(sgd_step, [], [], error=ValueError, match="params must hold at least one array, got none"),
    bad(sgd_step, [W, W], [W, np.ones(3)], error=ValueError, match="grads[1] has shape (3,), but params[1] has shape (2, 3)"),
    bad(adam_step, [np.ones(3)], [np.ones((3, 1))], error=ValueError, match="grads[0] has shape (3, 1), but params[0] has shape (3,)"),
    bad(sgd_step, [[1.0, np.nan]], [[1.0, 2.0]], error=ValueError, match="params[0] must be finite"),
    bad(adam_step, [W, W], [W, np.full((2, 3), np.inf)], error=ValueError, match="grads[1] must be finite"),
    bad(sgd_step, [["a", "b"]], [[1.0, 2.0]], error=TypeError, match="params[0] must be an array of real numbers"),
    bad(adam_step, [W], [np.ones((2, 3), bool)], error=TypeError, match="grads[0] must be an array of real numbers, got dtype bool"),
    bad(adam_step, [W], [np.ones((2, 3), complex)], error=TypeError, match="got dtype complex128"),
    bad(sgd_step, [[[1.0, 2.0], [1.0]]], [W], error=ValueError, match="params[0] must be a rectangular array"),
    bad(sgd_step, W, W, error=TypeError, match="params must be a sequence (list or tuple) of arrays, got ndarray"),
    bad(adam_step, [W], torch.ones(2, 3), error=TypeError, match="grads must be a sequence (list or tuple) of arrays, got Tensor"),
    bad(second_step, [W, np.ones(3)], [W], error=ValueError, match="params do not match the optimizer's state"),
    bad(second_step, [W, np.ones(3)], [W, np.ones(4)], error=ValueError, match="the first step had 2 arrays of shapes [(2, 3), (3,)], this one has 2 of shapes [(2, 3), (4,)]"),
    bad(l2_penalty, [], error=ValueError, match="parameters must hold at least one array, got none"),
    bad(l2_penalty, iter(()), error=ValueError, match="parameters must hold at least one array"),
    bad(l2_penalty, [W, [np.nan]], error=ValueError, match="parameters[1] must be finite"),
    bad(l2_penalty, [["a"]], error=TypeError, match="parameters[0] must be an array of real numbers"),
    bad(l2_penalty, [torch.ones(2, dtype=torch.bool)], error=TypeError, match="got dtype bool"),
    bad(parameter_groups, "model", 0.1, error=TypeError, match="model must be a torch.nn.Module, got str"),
    bad(parameter_groups, nn.Linear(2, 2), -0.1, error=ValueError, match="weight_decay must be a finite number of at least 0, got -0.1"),
    bad(parameter_groups, nn.Linear(2, 2), float("inf"), error=ValueError, match="weight_decay must be a finite number of at least 0, got inf"),
    bad(parameter_groups, nn.Linear(2, 2), "0.1", error=TypeError, match="weight_decay must be a real number, got str"),
    bad(parameter_groups, nn.ReLU(), 0.1, error=ValueError, match="model has no parameters with requires_grad: ReLU"),
    bad(SGD(lr=1.0).step, [np.array([1e308])], [np.array([-1e308])], error=ValueError, match="the step overflows float64: params[0] and grads[0] are too large"),
]  # fmt: skip


test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_tensors_with_grad_and_half_precision_are_accepted(dtype):
    w = torch.tensor([1.0, -2.0], dtype=dtype, requires_grad=True)
    g = torch.tensor([0.5, 0.25], dtype=dtype)
    exact = [w.detach().double().numpy()], [g.double().numpy()]
    for make in (lambda: SGD(lr=0.1, momentum=0.9), lambda: AdamW(lr=0.1)):
        [new] = make().step([w], [g])
        [expected] = make().step(*exact)
        np.testing.assert_array_equal(new, expected)
    assert l2_penalty([w]) == pytest.approx(5.0)


# --- properties: generated problems against torch.optim -----------------------------------------


@st.composite
def gradient_runs(draw):
    """Tiny parameters and a few steps of arbitrary gradients for them."""
    shapes = draw(st.lists(st.tuples(st.integers(1, 3)), min_size=1, max_size=2))
    values = st.floats(-5, 5, allow_nan=False, allow_subnormal=False)
    params = [draw(hnp.arrays(np.float64, shape, elements=values)) for shape in shapes]
    steps = draw(st.integers(1, 4))
    grads = [
        [draw(hnp.arrays(np.float64, s, elements=values)) for s in shapes] for _ in range(steps)
    ]
    return params, grads


def run_both(ours, torch_class, config, params, grads):
    """Feed the same gradients to both optimizers; compare the parameters after every step."""
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    theirs = torch_class(tensors, foreach=False, **config)
    current = [p.copy() for p in params]
    for step in grads:
        for tensor, g in zip(tensors, step, strict=True):
            tensor.grad = torch.tensor(g)
        theirs.step()
        current = ours.step(current, step)
        for mine, tensor in zip(current, tensors, strict=True):
            np.testing.assert_allclose(mine, tensor.detach().numpy(), rtol=1e-12, atol=1e-12)


rates = st.floats(1e-3, 1.0)
decays = st.just(0.0) | st.floats(0.0, 1.0)


@given(
    run=gradient_runs(),
    lr=rates,
    momentum=st.just(0.0) | st.floats(0.0, 0.99),
    dampening=st.just(0.0) | st.floats(0.0, 1.0),
    nesterov=st.booleans(),
    weight_decay=decays,
)
def test_sgd_equals_torch_on_generated_problems(
    run, lr, momentum, dampening, nesterov, weight_decay
):
    if nesterov and (momentum == 0 or dampening != 0):
        nesterov = False
    config = {"lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov}
    config["weight_decay"] = weight_decay
    run_both(SGD(**config), torch.optim.SGD, config, *run)


@given(
    run=gradient_runs(),
    decoupled=st.booleans(),
    lr=rates,
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.999),
    eps=st.floats(1e-8, 1e-2),
    weight_decay=decays,
    amsgrad=st.booleans(),
)
def test_adam_and_adamw_equal_torch_on_generated_problems(
    run, decoupled, lr, beta1, beta2, eps, weight_decay, amsgrad
):
    config = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay}
    config["amsgrad"] = amsgrad
    ours, theirs = (AdamW, torch.optim.AdamW) if decoupled else (Adam, torch.optim.Adam)
    run_both(ours(**config), theirs, config, *run)


def _two_steps(optimizer):
    """Two steps of a fresh copy of ``optimizer`` (so that its state is exercised), by keyword."""

    def steps(params, grads):
        fresh = deepcopy(optimizer)
        first = fresh.step(params, grads)
        return fresh.step(first, grads)

    steps.__qualname__ = f"{type(optimizer).__name__}.step"
    return steps


_PARAMS, _GRADS = [np.ones((2, 3)), np.array([0.5, -1.0])], [np.full((2, 3), 0.1), np.ones(2)]

HOSTILE = [
    hostile(l2_penalty, parameters=[np.ones((2, 2)), [1.0, -2.0]]),
    hostile(SGD, lr=0.1, momentum=0.9, weight_decay=0.01, dampening=0.0, nesterov=True),
    hostile(Adam, lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01, amsgrad=True),
    hostile(AdamW, lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01, amsgrad=False),
    hostile(_two_steps(SGD(lr=0.1, momentum=0.9, nesterov=True)), params=_PARAMS, grads=_GRADS),
    hostile(_two_steps(Adam(lr=0.1, amsgrad=True)), params=_PARAMS, grads=_GRADS),
    hostile(_two_steps(AdamW(lr=0.1, weight_decay=0.1)), params=_PARAMS, grads=_GRADS),
    hostile(parameter_groups, model=torch.nn.Linear(2, 3), weight_decay=0.01),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)
