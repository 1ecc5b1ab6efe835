"""The demonstration of :doc:`/concepts/self-supervised-learning`: augmentations decide what is learned.

Data in which the class lives in a two-dimensional *content* subspace while a larger *style*
subspace carries most of the variance (:func:`content_style_data`), an augmentation that adds
noise along one chosen subspace (:func:`augment`), SimCLR-style contrastive pre-training of a
tiny encoder (:func:`tiny_encoder`, :func:`contrastive_pretrain`) with the loss of
:func:`conceptref.selfsupervised.nt_xent_loss`, and a few-label linear probe
(:func:`nearest_centroid_probe`). Every function takes a keyword ``seed`` and leaves the
caller's global random state as it was; training steps with the package's one Adam through
``conceptref.demos._training.fit``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from conceptref._random import seeded, torch_generator
from conceptref._validation import (
    SEED_MAX,
    Interval,
    check_bool,
    check_dims_agree,
    check_int,
    check_int_array,
    check_real,
    check_seed,
    check_size,
    check_tensor,
)
from conceptref.demos._training import TrainingDiverged, fit
from conceptref.selfsupervised import nt_xent_loss

__all__ = [
    "ContentStyleData",
    "augment",
    "content_style_data",
    "contrastive_pretrain",
    "nearest_centroid_probe",
    "tiny_encoder",
]

TensorLike = torch.Tensor | npt.ArrayLike
_POSITIVE = Interval(0, None, "neither")
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)


@dataclass(frozen=True)
class ContentStyleData:
    """A labelled data set whose class lives in a known subspace; see :func:`content_style_data`.

    The tensors are the result's own (copies of what it was given).
    """

    x: torch.Tensor
    """Inputs ``(n, dim)``, float32."""
    labels: torch.Tensor
    """Class of each row ``(n,)``, int64, in blocks: ``n_per_class`` rows of class 0 first."""
    content_basis: torch.Tensor
    """Orthonormal columns ``(dim, 2)`` spanning the directions that carry the class."""
    style_basis: torch.Tensor
    """Orthonormal columns ``(dim, dim - 2)`` spanning the directions that do not."""

    def __post_init__(self) -> None:
        x = check_tensor(self.x, "x", ndim=2, non_empty=True).detach().to(torch.float32).clone()
        labels = torch.from_numpy(check_int_array(self.labels, "labels", ndim=1).copy())
        bases = {}
        for name in ("content_basis", "style_basis"):
            basis = check_tensor(getattr(self, name), name, ndim=2, non_empty=True)
            bases[name] = basis.detach().to(torch.float32).clone()
        check_dims_agree([("len(x)", x.shape[0]), ("len(labels)", labels.shape[0])])
        check_dims_agree(
            [("the columns of x", x.shape[1])]
            + [(f"the rows of {name}", b.shape[0]) for name, b in bases.items()]
        )
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "labels", labels)
        for name, basis in bases.items():
            object.__setattr__(self, name, basis)


def content_style_data(
    n_per_class: int,
    *,
    n_classes: int = 4,
    dim: int = 10,
    radius: float = 2.0,
    content_std: float = 0.4,
    style_std: float = 3.0,
    seed: int = 0,
) -> ContentStyleData:
    r"""Seeded data whose class is in a 2-D *content* subspace and whose bulk is *style*.

    Each example has content :math:`c \in \mathbb{R}^2`, its class centre on a circle of
    ``radius`` plus Gaussian noise of ``content_std``, and style
    :math:`s \in \mathbb{R}^{\text{dim}-2}`, Gaussian noise of ``style_std`` unrelated to the
    class. The input is :math:`x = Q\,[c; s]` for a random rotation :math:`Q`, so no input
    coordinate is pure content: the class is there, but hidden under larger irrelevant variation.

    Parameters
    ----------
    n_per_class
        Examples per class (at least 1).
    n_classes
        Number of classes (at least 2), evenly spaced on the circle.
    dim
        Input width (at least 3).
    radius, content_std, style_std
        Distance of the class centres from the origin, and the standard deviations of the content
        noise and of the style; each a finite number greater than 0.
    seed
        Seed of the rotation and of the samples (a non-negative integer).

    Returns
    -------
    ContentStyleData
        ``(x, labels, content_basis, style_basis)``; the bases are the columns of :math:`Q`.

    Raises
    ------
    TypeError
        If an argument is not a number of the right kind.
    ValueError
        If a count is too small or too large to allocate, a scale is not a finite number greater
        than 0 or so large that the inputs overflow float32, or ``seed`` is negative.

    Examples
    --------
    >>> from conceptref.demos.selfsupervised import content_style_data
    >>> data = content_style_data(3, n_classes=2, dim=4)
    >>> tuple(data.x.shape), data.labels.tolist()
    ((6, 4), [0, 0, 0, 1, 1, 1])
    >>> tuple(data.content_basis.shape), tuple(data.style_basis.shape)
    ((4, 2), (4, 2))
    """
    per_class = check_int(n_per_class, "n_per_class", Interval(1, None))
    classes = check_int(n_classes, "n_classes", Interval(2, None))
    width = check_int(dim, "dim", Interval(3, None))
    r = check_real(radius, "radius", _POSITIVE)
    c_std = check_real(content_std, "content_std", _POSITIVE)
    s_std = check_real(style_std, "style_std", _POSITIVE)
    g = torch_generator(seed)
    check_size([("n_per_class", per_class), ("n_classes", classes), ("dim", width)])
    check_size([("dim", width), ("dim", width)])

    q, _ = torch.linalg.qr(torch.randn(width, width, generator=g))  # a random rotation
    labels = torch.arange(classes).repeat_interleave(per_class)  # (n,)
    angle = 2 * math.pi * labels / classes
    centres = r * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (n, 2)
    content = centres + c_std * torch.randn(len(labels), 2, generator=g)  # (n, 2)
    style = s_std * torch.randn(len(labels), width - 2, generator=g)  # (n, dim - 2)
    x = torch.cat([content, style], dim=1) @ q.T  # (n, dim)
    if not bool(torch.isfinite(x).all()):
        raise ValueError(
            "radius, content_std and style_std are too large: the inputs overflow float32"
        )
    return ContentStyleData(x, labels, q[:, :2], q[:, 2:])


def _check_views(x: object, basis: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``x`` ``(n, dim)`` and ``basis`` ``(dim, k)`` as float32 tensors, checked."""
    inputs = check_tensor(x, "x", ndim=2, non_empty=True).detach()
    directions = check_tensor(basis, "basis", ndim=2, non_empty=True).detach()
    if directions.shape[0] != inputs.shape[1]:
        raise ValueError(
            f"basis must have one row per column of x, shape ({inputs.shape[1]}, k), got "
            f"{tuple(directions.shape)}"
        )
    for value, name in ((inputs, "x"), (directions, "basis")):
        if bool((value.abs() > _FLOAT32_MAX).any()):
            raise ValueError(f"{name} holds values too large for float32")
    return inputs.to(torch.float32), directions.to(torch.float32)


def _augment(
    x: torch.Tensor, basis: torch.Tensor, scale: float, generator: torch.Generator
) -> torch.Tensor:
    noise = torch.randn(x.shape[0], basis.shape[1], generator=generator, dtype=x.dtype)
    return x + scale * noise @ basis.T


def augment(x: TensorLike, basis: TensorLike, scale: float, *, seed: int = 0) -> torch.Tensor:
    r"""Make a random view of each row of ``x``: Gaussian noise of ``scale`` along ``basis`` only.

    .. math:: \tilde x = x + B\,\varepsilon, \qquad \varepsilon \sim
              \mathcal{N}(0, \text{scale}^2 I_k),

    where the :math:`k` columns of :math:`B` span the directions that the augmentation declares
    irrelevant. Two seeds give two views of the same examples.

    Parameters
    ----------
    x
        Inputs ``(n, dim)`` (a tensor, array or list; computed in float32).
    basis
        ``(dim, k)``, typically ``data.style_basis`` (the right choice) or
        ``data.content_basis`` (the wrong one).
    scale
        Standard deviation of the noise, a finite number of at least 0.
    seed
        Seed of the noise.

    Returns
    -------
    torch.Tensor
        The views, shape ``(n, dim)``, float32.

    Raises
    ------
    TypeError
        If an argument is of the wrong kind.
    ValueError
        If the shapes do not fit, an input is not finite or too large for float32, the views
        overflow float32, or ``scale`` is negative or not finite.

    Examples
    --------
    >>> import torch
    >>> from conceptref.demos.selfsupervised import augment, content_style_data
    >>> data = content_style_data(2, n_classes=2, dim=4)
    >>> view = augment(data.x, data.style_basis, 1.0, seed=0)
    >>> change = view - data.x                 # lies in the style subspace only:
    >>> bool(torch.allclose(change @ data.content_basis, torch.zeros(4, 2), atol=1e-5))
    True
    """
    inputs, directions = _check_views(x, basis)
    sigma = check_real(scale, "scale", Interval(0, None))
    views = _augment(inputs, directions, sigma, torch_generator(seed))
    if not bool(torch.isfinite(views).all()):
        raise ValueError("x, basis and scale are too large: the views overflow float32")
    return views


def tiny_encoder(dim: int, *, width: int = 32, out: int = 8, seed: int = 0) -> nn.Sequential:
    """Build a two-layer perceptron ``dim → width → out`` with seeded initial weights.

    Parameters
    ----------
    dim, width, out
        Input, hidden and output widths (each at least 1).
    seed
        Seed of the initial weights; the caller's global random state is left as it was.

    Returns
    -------
    torch.nn.Sequential
        ``Linear(dim, width), ReLU(), Linear(width, out)``; float32.

    Raises
    ------
    TypeError, ValueError
        If a width is not an integer of at least 1, the weights would be too large to
        allocate, or ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> from conceptref.demos.selfsupervised import tiny_encoder
    >>> tiny_encoder(10)
    Sequential(
      (0): Linear(in_features=10, out_features=32, bias=True)
      (1): ReLU()
      (2): Linear(in_features=32, out_features=8, bias=True)
    )
    """
    sizes = [
        check_int(v, n, Interval(1, None))
        for v, n in ((dim, "dim"), (width, "width"), (out, "out"))
    ]
    check_size([("dim", sizes[0]), ("width", sizes[1])])
    check_size([("width", sizes[1]), ("out", sizes[2])])
    with seeded(seed):
        return nn.Sequential(
            nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2])
        )


def contrastive_pretrain(
    x: TensorLike,
    basis: TensorLike,
    *,
    scale: float = 3.0,
    steps: int = 100,
    batch_size: int = 128,
    temperature: float = 0.2,
    learning_rate: float = 0.01,
    seed: int = 0,
) -> nn.Sequential:
    r"""Train :func:`tiny_encoder` with SimCLR's recipe on ``x``, without any label.

    Each step draws a batch, makes two views of it with :func:`augment` along ``basis``, passes
    both through the encoder :math:`f` and a projection head :math:`g` (``ReLU, Linear``), and
    takes an Adam step (:class:`conceptref.regularization.Adam` with its default betas, through
    ``conceptref.demos._training.fit``) on
    :func:`~conceptref.selfsupervised.nt_xent_loss` of the two projections. The head is
    discarded afterwards: the returned encoder gives the representation :math:`h = f(x)` that
    downstream tasks use, as in SimCLR.

    Parameters
    ----------
    x
        Unlabelled inputs ``(n, dim)`` (computed in float32).
    basis
        The directions the augmentation perturbs (see :func:`augment`).
    scale
        Standard deviation of the augmentation noise, at least 0.
    steps, batch_size
        Number of Adam steps and examples per batch (:math:`N`; the loss sees :math:`2N` views),
        each at least 1; ``batch_size`` at most 1024 (the loss's :math:`2N \times 2N`
        similarities stay below 2**22 entries).
    temperature, learning_rate
        The loss's :math:`\tau` and Adam's learning rate, each greater than 0.
    seed
        Seed of the initial weights (the encoder starts as ``tiny_encoder(dim, seed=seed)``),
        the batches and the views; the caller's global random state is left as it was.

    Returns
    -------
    torch.nn.Sequential
        The trained encoder :math:`f` (the projection head is dropped).

    Raises
    ------
    TypeError, ValueError
        If an argument is invalid, as in :func:`tiny_encoder` and :func:`augment`;
        ``ValueError("training diverged at step N: …")`` if the loss, a projection or a
        weight stops being finite (a learning rate far too large).

    Examples
    --------
    >>> from conceptref.demos.selfsupervised import content_style_data, contrastive_pretrain
    >>> data = content_style_data(50, seed=0)
    >>> f = contrastive_pretrain(data.x, data.style_basis, steps=5, seed=0)
    >>> tuple(f(data.x).shape)
    (200, 8)
    """
    inputs, directions = _check_views(x, basis)
    sigma = check_real(scale, "scale", Interval(0, None))
    n_steps = check_int(steps, "steps", Interval(1, None))
    n_batch = check_int(batch_size, "batch_size", Interval(1, None))
    tau = check_real(temperature, "temperature", _POSITIVE)
    rate = check_real(learning_rate, "learning_rate", _POSITIVE)
    start = check_seed(seed)
    # the loss holds a few (2 batch_size, 2 batch_size) similarity matrices with their gradients
    check_size([("2 * batch_size", 2 * n_batch), ("2 * batch_size", 2 * n_batch)], limit=2**22)
    check_size([("batch_size", n_batch), ("the columns of x", inputs.shape[1])], limit=2**26)
    out = 8
    encoder = tiny_encoder(inputs.shape[1], out=out, seed=start)
    with seeded((start + 1) % (SEED_MAX + 1)):
        head = nn.Sequential(nn.ReLU(), nn.Linear(out, out))
    params = [*encoder.parameters(), *head.parameters()]
    g = torch_generator(start)

    def loss_at(step: int) -> torch.Tensor:
        batch = inputs[torch.randint(0, inputs.shape[0], (n_batch,), generator=g)]
        z1 = head(encoder(_augment(batch, directions, sigma, g)))  # two views of one batch,
        z2 = head(encoder(_augment(batch, directions, sigma, g)))  # through encoder and head
        if not (bool(torch.isfinite(z1).all()) and bool(torch.isfinite(z2).all())):
            raise TrainingDiverged(
                f"training diverged at step {step}: a projection is not finite; lower the "
                "learning rate or scale down x"
            )
        return nt_xent_loss(z1, z2, temperature=tau)

    fit(params, loss_at, steps=n_steps, learning_rate=rate)
    return encoder


def nearest_centroid_probe(
    features: TensorLike,
    labels: TensorLike,
    *,
    per_class: int = 5,
    normalize: bool = True,
    seed: int = 0,
) -> float:
    r"""Accuracy of a nearest-centroid classifier fitted on ``per_class`` labels of each class.

    Scales each representation to unit length (``normalize=True``: the contrastive loss compares
    directions only, so the length carries nothing it was trained for), draws ``per_class``
    labelled examples of each class, averages each class's features into a
    centroid :math:`\mu_c`, and classifies every *other* example by its nearest centroid. This is
    a linear classifier, :math:`\arg\max_c\, \mu_c^\top h - \lVert\mu_c\rVert^2/2`, fitted
    without any training: a linear probe of the representation :math:`h`.

    Parameters
    ----------
    features
        Representations ``(n, d)`` (computed in float64).
    labels
        Integer classes ``(n,)``; each class needs more than ``per_class`` examples.
    per_class
        Labelled examples per class (at least 1).
    normalize
        Whether to divide each row of ``features`` by its length first (a bool).
    seed
        Seed of the choice of labelled examples.

    Returns
    -------
    float
        The fraction of the held-out examples classified correctly.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer array, a count is not an integer or ``normalize`` not
        a bool.
    ValueError
        If the shapes do not fit, a class has no more than ``per_class`` examples, or the
        features are so large that their norms or distances overflow float64.

    Examples
    --------
    >>> from conceptref.demos.selfsupervised import nearest_centroid_probe
    >>> h = [[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.0, 1.0], [0.1, 0.9], [0.2, 0.8]]
    >>> nearest_centroid_probe(h, [0, 0, 0, 1, 1, 1], per_class=1)
    1.0
    """
    h = check_tensor(features, "features", ndim=2, non_empty=True).detach().to(torch.float64)
    y = torch.from_numpy(check_int_array(labels, "labels", ndim=1).copy())
    if len(y) != len(h):
        raise ValueError(f"labels must have shape (n,) = ({len(h)},), got {tuple(y.shape)}")
    k = check_int(per_class, "per_class", Interval(1, None))
    if check_bool(normalize, "normalize"):
        if not bool(torch.isfinite(h.pow(2).sum(dim=1)).all()):
            raise ValueError("features holds a row whose squared norm overflows float64")
        h = F.normalize(h, dim=1)
    g = torch_generator(seed)
    train = torch.zeros(len(y), dtype=torch.bool)
    classes = torch.unique(y)
    for c in classes.tolist():
        members = torch.nonzero(y == c).flatten()
        if len(members) <= k:
            raise ValueError(
                f"class {c} has {len(members)} examples; it needs more than per_class = {k}"
            )
        train[members[torch.randperm(len(members), generator=g)[:k]]] = True
    centroids = torch.stack([h[train & (y == c)].mean(dim=0) for c in classes.tolist()])
    distances = torch.cdist(h[~train], centroids)
    if not bool(torch.isfinite(distances).all()):
        raise ValueError("features are too large: their distances overflow float64")
    predicted = classes[distances.argmin(dim=1)]
    return float((predicted == y[~train]).double().mean())
