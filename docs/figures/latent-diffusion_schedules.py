"""Three noise schedules with T = 1000: the signal kept, and the signal-to-noise ratio."""

import matplotlib.pyplot as plt
import numpy as np

from conceptref.diffusion import alphas_cumprod, beta_schedule, signal_to_noise

KINDS = {
    "linear": "linear (DDPM)",
    "scaled_linear": "scaled_linear (Stable Diffusion)",
    "cosine": "cosine",
}


def data() -> dict[str, np.ndarray]:
    """The cumulative products of the three schedules, by kind."""
    return {kind: alphas_cumprod(beta_schedule(kind, 1000)) for kind in KINDS}


def draw(data: dict[str, np.ndarray], _) -> None:
    names = {
        "linear": _("linear (DDPM)"),
        "scaled_linear": _("scaled_linear (Stable Diffusion)"),
        "cosine": _("cosine"),
    }
    _figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    steps = np.arange(1000)
    for kind, a in data.items():
        left.plot(steps, np.sqrt(a), label=names[kind])
        right.semilogy(steps, signal_to_noise(a), label=names[kind])
    left.set(xlabel=_("timestep t"), ylabel=_(r"$\sqrt{\bar\alpha_t}$ (signal kept)"))
    right.set(xlabel=_("timestep t"), ylabel=_(r"SNR $= \bar\alpha_t / (1 - \bar\alpha_t)$"))
    left.legend(fontsize=8)
    right.grid(True, which="major", alpha=0.3)


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
