"""Transfer learning in PyTorch: freezing, heads, per-group learning rates, linear probes, LoRA.

This module is the reference implementation behind the page :doc:`/concepts/transfer-learning`.
The page separates the regimes of reusing a pre-trained network on a new (target) task:

* *linear probing* (feature extraction): the pre-trained backbone is frozen and only a new
  linear head is trained; :func:`freeze` freezes parameters *and* BatchNorm's running
  statistics, and :func:`linear_probe` fits the head as a multinomial logistic regression;
* *fine-tuning*: the pre-trained weights are updated too, usually with a smaller learning rate
  than the new head; :func:`parameter_groups` builds the optimizer's per-group learning rates;
* *parameter-efficient fine-tuning*: :func:`lora_merge` folds a LoRA update into its frozen
  weight and :func:`lora_parameter_count` counts what LoRA trains;
* :func:`replace_head` swaps the task-specific last layer and :func:`count_parameters` counts
  what will be trained.

The page's toy tasks, network and training runs are in :mod:`conceptref.demos.transfer`.

``tests/test_transfer.py`` checks :func:`linear_probe` against scikit-learn's
``LogisticRegression`` (same objective: L2 penalty on the weights with strength ``1 / C``, the
intercept not penalized), :func:`lora_merge` and :func:`lora_parameter_count` against peft's
``merge_and_unload`` and trainable parameters, :func:`count_parameters` and
:func:`parameter_groups` against what PyTorch's optimizers actually update, and :func:`freeze`
against BatchNorm's running statistics in train mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from conceptref._validation import (
    Interval,
    as_numpy,
    check_array,
    check_bool,
    check_dims_agree,
    check_int,
    check_labels,
    check_module,
    check_real,
    check_size,
)

__all__ = [
    "LinearProbe",
    "count_parameters",
    "freeze",
    "linear_probe",
    "lora_merge",
    "lora_parameter_count",
    "parameter_groups",
    "replace_head",
    "unfreeze",
]

_BATCHNORM = nn.modules.batchnorm._BatchNorm
_HOOK = "_conceptref_frozen_statistics"


def freeze(module: nn.Module, *, batchnorm_statistics: bool = True) -> nn.Module:
    """Stop training a module: no gradients for its parameters, fixed BatchNorm statistics.

    ``requires_grad = False`` alone stops the optimizer from changing the *parameters*, but a
    BatchNorm layer in train mode still normalizes with the statistics of the current batch and
    still overwrites its ``running_mean`` and ``running_var`` on every forward pass: the
    "frozen" backbone changes anyway. With ``batchnorm_statistics=True`` (the default) every
    BatchNorm layer inside ``module`` is kept in eval mode, even after a later
    ``model.train()``, so it normalizes with its stored statistics and never updates them.
    :func:`unfreeze` undoes both.

    Parameters
    ----------
    module
        The module to freeze, in place (for example a pre-trained backbone).
    batchnorm_statistics
        Also fix the running statistics of the BatchNorm layers (default ``True``).

    Returns
    -------
    torch.nn.Module
        ``module`` itself.

    Raises
    ------
    TypeError
        If ``module`` is not a ``torch.nn.Module`` or ``batchnorm_statistics`` not a bool.

    Examples
    --------
    >>> import torch
    >>> from conceptref.transfer import freeze
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    >>> _ = freeze(net).train()          # train mode for the model around it
    >>> _ = net(torch.randn(8, 3))
    >>> net[1].running_mean.abs().max().item()   # the statistics did not move
    0.0
    """
    check_module(module, "module")
    check_bool(batchnorm_statistics, "batchnorm_statistics")
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    if batchnorm_statistics:
        for layer in module.modules():
            if isinstance(layer, _BATCHNORM) and not hasattr(layer, _HOOK):
                layer.eval()
                handle = layer.register_forward_pre_hook(_stay_in_eval)
                setattr(layer, _HOOK, handle)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Undo :func:`freeze`: parameters get gradients, BatchNorm follows ``train()`` again.

    BatchNorm layers that :func:`freeze` kept in eval mode are released and take the mode of
    ``module`` (call ``module.train()`` to update their statistics again).

    Parameters
    ----------
    module
        The module to unfreeze, in place.

    Returns
    -------
    torch.nn.Module
        ``module`` itself.

    Raises
    ------
    TypeError
        If ``module`` is not a ``torch.nn.Module``.

    Examples
    --------
    >>> import torch
    >>> from conceptref.transfer import count_parameters, freeze, unfreeze
    >>> net = torch.nn.Linear(3, 2)
    >>> count_parameters(freeze(net)), count_parameters(unfreeze(net))
    (0, 8)
    """
    check_module(module, "module")
    for parameter in module.parameters():
        parameter.requires_grad_(True)
    for layer in module.modules():
        handle = getattr(layer, _HOOK, None)
        if handle is not None:
            handle.remove()
            delattr(layer, _HOOK)
            layer.train(module.training)
    return module


def _stay_in_eval(layer: nn.Module, inputs: Any) -> None:
    layer.training = False


def count_parameters(module: nn.Module, *, trainable: bool = True) -> int:
    """Count the scalar parameters of a module (each shared tensor once).

    Parameters
    ----------
    module
        Any ``torch.nn.Module``.
    trainable
        Count only the parameters with ``requires_grad`` (default), or all of them.

    Returns
    -------
    int
        The number of scalars.

    Raises
    ------
    TypeError
        If ``module`` is not a ``torch.nn.Module`` or ``trainable`` not a bool.

    Examples
    --------
    >>> import torch
    >>> from conceptref.transfer import count_parameters
    >>> count_parameters(torch.nn.Linear(10, 3))   # 10 * 3 weights + 3 biases
    33
    """
    check_module(module, "module")
    trainable = check_bool(trainable, "trainable")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable)


def replace_head(model: nn.Module, name: str, head: nn.Module | int) -> nn.Module:
    """Replace the submodule called ``name`` (the task head) and return the old one.

    Parameters
    ----------
    model
        The network, changed in place.
    name
        Dotted name of the submodule, as in ``model.named_modules()`` (``"fc"``, ``"2"``,
        ``"classifier.1"``).
    head
        The new module, or a number of outputs: then a new ``torch.nn.Linear`` with the old
        head's ``in_features``, dtype and device (the old head must be a ``Linear``).

    Returns
    -------
    torch.nn.Module
        The module that was replaced.

    Raises
    ------
    TypeError
        If ``model`` or ``head`` has the wrong type, or ``head`` is an integer but the old head
        is not a ``Linear``.
    ValueError
        If ``model`` has no submodule ``name``, or ``head`` is an integer below 1 or so large
        that the new layer would hold more than 2**26 weights.

    Examples
    --------
    >>> import torch
    >>> from conceptref.transfer import replace_head
    >>> net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
    >>> replace_head(net, "2", 3)
    Linear(in_features=8, out_features=10, bias=True)
    >>> net[2]
    Linear(in_features=8, out_features=3, bias=True)
    """
    check_module(model, "model")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not name:
        raise ValueError("name must be the non-empty dotted name of a submodule of model")
    modules = dict(model.named_modules())
    if name not in modules:
        raise ValueError(f"model has no submodule named {name!r}")
    old = modules[name]
    if isinstance(head, bool) or not isinstance(head, nn.Module | int):
        raise TypeError(f"head must be a torch.nn.Module or an int, got {type(head).__name__}")
    if not isinstance(head, nn.Module):
        outputs = check_int(head, "head", Interval(1, None))
        if not isinstance(old, nn.Linear):
            raise TypeError(
                f"head can be a number of outputs only when the old head is a Linear, got "
                f"{type(old).__name__}"
            )
        check_size([("head", outputs), ("in_features", old.in_features)], limit=2**26,
                   what="weights")  # fmt: skip
        head = nn.Linear(
            old.in_features,
            outputs,
            bias=old.bias is not None,
            dtype=old.weight.dtype,
            device=old.weight.device,
        )
    parent_name, _, child = name.rpartition(".")
    parent = modules[parent_name]
    setattr(parent, child, head)
    replaced: nn.Module = old
    return replaced


def parameter_groups(model: nn.Module, learning_rates: Mapping[str, float]) -> list[dict[str, Any]]:
    """Optimizer parameter groups with one learning rate per part of a model.

    Each key of ``learning_rates`` is a prefix of parameter names (a submodule's dotted name);
    a parameter goes to the longest key that is a prefix of its name at a dot boundary, and the
    empty key ``""`` matches every parameter (the default). Parameters with
    ``requires_grad = False`` are left out, so a frozen backbone adds nothing; empty groups are
    dropped. Fine-tuning usually gives the pre-trained backbone a smaller learning rate than the
    new head; the ``discriminative fine-tuning`` of Howard and Ruder (2018) lowers it layer by
    layer.

    Parameters
    ----------
    model
        The network.
    learning_rates
        Mapping from name prefix to learning rate (a finite number of at least 0).

    Returns
    -------
    list of dict
        ``[{"params": [...], "lr": ..., "name": prefix}, ...]`` in the order of the keys, ready
        for any ``torch.optim`` optimizer.

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``learning_rates`` not a mapping with string keys, or a
        rate not a real number.
    ValueError
        If a key names no submodule, a rate is negative or not finite, or a trainable parameter
        matches no key.

    Examples
    --------
    >>> import torch
    >>> from conceptref.transfer import parameter_groups
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> groups = parameter_groups(net, {"": 1e-4, "2": 1e-2})   # backbone, head
    >>> [(g["name"], g["lr"], len(g["params"])) for g in groups]
    [('', 0.0001, 2), ('2', 0.01, 2)]
    >>> optimizer = torch.optim.SGD(groups)
    """
    check_module(model, "model")
    if not isinstance(learning_rates, Mapping):
        raise TypeError("learning_rates must be a mapping from name prefix to learning rate")
    names = set(dict(model.named_modules()))
    rates: dict[str, float] = {}
    for prefix, rate in learning_rates.items():
        if not isinstance(prefix, str):
            raise TypeError(f"learning_rates keys must be strings, got {prefix!r}")
        if prefix not in names:
            raise ValueError(f"learning_rates key {prefix!r} names no submodule of model")
        rates[prefix] = check_real(rate, f"learning_rates[{prefix!r}]", Interval(0, None))
    members: dict[str, list[nn.Parameter]] = {prefix: [] for prefix in rates}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        matches = [p for p in rates if p == "" or name == p or name.startswith(p + ".")]
        if not matches:
            raise ValueError(f"trainable parameter {name!r} matches no key of learning_rates")
        members[max(matches, key=len)].append(parameter)
    return [
        {"params": members[prefix], "lr": rate, "name": prefix}
        for prefix, rate in rates.items()
        if members[prefix]
    ]


@dataclass(frozen=True)
class LinearProbe:
    """A fitted linear probe (logistic regression on fixed features), from :func:`linear_probe`.

    With two classes it holds one weight vector (the logit of the second class), as
    scikit-learn's binary ``LogisticRegression`` does; with more, one row per class. The
    arrays are the probe's own (never views of the caller's input).
    """

    classes: npt.NDArray[np.generic]
    """The sorted class labels, shape ``(k,)``."""

    coef: npt.NDArray[np.float64]
    """Weights, shape ``(1, d)`` for two classes, ``(k, d)`` otherwise."""

    intercept: npt.NDArray[np.float64]
    """Intercepts, shape ``(1,)`` or ``(k,)``."""

    n_iter: int = 0
    """Number of L-BFGS iterations taken."""

    converged: bool = True
    """Whether the gradient fell below ``tol`` (or the objective stopped decreasing at rounding
    level) within ``max_iter`` iterations."""

    def __post_init__(self) -> None:
        classes = check_labels(self.classes, "classes").copy()
        coef = check_array(self.coef, "coef", ndim=2, axes="(k, d)", non_empty=True).copy()
        intercept = check_array(self.intercept, "intercept", ndim=1, axes="(k,)").copy()
        if len(classes) < 2 or len(np.unique(classes)) != len(classes):
            raise ValueError("classes must hold at least two distinct labels")
        rows = 1 if len(classes) == 2 else len(classes)
        if coef.ndim != 2 or coef.shape[0] != rows or intercept.shape != (rows,):
            raise ValueError(
                f"coef and intercept must have shapes ({rows}, d) and ({rows},) for "
                f"{len(classes)} classes, got {coef.shape} and {intercept.shape}"
            )
        check_int(self.n_iter, "n_iter", Interval(0, None))
        check_bool(self.converged, "converged")
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "intercept", intercept)

    def decision_function(self, features: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the logits, shape ``(n, 1)`` for two classes, ``(n, k)`` otherwise."""
        x = _as_features(features, "features")
        if x.shape[1] != self.coef.shape[1]:
            raise ValueError(
                f"features must have {self.coef.shape[1]} columns, got shape {x.shape}"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            logits: npt.NDArray[np.float64] = x @ self.coef.T + self.intercept
        if not np.isfinite(logits).all():
            raise ValueError("features are too large: the probe's logits overflow float64")
        return logits

    def predict_proba(self, features: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return class probabilities, shape ``(n, k)``, columns in the order of ``classes``."""
        logits = self.decision_function(features)  # (n, 1) or (n, k)
        if len(self.classes) == 2:
            logits = np.hstack([np.zeros_like(logits), logits])  # binary: [0, z]
        logits = logits - logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        proba: npt.NDArray[np.float64] = weights / weights.sum(axis=1, keepdims=True)
        return proba

    def predict(self, features: npt.ArrayLike) -> npt.NDArray[np.generic]:
        """Return the most probable class of each row, shape ``(n,)``."""
        chosen: npt.NDArray[np.generic] = self.classes[
            np.argmax(self.predict_proba(features), axis=1)
        ]
        return chosen


def linear_probe(
    features: npt.ArrayLike | torch.Tensor,
    labels: npt.ArrayLike,
    *,
    C: float = 1.0,
    max_iter: int = 1000,
    tol: float = 1e-8,
) -> LinearProbe:
    r"""Fit a logistic-regression head on fixed features, as scikit-learn does.

    .. math:: \min_{W, b}\ \frac{1}{n}\sum_{i=1}^{n} \ell(W x_i + b,\ y_i)
              + \frac{1}{2Cn} \lVert W \rVert_F^2,

    with :math:`\ell` the softmax cross-entropy (for two classes, the logistic loss of a single
    logit :math:`w^\top x + b`), the intercept :math:`b` not penalized. This is the objective
    of scikit-learn's ``LogisticRegression(C=C)`` (its sum of losses plus
    :math:`\lVert W \rVert^2 / (2C)`, divided by :math:`n`), strictly convex in :math:`W`, so
    both find the same minimum. It is minimized here in float64 by L-BFGS (the quasi-Newton
    method scikit-learn's default solver uses, written out in NumPy: the last 10 steps and
    gradient changes stand in for the Hessian, and the features are read by blocks, so memory
    beyond the features is :math:`O(kd)`), from zero, until the largest gradient entry is below
    ``tol`` or the objective stops decreasing at rounding level.

    Parameters
    ----------
    features
        Features of shape ``(n, d)``, for example a frozen backbone's outputs (array-like or a
        tensor, detached and read as float64).
    labels
        Class labels of shape ``(n,)``: integers or strings, at least two classes.
    C
        Inverse regularization strength, a finite number greater than 0.
    max_iter
        Maximum number of L-BFGS iterations (at least 1); :attr:`LinearProbe.converged` says
        whether ``tol`` was reached.
    tol
        Stop when the largest absolute entry of the gradient of the objective is at most
        ``tol`` (a finite number of at least 0).

    Returns
    -------
    LinearProbe
        The classes, weights and intercepts, with ``predict_proba`` and ``predict``.

    Raises
    ------
    TypeError
        If ``features`` is not numeric, ``labels`` holds no integers or strings, or ``C``,
        ``max_iter`` or ``tol`` has the wrong type.
    ValueError
        If ``features`` is not a finite non-empty matrix or too large for its logits to be
        computed in float64, ``labels`` is not one-dimensional or has another length or a
        single class, or ``C``, ``max_iter`` or ``tol`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.transfer import linear_probe
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> probe = linear_probe(x, [0, 0, 1, 1], C=1.0)
    >>> probe.predict(x).tolist()
    [0, 0, 1, 1]
    >>> np.round(probe.predict_proba([[1.5]]), 4).tolist()   # the midpoint: 50/50
    [[0.5, 0.5]]
    """
    x = _as_features(features, "features")
    y = np.asarray(as_numpy(labels))
    if y.dtype.kind not in "iuU":
        raise TypeError(f"labels must hold integers or strings, got dtype {y.dtype}")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"labels must have shape ({len(x)},), one per row of features, got shape {y.shape}"
        )
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("labels must hold at least two classes")
    penalty = 1.0 / check_real(C, "C", Interval(0, None, "neither"))
    iterations = check_int(max_iter, "max_iter", Interval(1, None))
    tolerance = check_real(tol, "tol", Interval(0, None))
    if not np.isfinite(penalty):
        raise ValueError(f"C must be at least 1e-300 (1 / C overflows float64), got {C}")
    k = 1 if len(classes) == 2 else len(classes)
    theta, n_iter, converged = _lbfgs_logistic(
        x, codes.reshape(-1), k, penalty, iterations, tolerance
    )
    return LinearProbe(
        classes=classes,
        coef=theta[:, :-1],
        intercept=theta[:, -1],
        n_iter=n_iter,
        converged=converged,
    )


_HISTORY = 10  # L-BFGS memory: the number of (step, gradient change) pairs kept


def _lbfgs_logistic(
    x: npt.NDArray[np.float64],
    codes: npt.NDArray[np.intp],
    k: int,
    penalty: float,
    max_iter: int,
    tol: float,
) -> tuple[npt.NDArray[np.float64], int, bool]:
    """Minimize the probe's objective by L-BFGS with a backtracking (Armijo) line search.

    ``theta`` is ``(k, d + 1)``, the last column the intercepts. Returns it, the number of
    iterations and whether the gradient reached ``tol``. The search runs over ``u = W * s``,
    ``s`` from each feature column's mean square and the penalty (:func:`_column_scales`): a
    diagonal preconditioner, so that features of very different magnitudes converge alike,
    applied to the weights rather than to a scaled copy of the features.
    """
    n, d = x.shape
    lam = penalty / n
    block = max(1, 2**18 // max(d, 1))  # rows per block: about 2 MiB of features
    scale = _column_scales(x, block, lam)  # (d,)
    inverse = 1.0 / scale

    def evaluate(u: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        """Return the objective at ``u`` and its gradient, in one pass over the features.

        The features are read block by block, each block once for its logits and again, while
        still in cache, for its share of the gradient, so that the large features come from
        memory once per evaluation (the gradient at a rejected trial point is wasted, but the
        first trial of L-BFGS is almost always accepted).
        """
        weights = u[:, :d] * inverse  # (k, d)
        intercepts = u[:, d]
        total_loss = 0.0
        grad_w = np.zeros((k, d))
        grad_b = np.zeros(k)
        with np.errstate(over="ignore", invalid="ignore"):
            for first in range(0, n, block):
                xb = x[first : first + block]
                logits = xb @ weights.T + intercepts  # (b, k)
                codes_b = codes[first : first + block]
                if k == 1:
                    z = logits[:, 0]
                    target = codes_b.astype(np.float64)
                    total_loss += float(np.sum(np.logaddexp(0.0, z) - target * z))
                    residual = (0.5 * (1.0 + np.tanh(0.5 * z)) - target)[:, None]
                else:
                    rows = np.arange(len(xb))
                    top = logits.max(axis=1, keepdims=True)
                    shifted = np.exp(logits - top)
                    total = shifted.sum(axis=1)
                    total_loss += float(np.sum(top[:, 0] + np.log(total) - logits[rows, codes_b]))
                    residual = shifted / total[:, None]
                    residual[rows, codes_b] -= 1.0
                grad_w += residual.T @ xb
                grad_b += residual.sum(axis=0)
            value = total_loss / n + 0.5 * lam * float(np.sum(weights**2))
        grad = np.empty_like(u)
        grad[:, :d] = (grad_w / n + lam * weights) * inverse
        grad[:, d] = grad_b / n
        if not (math.isfinite(value) and np.isfinite(grad).all()):
            value = math.inf  # a step too far for float64: the line search backs off
        return value, grad

    def largest(grad: npt.NDArray[np.float64]) -> float:
        """Return the largest entry of the gradient with respect to ``(W, b)`` themselves."""
        return max(float(np.abs(grad[:, :d] * scale).max()), float(np.abs(grad[:, d]).max()))

    theta = np.zeros((k, d + 1))
    value, grad = evaluate(theta)
    steps: list[npt.NDArray[np.float64]] = []
    changes: list[npt.NDArray[np.float64]] = []
    curvatures: list[float] = []
    for iteration in range(1, max_iter + 1):
        if largest(grad) <= tol:
            return _unscaled(theta, inverse), iteration - 1, True
        # Two-loop recursion: direction = -H grad with H the L-BFGS inverse-Hessian estimate.
        direction = -grad
        alphas = []
        for s, yv, rho in zip(
            reversed(steps), reversed(changes), reversed(curvatures), strict=True
        ):
            a = rho * float(np.vdot(s, direction))
            direction = direction - a * yv
            alphas.append(a)
        if steps:
            s, yv = steps[-1], changes[-1]
            direction = direction * (float(np.vdot(s, yv)) / float(np.vdot(yv, yv)))
        else:  # first step: a gradient step of length at most 1
            direction = direction / max(1.0, float(np.abs(grad).max()))
        for s, yv, rho, a in zip(steps, changes, curvatures, reversed(alphas), strict=True):
            b = rho * float(np.vdot(yv, direction))
            direction = direction + (a - b) * s
        slope = float(np.vdot(grad, direction))
        if slope >= 0:  # not a descent direction (rounding): restart from the gradient
            steps.clear()
            changes.clear()
            curvatures.clear()
            direction = -grad / max(1.0, float(np.abs(grad).max()))
            slope = float(np.vdot(grad, direction))
        t = 1.0
        while True:
            candidate = theta + t * direction
            new_value, new_grad = evaluate(candidate)
            if new_value <= value + 1e-4 * t * slope:
                break
            if t < 1e-12:  # no decrease along the direction at this precision: stop here
                converged = bool(np.abs(grad).max() <= max(tol, 1e-6))
                return _unscaled(theta, inverse), iteration, converged
            t *= 0.5
        s, yv = candidate - theta, new_grad - grad
        sy = float(np.vdot(s, yv))
        if sy > 1e-12 * float(np.vdot(yv, yv)):  # keep only pairs with positive curvature
            steps.append(s)
            changes.append(yv)
            curvatures.append(1.0 / sy)
            if len(steps) > _HISTORY:
                del steps[0], changes[0], curvatures[0]
        stalled = value - new_value <= 64 * np.finfo(float).eps * max(abs(value), 1.0)
        theta, value, grad = candidate, new_value, new_grad
        if stalled and np.abs(grad).max() <= max(tol, 1e-6):
            return _unscaled(theta, inverse), iteration, True  # rounding level: cannot go lower
    return _unscaled(theta, inverse), max_iter, largest(grad) <= tol


def _column_scales(x: npt.NDArray[np.float64], block: int, lam: float) -> npt.NDArray[np.float64]:
    """Return the preconditioner's scales ``s_j = sqrt(mean(x_j**2) + 4 lam)``, overflow-free.

    The curvature of the objective along a weight ``W_j`` is at most about
    ``mean(x_j**2) / 4 + lam`` (a logistic curvature of at most 1/4, plus the penalty); with
    ``W = u / s`` every ``u_j`` has a curvature of about 1/4, as the intercepts do.
    """
    n, d = x.shape
    largest = np.zeros(d)
    for first in range(0, n, block):  # by blocks: no temporary the size of the features
        np.maximum(largest, np.abs(x[first : first + block]).max(axis=0), out=largest)
    largest[largest == 0] = 1.0
    squares = np.zeros(d)
    for first in range(0, n, block):
        squares += np.sum((x[first : first + block] / largest) ** 2, axis=0)
    rms = largest * np.sqrt(squares / n)
    scales: npt.NDArray[np.float64] = np.maximum(np.hypot(rms, 2.0 * math.sqrt(lam)), 1e-100)
    return scales


def _unscaled(
    u: npt.NDArray[np.float64], inverse: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Return ``(W, b)`` from the preconditioned ``(W * s, b)``."""
    theta = u.copy()
    theta[:, :-1] *= inverse
    return theta


def lora_merge(
    weight: npt.ArrayLike | torch.Tensor,
    lora_a: npt.ArrayLike | torch.Tensor,
    lora_b: npt.ArrayLike | torch.Tensor,
    *,
    alpha: float,
) -> npt.NDArray[np.float64]:
    r"""Merge a LoRA update into its frozen weight: :math:`W + \frac{\alpha}{r} B A`.

    LoRA (Hu et al., 2022, "LoRA: Low-rank adaptation of large language models", ICLR) keeps a
    pre-trained weight :math:`W` (``(out, in)``) frozen and trains a low-rank update
    :math:`\Delta W = \frac{\alpha}{r} B A` with :math:`A` of shape ``(r, in)`` and :math:`B`
    of shape ``(out, r)``; :math:`B` starts at zero, so training starts from the pre-trained
    layer. After training the update is added to :math:`W` once, and the layer runs at the cost
    of the original: this is what peft's ``merge_and_unload`` does to a ``torch.nn.Linear``
    (with its default scaling ``lora_alpha / r``).

    Parameters
    ----------
    weight
        The frozen weight :math:`W`, shape ``(out, in)`` (as ``torch.nn.Linear.weight``).
    lora_a
        The factor :math:`A`, shape ``(r, in)``, :math:`r \ge 1`.
    lora_b
        The factor :math:`B`, shape ``(out, r)``.
    alpha
        The scale :math:`\alpha` (peft's ``lora_alpha``), a finite number.

    Returns
    -------
    numpy.ndarray
        The merged weight, float64, shape ``(out, in)`` (a new array).

    Raises
    ------
    TypeError
        If an argument is not real (or ``alpha`` not a number).
    ValueError
        If an array is not a finite non-empty matrix, the shapes do not agree, or the merged
        weight overflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.transfer import lora_merge
    >>> w = np.zeros((2, 3))
    >>> a = np.array([[1.0, 0.0, 2.0]])      # r = 1
    >>> b = np.array([[1.0], [-1.0]])
    >>> lora_merge(w, a, b, alpha=2.0).tolist()
    [[2.0, 0.0, 4.0], [-2.0, 0.0, -4.0]]
    """
    w = check_array(weight, "weight", ndim=2, axes="(out, in)", non_empty=True)
    a = check_array(lora_a, "lora_a", ndim=2, axes="(r, in)", non_empty=True)
    b = check_array(lora_b, "lora_b", ndim=2, axes="(out, r)", non_empty=True)
    scale = check_real(alpha, "alpha")
    check_dims_agree([("weight.shape[1]", w.shape[1]), ("lora_a.shape[1]", a.shape[1])],
                     what="in features")  # fmt: skip
    check_dims_agree([("weight.shape[0]", w.shape[0]), ("lora_b.shape[0]", b.shape[0])],
                     what="out features")  # fmt: skip
    rank = check_dims_agree(
        [("lora_a.shape[0]", a.shape[0]), ("lora_b.shape[1]", b.shape[1])], what="the rank r"
    )
    factor = scale / rank
    with np.errstate(over="ignore", invalid="ignore"):
        # Scale the smaller factor first, so that a small alpha / r cannot let B A overflow.
        delta = (b * factor) @ a if abs(factor) <= 1 else factor * (b @ a)
        merged: npt.NDArray[np.float64] = w + delta
    if not np.isfinite(merged).all():
        raise ValueError(
            "weight + alpha / r * lora_b @ lora_a overflows float64: the inputs are too large"
        )
    return merged


def lora_parameter_count(in_features: int, out_features: int, rank: int) -> int:
    r"""Count the trainable parameters LoRA adds to one linear layer: :math:`r(\text{in} + \text{out})`.

    :math:`A` has :math:`r \cdot \text{in}` entries and :math:`B` has
    :math:`\text{out} \cdot r`, against :math:`\text{in} \cdot \text{out}` in the full
    weight: for a 4096-by-4096 projection and :math:`r = 8`, 65,536 instead of 16,777,216.

    Parameters
    ----------
    in_features, out_features
        The layer's sizes (``torch.nn.Linear(in_features, out_features)``), each at least 1.
    rank
        The rank :math:`r`, at least 1.

    Returns
    -------
    int
        :math:`r(\text{in} + \text{out})`.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below 1.

    Examples
    --------
    >>> from conceptref.transfer import lora_parameter_count
    >>> lora_parameter_count(4096, 4096, 8), 4096 * 4096
    (65536, 16777216)
    """
    n_in = check_int(in_features, "in_features", Interval(1, None))
    n_out = check_int(out_features, "out_features", Interval(1, None))
    r = check_int(rank, "rank", Interval(1, None))
    return r * (n_in + n_out)


def _as_features(value: object, name: str) -> npt.NDArray[np.float64]:
    return check_array(value, name, ndim=2, axes="(n, d)", non_empty=True)
