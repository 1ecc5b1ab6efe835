"""conceptref.transfer and conceptref.demos.transfer against scikit-learn, peft and PyTorch."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from torch import nn

from conceptref.demos.transfer import (
    LoRALinear,
    TransferTasks,
    accuracy,
    add_lora,
    make_classifier,
    make_transfer_tasks,
    merge_lora,
    probe_accuracy,
    train_classifier,
    with_new_head,
)
from conceptref.transfer import (
    LinearProbe,
    count_parameters,
    freeze,
    linear_probe,
    lora_merge,
    lora_parameter_count,
    parameter_groups,
    replace_head,
    unfreeze,
)
from helpers import _memory_cap, bad, bad_input_test, hostile, hostile_input_test, lazy

LogisticRegression = lazy("sklearn.linear_model", "LogisticRegression")

# --- the linear probe against scikit-learn ----------------------------------------------------


@st.composite
def probe_problems(draw):
    n = draw(st.integers(4, 12))
    d = draw(st.integers(1, 3))
    k = draw(st.integers(2, 4))
    x = draw(arrays(np.float64, (n, d), elements=st.floats(-3, 3).map(lambda v: round(v, 2))))
    y = np.arange(n) % k  # every class present
    y = y[draw(st.permutations(list(range(n))))]
    c = draw(st.sampled_from([0.1, 1.0, 10.0]))
    return x, y, c


@given(probe_problems())
def test_linear_probe_matches_sklearn_logistic_regression(problem):
    from sklearn.exceptions import ConvergenceWarning

    x, y, c = problem
    probe = linear_probe(x, y, C=c)
    try:
        oracle = LogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(x, y)
    except ConvergenceWarning:  # raised as an error here; lbfgs stopped short of the minimum
        assume(False)  # so there is no reference to compare with (rare: flat, tied data)
    # The objective is strictly convex, so both reach the same minimum; 1e-5 leaves room for
    # the two solvers' stopping rules.
    assert probe.converged
    assert_allclose(probe.predict_proba(x), oracle.predict_proba(x), atol=1e-5)
    assert probe.coef.shape == oracle.coef_.shape
    assert_allclose(probe.coef, oracle.coef_, atol=1e-3 * (1 + np.abs(oracle.coef_).max()))
    assert_allclose(probe.decision_function(x), oracle.decision_function(x).reshape(len(x), -1),
                    atol=1e-3 * (1 + np.abs(oracle.coef_).max()))  # fmt: skip


def test_linear_probe_with_string_labels_and_tensor_features():
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]], requires_grad=True)
    probe = linear_probe(x.half(), np.array(["cat", "dog", "cat", "eel"]), C=1.0)
    assert probe.classes.tolist() == ["cat", "dog", "eel"]
    assert probe.predict_proba([[1.0, 1.0]]).shape == (1, 3)


def test_linear_probe_on_resnet_sized_features_needs_no_hessian():
    """d = 2048, k = 10: a full Newton Hessian would take 3.4 GB; L-BFGS needs O(kd)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((30, 2048)), np.arange(30) % 10
    with _memory_cap(2**28):  # 256 MiB beyond what the process holds now
        probe = linear_probe(x, y)
    assert probe.coef.shape == (10, 2048)
    assert probe.converged
    assert (probe.predict(x) == y).all()  # 30 points in 2048 dimensions are separable


def test_linear_probe_owns_its_arrays_and_reports_its_iterations():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    probe = linear_probe(x, y, max_iter=1, tol=0.0)
    assert (probe.n_iter, probe.converged) == (1, False)
    probe = linear_probe(x, y)
    before = probe.predict_proba(x)
    x[:] = 100.0
    y[:] = 1
    assert_allclose(probe.predict_proba([[0.0], [1.0], [2.0], [3.0]]), before)
    coef = np.ones((1, 1))
    made = LinearProbe(classes=np.array([0, 1]), coef=coef, intercept=np.zeros(1))
    coef[0, 0] = 5.0
    assert made.coef[0, 0] == 1.0


# --- LoRA against peft --------------------------------------------------------------------------


def _peft_merged(weight, lora_a, lora_b, alpha):
    """The weight of a float64 Linear after peft's LoRA with these factors, merged and unloaded."""
    from peft import LoraConfig, get_peft_model

    out_features, in_features = weight.shape
    base = nn.Sequential(nn.Linear(in_features, out_features, dtype=torch.float64))
    with torch.no_grad():
        base[0].weight.copy_(torch.from_numpy(weight))
    config = LoraConfig(r=lora_a.shape[0], lora_alpha=alpha, target_modules=["0"], lora_dropout=0.0)
    model = get_peft_model(base, config)
    layer = model.base_model.model[0]
    with torch.no_grad():
        layer.lora_A["default"].weight.copy_(torch.from_numpy(lora_a))
        layer.lora_B["default"].weight.copy_(torch.from_numpy(lora_b))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return model.merge_and_unload()[0].weight.detach().numpy(), trainable


@st.composite
def lora_problems(draw):
    out_features, in_features, rank = (draw(st.integers(1, 4)) for _ in range(3))
    values = st.floats(-4, 4, allow_subnormal=False).map(lambda v: round(v, 3))
    weight = draw(arrays(np.float64, (out_features, in_features), elements=values))
    lora_a = draw(arrays(np.float64, (rank, in_features), elements=values))
    lora_b = draw(arrays(np.float64, (out_features, rank), elements=values))
    alpha = draw(st.sampled_from([1, 2, 8, 16, 0.5, 3.0]))
    return weight, lora_a, lora_b, alpha


@given(lora_problems())
def test_lora_merge_matches_peft_merge_and_unload(problem):
    weight, lora_a, lora_b, alpha = problem
    expected, trainable = _peft_merged(weight, lora_a, lora_b, alpha)
    merged = lora_merge(weight, lora_a, lora_b, alpha=alpha)
    assert_allclose(merged, expected, rtol=1e-12, atol=1e-12)
    assert not np.shares_memory(merged, weight)
    rank = lora_a.shape[0]
    assert lora_parameter_count(weight.shape[1], weight.shape[0], rank) == trainable


def test_lora_merge_takes_tensors_and_keeps_tiny_scales_from_overflowing():
    weight = torch.eye(2, dtype=torch.float32)
    a, b = (torch.full(shape, 1e200, dtype=torch.float64) for shape in ((1, 2), (2, 1)))
    merged = lora_merge(weight, a * 1e-200, b * 1e-200, alpha=1.0)
    assert_allclose(merged, np.eye(2) + 1.0)
    # alpha / r = 1e-300 scales B first: B A alone would overflow, the update does not
    assert np.isfinite(lora_merge(np.eye(2), a.numpy(), b.numpy(), alpha=1e-300)).all()


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 2), st.integers(0, 3))
def test_lora_layers_compute_peft_lora_and_merge_to_the_same_function(d, w, rank, seed):
    """add_lora's layer against peft's LoRA forward pass; merge_lora keeps the function."""
    from peft import LoraConfig, get_peft_model

    assume(rank <= min(d, w))
    net = make_classifier(2, seed=seed, n_features=d, width=w)
    reference = get_peft_model(
        copy.deepcopy(net[0]),
        LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["0", "2"], lora_dropout=0.0),
    )
    add_lora(net[0], rank=rank, alpha=2.0 * rank, seed=seed)
    assert count_parameters(net[0]) == lora_parameter_count(d, w, rank) + lora_parameter_count(
        w, w, rank
    )
    with torch.no_grad():
        for name in ("0", "2"):
            layer, theirs = net[0].get_submodule(name), reference.base_model.model[int(name)]
            layer.lora_b.normal_(generator=torch.Generator().manual_seed(seed))
            theirs.lora_A["default"].weight.copy_(layer.lora_a)
            theirs.lora_B["default"].weight.copy_(layer.lora_b)
        x = torch.randn(5, d, generator=torch.Generator().manual_seed(seed))
        torch.testing.assert_close(net[0](x), reference(x))
        merge_lora(net[0])
        torch.testing.assert_close(net[0](x), reference(x), rtol=1e-5, atol=1e-5)
    assert not any(isinstance(m, LoRALinear) for m in net.modules())


# --- freezing, counting, heads, parameter groups ------------------------------------------------


def test_count_parameters_counts_what_the_optimizer_updates():
    net = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 3))
    assert count_parameters(net) == 4 * 5 + 5 + 5 + 5 + 5 * 3 + 3
    freeze(net[0])
    trainable = [p for p in net.parameters() if p.requires_grad]
    assert count_parameters(net) == sum(p.numel() for p in trainable) == 5 + 5 + 18
    assert count_parameters(net, trainable=False) == 53
    shared = nn.Linear(2, 2)
    assert count_parameters(nn.Sequential(shared, shared)) == 6  # a shared layer counts once


def test_requires_grad_false_does_not_freeze_batchnorm_statistics():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    for p in net.parameters():
        p.requires_grad_(False)
    net.train()
    before = net[1].running_mean.clone()
    net(torch.randn(16, 3, generator=torch.Generator().manual_seed(0)) + 5.0)
    assert not torch.equal(before, net[1].running_mean)  # the trap: statistics moved


def test_freeze_keeps_batchnorm_statistics_and_output_through_train():
    generator = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    net.train()
    net(torch.randn(32, 3, generator=generator))  # some statistics to keep
    state = copy.deepcopy(net.state_dict())
    x = torch.randn(16, 3, generator=generator) + 2.0
    expected = copy.deepcopy(net).eval()(x)
    freeze(net)
    net.train()  # the usual call at the start of a training epoch
    out = net(x)
    torch.testing.assert_close(out, expected)  # eval-mode BatchNorm: stored statistics
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert count_parameters(net) == 0
    unfreeze(net)
    net.train()
    net(x)
    assert not torch.equal(net[1].running_mean, state["1.running_mean"])
    assert count_parameters(net) == count_parameters(net, trainable=False)


def test_freeze_without_statistics_leaves_batchnorm_in_train_mode():
    net = nn.BatchNorm1d(2)
    freeze(net, batchnorm_statistics=False).train()
    net(torch.randn(8, 2) + 3.0)
    assert net.running_mean.abs().min() > 0


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5))
def test_replace_head_builds_a_matching_linear(d, hidden, k):
    net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 7, dtype=torch.float64))
    old = replace_head(net, "2", k)
    assert old.out_features == 7
    assert (net[2].in_features, net[2].out_features) == (hidden, k)
    assert net[2].weight.dtype == torch.float64


def test_replace_head_with_a_module_and_a_nested_name():
    net = nn.Sequential()
    net.add_module("body", nn.Linear(3, 3))
    net.add_module("classifier", nn.Sequential(nn.Dropout(), nn.Linear(3, 10)))
    new = nn.Linear(3, 2)
    replace_head(net, "classifier.1", new)
    assert net.classifier[1] is new
    assert net(torch.randn(2, 3)).shape == (2, 2)


@given(st.floats(0, 1), st.floats(0, 1), st.booleans())
def test_parameter_groups_give_each_parameter_its_learning_rate(lr_body, lr_head, frozen):
    net = make_classifier(2, seed=0, n_features=2, width=3)
    if frozen:
        freeze(net[0])
    reference = copy.deepcopy(net)
    groups = parameter_groups(net, {"": lr_body, "1": lr_head})
    optimizer = torch.optim.SGD(groups)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    net(x).square().sum().backward()
    reference(x).square().sum().backward()
    optimizer.step()
    for (name, p), q in zip(net.named_parameters(), reference.parameters(), strict=True):
        lr = lr_head if name.startswith("1.") else lr_body
        expected = q.detach() if frozen and name.startswith("0.") else q.detach() - lr * q.grad
        torch.testing.assert_close(p.detach(), expected)
    names = [g["name"] for g in groups]
    assert names == ["1"] if frozen else names == ["", "1"]


# --- the demonstrations ---------------------------------------------------------------------------


def test_train_classifier_takes_torch_adams_steps_with_one_rate_per_group():
    """The written-out Adam per parameter group against torch.optim.Adam on the same groups."""
    net = make_classifier(3, seed=1, n_features=2, width=4)
    reference = copy.deepcopy(net)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 2)).astype(np.float32), np.arange(12) % 3
    train_classifier(net, x, y, {"": 1e-2, "1": 5e-2}, steps=6)
    optimizer = torch.optim.Adam(parameter_groups(reference, {"": 1e-2, "1": 5e-2}))
    for _ in range(6):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
    for ours, theirs in zip(net.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_train_classifier_leaves_a_frozen_backbone_unchanged():
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    freeze(nn.Sequential(net[0], net[1]))
    before = copy.deepcopy(net.state_dict())
    x = np.random.default_rng(0).standard_normal((16, 2))
    train_classifier(net, x, (x[:, 0] > 0).astype(int), {"": 0.1}, steps=5)
    after = net.state_dict()
    for key in ("0.weight", "0.bias", "1.weight", "1.running_mean", "1.running_var"):
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["3.weight"], after["3.weight"])
    assert 0.0 <= accuracy(net, x, np.zeros(16, dtype=int)) <= 1.0
    labels = (x[:, 0] > 0).astype(int)
    double = train_classifier(nn.Linear(2, 2, dtype=torch.float64), x, labels, {"": 0.1})
    assert accuracy(double, x, labels) == 1.0  # a float64 model gets float64 inputs


def test_train_classifier_stops_when_training_diverges():
    net = nn.Linear(1, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        net.bias.zero_()
    with pytest.raises(ValueError, match="training diverged at step 0: the loss is inf"):
        train_classifier(net, [[3e38]], [1], {"": 0.1}, steps=3)  # logits 3e38 and -3e38
    with torch.no_grad():
        net.weight.zero_()
    with pytest.raises(ValueError, match="training diverged at step 3: the loss is nan"):
        train_classifier(net, [[1.0]], [1], {"": 1e38}, steps=5)  # weights beyond float32


def test_seeded_demonstrations_are_deterministic_and_leave_the_global_rng_alone():
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    first = make_transfer_tasks(seed=3, n_source=20, n_target=8, n_test=8)
    again = make_transfer_tasks(seed=3, n_source=20, n_target=8, n_test=8)
    assert_allclose(first.x_source, again.x_source)
    net = make_classifier(8, seed=3)
    torch.testing.assert_close(make_classifier(8, seed=3).state_dict(), net.state_dict())
    tuned = with_new_head(net, 4, seed=3)
    torch.testing.assert_close(with_new_head(net, 4, seed=3)[1].weight, tuned[1].weight)
    add_lora(tuned[0], rank=2, alpha=2.0, seed=3)
    train_classifier(tuned, first.x_target, first.y_target, {"": 1e-2}, steps=2)
    probe_accuracy(net[0], first.x_target, first.y_target % 2, first.x_test, first.y_test % 2)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]
    assert net[1].out_features == 8  # with_new_head changed a copy


# --- bad input ------------------------------------------------------------------------------------


def _linear_pair():
    return nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))


BAD_INPUT = [
    bad(freeze, "net", error=TypeError, match="module must be a torch.nn.Module"),
    bad(freeze, nn.ReLU(), batchnorm_statistics=1, error=TypeError, match="batchnorm_statistics must be a bool"),
    bad(count_parameters, nn.ReLU(), trainable="yes", error=TypeError, match="trainable must be a bool"),
    bad(replace_head, nn.Sequential(nn.ReLU()), "5", 2, error=ValueError, match="no submodule named '5'"),
    bad(replace_head, nn.Sequential(nn.ReLU()), "", 2, error=ValueError, match="name must be the non-empty"),
    bad(replace_head, nn.Sequential(nn.ReLU()), "0", 2, error=TypeError, match="old head is a Linear"),
    bad(replace_head, nn.Sequential(nn.Linear(1, 1)), "0", 0, error=ValueError, match="head must be at least 1"),
    bad(replace_head, nn.Sequential(nn.Linear(1, 1)), "0", "x", error=TypeError, match="head must be a torch.nn.Module or an int"),
    bad(replace_head, nn.Sequential(nn.Linear(4, 1)), "0", 2**30, error=ValueError, match="head = 1073741824 x in_features = 4 would need"),
    bad(parameter_groups, nn.Linear(1, 1), [0.1], error=TypeError, match="learning_rates must be a mapping"),
    bad(parameter_groups, nn.Linear(1, 1), {"fc": 0.1}, error=ValueError, match="'fc' names no submodule"),
    bad(parameter_groups, nn.Linear(1, 1), {"": -0.1}, error=ValueError, match="learning_rates[''] must be a finite number of at least 0"),
    bad(parameter_groups, _linear_pair(), {"1": 0.1}, error=ValueError, match="matches no key"),
    bad(linear_probe, [[0.0], [1.0]], [0, 0], error=ValueError, match="labels must hold at least two classes"),
    bad(linear_probe, [[0.0], [1.0]], [0, 1, 1], error=ValueError, match="labels must have shape (2,)"),
    bad(linear_probe, [[0.0], [1.0]], [0.5, 1.0], error=TypeError, match="labels must hold integers or strings"),
    bad(linear_probe, [[np.nan], [1.0]], [0, 1], error=ValueError, match="features must be finite"),
    bad(linear_probe, [0.0, 1.0], [0, 1], error=ValueError, match="features must be two-dimensional"),
    bad(linear_probe, [[0.0], [1.0]], [0, 1], C=0.0, error=ValueError, match="C must be a finite number greater than 0"),
    bad(linear_probe, [[0.0], [1.0]], [0, 1], C=1e-320, error=ValueError, match="1 / C overflows"),
    bad(linear_probe, [[0.0], [1.0]], [0, 1], max_iter=0, error=ValueError, match="max_iter must be at least 1"),
    bad(linear_probe, [[0.0], [1.0]], [0, 1], max_iter=True, error=TypeError, match="max_iter must be an integer"),
    bad(linear_probe, [[0.0], [1.0]], [0, 1], tol=-1.0, error=ValueError, match="tol must be"),
    bad(linear_probe([[0.0], [1.0]], [0, 1]).predict, [[1.0, 2.0]], error=ValueError, match="features must have 1 columns"),
    bad(LinearProbe, np.array([0, 1]), np.ones((2, 1)), np.zeros(2), error=ValueError, match="coef and intercept must have shapes (1, d) and (1,)"),
    bad(lora_merge, np.eye(2), np.ones((1, 3)), np.ones((2, 1)), alpha=1.0, error=ValueError, match="weight.shape[1] and lora_a.shape[1] must agree"),
    bad(lora_merge, np.eye(2), np.ones((1, 2)), np.ones((3, 1)), alpha=1.0, error=ValueError, match="weight.shape[0] and lora_b.shape[0] must agree"),
    bad(lora_merge, np.eye(2), np.ones((2, 2)), np.ones((2, 1)), alpha=1.0, error=ValueError, match="lora_a.shape[0] and lora_b.shape[1] must agree"),
    bad(lora_merge, np.eye(2), np.ones((0, 2)), np.ones((2, 0)), alpha=1.0, error=ValueError, match="lora_a must not be empty"),
    bad(lora_merge, np.ones(2), np.ones((1, 2)), np.ones((2, 1)), alpha=1.0, error=ValueError, match="weight must be two-dimensional"),
    bad(lora_merge, np.eye(2), np.ones((1, 2)), np.ones((2, 1)), alpha="2", error=TypeError, match="alpha must be a real number"),
    bad(lora_merge, np.eye(2), np.full((1, 2), 1e200), np.full((2, 1), 1e200), alpha=1.0, error=ValueError, match="overflows float64"),
    bad(lora_parameter_count, 4, 4, 0, error=ValueError, match="rank must be at least 1"),
    bad(lora_parameter_count, 4.0, 4, 1, error=TypeError, match="in_features must be an integer"),
    bad(accuracy, nn.Linear(1, 2), [[0.0]], [0.5], error=TypeError, match="y must be an array of integers"),
    bad(accuracy, nn.Linear(1, 2), [[0.0]], [0, 1], error=ValueError, match="y must have shape (1,), one label per row of x"),
    bad(accuracy, nn.Linear(1, 2), [[0.0]], [-1], error=ValueError, match="y must hold class indices of at least 0"),
    bad(accuracy, nn.Linear(1, 2), [[0.0]], [2], error=ValueError, match="y must hold class indices below the model's 2 outputs"),
    bad(accuracy, nn.Linear(1, 2), [[1e39]], [0], error=ValueError, match="x holds values beyond float32's range"),
    bad(accuracy, nn.Linear(2, 2), [[0.0]], [0], error=ValueError, match="model cannot take x of shape (1, 1)"),
    bad(probe_accuracy, nn.Linear(2, 2), [[0.0], [1.0]], [0, 1], [[0.0, 1.0]], [0], error=ValueError, match="backbone cannot take x of shape (2, 1)"),
    bad(train_classifier, nn.Linear(1, 2), [[0.0]], [0], {"": 0.1}, steps=10**9, error=ValueError, match="steps must lie in 1 … 100000"),
    bad(train_classifier, nn.Linear(1, 2), [[0.0]], [0], {"": 0.1}, steps=1.0, error=TypeError, match="steps must be an integer"),
    bad(make_transfer_tasks, seed=-1, error=ValueError, match="seed"),
    bad(make_transfer_tasks, seed=True, error=TypeError, match="seed"),
    bad(make_transfer_tasks, seed=1.5, error=TypeError, match="seed"),
    bad(make_transfer_tasks, seed=0, n_source=0, error=ValueError, match="n_source must be at least 1"),
    bad(make_transfer_tasks, seed=0, n_test=10**12, error=ValueError, match="n_test = 1000000000000"),
    bad(make_classifier, 0, error=ValueError, match="n_classes must be at least 1"),
    bad(make_classifier, 2, width=10**9, error=ValueError, match="width = 1000000000"),
    bad(with_new_head, nn.Linear(1, 1), 2, error=ValueError, match="model has no submodule named '1'"),
    bad(add_lora, nn.Linear(2, 2), rank=1, alpha=1.0, error=TypeError, match="module must hold Linear layers, not be one"),
    bad(add_lora, nn.Sequential(nn.ReLU()), rank=1, alpha=1.0, error=ValueError, match="module holds no torch.nn.Linear"),
    bad(add_lora, nn.Sequential(nn.Linear(2, 3)), rank=3, alpha=1.0, error=ValueError, match="rank must be at most the smaller size"),
    bad(add_lora, nn.Sequential(nn.Linear(2, 3)), rank=1, alpha=0.0, error=ValueError, match="alpha must be a finite number greater than 0"),
    bad(add_lora, nn.Sequential(nn.Linear(2, 3)), rank=1, alpha=1.0, seed=-2, error=ValueError, match="seed"),
    bad(merge_lora, nn.Sequential(nn.Linear(2, 3)), error=ValueError, match="module holds no LoRALinear"),
    bad(TransferTasks, np.zeros((3, 2)), [0, 1, 2], [0, 1], np.ones((2, 2)), [0, 1], np.ones((1, 2)), [0], error=ValueError, match="y_unrelated must have shape (3,), one label per row of x_source"),
    bad(LoRALinear, nn.ReLU(), 1, 1.0, error=TypeError, match="base must be a torch.nn.Linear"),
    bad(probe_accuracy, nn.Identity(), [[0.0], [1.0]], [0, 1], [[0.0]], [0, 1], error=ValueError, match="y_test must have shape (1,), one label per row of x_test"),
]  # fmt: skip

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


def _lora_module():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))


_X, _Y = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [1.0, 2.0]], [0, 1, 0, 1]

HOSTILE = [
    hostile(freeze, module=nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)), batchnorm_statistics=True),
    hostile(unfreeze, module=nn.Linear(2, 2)),
    hostile(count_parameters, module=nn.Linear(2, 2), trainable=True),
    hostile(replace_head, model=nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2)), name="1", head=3),
    hostile(parameter_groups, model=nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2)), learning_rates={"": 0.1, "1": 0.5}),
    hostile(linear_probe, features=_X, labels=_Y, C=1.0, max_iter=50, tol=1e-8),
    hostile(linear_probe(_X, _Y).predict_proba, features=[[0.5, 0.5]]),
    hostile(linear_probe(_X, [0, 1, 2, 1]).predict, features=[[0.5, 0.5]]),
    hostile(linear_probe(_X, _Y).decision_function, features=[[0.5, 0.5]]),
    hostile(LinearProbe, classes=np.array([0, 1]), coef=np.ones((1, 2)), intercept=np.zeros(1), n_iter=3, converged=True),
    hostile(LoRALinear, base=nn.Linear(2, 3), rank=1, alpha=2.0),
    hostile(TransferTasks, x_source=np.zeros((3, 2)), y_source=[0, 1, 2], y_unrelated=[1, 1, 0], x_target=np.ones((2, 2)), y_target=[0, 1], x_test=np.ones((1, 2)), y_test=[3]),
    hostile(lora_merge, weight=np.eye(2), lora_a=np.ones((1, 2)), lora_b=np.ones((2, 1)), alpha=2.0),
    hostile(lora_parameter_count, in_features=8, out_features=4, rank=2),
    hostile(make_transfer_tasks, seed=0, n_features=3, n_hidden=2, n_source=6, n_target=5, n_test=4),
    hostile(make_classifier, n_classes=2, seed=0, n_features=2, width=3),
    hostile(with_new_head, model=make_classifier(3, n_features=2, width=3), n_classes=2, seed=0),
    hostile(train_classifier, model=nn.Linear(2, 2), x=_X, y=_Y, learning_rates={"": 0.01}, steps=2),
    hostile(accuracy, model=nn.Linear(2, 2), x=_X, y=_Y),
    hostile(probe_accuracy, backbone=nn.Linear(2, 3), x=_X, y=_Y, x_test=_X, y_test=_Y, C=1.0),
    hostile(add_lora, module=_lora_module(), rank=1, alpha=2.0, seed=0),
    hostile(merge_lora, module=add_lora(_lora_module(), rank=1, alpha=2.0)),
]  # fmt: skip

test_hostile_input_gives_a_clear_error_or_a_finite_result = hostile_input_test(HOSTILE)


def test_hostile_probe_warns_of_nothing():
    """A probe on tiny or huge (finite) features gives finite numbers without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for scale in (1e-200, 1e150):
            probe = linear_probe(np.array([[0.0], [1.0], [2.0], [3.0]]) * scale, [0, 0, 1, 1])
            assert np.isfinite(probe.coef).all()
            assert np.isfinite(probe.intercept).all()
