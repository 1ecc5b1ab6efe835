"""Self-supervised learning: contrastive and non-contrastive losses, and MAE's random masking.

This module is the reference implementation behind the page
:doc:`/concepts/self-supervised-learning`, tested in ``tests/test_selfsupervised.py`` against
``pytorch_metric_learning.losses.NTXentLoss`` (the contrastive losses), lightly's
``NegativeCosineSimilarity`` and ``BarlowTwinsLoss`` (the non-contrastive ones) and
``ViTMAEEmbeddings.random_masking`` of ``transformers`` (the masking).

Unlike the NumPy modules of this package, everything here is written in **PyTorch**: a
loss is a training objective, so it has to keep the autograd graph, and the page trains a small
encoder with exactly the function that the tests compare with their oracle. The
losses compute in float64 whatever they are given (NumPy arrays and lists are accepted too), and
return a 0-dimensional float64 tensor; call ``float()`` on it for a number.

The page's demonstration (toy data, a tiny encoder, contrastive pre-training and a few-label
probe) lives in :mod:`conceptref.demos.selfsupervised`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy.typing as npt
import torch
import torch.nn.functional as F

from conceptref._validation import (
    Interval,
    check_real,
    check_same_shape,
    check_tensor,
)

__all__ = [
    "MaskedTokens",
    "barlow_twins_loss",
    "info_nce_loss",
    "negative_cosine_similarity",
    "nt_xent_loss",
    "random_masking",
]

TensorLike = torch.Tensor | npt.ArrayLike


def _pair(
    z1: TensorLike, z2: TensorLike, names: tuple[str, str], *, finite_norms: bool = False
) -> tuple[torch.Tensor, ...]:
    """Validate two batches of embeddings of one shape ``(N, d)`` and return them in float64.

    With ``finite_norms``, also refuse a row whose squared norm overflows (see
    :func:`_check_norms`), as every loss built on cosine similarities must.
    """
    a = check_tensor(z1, names[0], ndim=2, non_empty=True)
    b = check_tensor(z2, names[1], ndim=2, non_empty=True)
    check_same_shape(a, b, names)
    a, b = a.to(torch.float64), b.to(torch.float64)
    if finite_norms:
        _check_norms(a, names[0])
        _check_norms(b, names[1])
    return a, b


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
        holds NaN or infinity or a row whose squared norm overflows float64 (its direction would
        be lost), or ``temperature`` is not a finite number greater than 0.

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
    a, b = _pair(z1, z2, ("z1", "z2"), finite_norms=True)
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
    q, k = _pair(query, key, ("query", "key"), finite_norms=True)
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
    a, b = _pair(p, z, ("p", "z"), finite_norms=True)
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
    standardized = F.batch_norm(z, None, None, training=True, eps=_BATCH_NORM_EPS)
    if not bool(torch.isfinite(standardized.detach()).all()):
        raise ValueError(f"{name} is too large to standardize: a column overflows float64")
    return standardized


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
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    ratio = check_real(mask_ratio, "mask_ratio")
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


def _as_temperature(value: object) -> float:
    """Return a temperature greater than 0 whose inverse (the similarity scale) is finite."""
    tau = check_real(value, "temperature", Interval(0, None, "neither"))
    if not math.isfinite(1.0 / tau):
        raise ValueError(f"temperature is too small: 1 / temperature overflows float64, got {tau}")
    return tau
