"""The package's one randomness convention: a keyword ``seed``, never the caller's global state.

Every seeded helper takes ``seed`` (a non-negative integer, see
:func:`conceptref._validation.check_seed`) and draws from generators of its own:
:func:`numpy_rng` for NumPy, :func:`torch_generator` for explicit torch draws, and
:func:`seeded` around code that draws from torch's *global* generator (module initialization
such as :class:`torch.nn.Linear`'s). :func:`seeded` restores the caller's global torch state
on exit, so a helper called with a seed leaves every random stream of its caller as it was.

torch is imported on first use, so the NumPy-only modules that take a seed load without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from conceptref._validation import check_seed

if TYPE_CHECKING:
    import torch


def numpy_rng(seed: object, name: str = "seed") -> np.random.Generator:
    """Return a fresh NumPy generator for ``seed`` (checked: a non-negative integer)."""
    return np.random.default_rng(check_seed(seed, name))


def torch_generator(seed: object, name: str = "seed") -> torch.Generator:
    """Return a fresh CPU torch generator for ``seed`` (checked: a non-negative integer)."""
    import torch

    return torch.Generator().manual_seed(check_seed(seed, name))


@contextmanager
def seeded(seed: object, name: str = "seed") -> Iterator[None]:
    """Seed torch's global CPU generator for a block, and restore the caller's state after it."""
    value = check_seed(seed, name)
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(value)
        yield
