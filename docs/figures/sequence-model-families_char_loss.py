"""The training loss of the tiny character-level model of the page, step by step."""

import math

import matplotlib.pyplot as plt
import torch

from conceptref.language_models import train_char_model

torch.set_num_threads(1)
text = "the cat sat on the mat. the dog sat on the log. " * 4
model, alphabet, losses = train_char_model(text, context=16, steps=150, seed=0)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.plot(losses, label="training loss (one batch)")
ax.axhline(math.log(len(alphabet)), color="gray", ls="--", label=f"uniform: ln {len(alphabet)}")
ax.set_xlabel("step")
ax.set_ylabel("causal LM loss (nats)")
ax.set_ylim(0, 3.2)
ax.legend()
