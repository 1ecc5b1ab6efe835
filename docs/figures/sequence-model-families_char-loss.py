"""The training loss of the tiny character-level model of the page, step by step."""

import math

import matplotlib.pyplot as plt
import torch

from conceptref.demos.language_models import train_char_model

TEXT = "the cat sat on the mat. the dog sat on the log. " * 4


def data() -> tuple[list[float], int]:
    """The loss at each training step, and the size of the alphabet."""
    torch.set_num_threads(1)
    _, alphabet, losses = train_char_model(TEXT, context=16, steps=150, seed=0)
    return list(losses), len(alphabet)


def draw(data: tuple[list[float], int], _) -> None:
    losses, size = data
    _figure, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.plot(losses, label=_("training loss (one batch)"))
    ax.axhline(
        math.log(size), color="gray", ls="--", label=_("uniform: ln {size}").format(size=size)
    )
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("causal LM loss (nats)"))
    ax.set_ylim(0, 3.2)
    ax.legend()


if __name__ == "__main__":
    draw(data(), str)
    plt.show()
