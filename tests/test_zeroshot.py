"""conceptref.zeroshot against scikit-learn: 1-NN with the cosine metric, balanced accuracy, Ridge."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from conceptref.demos.zeroshot import AttributeData, make_attribute_data, ridge_fit
from conceptref.zeroshot import (
    SeenUnseenCurve,
    ausuc,
    calibrated_stacking,
    cosine_scores,
    harmonic_mean,
    per_class_accuracy,
    seen_unseen_curve,
    zero_shot_predict,
)
from helpers import bad, bad_input_test, hostile, hostile_input_test, lazy

Ridge = lazy("sklearn.linear_model", "Ridge")
balanced_accuracy_score = lazy("sklearn.metrics", "balanced_accuracy_score")
KNeighborsClassifier = lazy("sklearn.neighbors", "KNeighborsClassifier")

# Small integers (with many zeros) make exact ties, parallel rows and zero vectors common.
COORDINATE = st.one_of(
    st.integers(-2, 2).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@st.composite
def embedding_pairs(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 5))
    k = draw(st.integers(1, 5))
    embeddings = draw(arrays(np.float64, (n, d), elements=COORDINATE))
    classes = draw(arrays(np.float64, (k, d), elements=COORDINATE))
    if draw(st.booleans()) and n > 1:  # some inputs equal to, or scaled from, a class row
        embeddings[0] = classes[draw(st.integers(0, k - 1))] * draw(st.sampled_from([1.0, 3.0]))
    return embeddings, classes


def knn_oracle(embeddings, classes, labels=None):
    labels = np.arange(len(classes)) if labels is None else labels
    knn = KNeighborsClassifier(n_neighbors=1, metric="cosine").fit(classes, labels)
    return knn.predict(embeddings)


@given(embedding_pairs())
def test_zero_shot_predict_is_one_nearest_neighbour_with_cosine(pair):
    embeddings, classes = pair
    assert_array_equal(zero_shot_predict(embeddings, classes), knn_oracle(embeddings, classes))


@given(embedding_pairs())
def test_zero_shot_predict_in_float32_like_sklearn(pair):
    embeddings, classes = (a.astype(np.float32) for a in pair)
    assume(np.isfinite(embeddings).all() and np.isfinite(classes).all())
    assert_array_equal(zero_shot_predict(embeddings, classes), knn_oracle(embeddings, classes))


@given(embedding_pairs(), st.randoms(use_true_random=False))
def test_zero_shot_predict_with_any_labels(pair, random):
    embeddings, classes = pair
    labels = np.array([random.randint(0, 2) for _ in classes])  # repeated labels allowed
    chosen = labels[zero_shot_predict(embeddings, classes)]
    assert_array_equal(chosen, knn_oracle(embeddings, classes, labels))


@given(embedding_pairs())
def test_cosine_scores_match_torch(pair):
    embeddings, classes = pair
    rows = np.vstack([embeddings, classes])
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    assume(((rows == 0).all(axis=1) | (norms > 1e-14)).all())
    e, c = torch.from_numpy(embeddings), torch.from_numpy(classes)
    # torch clamps each norm at eps, which also gives 0 for a zero vector
    expected = torch.nn.functional.cosine_similarity(
        e[:, None, :], c[None, :, :], dim=-1, eps=1e-300
    )
    assert_allclose(cosine_scores(embeddings, classes), expected.numpy(), atol=1e-12)


def test_zero_shot_predict_readable_cases():
    classes = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    inputs = [[2.0, 0.0], [1.0, 1.0], [0.0, 0.0], [-1.0, 0.0], [0.0, 5.0]]
    # a 45-degree input is as close to [1, 0] as to [0, 1]; [-1, 0] is at distance 1 from
    # both [0, 1] and the zero class: scikit-learn's argpartition picks the zero class there.
    assert zero_shot_predict(inputs, classes).tolist() == [0, 0, 0, 3, 2]
    assert zero_shot_predict(inputs, classes).tolist() == knn_oracle(inputs, classes).tolist()


def test_tensors_with_grad_and_half_precision_are_accepted():
    e = torch.tensor([[1.0, 0.2], [0.1, 1.0]], requires_grad=True)
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.bfloat16)
    assert zero_shot_predict(e, c).tolist() == [0, 1]
    assert cosine_scores(e.half(), c).dtype == np.float64
    scores = torch.tensor([[0.5, 0.4]], requires_grad=True)
    assert calibrated_stacking(scores, np.array([True, False]), 0.2).argmax(1).tolist() == [1]


def oracle_per_class(y_true, y_pred, classes):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mask = np.isin(y_true, classes)
    with warnings.catch_warnings():
        # The generalized setting predicts classes absent from y_true[mask]; scikit-learn
        # warns and then averages over the classes present, which is the definition here.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        # and with a single class in y_true and y_pred it warns about the confusion matrix
        warnings.filterwarnings("ignore", message="A single label was found")
        return balanced_accuracy_score(y_true[mask], y_pred[mask])


@st.composite
def label_triples(draw):
    n = draw(st.integers(1, 12))
    y_true = draw(arrays(np.int64, n, elements=st.integers(0, 5)))
    y_pred = draw(arrays(np.int64, n, elements=st.integers(0, 5)))
    classes = draw(st.lists(st.integers(0, 6), min_size=1, max_size=6))
    classes.append(int(y_true[draw(st.integers(0, n - 1))]))  # at least one class present
    return y_true, y_pred, np.array(classes)


@given(label_triples())
def test_per_class_accuracy_is_balanced_accuracy_on_the_chosen_classes(triple):
    y_true, y_pred, classes = triple
    assert per_class_accuracy(y_true, y_pred, classes) == oracle_per_class(*triple)


@given(label_triples())
def test_per_class_accuracy_with_string_labels(triple):
    names = np.array(["cat", "dog", "eel", "fox", "gnu", "owl", "yak"])
    y_true, y_pred, classes = (names[a] for a in triple)
    got = per_class_accuracy(y_true, y_pred, classes)
    assert got == oracle_per_class(y_true, y_pred, classes)


def test_per_class_accuracy_raises_no_warning_in_the_generalized_setting():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert per_class_accuracy([3, 3, 4], [0, 3, 1], classes=[3, 4]) == 0.25


@given(st.floats(0, 1), st.floats(0, 1))
def test_harmonic_mean_against_its_definition(a, b):
    h = harmonic_mean(a, b)
    # the exact value, rounded once (the naive 2ab / (a + b) underflows for tiny accuracies)
    expected = (
        0.0
        if a == 0 or b == 0
        else float(2 * Fraction(a) * Fraction(b) / (Fraction(a) + Fraction(b)))
    )
    assert h == pytest.approx(expected, rel=1e-15, abs=2e-323)
    assert harmonic_mean(b, a) == h
    assert min(a, b) - 1e-12 <= h <= max(a, b) + 1e-12
    assert h <= (a + b) / 2 + 1e-12


@given(
    arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=COORDINATE),
    st.data(),
    st.floats(-10, 10),
)
def test_calibrated_stacking_lowers_seen_columns_only(scores, data, gamma):
    seen = data.draw(arrays(np.bool_, scores.shape[1]))
    out = calibrated_stacking(scores, seen, gamma)
    assert_array_equal(out[:, ~seen], scores[:, ~seen])
    assert_allclose(out[:, seen], scores[:, seen] - gamma)


def test_harmonic_mean_of_tiny_accuracies_does_not_underflow():
    assert harmonic_mean(1e-200, 1e-200) == 1e-200
    assert harmonic_mean(5e-324, 1.0) == 1e-323
    assert harmonic_mean(1e-300, 1e-10) == pytest.approx(2e-300, rel=1e-9)


def test_a_large_gamma_predicts_only_unseen_classes():
    scores = np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1]])
    seen = np.array([True, True, False])
    assert calibrated_stacking(scores, seen, 10.0).argmax(1).tolist() == [2, 2]


# --- the seen-unseen accuracy curve against a brute-force sweep of gamma ----------------------


@st.composite
def gzsl_cases(draw):
    """Scores on a grid of quarters (exact differences, many ties), labels of both kinds."""
    k = draw(st.integers(2, 5))
    seen = np.zeros(k, dtype=bool)
    seen[: draw(st.integers(1, k - 1))] = True
    seen = draw(st.permutations(seen.tolist())).copy() if draw(st.booleans()) else seen
    seen = np.asarray(seen, dtype=bool)
    n = draw(st.integers(2, 8))
    scores = draw(arrays(np.float64, (n, k), elements=st.integers(-8, 8).map(lambda v: v / 4)))
    labels = draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
    labels[0] = draw(st.sampled_from(np.flatnonzero(seen).tolist()))
    labels[1] = draw(st.sampled_from(np.flatnonzero(~seen).tolist()))
    return scores, labels, seen


def brute_force_curve(scores, labels, seen):
    """Sweep gamma over every eighth in [-5, 5]: off the quarter grid of score differences,
    so no sweep point is a tie; consecutive repeated points are merged."""
    seen_classes, unseen_classes = np.flatnonzero(seen), np.flatnonzero(~seen)
    points = []
    for gamma in np.arange(-41, 42, 2) / 8:
        predicted = calibrated_stacking(scores, seen, gamma).argmax(axis=1)
        point = (
            per_class_accuracy(labels, predicted, seen_classes),
            per_class_accuracy(labels, predicted, unseen_classes),
        )
        if not points or point != points[-1]:
            points.append(point)
    acc_s, acc_u = (np.array(column) for column in zip(*points, strict=True))
    return acc_s, acc_u, float(np.trapezoid(acc_s, acc_u))


def merged(acc_s, acc_u):
    keep = np.ones(len(acc_s), dtype=bool)
    keep[1:] = (np.diff(acc_s) != 0) | (np.diff(acc_u) != 0)
    return acc_s[keep], acc_u[keep]


@given(gzsl_cases())
def test_seen_unseen_curve_equals_a_brute_force_sweep_of_gamma(case):
    scores, labels, seen = case
    curve = seen_unseen_curve(scores, labels, seen)
    acc_s, acc_u, area = brute_force_curve(scores, labels, seen)
    got_s, got_u = merged(np.round(curve.acc_seen, 12), np.round(curve.acc_unseen, 12))
    assert_allclose(got_s, np.round(acc_s, 12), atol=1e-12)
    assert_allclose(got_u, np.round(acc_u, 12), atol=1e-12)
    assert curve.area == pytest.approx(area, abs=1e-12)
    assert ausuc(torch.from_numpy(scores), labels.tolist(), seen) == curve.area
    # the ends: only seen classes predicted, then only unseen ones
    assert curve.acc_unseen[0] == 0.0
    assert curve.acc_seen[-1] == 0.0
    assert (np.diff(curve.thresholds) > 0).all()


def test_seen_unseen_curve_readable_case_and_result_owns_its_arrays():
    scores = np.array([[0.9, 0.2], [0.6, 0.5], [0.1, 0.4]])
    curve = seen_unseen_curve(scores, [0, 1, 1], [True, False])
    assert curve.acc_seen.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert curve.acc_unseen.tolist() == [0.0, 0.5, 1.0, 1.0]
    assert curve.area == pytest.approx(1.0)
    scores[:] = 0.0  # changing the input afterwards changes nothing in the result
    assert curve.acc_seen.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert not curve.thresholds.flags.writeable


@given(
    st.integers(2, 8).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, (n, 3), elements=st.floats(-10, 10)),
            arrays(np.float64, (n, 2), elements=st.floats(-10, 10)),
        )
    ),
    st.floats(1e-3, 1e3),
)
def test_ridge_fit_matches_sklearn_ridge(xt, alpha):
    x, t = xt
    coef, intercept = ridge_fit(x, t, alpha)
    model = Ridge(alpha=alpha, fit_intercept=True, solver="cholesky").fit(x, t)
    scale = 1 + np.abs(model.coef_).max()
    assert_allclose(coef.T, model.coef_, atol=1e-8 * scale, rtol=1e-7)
    assert_allclose(x @ coef + intercept, model.predict(x), atol=1e-7 * (1 + np.abs(t).max()))


def test_make_attribute_data_is_seeded_and_split_as_documented():
    a, b = make_attribute_data(seed=3), make_attribute_data(seed=3)
    assert_array_equal(a.x, b.x)
    assert a.seen.tolist() == [True] * 12 + [False] * 4
    assert not a.train[~a.seen[a.y]].any()  # no unseen-class sample is for training
    assert a.train.sum() == 12 * 30
    assert set(np.unique(a.signatures)) == {-1.0, 1.0}


def test_make_attribute_data_leaves_the_global_random_state_alone():
    state = np.random.get_state()  # noqa: NPY002
    make_attribute_data(seed=5, n_classes=3, n_unseen=1, n_per_class=2)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], state[1])
    assert after[2:] == state[2:]


def test_results_own_their_arrays():
    x = np.array([[0.0], [1.0], [2.0]])
    t = np.array([[1.0], [3.0], [5.0]])
    coef, intercept = ridge_fit(x, t, 1.0)
    assert not np.shares_memory(coef, x)
    assert not np.shares_memory(intercept, t)
    scores = np.array([[0.5, 0.2], [0.1, 0.3]])
    out = calibrated_stacking(scores, [True, False], 0.0)
    assert not np.shares_memory(out, scores)
    assert isinstance(seen_unseen_curve(scores, [0, 1], [True, False]), SeenUnseenCurve)


def test_ridge_fit_on_a_singular_system_says_so():
    with pytest.raises(ValueError, match="alpha = 1e-320 is too small for x"):
        ridge_fit([[1.0, 1.0], [2.0, 2.0]], [[1.0], [2.0]], 1e-320)


SCORES = [[0.9, 0.2], [0.6, 0.5]]

BAD_INPUT = [
    bad(zero_shot_predict, [1.0, 2.0], [[1.0, 2.0]], error=ValueError, match="embeddings must be two"),
    bad(zero_shot_predict, [[1.0]], [[1.0, 2.0]], error=ValueError, match="same dimension d"),
    bad(zero_shot_predict, np.zeros((0, 2)), [[1.0, 2.0]], error=ValueError, match="embeddings must not be empty"),
    bad(zero_shot_predict, [[np.nan]], [[1.0]], error=ValueError, match="embeddings must be finite"),
    bad(zero_shot_predict, [["a"]], [[1.0]], error=TypeError, match="real numbers"),
    bad(zero_shot_predict, [[1.0]], [[True]], error=TypeError, match="class_embeddings must be an array of real"),
    bad(zero_shot_predict, [[1e200]], [[1.0]], error=ValueError, match="embeddings holds a row whose squared norm overflows"),
    bad(cosine_scores, [[1.0]], torch.tensor([[1j]]), error=TypeError, match="class_embeddings"),
    bad(per_class_accuracy, [0, 1], [0], [0], error=ValueError, match="same length"),
    bad(per_class_accuracy, [0, 1], [0, 1], [5], error=ValueError, match="no sample of y_true"),
    bad(per_class_accuracy, [[0]], [[0]], [0], error=ValueError, match="one-dimensional"),
    bad(per_class_accuracy, [0.5], [0.5], [0.5], error=TypeError, match="non-integer"),
    bad(per_class_accuracy, [np.nan], [0.0], [0], error=ValueError, match="NaN"),
    bad(per_class_accuracy, [True], [True], [True], error=TypeError, match="y_true must hold"),
    bad(per_class_accuracy, ["a"], [0], ["a"], error=TypeError, match="all hold strings"),
    bad(harmonic_mean, 1.5, 0.5, error=ValueError, match="acc_seen must be an accuracy in [0, 1]"),
    bad(harmonic_mean, 0.5, float("nan"), error=ValueError, match="acc_unseen must be an accuracy in [0, 1], got nan"),
    bad(harmonic_mean, "0.5", 0.5, error=TypeError, match="acc_seen must be a real number"),
    bad(harmonic_mean, 0.5, True, error=TypeError, match="acc_unseen must be a real number"),
    bad(calibrated_stacking, [[1.0, 2.0]], [1, 0], 0.1, error=TypeError, match="seen_mask must be a boolean array"),
    bad(calibrated_stacking, [[1.0, 2.0]], [True], 0.1, error=ValueError, match="one entry per"),
    bad(calibrated_stacking, [[1.0]], [True], np.inf, error=ValueError, match="gamma must be finite"),
    bad(calibrated_stacking, [[-1e308]], [True], 1e308, error=ValueError, match="overflows"),
    bad(seen_unseen_curve, SCORES, [0, 1], [True, True], error=ValueError, match="at least one seen (True) and one unseen (False)"),
    bad(seen_unseen_curve, SCORES, [0, 0], [True, False], error=ValueError, match="labels must hold samples of both"),
    bad(seen_unseen_curve, SCORES, [0, 2], [True, False], error=ValueError, match="labels must lie in 0 … k - 1 = 1"),
    bad(seen_unseen_curve, SCORES, [0, -1], [True, False], error=ValueError, match="labels must lie in 0"),
    bad(seen_unseen_curve, SCORES, [0.0, 1.0], [True, False], error=TypeError, match="labels must be an array of integers"),
    bad(seen_unseen_curve, SCORES, [0, 1, 1], [True, False], error=ValueError, match="len(labels) and the rows of scores must agree"),
    bad(seen_unseen_curve, SCORES, [0, 1], [1, 0], error=TypeError, match="seen_mask must be a boolean array"),
    bad(seen_unseen_curve, SCORES, [0, 1], [True], error=ValueError, match="seen_mask must have one entry per column"),
    bad(seen_unseen_curve, [[1e308, -1e308], [0.0, 1.0]], [0, 1], [True, False], error=ValueError, match="scores are too far apart"),
    bad(seen_unseen_curve, [[np.nan, 0.0], [0.0, 1.0]], [0, 1], [True, False], error=ValueError, match="scores must be finite"),
    bad(ausuc, SCORES, [0, 1], [False, False], error=ValueError, match="seen_mask must mark"),
    bad(SeenUnseenCurve, [0.5, 0.5], [1.0, 0.5, 0.0], [0.0, 0.5, 1.0], 0.5, error=ValueError, match="thresholds must be strictly increasing"),
    bad(SeenUnseenCurve, [0.5], [1.0, 0.0], [0.0], 0.5, error=ValueError, match="len(thresholds) + 1, len(acc_seen) and len(acc_unseen) must agree"),
    bad(SeenUnseenCurve, [0.5], [1.5, 0.0], [0.0, 1.0], 0.5, error=ValueError, match="acc_seen must lie in [0, 1]"),
    bad(AttributeData, [[1.0]], [0, 1], [[1.0]], [True], [True, False], error=ValueError, match="len(x), len(y) and len(train) must agree"),
    bad(AttributeData, [[1.0], [2.0]], [0, 3], [[1.0]], [True], [True, False], error=ValueError, match="y must lie in 0"),
    bad(ridge_fit, [[1.0]], [[1.0], [2.0]], 1.0, error=ValueError, match="same number of rows"),
    bad(ridge_fit, [[1.0]], [[1.0]], 0.0, error=ValueError, match="alpha must be a finite number greater than 0"),
    bad(ridge_fit, [[1e200], [-1e200]], [[1.0], [2.0]], 1.0, error=ValueError, match="sums of squares overflow"),
    bad(make_attribute_data, n_unseen=16, error=ValueError, match="n_unseen must be smaller"),
    bad(make_attribute_data, noise=-1.0, error=ValueError, match="noise must be a finite number of at least 0"),
    bad(make_attribute_data, noise=1e308, error=ValueError, match="the inputs overflow float64"),
    bad(make_attribute_data, seed=1.5, error=TypeError, match="seed must be an integer"),
    bad(make_attribute_data, seed=True, error=TypeError, match="seed must be an integer"),
    bad(make_attribute_data, seed=-1, error=ValueError, match="seed must lie in 0"),
    bad(make_attribute_data, n_per_class=10**6, n_features=10**6, error=ValueError, match="more than the"),
]  # fmt: skip

test_bad_input_raises_a_clear_error = bad_input_test(BAD_INPUT)

HOSTILE = [
    hostile(cosine_scores, embeddings=[[1.0, 0.0]], class_embeddings=[[1.0, 0.0], [0.0, 1.0]]),
    hostile(zero_shot_predict, embeddings=[[1.0, 0.0]], class_embeddings=[[1.0, 0.0], [0.0, 1.0]]),
    hostile(per_class_accuracy, y_true=[0, 1, 1], y_pred=[0, 1, 0], classes=[0, 1]),
    hostile(harmonic_mean, acc_seen=0.5, acc_unseen=0.25),
    hostile(calibrated_stacking, scores=SCORES, seen_mask=[True, False], gamma=0.1),
    hostile(seen_unseen_curve, scores=SCORES, labels=[0, 1], seen_mask=[True, False]),
    hostile(ausuc, scores=SCORES, labels=[0, 1], seen_mask=[True, False]),
    hostile(SeenUnseenCurve, thresholds=[0.5], acc_seen=[1.0, 0.0], acc_unseen=[0.0, 1.0],
            area=0.5),
    hostile(AttributeData, x=[[1.0], [2.0]], y=[0, 1], signatures=[[1.0], [-1.0]],
            seen=[True, False], train=[True, False]),
    hostile(ridge_fit, x=[[0.0], [1.0], [2.0]], targets=[[1.0], [3.0], [5.0]], alpha=1.0),
    hostile(make_attribute_data, seed=0, n_classes=3, n_unseen=1, n_attributes=2, n_features=2,
            n_per_class=2, class_noise=1.0, noise=1.0),
]  # fmt: skip

test_hostile_input = hostile_input_test(HOSTILE)
