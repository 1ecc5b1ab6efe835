"""The training loop every demonstration shares: one Adam, a divergence check, no global state."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from conceptref.regularization import Adam


class TrainingDiverged(ValueError):
    """Training met a non-finite loss or parameter (a ``ValueError``: the settings were bad)."""


def adam_step(optimizer: Adam, params: Sequence[torch.Tensor], loss: torch.Tensor) -> None:
    """Take one step of ``optimizer`` on ``params`` down the gradient of ``loss``, in place.

    The step is :class:`conceptref.regularization.Adam`'s (float64, equal to
    :class:`torch.optim.Adam`); each parameter keeps its dtype.
    """
    grads = torch.autograd.grad(loss, list(params))
    new = optimizer.step([p.detach() for p in params], list(grads))
    with torch.no_grad():
        for p, w in zip(params, new, strict=True):
            p.copy_(torch.from_numpy(np.asarray(w)))


def check_finite_step(step: int, loss: float, params: Sequence[torch.Tensor]) -> None:
    """Raise :class:`TrainingDiverged` naming ``step`` if the loss or a parameter is not finite."""
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"training diverged at step {step}: the loss is {loss}; lower the learning rate"
        )
    for p in params:
        if not bool(torch.isfinite(p).all()):
            raise TrainingDiverged(
                f"training diverged at step {step}: a parameter is not finite; lower the "
                "learning rate"
            )


def fit(
    params: Sequence[torch.Tensor],
    loss_at: Callable[[int], torch.Tensor],
    *,
    steps: int,
    learning_rate: float,
) -> list[float]:
    """Minimize ``loss_at(step)`` over ``params`` with Adam for ``steps`` steps; return the losses.

    ``loss_at`` computes the loss of one step (drawing its batch from a generator of its own).
    The loop stops with :class:`TrainingDiverged` at the first non-finite loss or parameter.
    """
    optimizer = Adam(lr=learning_rate)
    params = list(params)
    losses: list[float] = []
    for step in range(steps):
        loss = loss_at(step)
        value = float(loss.detach())
        check_finite_step(step, value, params)
        adam_step(optimizer, params, loss)
        check_finite_step(step, value, params)
        losses.append(value)
    return losses
