"""Time conceptref's linear probe against scikit-learn's LogisticRegression at real feature sizes.

A probe on a frozen backbone meets features of a few thousand dimensions (2,048 for a
ResNet-50). For each ``d`` in ``--dims`` the script makes ``n`` Gaussian features around ``k``
class centres (seeded), fits :func:`conceptref.transfer.linear_probe` (L-BFGS to a gradient
of 1e-8) and ``LogisticRegression(C=1.0)`` (lbfgs; its default tol of 1e-4, or ``--sklearn-tol``:
1e-8 asks it for the same precision) on the same data, and prints the median of ``--repeat`` wall-clock times of each, their ratio, the iterations
and the largest difference of the predicted probabilities.

    python benchmarks/bench_probe.py [--n 10000] [--k 10] [--dims 64 256 512 2048] [--repeat 3]
                                     [--sklearn-tol 1e-4]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from conceptref.transfer import linear_probe


def problem(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features ``(n, d)`` around ``k`` random centres, and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d))
    labels = rng.integers(0, k, n)
    return 0.3 * centres[labels] + rng.standard_normal((n, d)), labels


def timed(fit: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall-clock time of ``repeat`` calls of ``fit``, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 256, 512, 2048])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sklearn-tol", type=float, default=1e-4)
    args = parser.parse_args()

    print(f"n = {args.n}, k = {args.k}, sklearn tol = {args.sklearn_tol}, median of {args.repeat}")
    print(
        f"{'d':>6} {'conceptref s':>13} {'sklearn s':>10} {'ratio':>6} {'iters':>11} {'max |dp|':>9}"
    )
    for d in args.dims:
        x, y = problem(args.n, d, args.k, args.seed)
        ours, probe = timed(lambda x=x, y=y: linear_probe(x, y, C=1.0), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs, oracle = timed(
                lambda x=x, y=y: LogisticRegression(
                    C=1.0, tol=args.sklearn_tol, max_iter=10_000
                ).fit(x, y),
                args.repeat,
            )
        gap = float(np.abs(probe.predict_proba(x) - oracle.predict_proba(x)).max())
        iterations = f"{probe.n_iter}/{int(oracle.n_iter_[0])}"
        print(
            f"{d:>6} {ours:>13.3f} {theirs:>10.3f} {ours / theirs:>6.2f} {iterations:>11} {gap:>9.1e}"
        )


if __name__ == "__main__":
    main()
