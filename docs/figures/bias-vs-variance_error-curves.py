"""Bias², variance and expected squared error of polynomial fits against their degree."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.diagnosis import BiasVariance, bias_variance_decomposition, polynomial_fits

NOISE_STD = 0.3
DEGREES = list(range(11))


def f(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def data() -> list[BiasVariance]:
    """The decomposition for each degree in DEGREES (2,000 training sets of 20 points)."""
    x_train, x_test = np.linspace(0, 1, 20), np.linspace(0, 1, 25)
    fits = polynomial_fits(
        f, x_train, x_test, DEGREES, noise_std=NOISE_STD, repeats=2000,
        seed=0,
    )  # fmt: skip
    return [bias_variance_decomposition(fit, f(x_test), NOISE_STD**2) for fit in fits]


def draw(data: list[BiasVariance], _) -> None:
    parts = data
    _figure, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(DEGREES, [p.bias_squared for p in parts], "o-", label=_("bias²"))
    ax.plot(DEGREES, [p.variance for p in parts], "s-", label=_("variance"))
    ax.plot(DEGREES, [p.expected_error for p in parts], "^-", label=_("bias² + variance + noise"))
    ax.axhline(NOISE_STD**2, color="gray", linestyle=":", label=_("noise σ²"))
    ax.set(
        xlabel=_("polynomial degree (model complexity)"),
        ylabel=_("squared error"),
        yscale="log",
    )
    ax.legend()


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
