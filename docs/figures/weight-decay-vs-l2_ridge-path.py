"""Norm of the L2-regularized least-squares weights and their error on new data against λ."""

import matplotlib.pyplot as plt
import numpy as np

LAMBDAS = np.logspace(-4, 1.5, 80)


def data() -> tuple[np.ndarray, np.ndarray]:
    """Weight norms and mean squared errors on 1,000 new points, one per value in LAMBDAS."""
    rng = np.random.default_rng(0)
    n, d = 30, 20  # 30 training points, 20 features ...
    w_true = np.zeros(d)
    w_true[:3] = [2.0, -1.0, 0.5]  # ... of which 3 matter
    x, x_new = rng.standard_normal((n, d)), rng.standard_normal((1000, d))
    y = x @ w_true + 0.5 * rng.standard_normal(n)
    y_new = x_new @ w_true + 0.5 * rng.standard_normal(1000)
    # The minimizer of ||Xw - y||² / 2n + λ ||w||² / 2, for each λ.
    fits = [np.linalg.solve(x.T @ x + n * lam * np.eye(d), x.T @ y) for lam in LAMBDAS]
    norms = np.array([np.linalg.norm(w) for w in fits])
    errors = np.array([np.mean((x_new @ w - y_new) ** 2) for w in fits])
    return norms, errors


def draw(data: tuple[np.ndarray, np.ndarray], _) -> None:
    norms, errors = data
    best = int(np.argmin(errors))
    _figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.semilogx(LAMBDAS, norms)
    left.set(xlabel=r"$\lambda$", ylabel=r"$\|w_\lambda\|$", title=_("weights shrink"))
    right.semilogx(LAMBDAS, errors)
    best_label = _(r"best $\lambda$ = {value:.3g}").format(value=LAMBDAS[best])
    right.plot(LAMBDAS[best], errors[best], "o", label=best_label)
    right.set(xlabel=r"$\lambda$", ylabel=_("MSE on new data"), title=_("error on new data"))
    right.legend()


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
