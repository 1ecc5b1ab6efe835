"""Demonstrations: the toy data sets and small training runs that the concept pages show.

The formula modules (:mod:`conceptref.vae`, :mod:`conceptref.diffusion`, …) hold what a page
quotes and tests against an oracle; this subpackage holds what a page *runs* to show it at
work: a toy data set, a tiny model, a seeded training loop. Every training run here

* takes a keyword ``seed`` and leaves the caller's global random state unchanged
  (:mod:`conceptref._random`);
* steps with the package's one written-out Adam, :class:`conceptref.regularization.Adam`
  (equal to :class:`torch.optim.Adam`), through :func:`conceptref.demos._training.fit`;
* stops with ``training diverged at step N`` on a non-finite loss or parameter.
"""
