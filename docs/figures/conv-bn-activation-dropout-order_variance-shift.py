"""The variance shift of inverted dropout: closed form (lines) and measured (dots)."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.batchnorm import expected_variance_shift, measure_variance_shift

MEANS = [0.0, 0.5, 1.0, 2.0]
RATES = np.linspace(0.0, 0.9, 91)
MEASURED_RATES = [0.1, 0.3, 0.5, 0.7]


def data() -> dict[float, tuple[list[float], list[float]]]:
    """For each unit mean: the expected shift at RATES and the measured one at MEASURED_RATES."""
    return {
        mean: (
            [expected_variance_shift(p, mean=mean).shift for p in RATES],
            [measure_variance_shift(p, mean=mean).shift for p in MEASURED_RATES],
        )
        for mean in MEANS
    }


def draw(data: dict[float, tuple[list[float], list[float]]], _) -> None:
    _figure, ax = plt.subplots(figsize=(7, 3.8))
    for (mean, (expected, measured)), color in zip(
        data.items(), ["C0", "C1", "C2", "C3"], strict=True
    ):
        ax.plot(RATES, expected, color=color, label=rf"$\mu = {mean:g}$")
        ax.plot(MEASURED_RATES, measured, "o", color=color)
    ax.set(
        xlabel=_("dropout rate $p$"),
        ylabel=_(r"$\Delta$ = Var$_\mathrm{eval}$ / Var$_\mathrm{train}$"),
        xlim=(0, 0.9),
        ylim=(0, 1.02),
    )
    ax.grid(alpha=0.3)
    ax.legend(title=_(r"unit mean ($\sigma = 1$)"), loc="upper right")


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
