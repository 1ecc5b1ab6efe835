"""conceptref.transfer against scikit-learn's LogisticRegression and PyTorch's own behaviour."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from torch import nn

from conceptref.demos.transfer import accuracy, make_transfer_tasks, train_classifier
from conceptref.transfer import (
    count_parameters,
    freeze,
    linear_probe,
    parameter_groups,
    replace_head,
    unfreeze,
)


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
    x, y, c = problem
    probe = linear_probe(x, y, C=c)
    try:
        oracle = LogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(x, y)
    except ConvergenceWarning:  # raised as an error here; lbfgs stopped short of the minimum
        assume(False)  # so there is no reference to compare with (rare: flat, tied data)
    # The objective is strictly convex, so both reach the same minimum; 1e-5 leaves room for
    # the two solvers' stopping rules.
    assert_allclose(probe.predict_proba(x), oracle.predict_proba(x), atol=1e-5)
    assert probe.coef.shape == oracle.coef_.shape
    assert_allclose(probe.coef, oracle.coef_, atol=1e-3 * (1 + np.abs(oracle.coef_).max()))


def test_linear_probe_with_string_labels_and_tensor_features():
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]], requires_grad=True)
    probe = linear_probe(x.half(), np.array(["cat", "dog", "cat", "eel"]), C=1.0)
    assert probe.classes.tolist() == ["cat", "dog", "eel"]
    assert probe.predict_proba([[1.0, 1.0]]).shape == (1, 3)


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
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    for p in net.parameters():
        p.requires_grad_(False)
    net.train()
    before = net[1].running_mean.clone()
    net(torch.randn(16, 3) + 5.0)
    assert not torch.equal(before, net[1].running_mean)  # the trap: statistics moved


def test_freeze_keeps_batchnorm_statistics_and_output_through_train():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    net.train()
    net(torch.randn(32, 3))  # some statistics to keep
    state = copy.deepcopy(net.state_dict())
    x = torch.randn(16, 3) + 2.0
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
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    if frozen:
        freeze(net[0])
    reference = copy.deepcopy(net)
    groups = parameter_groups(net, {"": lr_body, "2": lr_head})
    optimizer = torch.optim.SGD(groups)
    x = torch.randn(5, 2)
    net(x).square().sum().backward()
    reference(x).square().sum().backward()
    optimizer.step()
    for (name, p), q in zip(net.named_parameters(), reference.parameters(), strict=True):
        lr = lr_head if name.startswith("2.") else lr_body
        expected = q.detach() if frozen and name.startswith("0.") else q.detach() - lr * q.grad
        torch.testing.assert_close(p.detach(), expected)
    names = [g["name"] for g in groups]
    assert names == ["2"] if frozen else names == ["", "2"]


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: freeze("net"), TypeError, "module must be a torch.nn.Module"),
        (lambda: freeze(nn.ReLU(), batchnorm_statistics=1), TypeError, "must be a bool"),
        (lambda: count_parameters(nn.ReLU(), trainable="yes"), TypeError, "trainable"),
        (lambda: replace_head(nn.Sequential(nn.ReLU()), "5", 2), ValueError, "no submodule"),
        (lambda: replace_head(nn.Sequential(nn.ReLU()), "", 2), ValueError, "non-empty"),
        (lambda: replace_head(nn.Sequential(nn.ReLU()), "0", 2), TypeError, "old head"),
        (lambda: replace_head(nn.Sequential(nn.Linear(1, 1)), "0", 0), ValueError, "head must"),
        (lambda: replace_head(nn.Sequential(nn.Linear(1, 1)), "0", "x"), TypeError, "head must"),
        (lambda: parameter_groups(nn.Linear(1, 1), [0.1]), TypeError, "mapping"),
        (lambda: parameter_groups(nn.Linear(1, 1), {"fc": 0.1}), ValueError, "names no"),
        (lambda: parameter_groups(nn.Linear(1, 1), {"": -0.1}), ValueError, "at least 0"),
        (
            lambda: parameter_groups(nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1)), {"1": 0.1}),
            ValueError,
            "matches no key",
        ),
        (lambda: linear_probe([[0.0], [1.0]], [0, 0]), ValueError, "at least two classes"),
        (lambda: linear_probe([[0.0], [1.0]], [0, 1, 1]), ValueError, "labels must have shape"),
        (lambda: linear_probe([[0.0], [1.0]], [0.5, 1.0]), TypeError, "integers or strings"),
        (lambda: linear_probe([[np.nan], [1.0]], [0, 1]), ValueError, "finite"),
        (
            lambda: linear_probe([0.0, 1.0], [0, 1]),
            ValueError,
            "features must be two-dimensional",
        ),
        (lambda: linear_probe([[0.0], [1.0]], [0, 1], C=0.0), ValueError, "C must be"),
        (lambda: linear_probe([[0.0], [1.0]], [0, 1], max_iter=0), ValueError, "max_iter"),
        (
            lambda: linear_probe([[0.0], [1.0]], [0, 1]).predict([[1.0, 2.0]]),
            ValueError,
            "1 columns",
        ),
        (
            lambda: accuracy(nn.Linear(1, 2), [[0.0]], [0.5]),
            TypeError,
            "y must be an array of integers",
        ),
        (lambda: accuracy(nn.Linear(1, 2), [[0.0]], [0, 1]), ValueError, "one label per row"),
        (lambda: accuracy(nn.Linear(1, 2), [[0.0]], [-1]), ValueError, "at least 0"),
        (lambda: make_transfer_tasks(seed=-1), ValueError, "seed"),
        (lambda: make_transfer_tasks(seed=0, n_source=0), ValueError, "n_source"),
    ],
)
def test_bad_input(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_train_classifier_leaves_a_frozen_backbone_unchanged():
    torch.manual_seed(0)
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
