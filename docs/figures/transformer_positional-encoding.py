"""The sinusoidal positional-encoding matrix (interleaved sin/cos columns) as a heat map."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.transformer import sinusoidal_positional_encoding


def data() -> np.ndarray:
    """The encoding of 64 positions in 128 columns."""
    return sinusoidal_positional_encoding(64, 128)


def draw(data: np.ndarray, _) -> None:
    pe = data
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    image = ax.imshow(pe, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    ax.set_xlabel(_("column (even: sin, odd: cos)"))
    ax.set_ylabel(_("position"))
    ax.set_title(_("PE, 64 positions x 128 columns"))
    fig.colorbar(image, ax=ax, fraction=0.05)
    for column in (0, 1, 10, 40):
        ax2.plot(pe[:, column], label=_("column {j}").format(j=column))
    ax2.set_xlabel(_("position"))
    ax2.set_title(_("four columns: the wavelength grows"))
    ax2.legend(fontsize=8, loc="lower left")


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
