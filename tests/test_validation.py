"""The shared checks (conceptref._validation), the randomness convention (conceptref._random)
and the training loop of the demonstrations (conceptref.demos._training)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conceptref._random import numpy_rng, seeded, torch_generator
from conceptref._validation import (
    SEED_MAX,
    Interval,
    check_array,
    check_binary,
    check_bool,
    check_boxes,
    check_dims_agree,
    check_each,
    check_int,
    check_int_array,
    check_keys,
    check_labels,
    check_module,
    check_option,
    check_probability,
    check_real,
    check_same_shape,
    check_seed,
    check_sequence,
    check_size,
    check_tensor,
)
from conceptref.demos._training import TrainingDiverged, fit
from helpers import bad, bad_input_test

# --- Interval ---------------------------------------------------------------------------------

CLOSED = ["both", "left", "right", "neither"]


@given(
    low=st.integers(-3, 3),
    width=st.integers(0, 3),
    closed=st.sampled_from(CLOSED),
    value=st.integers(-5, 8),
)
def test_interval_contains_what_its_description_says(low, width, closed, value):
    """Membership agrees with the written rule, ends included or not as ``closed`` says."""
    high = low + width
    interval = Interval(low, high, closed)
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    inside = (low < value or (left and value == low)) and (
        value < high or (right and value == high)
    )
    assert (value in interval) == inside
    text = interval.describe()
    assert text.startswith("in [" if left else "in (")
    assert text.endswith("]" if right else ")")


def test_unbounded_intervals_read_as_at_least_and_at_most():
    assert Interval(1, None).describe() == "at least 1"
    assert Interval(0, None, "neither").describe() == "greater than 0"
    assert Interval(None, 5).describe() == "at most 5"
    assert Interval(1, 3).describe("d", integer=True) == "in 1 … d = 3"


# --- scalars ----------------------------------------------------------------------------------


@given(st.integers(0, SEED_MAX))
def test_every_non_negative_int64_is_a_seed(seed):
    assert check_seed(seed) == seed
    assert check_seed(np.int64(seed)) == seed


def test_accepted_values_come_back_as_python_types():
    assert check_bool(np.bool_(True), "flag") is True
    assert type(check_int(np.int32(3), "n", Interval(1, None))) is int
    assert check_real(np.float32(0.5), "p", Interval(0, 1)) == 0.5
    assert check_probability(1.0, "p") == 1.0
    assert check_option("mean", "reduction", ("mean", "sum")) == "mean"
    assert check_keys({"w": 1}, "weights", required=("w",), optional=("b",)) == {"w": 1}
    assert check_dims_agree([("a.shape[-1]", 4), ("b.shape[-1]", 4)]) == 4
    assert check_each([0.1, 0.2], "betas", lambda v, n: check_probability(v, n)) == [0.1, 0.2]


# --- arrays -----------------------------------------------------------------------------------


def test_arrays_accept_lists_and_tensors_with_grad_and_return_float64():
    grad = torch.tensor([1.0, 2.0], requires_grad=True)
    assert check_array(grad, "x").dtype == np.float64
    assert check_array([[1, 2]], "x", ndim=2).shape == (1, 2)
    assert check_array(torch.ones(2, dtype=torch.bfloat16), "x").tolist() == [1.0, 1.0]
    assert check_array([-np.inf, 0.0], "scores", allow_neg_inf=True)[0] == -np.inf
    assert check_int_array([], "tokens", ndim=1, empty_any_dtype=True).dtype == np.int64
    assert check_binary([True, 0, 1.0], "labels").tolist() == [True, False, True]
    assert check_boxes([], "boxes").shape == (0, 4)
    assert check_labels(["cat", "dog"], "y").tolist() == ["cat", "dog"]


def test_a_tensor_keeps_its_dtype_and_graph():
    x = torch.ones(2, 3, dtype=torch.float32, requires_grad=True)
    checked = check_tensor(x, "x", ndim=2)
    assert checked is x
    assert check_tensor([[1.0, 2.0]], "x").dtype == torch.float64


def test_sizes_within_the_limit_pass():
    check_size([("n", 2**10), ("d", 2**10)], limit=2**20)
    check_same_shape(np.zeros((2, 3)), torch.zeros(2, 3), ("mu", "logvar"))
    images = [np.zeros(2)]
    assert check_sequence(images, "images") is images
    module = torch.nn.Linear(2, 2)
    assert check_module(module, "model") is module


# --- every rule's message ----------------------------------------------------------------------

BAD_INPUT = [
    bad(check_bool, "yes", "flag", error=TypeError, match="flag must be a bool, got str"),
    bad(check_bool, 1, "flag", error=TypeError, match="flag must be a bool, got int"),
    bad(check_int, 1.5, "n", error=TypeError, match="n must be an integer, got float"),
    bad(check_int, True, "n", error=TypeError, match="n must be an integer, got bool"),
    bad(
        check_int, 0, "n", Interval(1, None), error=ValueError, match="n must be at least 1, got 0"
    ),
    bad(
        check_int,
        5,
        "k",
        Interval(1, 3),
        high_name="d",
        error=ValueError,
        match="k must lie in 1 … d = 3, got 5",
    ),
    bad(check_real, "1", "lr", error=TypeError, match="lr must be a real number, got str"),
    bad(check_real, math.nan, "lr", error=ValueError, match="lr must be finite, got nan"),
    bad(
        check_real,
        0.0,
        "lr",
        Interval(0, None, "neither"),
        error=ValueError,
        match="lr must be a finite number greater than 0, got 0.0",
    ),
    bad(check_probability, 1.5, "p", error=ValueError, match="in [0, 1], got 1.5"),
    bad(
        check_option,
        "avg",
        "reduction",
        ("mean", "sum"),
        error=ValueError,
        match="reduction must be one of 'mean', 'sum', got 'avg'",
    ),
    bad(
        check_option,
        1,
        "reduction",
        ("mean", "sum"),
        error=TypeError,
        match="reduction must be one of 'mean', 'sum', got int",
    ),
    bad(check_seed, True, error=TypeError, match="seed must be an integer, got bool"),
    bad(check_seed, 1.0, error=TypeError, match="seed must be an integer, got float"),
    bad(check_seed, -1, error=ValueError, match="seed must lie in 0 … 2**63 - 1"),
    bad(check_seed, 2**63, error=ValueError, match="seed must lie in 0 … 2**63 - 1"),
    bad(
        check_keys, [("w", 1)], "weights", error=TypeError, match="weights must be a dict, got list"
    ),
    bad(check_keys, {1: 2}, "weights", error=TypeError, match="weights must have string keys"),
    bad(
        check_keys,
        {"b": 1},
        "weights",
        required=("w",),
        error=ValueError,
        match="weights lacks the key(s) 'w'",
    ),
    bad(
        check_keys,
        {"w": 1, "linear1.bais": 2},
        "weights",
        required=("w",),
        optional=("bias",),
        error=ValueError,
        match="weights has unknown key(s) 'linear1.bais'; allowed: 'w', 'bias'",
    ),
    bad(
        check_dims_agree,
        [("query.shape[-1]", 4), ("key.shape[-1]", 3)],
        error=ValueError,
        match="query.shape[-1] and key.shape[-1] must agree (sizes), got 4 and 3",
    ),
    bad(
        check_size,
        [("n", 2**20), ("n", 2**20)],
        limit=2**31,
        error=ValueError,
        match="n = 1048576 x n = 1048576 would need 1099511627776 elements",
    ),
    bad(check_array, [[1, 2], [3]], "x", error=ValueError, match="x must be a rectangular array"),
    bad(check_array, ["a"], "x", error=TypeError, match="x must be an array of real numbers"),
    bad(check_array, [True], "x", error=TypeError, match="x must be an array of real numbers"),
    bad(check_array, [1.0], "x", ndim=2, error=ValueError, match="x must be two-dimensional"),
    bad(check_array, [], "x", non_empty=True, error=ValueError, match="x must not be empty"),
    bad(check_array, [np.inf], "x", error=ValueError, match="x must be finite"),
    bad(
        check_array,
        [0.5, 2.0],
        "p",
        interval=Interval(0, 1),
        error=ValueError,
        match="p must lie in [0, 1], got 2.0 at index 1",
    ),
    bad(
        check_same_shape,
        np.zeros(2),
        np.zeros(1),
        ("mu", "logvar"),
        error=ValueError,
        match="mu and logvar must have the same shape, got (2,) and (1,)",
    ),
    bad(
        check_int_array,
        [1.5],
        "tokens",
        error=TypeError,
        match="tokens must be an array of integers",
    ),
    bad(check_int_array, [2**64 - 1], "tokens", error=ValueError, match="beyond the int64 range"),
    bad(
        check_binary,
        [0, 2],
        "labels",
        error=ValueError,
        match="labels must hold only 0 and 1, got 2",
    ),
    bad(check_boxes, [[0, 0, 1]], "boxes", error=ValueError, match="boxes must have shape (N, 4)"),
    bad(check_boxes, [[2, 0, 1, 1]], "boxes", error=ValueError, match="boxes: x2 < x1 in box 0"),
    bad(check_labels, [1 + 2j], "y", error=TypeError, match="y must hold class labels"),
    bad(
        check_labels,
        np.array(["a", 1], dtype=object),
        "y",
        error=TypeError,
        match="y must hold labels of one comparable kind",
    ),
    bad(check_labels, [np.nan], "y", error=ValueError, match="y must not hold NaN or infinity"),
    bad(check_tensor, [[True]], "x", error=TypeError, match="x must be an array of real numbers"),
    bad(check_tensor, torch.ones(1, 0), "x", non_empty=True, error=ValueError, match="empty axis"),
    bad(check_module, object(), "model", error=TypeError, match="model must be a torch.nn.Module"),
    bad(check_sequence, np.zeros(2), "images", error=TypeError, match="images must be a sequence"),
    bad(
        check_each,
        "ab",
        "betas",
        check_real,
        error=TypeError,
        match="betas must be a sequence of values, got str",
    ),
    bad(
        check_each, [], "betas", check_real, error=ValueError, match="betas must hold at least one"
    ),
    bad(numpy_rng, -1, error=ValueError, match="seed must lie in 0"),
    bad(torch_generator, 1.5, error=TypeError, match="seed must be an integer"),
]

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)


# --- randomness: a seed, never the caller's global state ---------------------------------------


def test_seeded_restores_the_callers_global_rng_and_is_reproducible():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with seeded(7):
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    with seeded(7):
        assert torch.equal(torch.rand(3), first)
    legacy = np.random.get_state()[1].copy()  # noqa: NPY002
    numpy_rng(3).random(2)
    torch_generator(3)
    assert np.array_equal(np.random.get_state()[1], legacy)  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), before)


def test_seeded_rejects_a_bad_seed_before_touching_the_state():
    before = torch.get_rng_state()
    with pytest.raises(TypeError, match="seed must be an integer"), seeded(True):
        pass  # pragma: no cover
    assert torch.equal(torch.get_rng_state(), before)


# --- the demonstrations' training loop ---------------------------------------------------------


def test_fit_minimizes_and_returns_every_loss():
    w = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    losses = fit([w], lambda step: (w**2).sum(), steps=200, learning_rate=0.1)
    assert len(losses) == 200
    assert losses[-1] < 1e-3 < losses[0]


def test_fit_stops_at_the_first_non_finite_loss_naming_the_step():
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)

    def loss_at(step: int) -> torch.Tensor:
        return (w * (math.inf if step == 3 else 1.0)).sum()

    with pytest.raises(TrainingDiverged, match="training diverged at step 3"):
        fit([w], loss_at, steps=10, learning_rate=0.1)
    assert issubclass(TrainingDiverged, ValueError)
