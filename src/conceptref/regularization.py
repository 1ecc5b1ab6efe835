r"""Weight decay and L2 regularization, with SGD, Adam and AdamW written out in NumPy.

This module is the reference implementation behind the page :doc:`/concepts/weight-decay-vs-l2`.
``tests/test_regularization.py`` checks it in float64 against PyTorch: :class:`SGD`,
:class:`Adam` and :class:`AdamW` against :class:`torch.optim.SGD`, :class:`torch.optim.Adam` and
:class:`torch.optim.AdamW` step by step on seeded random problems; :func:`l2_penalty` against
sums of squares computed in torch and against :func:`numpy.linalg.norm`; and
:func:`parameter_groups` against the parameters of real layers, and by handing its groups to
:class:`torch.optim.AdamW`. The same file checks the page's claims in torch itself: SGD with
``weight_decay`` equals SGD on the loss plus the L2 term, with and without momentum; so does
Adam; AdamW does not.

The two ideas differ only once an optimizer rescales the gradient. With the L2 term
:math:`\tfrac{\lambda}{2}\sum_W \lVert W\rVert_F^2` added to the loss, every gradient gains
:math:`\lambda w`; for plain SGD that is the same as shrinking the weights by a factor
:math:`1 - \eta\lambda` each step (*weight decay*). Adam divides the whole gradient, the
:math:`\lambda w` part included, by :math:`\sqrt{\hat v} + \epsilon`, so the shrinking becomes
uneven; AdamW (Loshchilov & Hutter, 2019) applies the decay to the weights directly instead.

The optimizers here are small classes that take the same arguments as PyTorch's. Each keeps its
own state (step count, momentum buffers, moment estimates) and returns new parameter arrays from
its ``step`` method; the arrays passed in are never modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from conceptref._validation import (
    Interval,
    check_array,
    check_bool,
    check_each,
    check_module,
    check_real,
    check_sequence,
)

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "l2_penalty",
    "parameter_groups",
]


def l2_penalty(parameters: Iterable[npt.ArrayLike]) -> float:
    r"""Sum of the squared Frobenius norms of some parameter arrays.

    .. math:: \Omega(W_1, \dots, W_n) = \sum_{k=1}^{n} \lVert W_k \rVert_F^2
              = \sum_{k=1}^{n} \sum_{i} (W_k)_i^2 ,

    where :math:`\lVert W \rVert_F` is the Frobenius norm, the square root of the sum of the
    squared entries. There is no factor :math:`\tfrac12` here: the term added to a loss for
    L2 regularization with strength :math:`\lambda` is ``lam / 2 * l2_penalty(params)``, whose
    gradient is exactly :math:`\lambda W`.

    Parameters
    ----------
    parameters
        The arrays to penalize, of any shapes; for example ``model.parameters()``. PyTorch
        tensors are accepted and read as float64 (detached, on the CPU).

    Returns
    -------
    float
        The sum of the squares of all entries of all arrays.

    Raises
    ------
    TypeError
        If an array is not numeric.
    ValueError
        If ``parameters`` is empty, an array holds NaN or infinity, or the sum of squares
        overflows float64.

    See Also
    --------
    numpy.linalg.norm : with ``ord="fro"``, the norm of one matrix.
    SGD : whose ``weight_decay`` adds the gradient of ``weight_decay / 2 * l2_penalty``.

    Examples
    --------
    >>> import numpy as np
    >>> from conceptref.regularization import l2_penalty
    >>> l2_penalty([[1.0, 2.0], [[3.0], [4.0]]])
    30.0
    >>> round(0.1 / 2 * l2_penalty([np.full((2, 3), 0.5)]), 4)
    0.075
    """
    total = 0.0
    count = 0
    for i, parameter in enumerate(parameters):
        array = check_array(parameter, f"parameters[{i}]")
        with np.errstate(over="ignore", under="ignore"):
            total += float(np.sum(np.square(array)))
        count += 1
    if count == 0:
        raise ValueError("parameters must hold at least one array, got none")
    if not np.isfinite(total):
        raise ValueError(
            "the sum of squares of parameters overflows float64 (entries too large to square)"
        )
    return total


class _Optimizer:
    """What the reference optimizers share: checking a step's input, and the step itself."""

    _shapes: list[tuple[int, ...]] | None = None  # set by the first step

    def step(
        self, params: Sequence[npt.ArrayLike], grads: Sequence[npt.ArrayLike]
    ) -> list[npt.NDArray[np.float64]]:
        """Take one step and return the new parameters.

        Parameters
        ----------
        params
            The current parameter arrays, in the same order and of the same shapes on every
            call. PyTorch tensors are accepted and read as float64.
        grads
            The gradient of the loss with respect to each array of ``params``, one per array
            and of its shape.

        Returns
        -------
        list
            One new float64 array (``numpy.ndarray``) per parameter. The inputs are not
            modified; the optimizer's own state advances by one step.

        Raises
        ------
        TypeError
            If ``params`` or ``grads`` is a single array rather than a sequence of arrays, or
            an array is not numeric.
        ValueError
            If ``params`` is empty, ``params`` and ``grads`` differ in length or a gradient's
            shape differs from its parameter's, an array holds NaN or infinity, the
            number or shapes of the parameters differ from those of the first step, or a new
            parameter would overflow float64.
        """
        weights, gradients = _check_step(params, grads, self._shapes)
        self._shapes = [w.shape for w in weights]
        with np.errstate(over="ignore", invalid="ignore"):
            new = self._update(weights, gradients)
        for i, w in enumerate(new):
            if not np.isfinite(w).all():
                raise ValueError(
                    f"the step overflows float64: params[{i}] and grads[{i}] are too large for "
                    "this learning rate; rescale them"
                )
        return new

    def _update(
        self, weights: list[npt.NDArray[np.float64]], gradients: list[npt.NDArray[np.float64]]
    ) -> list[npt.NDArray[np.float64]]:
        """Return the new parameters from checked float64 weights and gradients."""
        raise NotImplementedError


class SGD(_Optimizer):
    r"""Stochastic gradient descent with momentum and weight decay, as :class:`torch.optim.SGD`.

    With gradient :math:`g_t = \nabla L(w_{t-1})`, learning rate :math:`\eta`, weight decay
    :math:`\lambda`, momentum :math:`\mu` and dampening :math:`\tau`, one step is

    .. math::
        d_t &= g_t + \lambda w_{t-1} \\
        b_t &= \begin{cases} d_1 & t = 1 \\ \mu b_{t-1} + (1 - \tau) d_t & t > 1 \end{cases} \\
        w_t &= w_{t-1} - \eta \cdot
               \begin{cases} d_t + \mu b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases}

    and without momentum (:math:`\mu = 0`) simply
    :math:`w_t = w_{t-1} - \eta(g_t + \lambda w_{t-1}) = (1 - \eta\lambda) w_{t-1} - \eta g_t`:
    weight decay and an L2 term :math:`\tfrac{\lambda}{2}\lVert w\rVert^2` in the loss are the same
    thing for SGD.

    Parameters
    ----------
    lr
        Learning rate :math:`\eta`, finite and greater than 0.
    momentum
        Momentum factor :math:`\mu \ge 0`; 0 turns momentum off.
    weight_decay
        Weight decay :math:`\lambda \ge 0`, added to the gradient as :math:`\lambda w`.
    dampening
        Dampening :math:`\tau \ge 0` of the gradient in the momentum buffer (not applied on the
        first step, whose buffer is the gradient itself).
    nesterov
        Use Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.

    Raises
    ------
    TypeError
        If an argument is not a real number (``nesterov``: not a ``bool``).
    ValueError
        If ``lr`` is not finite and greater than 0, ``momentum``, ``weight_decay`` or
        ``dampening`` is negative or not finite, or ``nesterov`` is set without momentum or
        with dampening.

    See Also
    --------
    torch.optim.SGD : the optimizer this class matches.
    Adam : where weight decay and L2 regularization part ways.

    Examples
    --------
    One step from :math:`w = (1, -2)` with gradient :math:`(0.5, 0.5)`:
    :math:`w - 0.1\,(g + 0.5\,w)`.

    >>> import numpy as np
    >>> from conceptref.regularization import SGD
    >>> sgd = SGD(lr=0.1, weight_decay=0.5)
    >>> [new] = sgd.step([np.array([1.0, -2.0])], [np.array([0.5, 0.5])])
    >>> np.round(new, 4).tolist()
    [0.9, -1.95]
    """

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.lr = check_real(lr, "lr", Interval(0, None, "neither"))
        self.momentum = check_real(momentum, "momentum", Interval(0, None))
        self.weight_decay = check_real(weight_decay, "weight_decay", Interval(0, None))
        self.dampening = check_real(dampening, "dampening", Interval(0, None))
        nesterov = check_bool(nesterov, "nesterov")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={momentum} and dampening={dampening}"
            )
        self.nesterov = nesterov
        self._buffers: list[npt.NDArray[np.float64]] | None = None

    def _update(
        self, weights: list[npt.NDArray[np.float64]], gradients: list[npt.NDArray[np.float64]]
    ) -> list[npt.NDArray[np.float64]]:
        previous = self._buffers
        buffers: list[npt.NDArray[np.float64]] = []
        new_weights: list[npt.NDArray[np.float64]] = []
        for i, (w, g) in enumerate(zip(weights, gradients, strict=True)):
            d = g + self.weight_decay * w if self.weight_decay != 0 else g
            if self.momentum != 0:
                if previous is None:  # first step: the buffer starts as the gradient
                    b = np.array(d, dtype=np.float64, copy=True)
                else:
                    b = previous[i] * self.momentum + (1 - self.dampening) * d
                buffers.append(b)
                d = d + self.momentum * b if self.nesterov else b
            new_weights.append(w + (-self.lr) * d)
        if self.momentum != 0:
            self._buffers = buffers
        return new_weights


class Adam(_Optimizer):
    r"""Adam with L2-coupled weight decay, as :class:`torch.optim.Adam`.

    With gradient :math:`g_t`, learning rate :math:`\eta`, weight decay :math:`\lambda` and
    :math:`m_0 = v_0 = 0`, step :math:`t = 1, 2, \dots` is

    .. math::
        g_t &\leftarrow g_t + \lambda w_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t} \\
        w_t &= w_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} .

    The decay term :math:`\lambda w` enters the moments like any gradient, so it too is divided by
    :math:`\sqrt{\hat v_t} + \epsilon`: weights with large gradients are barely decayed. This is
    exactly Adam on the loss plus :math:`\tfrac{\lambda}{2}\lVert w\rVert^2`, not weight decay in
    the sense of :class:`AdamW`. The arithmetic follows PyTorch's order of operations
    (:math:`\sqrt{\hat v_t}` computed as :math:`\sqrt{v_t}/\sqrt{1 - \beta_2^t}`), so float64
    results agree with it to rounding.

    Parameters
    ----------
    lr
        Learning rate :math:`\eta`, finite and greater than 0.
    betas
        The pair :math:`(\beta_1, \beta_2)` of decay rates of the moment estimates, each in
        :math:`[0, 1)`.
    eps
        The term :math:`\epsilon > 0` added to the denominator.
    weight_decay
        The L2 coefficient :math:`\lambda \ge 0`, added to the gradient as :math:`\lambda w`;
        ``None`` (the default) means 0.
    amsgrad
        Divide by the largest :math:`v_t` so far instead of the current one (Reddi et al.,
        2018, "On the convergence of Adam and beyond", ICLR), as PyTorch's ``amsgrad=True``.

    Raises
    ------
    TypeError
        If an argument is not a real number (``amsgrad``: not a ``bool``), or ``betas`` is not
        a sequence.
    ValueError
        If ``lr`` or ``eps`` is not finite and greater than 0, a beta lies outside
        :math:`[0, 1)`, ``betas`` does not hold two, or ``weight_decay`` is negative or not
        finite.

    See Also
    --------
    torch.optim.Adam : the optimizer this class matches.
    AdamW : the same step with decoupled weight decay.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015.

    Examples
    --------
    On the first step :math:`\hat m_1 = g_1` and :math:`\sqrt{\hat v_1} = |g_1|`, so each weight
    moves by almost exactly :math:`\eta` against the sign of :math:`g_1 + \lambda w`; here
    :math:`g + 0.5\,w = (1, -0.5)`.

    >>> import numpy as np
    >>> from conceptref.regularization import Adam
    >>> adam = Adam(lr=0.1, weight_decay=0.5)
    >>> [new] = adam.step([np.array([1.0, -2.0])], [np.array([0.5, 0.5])])
    >>> np.round(new, 4).tolist()
    [0.9, -1.9]
    """

    _decoupled = False
    _default_weight_decay = 0.0

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
        amsgrad: bool = False,
    ) -> None:
        if weight_decay is None:
            weight_decay = self._default_weight_decay
        self.lr = check_real(lr, "lr", Interval(0, None, "neither"))
        beta1, beta2 = check_each(betas, "betas", _beta, length=2, what="decay rates")
        self.betas = (beta1, beta2)
        self.eps = check_real(eps, "eps", Interval(0, None, "neither"))
        self.weight_decay = check_real(weight_decay, "weight_decay", Interval(0, None))
        self.amsgrad = check_bool(amsgrad, "amsgrad")
        self._step = 0
        self._exp_avg: list[npt.NDArray[np.float64]] = []
        self._exp_avg_sq: list[npt.NDArray[np.float64]] = []
        self._max_exp_avg_sq: list[npt.NDArray[np.float64]] = []

    def _update(
        self, weights: list[npt.NDArray[np.float64]], gradients: list[npt.NDArray[np.float64]]
    ) -> list[npt.NDArray[np.float64]]:
        if not self._exp_avg:  # first step: both moments start at zero
            self._exp_avg = [np.zeros_like(w) for w in weights]
            self._exp_avg_sq = [np.zeros_like(w) for w in weights]
            self._max_exp_avg_sq = [np.zeros_like(w) for w in weights]
        self._step += 1
        beta1, beta2 = self.betas
        bias_correction1 = 1 - beta1**self._step
        bias_correction2 = 1 - beta2**self._step
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5

        new_weights: list[npt.NDArray[np.float64]] = []
        for i, (w, g) in enumerate(zip(weights, gradients, strict=True)):
            if self.weight_decay != 0:
                if self._decoupled:
                    w = w * (1 - self.lr * self.weight_decay)  # AdamW: decay the weights
                else:
                    g = g + self.weight_decay * w  # Adam: L2 gradient joins the moments
            m = _lerp(self._exp_avg[i], g, 1 - beta1)  # β1 m + (1 - β1) g
            v = self._exp_avg_sq[i] * beta2 + (1 - beta2) * g * g
            self._exp_avg[i], self._exp_avg_sq[i] = m, v
            if self.amsgrad:  # the largest v so far: the step size never grows back
                v = self._max_exp_avg_sq[i] = np.maximum(self._max_exp_avg_sq[i], v)
            denom = np.sqrt(v) / bias_correction2_sqrt + self.eps  # sqrt(v̂) + eps
            new_weights.append(w + (-step_size) * m / denom)
        return new_weights


class AdamW(Adam):
    r"""Adam with decoupled weight decay, as :class:`torch.optim.AdamW`.

    Each step first shrinks the weights, then takes the :class:`Adam` step with the raw
    gradient:

    .. math::
        w &\leftarrow (1 - \eta\lambda)\, w_{t-1} \\
        w_t &= w - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} ,

    with :math:`m_t, v_t, \hat m_t, \hat v_t` as in :class:`Adam` but computed from
    :math:`g_t` alone. Every weight decays at the same rate :math:`\eta\lambda`, whatever the size
    of its gradients (Loshchilov & Hutter, 2019).

    Parameters
    ----------
    lr
        Learning rate :math:`\eta`, finite and greater than 0.
    betas
        The pair :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
    eps
        The term :math:`\epsilon > 0` added to the denominator.
    weight_decay
        The decay rate :math:`\lambda \ge 0`; ``None`` (the default) means PyTorch's default of
        0.01, unlike Adam's 0.
    amsgrad
        As :class:`Adam`.

    Raises
    ------
    TypeError
        If an argument is not a real number (``amsgrad``: not a ``bool``), or ``betas`` is not
        a sequence.
    ValueError
        As :class:`Adam`.

    See Also
    --------
    torch.optim.AdamW : the optimizer this class matches.
    Adam : the same step with the decay added to the gradient.

    References
    ----------
    I. Loshchilov and F. Hutter, "Decoupled weight decay regularization", ICLR 2019.

    Examples
    --------
    The same step as in :class:`Adam`'s example: the weights shrink to :math:`0.95\,w`, then move
    by :math:`0.1` against the sign of the raw gradient :math:`(0.5, 0.5)`.

    >>> import numpy as np
    >>> from conceptref.regularization import AdamW
    >>> adamw = AdamW(lr=0.1, weight_decay=0.5)
    >>> [new] = adamw.step([np.array([1.0, -2.0])], [np.array([0.5, 0.5])])
    >>> np.round(new, 4).tolist()
    [0.85, -2.0]
    """

    _decoupled = True
    _default_weight_decay = 1e-2


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    r"""Split a model's parameters into a decayed group and an exempt group for an optimizer.

    .. math:: \lambda_p = \begin{cases}
              0 & p \text{ is a bias or belongs to a normalization layer} \\
              \lambda & \text{otherwise}
              \end{cases}

    The usual recipe: decay the weight matrices, convolution kernels and embeddings, and exempt
    the biases and the scales and shifts of normalization layers, since shrinking those
    towards 0 only fights the shifts and scales the layer is there to learn.

    A parameter is a *bias* if one of the underscore-separated words of the name under which a
    module registers it is ``bias`` (``bias``, ``in_proj_bias``, ``bias_ih_l0``, …). A
    *normalization layer* is any BatchNorm or InstanceNorm layer,
    :class:`torch.nn.LayerNorm`, :class:`torch.nn.GroupNorm` or :class:`torch.nn.RMSNorm`.
    A parameter shared by several modules is exempt if any of them exempts it.

    Parameters
    ----------
    model
        The model; only its parameters with ``requires_grad`` are included.
    weight_decay
        The decay :math:`\lambda \ge 0` for the decayed group.

    Returns
    -------
    list
        Parameter groups for a :mod:`torch.optim` optimizer, as dictionaries: first
        ``{"params": [...], "weight_decay": weight_decay}``, then
        ``{"params": [...], "weight_decay": 0.0}``. A group that would be empty is left out.
        Every trainable parameter appears exactly once, in ``model.parameters()`` order.

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`torch.nn.Module` or ``weight_decay`` is not a real
        number.
    ValueError
        If ``weight_decay`` is negative or not finite, or ``model`` has no trainable
        parameters.

    See Also
    --------
    AdamW : the optimizer these groups are usually for.

    Examples
    --------
    Two weight matrices are decayed; the two biases of the linear layers and the scale and shift
    of the batch norm are not.

    >>> import torch
    >>> from conceptref.regularization import parameter_groups
    >>> model = torch.nn.Sequential(
    ...     torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2)
    ... )
    >>> groups = parameter_groups(model, weight_decay=0.01)
    >>> [(len(g["params"]), g["weight_decay"]) for g in groups]
    [(2, 0.01), (4, 0.0)]
    >>> optimizer = torch.optim.AdamW(groups, lr=1e-3)
    """
    check_module(model, "model")
    decay = check_real(weight_decay, "weight_decay", Interval(0, None))
    norm_layers = _norm_layer_types()
    exempt: set[int] = set()
    for module in model.modules():
        is_norm = isinstance(module, norm_layers)
        for name, parameter in module.named_parameters(recurse=False, remove_duplicate=False):
            if is_norm or "bias" in name.split("_"):
                exempt.add(id(parameter))
    decayed: list[torch.nn.Parameter] = []
    not_decayed: list[torch.nn.Parameter] = []
    for parameter in model.parameters():  # each shared parameter once, in order
        if parameter.requires_grad:
            (not_decayed if id(parameter) in exempt else decayed).append(parameter)
    if not decayed and not not_decayed:
        raise ValueError(f"model has no parameters with requires_grad: {type(model).__name__}")
    groups = [
        {"params": decayed, "weight_decay": decay},
        {"params": not_decayed, "weight_decay": 0.0},
    ]
    return [group for group in groups if group["params"]]


def _norm_layer_types() -> tuple[type[torch.nn.Module], ...]:
    """Return the normalization layer classes whose parameters get no weight decay."""
    nn = torch.nn
    names = (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
        "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
        "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
        "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
        "LayerNorm", "GroupNorm", "RMSNorm",  # RMSNorm: torch >= 2.4
    )  # fmt: skip
    found = (getattr(nn, name, None) for name in names)
    return tuple(t for t in found if isinstance(t, type) and issubclass(t, nn.Module))


def _lerp(
    start: npt.NDArray[np.float64], end: npt.NDArray[np.float64], weight: float
) -> npt.NDArray[np.float64]:
    """Return ``start + weight * (end - start)``, rounded as :func:`torch.lerp` rounds it."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _check_step(
    params: Sequence[npt.ArrayLike],
    grads: Sequence[npt.ArrayLike],
    shapes: list[tuple[int, ...]] | None,
) -> tuple[list[npt.NDArray[np.float64]], list[npt.NDArray[np.float64]]]:
    """Validate one step's inputs (against the state's ``shapes``, if any) as float64 arrays."""
    check_sequence(params, "params")
    check_sequence(grads, "grads")
    if len(params) != len(grads):
        raise ValueError(
            f"params and grads must have the same length, got {len(params)} params and "
            f"{len(grads)} grads"
        )
    if len(params) == 0:
        raise ValueError("params must hold at least one array, got none")
    weights = [check_array(p, f"params[{i}]") for i, p in enumerate(params)]
    gradients = [check_array(g, f"grads[{i}]") for i, g in enumerate(grads)]
    for i, (w, g) in enumerate(zip(weights, gradients, strict=True)):
        if w.shape != g.shape:
            raise ValueError(f"grads[{i}] has shape {g.shape}, but params[{i}] has shape {w.shape}")
    if shapes is not None and [w.shape for w in weights] != shapes:
        raise ValueError(
            "params do not match the optimizer's state: the first step had "
            f"{len(shapes)} arrays of shapes {shapes}, this one has {len(weights)} of shapes "
            f"{[w.shape for w in weights]}"
        )
    return weights, gradients


def _beta(value: object, name: str) -> float:
    """Check a decay rate of Adam's moment estimates, in ``[0, 1)``."""
    return check_real(value, name, Interval(0, 1, "left"))
