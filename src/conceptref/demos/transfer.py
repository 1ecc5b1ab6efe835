"""Transfer learning at work: seeded toy tasks, a small classifier, its training and LoRA.

The page :doc:`/concepts/transfer-learning` runs these; the formulas it quotes (freezing,
heads, parameter groups, the linear probe, LoRA's merge) live in :mod:`conceptref.transfer`.

* :func:`make_transfer_tasks`: a source task, an unrelated source task and a target task that
  share (or do not share) hidden features;
* :func:`make_classifier` and :func:`with_new_head`: the page's small network, initialized
  from a ``seed``, and a copy of a pre-trained one with a new seeded head;
* :func:`train_classifier` (full-batch Adam, one learning rate per part) and :func:`accuracy`;
  :func:`probe_accuracy` scores a linear probe on a frozen backbone;
* :class:`LoRALinear`, :func:`add_lora` and :func:`merge_lora`: low-rank adaptation of the
  backbone's linear layers, and the merge back into plain ``Linear`` layers.

Every function that draws takes a keyword ``seed`` and leaves the caller's global random state
unchanged; training steps with :class:`conceptref.regularization.Adam` and stops with
``training diverged at step N`` on a non-finite loss or parameter.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from conceptref._random import numpy_rng, seeded
from conceptref._validation import (
    Interval,
    check_array,
    check_int,
    check_int_array,
    check_module,
    check_real,
    check_seed,
    check_size,
)
from conceptref.demos._training import check_finite_step
from conceptref.regularization import Adam
from conceptref.transfer import (
    freeze,
    linear_probe,
    lora_merge,
    parameter_groups,
    replace_head,
)

_MAX_STEPS = 100_000  # a toy run never needs more; a typo like 10**9 would run for days

__all__ = [
    "LoRALinear",
    "TransferTasks",
    "accuracy",
    "add_lora",
    "make_classifier",
    "make_transfer_tasks",
    "merge_lora",
    "probe_accuracy",
    "train_classifier",
    "with_new_head",
]


@dataclass(frozen=True)
class TransferTasks:
    """A synthetic source task, an unrelated one, and a target task.

    Made by :func:`make_transfer_tasks`; every input is float32 of shape ``(n, d)`` and every
    label array int64 of shape ``(n,)``.
    """

    x_source: npt.NDArray[np.float32]
    """Inputs of the source tasks."""
    y_source: npt.NDArray[np.int64]
    """Labels of the related source task (computed from the same hidden features as the
    target)."""
    y_unrelated: npt.NDArray[np.int64]
    """Labels of the unrelated source task (computed from other hidden features)."""
    x_target: npt.NDArray[np.float32]
    """Pool of labelled target inputs; take the first ``n`` as the few target labels."""
    y_target: npt.NDArray[np.int64]
    """Their labels."""
    x_test: npt.NDArray[np.float32]
    """Target test inputs."""
    y_test: npt.NDArray[np.int64]
    """Their labels."""

    def __post_init__(self) -> None:
        for x_name, y_names in (
            ("x_source", ("y_source", "y_unrelated")),
            ("x_target", ("y_target",)),
            ("x_test", ("y_test",)),
        ):
            x = _as_features(getattr(self, x_name), x_name).astype(np.float32)
            object.__setattr__(self, x_name, x)
            for y_name in y_names:
                object.__setattr__(self, y_name, _as_targets(getattr(self, y_name), y_name, len(x)))


def make_transfer_tasks(
    *,
    seed: int = 0,
    n_features: int = 10,
    n_hidden: int = 6,
    n_source: int = 1000,
    n_target: int = 500,
    n_test: int = 2000,
) -> TransferTasks:
    r"""Make seeded source and target tasks that share (or do not share) hidden features.

    Inputs are standard normal, :math:`x \in \mathbb R^d`. The hidden features are
    :math:`h = |A^\top x|` (:math:`A` a random :math:`d \times m` matrix), centred; a task's
    label is :math:`\arg\max_c (B^\top h)_c` for its own random readout :math:`B`. The related
    source task (8 classes) and the target task (4 classes) read the *same* :math:`h` through
    different :math:`B`; the unrelated source task (8 classes) reads features
    :math:`|A'^\top x|` of another random :math:`A'`. Learning :math:`h` needs many labels, reading
    it out needs few: the situation where pre-training on the source task pays.

    Parameters
    ----------
    seed
        Seed of the NumPy generator (a non-negative integer).
    n_features, n_hidden
        Input dimension :math:`d` and number of hidden features :math:`m`.
    n_source, n_target, n_test
        Number of source samples, of target samples in the labelled pool, and of test samples.

    Returns
    -------
    TransferTasks
        The inputs and labels of every task.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below its minimum (0 for the seed, 1 otherwise), or the inputs would
        be too large to allocate.

    Examples
    --------
    >>> from conceptref.demos.transfer import make_transfer_tasks
    >>> tasks = make_transfer_tasks(seed=0)
    >>> tasks.x_source.shape, sorted(set(tasks.y_target.tolist()))
    ((1000, 10), [0, 1, 2, 3])
    """
    rng = numpy_rng(seed)
    d = check_int(n_features, "n_features", Interval(1, None))
    m = check_int(n_hidden, "n_hidden", Interval(1, None))
    sizes = [
        check_int(value, name, Interval(1, None))
        for value, name in ((n_source, "n_source"), (n_target, "n_target"), (n_test, "n_test"))
    ]
    check_size([("n_features", d), ("n_hidden", m)], limit=2**24)
    for size, name in zip(sizes, ("n_source", "n_target", "n_test"), strict=True):
        check_size([(name, size), ("n_features + n_hidden", d + m)], limit=2**27)
    scale = 2.0 / math.sqrt(d)
    a_shared, a_other = scale * rng.standard_normal((2, d, m))  # (d, m) each
    b_source, b_other = rng.standard_normal((2, m, 8))  # (m, 8) each
    b_target = rng.standard_normal((m, 4))  # (m, 4)
    x_source, x_target, x_test = (rng.standard_normal((size, d)) for size in sizes)

    labels = _readout_labels
    return TransferTasks(
        x_source=x_source.astype(np.float32),
        y_source=labels(x_source, a_shared, b_source).astype(np.int64),
        y_unrelated=labels(x_source, a_other, b_other).astype(np.int64),
        x_target=x_target.astype(np.float32),
        y_target=labels(x_target, a_shared, b_target).astype(np.int64),
        x_test=x_test.astype(np.float32),
        y_test=labels(x_test, a_shared, b_target).astype(np.int64),
    )


def make_classifier(
    n_classes: int, *, seed: int = 0, n_features: int = 10, width: int = 32
) -> nn.Sequential:
    """Build the page's network: a backbone (two ReLU layers) followed by a linear head.

    ``nn.Sequential(backbone, head)`` with ``backbone = Linear(n_features, width), ReLU,
    Linear(width, width), ReLU`` and ``head = Linear(width, n_classes)``, initialized as
    PyTorch does from ``seed`` (the caller's global random state is left as it was).

    Parameters
    ----------
    n_classes
        Number of outputs of the head (at least 1).
    seed
        Seed of the initialization (a non-negative integer).
    n_features, width
        Input size and width of the backbone (each at least 1).

    Returns
    -------
    torch.nn.Sequential
        The float32 network; ``model[0]`` is the backbone, ``model[1]`` the head.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is out of range or the network would be too large.

    Examples
    --------
    >>> from conceptref.demos.transfer import make_classifier
    >>> from conceptref.transfer import count_parameters
    >>> count_parameters(make_classifier(4, seed=0))   # (10+1)*32 + (32+1)*32 + (32+1)*4
    1540
    """
    k = check_int(n_classes, "n_classes", Interval(1, None))
    d = check_int(n_features, "n_features", Interval(1, None))
    w = check_int(width, "width", Interval(1, None))
    check_size([("width", w), ("n_features + width + n_classes", d + w + k)], limit=2**26)
    with seeded(seed):
        backbone = nn.Sequential(nn.Linear(d, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU())
        return nn.Sequential(backbone, nn.Linear(w, k))


def with_new_head(model: nn.Module, n_classes: int, *, seed: int = 0) -> nn.Module:
    """Copy a pre-trained :func:`make_classifier` network and give it a new seeded head.

    The copy's head ``model[1]`` (a ``Linear``) is replaced by a new ``Linear`` with
    ``n_classes`` outputs, initialized from ``seed``; ``model`` itself is not changed.

    Parameters
    ----------
    model
        A network whose submodule ``"1"`` is its linear head.
    n_classes
        Number of outputs of the new head (at least 1).
    seed
        Seed of the new head's initialization.

    Returns
    -------
    torch.nn.Module
        The copy, all of it trainable as it was in ``model``.

    Raises
    ------
    TypeError
        If ``model`` is not a module or its head not a ``Linear``, or ``n_classes`` not an
        integer.
    ValueError
        If ``model`` has no submodule ``"1"`` or ``n_classes`` is below 1.

    Examples
    --------
    >>> from conceptref.demos.transfer import make_classifier, with_new_head
    >>> with_new_head(make_classifier(8, seed=0), 4, seed=1)[1]
    Linear(in_features=32, out_features=4, bias=True)
    """
    check_module(model, "model")
    k = check_int(n_classes, "n_classes", Interval(1, None))
    tuned = copy.deepcopy(model)
    with seeded(seed):
        replace_head(tuned, "1", k)
    return tuned


def train_classifier(
    model: nn.Module,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    learning_rates: Mapping[str, float],
    *,
    steps: int = 200,
) -> nn.Module:
    """Train a classifier with Adam on the full batch, one learning rate per part.

    Cross-entropy on ``(x, y)``, ``steps`` full-batch steps of
    :class:`conceptref.regularization.Adam` (the update of :class:`torch.optim.Adam`), one
    optimizer per parameter group of :func:`conceptref.transfer.parameter_groups`; frozen
    parameters are not trained. Nothing is drawn at random, so no seed is needed. The model is
    left in train mode.

    Parameters
    ----------
    model
        A module mapping float32 inputs ``(n, d)`` to logits ``(n, k)``; trained in place.
    x
        Inputs, shape ``(n, d)``.
    y
        Integer labels in ``0 … k-1``, shape ``(n,)``.
    learning_rates
        As for :func:`conceptref.transfer.parameter_groups`, e.g. ``{"": 1e-2}``; a rate of 0
        leaves its group unchanged.
    steps
        Number of optimizer steps (1 to 100,000).

    Returns
    -------
    torch.nn.Module
        ``model`` itself.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``x`` or ``y`` has the wrong shape, a label is negative or not below the model's
        number of outputs, ``learning_rates`` or ``steps`` is invalid, or training diverges
        (``training diverged at step N``).

    Examples
    --------
    >>> import torch
    >>> from conceptref.demos.transfer import accuracy, train_classifier
    >>> net = torch.nn.Linear(1, 2)
    >>> x, y = [[-2.0], [-1.0], [1.0], [2.0]], [0, 0, 1, 1]
    >>> accuracy(train_classifier(net, x, y, {"": 0.1}, steps=50), x, y)
    1.0
    """
    groups = parameter_groups(model, learning_rates)
    n_steps = check_int(steps, "steps", Interval(1, _MAX_STEPS))
    inputs = torch.from_numpy(_as_features(x, "x").astype(np.float32))
    targets = torch.from_numpy(_as_targets(y, "y", len(inputs)))
    model.train()
    groups = [group for group in groups if group["lr"] > 0]
    if not groups:
        return model
    optimizers = [Adam(lr=group["lr"]) for group in groups]
    params: list[torch.Tensor] = [p for group in groups for p in group["params"]]
    # Adam is elementwise: each group steps as one flat vector (one array to check per step).
    for step in range(n_steps):
        loss = nn.functional.cross_entropy(_logits(model, inputs, targets), targets)
        value = float(loss.detach())
        check_finite_step(step, value, [])  # the parameters were checked after the last step
        grads = torch.autograd.grad(loss, params)
        start = 0
        for group, optimizer in zip(groups, optimizers, strict=True):
            members = group["params"]
            gradient = torch.cat([g.reshape(-1) for g in grads[start : start + len(members)]])
            start += len(members)
            weights = torch.cat([p.detach().reshape(-1) for p in members]).double().numpy()
            [new] = optimizer.step([weights], [gradient.double().numpy()])
            check_finite_step(step, value, [torch.from_numpy(new)])
            offset = 0
            with torch.no_grad():
                for p in members:
                    size = p.numel()
                    p.copy_(torch.from_numpy(new[offset : offset + size]).reshape(p.shape))
                    offset += size
    check_finite_step(n_steps - 1, value, params)  # float32 parameters may overflow
    return model


def accuracy(model: nn.Module, x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Fraction of inputs whose arg-max logit is the label (the model is evaluated in eval mode).

    Parameters
    ----------
    model
        A classifier mapping float32 inputs ``(n, d)`` to logits ``(n, k)``.
    x
        Inputs, shape ``(n, d)``.
    y
        Integer labels in ``0 … k-1``, shape ``(n,)``.

    Returns
    -------
    float
        The accuracy, in ``[0, 1]``, rounded to 4 decimals.

    Raises
    ------
    TypeError, ValueError
        As for :func:`train_classifier`, or if the model's outputs are not finite.

    Examples
    --------
    >>> import torch
    >>> from conceptref.demos.transfer import accuracy
    >>> net = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[-1.0], [1.0]])), net.bias.zero_()
    >>> accuracy(net, [[-1.0], [2.0], [3.0]], [0, 1, 0])
    0.6667
    """
    check_module(model, "model")
    inputs = torch.from_numpy(_as_features(x, "x").astype(np.float32))
    targets = torch.from_numpy(_as_targets(y, "y", len(inputs)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = _logits(model, inputs, targets)
    finally:
        model.train(was_training)
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("model gives non-finite logits on x")
    return round(float((logits.argmax(dim=1) == targets).double().mean()), 4)


def probe_accuracy(
    backbone: nn.Module,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    x_test: npt.ArrayLike,
    y_test: npt.ArrayLike,
    *,
    C: float = 1.0,
) -> float:
    """Accuracy on ``(x_test, y_test)`` of a linear probe fitted on a frozen backbone's features.

    The features of a copy of ``backbone``, frozen with :func:`conceptref.transfer.freeze`
    (``backbone`` itself is not changed), are fitted by :func:`conceptref.transfer.linear_probe`
    on ``(x, y)``.

    Parameters
    ----------
    backbone
        A module mapping float32 inputs ``(n, d)`` to features ``(n, f)``.
    x, y
        Training inputs ``(n, d)`` and integer labels ``(n,)``, at least two classes.
    x_test, y_test
        Test inputs and labels.
    C
        Inverse regularization strength of the probe.

    Returns
    -------
    float
        The test accuracy, rounded to 4 decimals.

    Raises
    ------
    TypeError, ValueError
        If an argument is invalid (see :func:`conceptref.transfer.linear_probe`).

    Examples
    --------
    >>> import torch
    >>> from conceptref.demos.transfer import probe_accuracy
    >>> x, y = [[-2.0], [-1.0], [1.0], [2.0]], [0, 0, 1, 1]
    >>> probe_accuracy(torch.nn.Identity(), x, y, [[-3.0], [3.0]], [0, 1])
    1.0
    """
    check_module(backbone, "backbone")
    body = freeze(copy.deepcopy(backbone))
    train_x = torch.from_numpy(_as_features(x, "x").astype(np.float32))
    test_x = torch.from_numpy(_as_features(x_test, "x_test").astype(np.float32))
    test_y = _as_targets(y_test, "y_test", len(test_x))
    with torch.no_grad():
        train_features = _forward(body, train_x, "backbone", "x")
        test_features = _forward(body, test_x, "backbone", "x_test")
    probe = linear_probe(train_features, _as_targets(y, "y", len(train_x)), C=C)
    predicted = probe.predict(test_features)
    return round(float(np.mean(predicted == test_y)), 4)


class LoRALinear(nn.Module):
    r"""A frozen ``Linear`` layer plus a trainable low-rank update: :math:`W + \frac{\alpha}{r}BA`.

    The output is ``base(x) + (alpha / r) * x @ A.T @ B.T`` with ``A`` of shape ``(r, in)``
    (initialized as peft does, Kaiming-uniform) and ``B`` of shape ``(out, r)`` (zeros, so that
    training starts from the pre-trained layer). Made by :func:`add_lora`.
    """

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base must be a torch.nn.Linear, got {type(base).__name__}")
        rank = check_int(rank, "rank", Interval(1, min(base.in_features, base.out_features)))
        alpha = check_real(alpha, "alpha", Interval(0, None, "neither"))
        super().__init__()
        self.base = base
        self.rank = rank
        self.alpha = alpha
        for p in base.parameters():
            p.requires_grad_(False)
        dtype = base.weight.dtype
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, dtype=dtype))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, dtype=dtype))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``base(x)`` plus the scaled low-rank update."""
        update = (x @ self.lora_a.T) @ self.lora_b.T
        out: torch.Tensor = self.base(x) + (self.alpha / self.rank) * update
        return out


def add_lora(module: nn.Module, *, rank: int, alpha: float, seed: int = 0) -> nn.Module:
    r"""Freeze ``module`` and wrap each of its ``Linear`` layers in a :class:`LoRALinear`.

    Only the low-rank factors are trainable afterwards: :math:`r(\text{in} + \text{out})`
    per layer (:func:`conceptref.transfer.lora_parameter_count`). ``module`` is changed in
    place; :func:`merge_lora` folds the updates back.

    Parameters
    ----------
    module
        A module holding ``torch.nn.Linear`` layers (not itself a ``Linear``).
    rank
        The rank :math:`r` (at least 1, at most the smaller size of each layer).
    alpha
        The scale :math:`\alpha`, a finite number greater than 0 (the update is scaled by
        :math:`\alpha / r`).
    seed
        Seed of the initialization of the factors ``A``.

    Returns
    -------
    torch.nn.Module
        ``module`` itself.

    Raises
    ------
    TypeError
        If ``module`` is not a module (or is a ``Linear``), or an argument has the wrong type.
    ValueError
        If ``module`` holds no ``Linear`` layer, or ``rank`` or ``alpha`` is out of range.

    Examples
    --------
    >>> from conceptref.demos.transfer import add_lora, make_classifier
    >>> from conceptref.transfer import count_parameters
    >>> net = make_classifier(4, seed=0)
    >>> count_parameters(add_lora(net[0], rank=2, alpha=4.0, seed=0))  # 2*(10+32) + 2*(32+32)
    212
    """
    check_module(module, "module")
    if isinstance(module, nn.Linear):
        raise TypeError("module must hold Linear layers, not be one: wrap it in nn.Sequential")
    r = check_int(rank, "rank", Interval(1, None))
    scale = check_real(alpha, "alpha", Interval(0, None, "neither"))
    check_seed(seed)
    targets = [
        (name, layer) for name, layer in module.named_modules() if isinstance(layer, nn.Linear)
    ]
    if not targets:
        raise ValueError("module holds no torch.nn.Linear layer to adapt")
    if any(isinstance(layer, LoRALinear) for layer in module.modules()):
        raise ValueError("module already holds LoRALinear layers: merge_lora it first")
    for name, layer in targets:
        if r > min(layer.in_features, layer.out_features):
            raise ValueError(
                f"rank must be at most the smaller size of every layer, got {r} for {name!r} "
                f"({layer.in_features} -> {layer.out_features})"
            )
    freeze(module)
    with seeded(seed):
        for name, layer in targets:
            replace_head(module, name, LoRALinear(layer, r, scale))
    return module


def merge_lora(module: nn.Module) -> nn.Module:
    """Replace each :class:`LoRALinear` in ``module`` by a plain ``Linear`` with the merged weight.

    The merged weight is :func:`conceptref.transfer.lora_merge` of the frozen weight and the
    trained factors: the network computes the same function with no extra cost at inference.
    The merged layers are trainable again (``requires_grad``) as a fresh ``Linear`` is.

    Parameters
    ----------
    module
        A module changed by :func:`add_lora`, in place.

    Returns
    -------
    torch.nn.Module
        ``module`` itself.

    Raises
    ------
    TypeError
        If ``module`` is not a module.
    ValueError
        If ``module`` holds no :class:`LoRALinear`.

    Examples
    --------
    >>> import torch
    >>> from conceptref.demos.transfer import add_lora, make_classifier, merge_lora
    >>> net = make_classifier(4, seed=0)
    >>> _ = add_lora(net[0], rank=2, alpha=4.0, seed=0)
    >>> merge_lora(net[0])[0]
    Linear(in_features=10, out_features=32, bias=True)
    """
    check_module(module, "module")
    adapted = [
        (name, layer) for name, layer in module.named_modules() if isinstance(layer, LoRALinear)
    ]
    if not adapted:
        raise ValueError("module holds no LoRALinear layer to merge")
    for name, layer in adapted:
        base = layer.base
        weight = lora_merge(
            base.weight.detach(), layer.lora_a.detach(), layer.lora_b.detach(), alpha=layer.alpha
        )
        merged = nn.Linear(
            base.in_features,
            base.out_features,
            bias=base.bias is not None,
            dtype=base.weight.dtype,
        )
        with torch.no_grad():
            merged.weight.copy_(torch.from_numpy(weight))
            if base.bias is not None:
                merged.bias.copy_(base.bias)
        replace_head(module, name, merged)
    return module


def _logits(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Return the model's logits, checked: shape ``(n, k)`` with every label below ``k``."""
    logits = _forward(model, inputs, "model", "x")
    if logits.ndim != 2 or len(logits) != len(inputs):
        raise ValueError("model must map x (n, d) to logits of shape (n, k)")
    if len(targets) and int(targets.max()) >= logits.shape[1]:
        raise ValueError(
            f"y must hold class indices below the model's {logits.shape[1]} outputs, got "
            f"{int(targets.max())}"
        )
    return logits


def _forward(model: nn.Module, inputs: torch.Tensor, name: str, x_name: str) -> torch.Tensor:
    """Return ``model(inputs)`` in the model's dtype; a failing call is a ValueError naming both."""
    try:
        out = model(inputs.to(_dtype(model)))
    except RuntimeError as error:  # wrong number of columns for the first layer, and the like
        message = str(error).split("\n")[0]
        raise ValueError(
            f"{name} cannot take {x_name} of shape {tuple(inputs.shape)}: {message}"
        ) from None
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{name} must return a tensor, got {type(out).__name__}")
    return out


def _dtype(model: nn.Module) -> torch.dtype:
    """Return the floating dtype of the model's first parameter (float32 without one)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def _readout_labels(
    x: npt.NDArray[np.float64], a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Labels ``argmax((|x A| - E|x A|) B)``: a readout of centred hidden features."""
    hidden = np.abs(x @ a)  # (n, m)
    mean = math.sqrt(2 / math.pi) * np.linalg.norm(a, axis=0)  # E|z| for z ~ N(0, |a_j|^2)
    labels: npt.NDArray[np.intp] = np.argmax((hidden - mean) @ b, axis=1)
    return labels


def _as_features(value: object, name: str) -> npt.NDArray[np.float64]:
    """Return inputs ``(n, d)`` checked: finite, non-empty, within float32 (the models' dtype)."""
    x = check_array(value, name, ndim=2, axes="(n, d)", non_empty=True)
    if np.abs(x).max() > np.finfo(np.float32).max:
        raise ValueError(f"{name} holds values beyond float32's range (the models are float32)")
    return x


def _as_targets(value: object, name: str, n: int) -> npt.NDArray[np.int64]:
    y = check_int_array(value, name, ndim=1, axes="(n,)")
    rows = {"y_test": "x_test", "y_source": "x_source", "y_unrelated": "x_source"}.get(
        name, "x_target" if name == "y_target" else "x"
    )
    if y.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n},), one label per row of {rows}, got {y.shape}"
        )
    if (y < 0).any():
        raise ValueError(f"{name} must hold class indices of at least 0")
    return y.copy()
