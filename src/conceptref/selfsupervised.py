"""Self-supervised learning: contrastive losses, MAE's random masking and a tiny demonstration.

This module is the reference implementation behind the page
:doc:`/concepts/self-supervised-learning`, tested in ``tests/test_selfsupervised.py`` against
``pytorch_metric_learning.losses.NTXentLoss`` (the contrastive losses) and against
``ViTMAEEmbeddings.random_masking`` of ``transformers`` (the masking).

Unlike the NumPy modules of this package, everything here is written in **PyTorch**: a
contrastive loss is a training objective, so it has to keep the autograd graph, and the page
trains a small encoder with exactly the function that the tests compare with their oracle. The
losses compute in float64 whatever they are given (NumPy arrays and lists are accepted too), and
return a 0-dimensional float64 tensor; call ``float()`` on it for a number.

The last part of the module makes the page's demonstration: data in which the class lives in a
two-dimensional *content* subspace while a larger *style* subspace carries most of the variance,
an augmentation that adds noise along one chosen subspace, contrastive pre-training of a tiny
encoder, and a few-label linear probe.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from conceptref._validation import (
    Interval,
    as_finite_float,
    as_int,
    as_positive_float,
    as_positive_int,
    check_real,
    check_same_shape,
    check_tensor,
)

__all__ = [
    "ContentStyleData",
    "MaskedTokens",
    "augment",
    "barlow_twins_loss",
    "content_style_data",
    "contrastive_pretrain",
    "info_nce_loss",
    "nearest_centroid_probe",
    "negative_cosine_similarity",
    "nt_xent_loss",
    "random_masking",
    "tiny_encoder",
]

TensorLike = torch.Tensor | npt.ArrayLike


def _pair(z1: TensorLike, z2: TensorLike, names: tuple[str, str]) -> tuple[torch.Tensor, ...]:
    """Validate two batches of embeddings of one shape ``(N, d)`` and return them in float64."""
    a = check_tensor(z1, names[0], ndim=2, non_empty=True)
    b = check_tensor(z2, names[1], ndim=2, non_empty=True)
    check_same_shape(a, b, names)
    return a.to(torch.float64), b.to(torch.float64)


def _contrastive(sim: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    r"""Mean over anchors of :math:`-\log \frac{e^{s_{ip}}}{e^{s_{ip}} + \sum_n e^{s_{in}}}`.

    ``sim`` holds the scaled similarities ``(A, M)``; ``positive`` the column of each anchor's
    positive ``(A,)``; ``negative`` a boolean ``(A, M)`` marking its negatives. Written in the
    same steps as pytorch-metric-learning's NTXentLoss (shift by the row maximum, then
    ``-log(numerator / denominator + tiny)``), so that the two agree to rounding.
    """
    rows = torch.arange(sim.shape[0])
    pos = sim[rows, positive]  # (A,)
    finfo = torch.finfo(sim.dtype)
    neg = sim.masked_fill(~negative, finfo.min)  # (A, M); non-negatives contribute exp(...) = 0
    shift = torch.maximum(pos, neg.max(dim=1).values).detach()
    numerator = torch.exp(pos - shift)
    denominator = torch.exp(neg - shift[:, None]).sum(dim=1) + numerator
    return -torch.log(numerator / denominator + finfo.tiny).mean()


def nt_xent_loss(z1: TensorLike, z2: TensorLike, temperature: float = 0.07) -> torch.Tensor:
    r"""SimCLR's normalized temperature-scaled cross-entropy (NT-Xent) over the 2N views.

    The two batches hold two augmented views of the same :math:`N` examples: row :math:`k` of
    ``z1`` and row :math:`k` of ``z2`` come from example :math:`k`. Stack them into
    :math:`2N` vectors and write :math:`\operatorname{sim}(u, v) = u^\top v / \lVert u\rVert
    \lVert v\rVert`. Each view :math:`i` is an anchor whose positive is the other view
    :math:`p(i)` of its example, and whose negatives are the other :math:`2(N-1)` views:

    .. math:: \ell_i = -\log \frac{\exp(\operatorname{sim}(z_i, z_{p(i)})/\tau)}
              {\sum_{k \ne i} \exp(\operatorname{sim}(z_i, z_k)/\tau)}, \qquad
              \mathcal{L} = \frac{1}{2N} \sum_{i=1}^{2N} \ell_i .

    This is ``pytorch_metric_learning.losses.NTXentLoss(temperature)`` applied to
    ``torch.cat([z1, z2])`` with ``labels = torch.arange(N).repeat(2)``: the mean over the
    :math:`2N` positive pairs, cosine similarity with vectors normalized as
    :func:`torch.nn.functional.normalize` does (a zero vector has similarity 0 with everything),
    and the same guard ``-log(p + tiny)`` (with ``tiny`` the smallest normal float64), which caps
    a single term at about 708 when :math:`p` underflows to 0.

    Parameters
    ----------
    z1, z2
        Embeddings of the two views, each of shape ``(N, d)``: tensors of any real dtype
        (``requires_grad`` is kept, so the loss can be minimized), NumPy arrays or lists.
    temperature
        :math:`\tau > 0`. The default, 0.07, is pytorch-metric-learning's; SimCLR tunes it
        together with the batch size.

    Returns
    -------
    torch.Tensor
        The loss, a 0-dimensional float64 tensor (differentiable when the inputs are). With
        :math:`N = 1` there are no negatives and the loss is 0.

    Raises
    ------
    TypeError
        If an input holds booleans or complex numbers, or ``temperature`` is not a real number.
    ValueError
        If an input is not two-dimensional or has an empty axis, the shapes differ, an input
        holds NaN or infinity, or ``temperature`` is not a finite number greater than 0.

    See Also
    --------
    info_nce_loss : one direction only, with the other batch as the candidates.

    References
    ----------
    T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework for Contrastive Learning of
    Visual Representations", ICML 2020, arXiv:2002.05709.

    Examples
    --------
    Two examples whose views agree are easy to tell apart; swapping the second views makes
    every positive pair a negative one:

    >>> from conceptref.selfsupervised import nt_xent_loss
    >>> z1 = [[1.0, 0.0], [0.0, 1.0]]
    >>> round(float(nt_xent_loss(z1, z1, temperature=0.5)), 4)
    0.2395
    >>> round(float(nt_xent_loss(z1, z1[::-1], temperature=0.5)), 4)
    2.2395
    """
    tau = _as_temperature(temperature)
    a, b = _pair(z1, z2, ("z1", "z2"))
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b]), dim=1)  # (2N, d), unit rows (zero rows stay zero)
    sim = z @ z.T / tau  # (2N, 2N)
    anchors = torch.arange(2 * n)
    positive = (anchors + n) % (2 * n)  # the other view of the same example
    negative = torch.ones(2 * n, 2 * n, dtype=torch.bool)
    negative[anchors, anchors] = False
    negative[anchors, positive] = False
    return _contrastive(sim, positive, negative)


def info_nce_loss(query: TensorLike, key: TensorLike, temperature: float = 0.07) -> torch.Tensor:
    r"""InfoNCE in one direction: pick each query's own key among all :math:`N` keys.

    .. math:: \mathcal{L} = -\frac{1}{N} \sum_{i=1}^{N} \log
              \frac{\exp(\operatorname{sim}(q_i, k_i)/\tau)}
              {\sum_{j=1}^{N} \exp(\operatorname{sim}(q_i, k_j)/\tau)},

    with cosine similarity: a cross-entropy over :math:`N` candidates whose right answer is on
    the diagonal, so :math:`\log N - \mathcal{L}` is the InfoNCE lower bound on the mutual
    information between the two views. It equals
    ``F.cross_entropy(sim(query, key) / temperature, torch.arange(N))`` as long as no
    probability underflows to 0 (like :func:`nt_xent_loss`, each term is capped near 708, as
    the oracle caps it), and
    pytorch-metric-learning's ``SelfSupervisedLoss(NTXentLoss(temperature), symmetric=False)``.
    Unlike :func:`nt_xent_loss` it has :math:`N - 1` negatives per anchor (the other keys), not
    :math:`2(N - 1)`, and one direction only.

    Parameters
    ----------
    query, key
        Arrays of shape ``(N, d)``; ``key[i]`` is the positive of ``query[i]``. Same types as in
        :func:`nt_xent_loss`.
    temperature
        :math:`\tau > 0`.

    Returns
    -------
    torch.Tensor
        The loss, a 0-dimensional float64 tensor.

    Raises
    ------
    TypeError, ValueError
        On the same bad input as :func:`nt_xent_loss` (with ``query`` and ``key`` named).

    References
    ----------
    A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with Contrastive Predictive
    Coding", arXiv:1807.03748, 2018.

    Examples
    --------
    With orthogonal keys and :math:`\tau = 1`, each query scores :math:`e^1` on its key and
    :math:`e^0` on the other:

    >>> import math
    >>> from conceptref.selfsupervised import info_nce_loss
    >>> eye = [[1.0, 0.0], [0.0, 1.0]]
    >>> round(float(info_nce_loss(eye, eye, temperature=1.0)), 6)
    0.313262
    >>> round(-math.log(math.e / (math.e + 1)), 6)
    0.313262
    """
    tau = _as_temperature(temperature)
    q, k = _pair(query, key, ("query", "key"))
    n = q.shape[0]
    sim = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / tau  # (N, N)
    negative = ~torch.eye(n, dtype=torch.bool)
    return _contrastive(sim, torch.arange(n), negative)


def negative_cosine_similarity(p: TensorLike, z: TensorLike) -> torch.Tensor:
    r"""SimSiam's loss: minus the mean cosine similarity of each prediction and its target.

    .. math:: \mathcal{L} = -\frac{1}{N} \sum_{i=1}^{N}
              \frac{p_i^\top z_i}{\max(\lVert p_i\rVert, \epsilon)\,\max(\lVert z_i\rVert,
              \epsilon)}, \qquad \epsilon = 10^{-8},

    row by row. In SimSiam and BYOL, :math:`p` is the predictor's output for one view and
    :math:`z` the embedding of the other view, with the gradient stopped (pass ``z.detach()``):
    the two branches are not symmetric, which is what keeps the embeddings from collapsing to
    a constant without any negative pair. This is lightly's ``NegativeCosineSimilarity()``
    (``dim=1``, ``eps=1e-8``, the clamp of :func:`torch.nn.functional.cosine_similarity`): a
    row whose norm is below :math:`\epsilon` counts as having norm :math:`\epsilon`, so a zero
    row scores 0.

    Parameters
    ----------
    p, z
        Arrays of shape ``(N, d)``: tensors of any real dtype (``requires_grad`` is kept),
        NumPy arrays or lists. The loss is computed in float64.

    Returns
    -------
    torch.Tensor
        The loss, a 0-dimensional float64 tensor in ``[-1, 1]``; -1 when every row of ``p``
        points the same way as its row of ``z``.

    Raises
    ------
    TypeError
        If an input holds booleans, complex numbers or strings.
    ValueError
        If an input is not two-dimensional or has an empty axis, the shapes differ, an input
        holds NaN or infinity, or the norm of a row overflows float64.

    References
    ----------
    X. Chen, K. He, "Exploring Simple Siamese Representation Learning", CVPR 2021,
    arXiv:2011.10566.

    Examples
    --------
    >>> from conceptref.selfsupervised import negative_cosine_similarity
    >>> float(negative_cosine_similarity([[1.0, 0.0], [0.0, 2.0]], [[3.0, 0.0], [1.0, 0.0]]))
    -0.5
    """
    a, b = _pair(p, z, ("p", "z"))
    _check_norms(a, "p")
    _check_norms(b, "z")
    return -F.cosine_similarity(a, b, dim=1, eps=_COSINE_EPS).mean()


def barlow_twins_loss(
    z1: TensorLike, z2: TensorLike, *, lambda_param: float = 5e-3
) -> torch.Tensor:
    r"""Barlow Twins: the cross-correlation of two views' embeddings driven to the identity.

    Each column of ``z1`` and ``z2`` is standardized over the batch (batch normalization without
    a learned scale: mean 0, variance 1 with the biased variance and :math:`\epsilon = 10^{-5}`),
    giving :math:`\hat z^A, \hat z^B`; their cross-correlation matrix is
    :math:`C = \hat z^{A\top} \hat z^B / N` (:math:`d \times d`), and

    .. math:: \mathcal{L} = \sum_{i} (1 - C_{ii})^2 + \lambda \sum_{i} \sum_{j \ne i} C_{ij}^2 .

    The first term makes each dimension agree between the two views (invariance); the second
    makes different dimensions uncorrelated (redundancy reduction), which rules out the
    collapsed solution without negative pairs. This is lightly's ``BarlowTwinsLoss(lambda_param)``
    (Algorithm 1 of the paper, its batch normalization included).

    Parameters
    ----------
    z1, z2
        Embeddings of the two views, each of shape ``(N, d)`` with :math:`N \ge 2` (a batch of one
        has no variance to standardize by). Same types as in :func:`nt_xent_loss`; computed in
        float64.
    lambda_param
        :math:`\lambda \ge 0`, the weight of the redundancy term; the paper's default 0.005.

    Returns
    -------
    torch.Tensor
        The loss, a 0-dimensional float64 tensor, at least 0.

    Raises
    ------
    TypeError
        If an input holds booleans or complex numbers, or ``lambda_param`` is not a real number.
    ValueError
        If an input is not two-dimensional, has an empty axis or a single row, the shapes differ,
        an input holds NaN or infinity or is so large that the variance of a column overflows
        float64, or ``lambda_param`` is negative or not finite.

    References
    ----------
    J. Zbontar, L. Jing, I. Misra, Y. LeCun, S. Deny, "Barlow Twins: Self-Supervised Learning
    via Redundancy Reduction", ICML 2021, arXiv:2103.03230.

    Examples
    --------
    Two views whose standardized columns are equal and uncorrelated give :math:`C = I` (up to
    the :math:`\epsilon` of the batch normalization), so the loss is about 0:

    >>> from conceptref.selfsupervised import barlow_twins_loss
    >>> z = [[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]
    >>> round(float(barlow_twins_loss(z, z)), 6)
    0.0

    A second view whose two columns are copies of the first view's second column: dimension 0
    no longer agrees (:math:`C_{00} = 0`, invariance term 1), and dimension 1 of one view
    correlates with dimension 0 of the other (:math:`C_{10} = 1`, redundancy term
    :math:`\lambda \cdot 1`):

    >>> copies = [[1.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [-1.0, -1.0]]
    >>> round(float(barlow_twins_loss(z, copies)), 4)
    1.005
    """
    weight = check_real(lambda_param, "lambda_param", Interval(0, None))
    a, b = _pair(z1, z2, ("z1", "z2"))
    n = a.shape[0]
    if n < 2:
        raise ValueError(
            f"z1 and z2 must have at least 2 rows (the batch normalization divides by the "
            f"batch's standard deviation), got {n}"
        )
    a, b = _standardize(a, "z1"), _standardize(b, "z2")
    c = a.T @ b / n  # (d, d) cross-correlation
    on_diagonal = torch.diagonal(c)
    invariance = (on_diagonal - 1).pow(2).sum()
    redundancy = c.pow(2).sum() - on_diagonal.pow(2).sum()
    return invariance + weight * redundancy


_COSINE_EPS = 1e-8  # torch.nn.functional.cosine_similarity's default, as lightly uses it
_BATCH_NORM_EPS = 1e-5  # torch.nn.functional.batch_norm's default


def _check_norms(z: torch.Tensor, name: str) -> None:
    """Raise ValueError if the squared norm of a row of ``z`` overflows (the cosine would be 0)."""
    if not bool(torch.isfinite(z.detach().pow(2).sum(dim=1)).all()):
        raise ValueError(f"{name} holds a row whose squared norm overflows float64; scale it down")


def _standardize(z: torch.Tensor, name: str) -> torch.Tensor:
    """Batch normalization in training mode without scale or shift (lightly's ``_normalize``)."""
    var, mean = torch.var_mean(z.detach(), dim=0, correction=0)
    if not (bool(torch.isfinite(var).all()) and bool(torch.isfinite(mean).all())):
        raise ValueError(
            f"{name} is too large to standardize: the variance of a column overflows float64; "
            "scale it down"
        )
    return F.batch_norm(z, None, None, training=True, eps=_BATCH_NORM_EPS)


class MaskedTokens(NamedTuple):
    """What :func:`random_masking` returns, in the order MAE returns it."""

    kept: torch.Tensor
    """The visible tokens, shape ``(B, len_keep, D)``, same dtype as the input."""
    mask: torch.Tensor
    """``(B, L)`` in the default float dtype: 0 for a kept token, 1 for a removed one."""
    ids_restore: torch.Tensor
    """``(B, L)`` int64: the permutation that puts shuffled tokens back in their places."""


def random_masking(
    x: TensorLike,
    mask_ratio: float,
    noise: TensorLike | None = None,
    *,
    generator: torch.Generator | None = None,
) -> MaskedTokens:
    r"""Keep a random subset of each sequence's tokens, as the masked autoencoder (MAE) does.

    Each sequence draws one noise value per token; the ``len_keep = int(L * (1 - mask_ratio))``
    tokens with the *smallest* noise are kept, in that order. ``ids_shuffle = argsort(noise)``
    and ``ids_restore = argsort(ids_shuffle)``, so that the decoder can put tokens back with
    ``gather(..., ids_restore)``. This is ``ViTMAEEmbeddings.random_masking`` of
    ``transformers`` step for step: given the same noise, the results are identical (ties in the
    noise are broken by :func:`torch.argsort` exactly as there).

    Parameters
    ----------
    x
        Tokens of shape ``(B, L, D)`` (batch, sequence length, width): a tensor of any real dtype,
        or an array. The result keeps its dtype and its autograd graph, because in MAE the
        encoder is trained through the kept tokens.
    mask_ratio
        The fraction to remove, in ``[0, 1]`` (MAE uses 0.75). The number kept is rounded down
        with Python's float arithmetic, exactly as in ``transformers`` (so ``L = 10`` and
        ``mask_ratio = 0.9`` keep ``int(10 * 0.09999999999999998) = 0`` tokens).
    noise
        Optional ``(B, L)`` real tensor or array; ``None`` draws :func:`torch.rand` noise with
        ``generator``.
    generator
        The random generator used when ``noise`` is ``None``.

    Returns
    -------
    MaskedTokens
        ``(kept, mask, ids_restore)``: ``kept`` of shape ``(B, len_keep, D)``; ``mask`` of shape
        ``(B, L)`` in the default float dtype (float32) with 1 for a *removed* token;
        ``ids_restore`` of shape ``(B, L)``, int64.

    Raises
    ------
    TypeError
        If ``x`` or ``noise`` holds booleans or complex numbers, or ``mask_ratio`` is not a real
        number.
    ValueError
        If ``x`` is not three-dimensional or has an empty axis, ``noise`` is not of shape
        ``(B, L)``, either holds NaN or infinity, or ``mask_ratio`` lies outside ``[0, 1]``.

    References
    ----------
    K. He, X. Chen, S. Xie, Y. Li, P. Dollár, R. Girshick, "Masked Autoencoders Are Scalable
    Vision Learners", CVPR 2022, arXiv:2111.06377.

    Examples
    --------
    >>> import torch
    >>> from conceptref.selfsupervised import random_masking
    >>> x = torch.arange(8.0).reshape(1, 4, 2)       # one sequence of 4 tokens of width 2
    >>> noise = torch.tensor([[0.4, 0.1, 0.9, 0.2]])
    >>> kept, mask, ids_restore = random_masking(x, 0.5, noise)
    >>> kept.tolist()                                   # tokens 1 and 3: the smallest noise
    [[[2.0, 3.0], [6.0, 7.0]]]
    >>> mask.tolist(), ids_restore.tolist()
    ([[1.0, 0.0, 1.0, 0.0]], [[2, 0, 3, 1]])
    """
    tokens = check_tensor(x, "x", ndim=3, non_empty=True)
    ratio = as_finite_float(mask_ratio, "mask_ratio")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"mask_ratio must lie in [0, 1], got {mask_ratio}")
    batch, length, dim = tokens.shape
    if noise is None:
        scores = torch.rand(batch, length, generator=generator, device=tokens.device)
    else:
        scores = check_tensor(noise, "noise", ndim=2, non_empty=True).detach()
        if tuple(scores.shape) != (batch, length):
            raise ValueError(
                f"noise must have shape (B, L) = {(batch, length)}, got {tuple(scores.shape)}"
            )
    len_keep = int(length * (1 - ratio))

    ids_shuffle = torch.argsort(scores, dim=1).to(tokens.device)  # (B, L): ascending noise
    ids_restore = torch.argsort(ids_shuffle, dim=1).to(tokens.device)  # (B, L): its inverse
    ids_keep = ids_shuffle[:, :len_keep]  # (B, len_keep)
    kept = torch.gather(tokens, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, dim))
    mask = torch.ones([batch, length], device=tokens.device)  # 1 = removed ...
    mask[:, :len_keep] = 0  # ... 0 = kept, in shuffled order,
    mask = torch.gather(mask, dim=1, index=ids_restore)  # then put back in token order
    return MaskedTokens(kept, mask, ids_restore)


# --- The demonstration: content and style -------------------------------------------------


class ContentStyleData(NamedTuple):
    """A labelled data set whose class lives in a known subspace; see :func:`content_style_data`."""

    x: torch.Tensor
    """Inputs ``(n, dim)``, float32."""
    labels: torch.Tensor
    """Class of each row ``(n,)``, int64, in blocks: ``n_per_class`` rows of class 0 first."""
    content_basis: torch.Tensor
    """Orthonormal columns ``(dim, 2)`` spanning the directions that carry the class."""
    style_basis: torch.Tensor
    """Orthonormal columns ``(dim, dim - 2)`` spanning the directions that do not."""


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
        Examples per class.
    n_classes
        Number of classes (at least 2), evenly spaced on the circle.
    dim
        Input width (at least 3).
    radius, content_std, style_std
        Distance of the class centres from the origin, and the standard deviations of the content
        noise and of the style.
    seed
        Seed of the rotation and of the samples.

    Returns
    -------
    ContentStyleData
        ``(x, labels, content_basis, style_basis)``; the bases are the columns of :math:`Q`.

    Raises
    ------
    TypeError
        If an argument is not a number of the right kind.
    ValueError
        If a count is too small or a scale is not a finite number greater than 0 (``seed``: at
        least 0).

    Examples
    --------
    >>> from conceptref.selfsupervised import content_style_data
    >>> data = content_style_data(3, n_classes=2, dim=4)
    >>> tuple(data.x.shape), data.labels.tolist()
    ((6, 4), [0, 0, 0, 1, 1, 1])
    >>> tuple(data.content_basis.shape), tuple(data.style_basis.shape)
    ((4, 2), (4, 2))
    """
    per_class = as_positive_int(n_per_class, "n_per_class")
    classes = as_int(n_classes, "n_classes", minimum=2)
    width = as_int(dim, "dim", minimum=3)
    r = as_positive_float(radius, "radius")
    c_std = as_positive_float(content_std, "content_std")
    s_std = as_positive_float(style_std, "style_std")
    g = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))

    q, _ = torch.linalg.qr(torch.randn(width, width, generator=g))  # a random rotation
    labels = torch.arange(classes).repeat_interleave(per_class)  # (n,)
    angle = 2 * math.pi * labels / classes
    centres = r * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (n, 2)
    content = centres + c_std * torch.randn(len(labels), 2, generator=g)  # (n, 2)
    style = s_std * torch.randn(len(labels), width - 2, generator=g)  # (n, dim - 2)
    x = torch.cat([content, style], dim=1) @ q.T  # (n, dim)
    return ContentStyleData(x, labels, q[:, :2].contiguous(), q[:, 2:].contiguous())


def augment(
    x: torch.Tensor, basis: torch.Tensor, scale: float, generator: torch.Generator
) -> torch.Tensor:
    r"""Make a random view of each row of ``x``: Gaussian noise of ``scale`` along ``basis`` only.

    .. math:: \tilde x = x + B\,\varepsilon, \qquad \varepsilon \sim
              \mathcal{N}(0, \text{scale}^2 I_k),

    where the :math:`k` columns of :math:`B` span the directions that the augmentation declares
    irrelevant. Two calls give two views of the same examples.

    Parameters
    ----------
    x
        Inputs ``(n, dim)``.
    basis
        ``(dim, k)``, typically ``data.style_basis`` (the right choice) or
        ``data.content_basis`` (the wrong one).
    scale
        Standard deviation of the noise, at least 0.
    generator
        Source of the noise.

    Returns
    -------
    torch.Tensor
        The views, shape ``(n, dim)``.

    Raises
    ------
    ValueError
        If the shapes do not fit or ``scale`` is negative or not finite.

    Examples
    --------
    >>> import torch
    >>> from conceptref.selfsupervised import augment, content_style_data
    >>> data = content_style_data(2, n_classes=2, dim=4)
    >>> view = augment(data.x, data.style_basis, 1.0, torch.Generator().manual_seed(0))
    >>> change = view - data.x                 # lies in the style subspace only:
    >>> bool(torch.allclose(change @ data.content_basis, torch.zeros(4, 2), atol=1e-5))
    True
    """
    if x.ndim != 2 or basis.ndim != 2 or basis.shape[0] != x.shape[1]:
        raise ValueError(
            f"x must be (n, dim) and basis (dim, k), got {tuple(x.shape)} and {tuple(basis.shape)}"
        )
    if not math.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a finite number of at least 0, got {scale}")
    noise = torch.randn(x.shape[0], basis.shape[1], generator=generator, dtype=x.dtype)
    return x + scale * noise @ basis.T


def tiny_encoder(dim: int, *, width: int = 32, out: int = 8, seed: int = 0) -> nn.Sequential:
    """Build a two-layer perceptron ``dim → width → out`` with seeded initial weights.

    Parameters
    ----------
    dim, width, out
        Input, hidden and output widths (each at least 1).
    seed
        Seed of the initial weights.

    Returns
    -------
    torch.nn.Sequential
        ``Linear(dim, width), ReLU(), Linear(width, out)``; float32.

    Examples
    --------
    >>> from conceptref.selfsupervised import tiny_encoder
    >>> tiny_encoder(10)
    Sequential(
      (0): Linear(in_features=10, out_features=32, bias=True)
      (1): ReLU()
      (2): Linear(in_features=32, out_features=8, bias=True)
    )
    """
    sizes = [as_positive_int(v, n) for v, n in ((dim, "dim"), (width, "width"), (out, "out"))]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(as_int(seed, "seed", minimum=0))
        return nn.Sequential(
            nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2])
        )


def contrastive_pretrain(
    x: torch.Tensor,
    basis: torch.Tensor,
    *,
    scale: float = 3.0,
    steps: int = 100,
    batch_size: int = 128,
    temperature: float = 0.2,
    lr: float = 0.01,
    seed: int = 0,
) -> nn.Sequential:
    r"""Train :func:`tiny_encoder` with SimCLR's recipe on ``x``, without any label.

    Each step draws a batch, makes two views of it with :func:`augment` along ``basis``, passes
    both through the encoder :math:`f` and a projection head :math:`g` (``ReLU, Linear``), and
    takes an Adam step (with Adam's default betas) on :func:`nt_xent_loss` of the two projections. The head is discarded
    afterwards: the returned encoder gives the representation :math:`h = f(x)` that downstream
    tasks use, as in SimCLR.

    Parameters
    ----------
    x
        Unlabelled inputs ``(n, dim)``.
    basis
        The directions the augmentation perturbs (see :func:`augment`).
    scale
        Standard deviation of the augmentation noise.
    steps, batch_size
        Number of Adam steps and examples per batch (:math:`N`; the loss sees :math:`2N` views).
    temperature, lr
        The loss's :math:`\tau` and Adam's learning rate.
    seed
        Seed of the initial weights, the batches and the views.

    Returns
    -------
    torch.nn.Sequential
        The trained encoder :math:`f` (the projection head is dropped).

    Raises
    ------
    TypeError, ValueError
        If a count or a number is invalid, as in :func:`tiny_encoder` and :func:`augment`.

    Examples
    --------
    >>> import torch
    >>> from conceptref.selfsupervised import content_style_data, contrastive_pretrain
    >>> torch.set_num_threads(1)
    >>> data = content_style_data(50, seed=0)
    >>> f = contrastive_pretrain(data.x, data.style_basis, steps=5, seed=0)
    >>> tuple(f(data.x).shape)
    (200, 8)
    """
    n_steps = as_positive_int(steps, "steps")
    n_batch = as_positive_int(batch_size, "batch_size")
    tau = _as_temperature(temperature)
    rate = as_positive_float(lr, "lr")
    out = 8
    encoder = tiny_encoder(x.shape[1], out=out, seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(as_int(seed, "seed", minimum=0) + 1)
        head = nn.Sequential(nn.ReLU(), nn.Linear(out, out))
    params = [*encoder.parameters(), *head.parameters()]
    first = [torch.zeros_like(p) for p in params]  # Adam's running moments, written out
    second = [torch.zeros_like(p) for p in params]  # (torch.optim costs seconds to import)
    g = torch.Generator().manual_seed(seed)
    for t in range(1, n_steps + 1):
        batch = x[torch.randint(0, x.shape[0], (n_batch,), generator=g)]
        z1 = head(encoder(augment(batch, basis, scale, g)))  # two views of the same batch,
        z2 = head(encoder(augment(batch, basis, scale, g)))  # through encoder and head
        loss = nt_xent_loss(z1, z2, temperature=tau)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, grad, m, v in zip(params, grads, first, second, strict=True):
                m.mul_(0.9).add_(grad, alpha=0.1)
                v.mul_(0.999).addcmul_(grad, grad, value=0.001)
                step = (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
                p.sub_(rate * step)
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
        Representations ``(n, d)``.
    labels
        Integer classes ``(n,)``; each class needs more than ``per_class`` examples.
    per_class
        Labelled examples per class.
    normalize
        Whether to divide each row of ``features`` by its length first.
    seed
        Seed of the choice of labelled examples.

    Returns
    -------
    float
        The fraction of the held-out examples classified correctly.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer array or a count is not an integer.
    ValueError
        If the shapes do not fit, or a class has no more than ``per_class`` examples.

    Examples
    --------
    >>> from conceptref.selfsupervised import nearest_centroid_probe
    >>> h = [[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.0, 1.0], [0.1, 0.9], [0.2, 0.8]]
    >>> nearest_centroid_probe(h, [0, 0, 0, 1, 1, 1], per_class=1)
    1.0
    """
    h = check_tensor(features, "features", ndim=2, non_empty=True).detach().to(torch.float64)
    if normalize:
        h = F.normalize(h, dim=1)
    y = torch.as_tensor(np.asarray(labels))
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"labels must be an array of integers, got dtype {y.dtype}")
    if y.ndim != 1 or len(y) != len(h):
        raise ValueError(f"labels must have shape (n,) = ({len(h)},), got {tuple(y.shape)}")
    k = as_positive_int(per_class, "per_class")
    g = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
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
    predicted = classes[torch.cdist(h[~train], centroids).argmin(dim=1)]
    return float((predicted == y[~train]).double().mean())


def _as_temperature(value: object) -> float:
    """Return a temperature greater than 0 whose inverse (the similarity scale) is finite."""
    tau = as_positive_float(value, "temperature")
    if not math.isfinite(1.0 / tau):
        raise ValueError(f"temperature is too small: 1 / temperature overflows float64, got {tau}")
    return tau
