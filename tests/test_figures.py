"""The figure scripts under docs/figures: every page's figure is one, and what a page reads off
a figure holds on the data the figure plots."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib
import numpy as np
import pytest

from conceptref.metrics import average_precision

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parents[1] / "docs"
FIGURES = DOCS / "figures"
PAGES = DOCS / "concepts"
PLOT = re.compile(r"^\.\. plot::(.*)$", flags=re.MULTILINE)


@functools.cache
def load(name: str) -> ModuleType:
    """Import docs/figures/<name>.py as a module (its file name has hyphens)."""
    path = FIGURES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def data(name: str) -> Any:
    """What docs/figures/<name>.py plots, computed once per test run."""
    return load(name).data()


def plot_arguments() -> dict[str, list[str]]:
    return {page.stem: PLOT.findall(page.read_text()) for page in sorted(PAGES.glob("*.md"))}


def test_every_plot_draws_a_script_of_its_own_page() -> None:
    used = set()
    for stem, arguments in plot_arguments().items():
        for argument in arguments:
            script = argument.strip()
            assert script, f"{stem}.md draws a figure from inline code: move it to docs/figures/"
            assert re.fullmatch(rf"figures/{re.escape(stem)}_[a-z0-9-]+\.py", script), script
            assert (DOCS / script).is_file(), f"{stem}.md draws a missing script: {script}"
            used.add(DOCS / script)
    assert set(FIGURES.glob("*.py")) == used, "a script in docs/figures/ that no page draws"


def test_every_plot_has_alt_text_and_a_caption() -> None:
    for page in sorted(PAGES.glob("*.md")):
        for block in re.findall(r"^\.\. plot::.*\n((?:   .*\n)+)", page.read_text(), re.MULTILINE):
            assert "   :alt: " in block, page.name
            assert "   :caption: " in block, page.name


@pytest.mark.parametrize("path", sorted(FIGURES.glob("*.py")), ids=lambda path: path.stem)
def test_script_has_data_and_draw(path: Path) -> None:
    source = path.read_text()
    assert "def data(" in source
    assert 'if __name__ == "__main__":\n    draw()' in source


def test_bias_vs_variance_curves() -> None:
    """The figure: bias² falls and variance rises with the degree, and the total error is
    smallest at a middle degree (degree 3 among the page's 1, 3 and 9)."""
    parts = data("bias-vs-variance_error-curves")
    bias = np.array([p.bias_squared for p in parts])
    variance = np.array([p.variance for p in parts])
    total = np.array([p.expected_error for p in parts])
    assert np.all(np.diff(bias) < 1e-4)  # up to the estimate's noise
    assert np.all(np.diff(variance) > 0)
    best = int(np.argmin(total))
    assert 0 < best < len(parts) - 1
    assert total[3] < min(total[1], total[9])


def test_weight_decay_ridge_path() -> None:
    """The page: as λ grows the weights shrink; the error on new data first falls, then rises."""
    norms, errors = data("weight-decay-vs-l2_ridge-path")
    assert np.all(np.diff(norms) < 0)
    best = int(np.argmin(errors))
    assert 0 < best < len(errors) - 1
    assert np.all(np.diff(errors[: best + 1]) < 0)
    assert np.all(np.diff(errors[best:]) > 0)


def test_variance_shift_curves() -> None:
    """The page: Δ falls below 1 as p grows and as μ²/σ² grows; the dots lie on the lines."""
    figure = load("conv-bn-activation-dropout-order_variance-shift")
    curves = data("conv-bn-activation-dropout-order_variance-shift")
    previous = None
    for mean, (expected, measured) in curves.items():
        expected = np.array(expected)
        assert expected[0] == pytest.approx(1.0)
        assert np.all(np.diff(expected) <= 1e-12)
        if previous is not None:  # a larger mean: a smaller Δ at every p > 0
            assert np.all(expected[1:] < previous[1:])
        previous = expected
        at_measured = np.interp(figure.MEASURED_RATES, figure.RATES, expected)
        np.testing.assert_allclose(measured, at_measured, atol=0.02, err_msg=f"mean {mean}")


def test_selection_vs_pca_keeps_the_informative_columns() -> None:
    _, y, kept, projected = data("features-and-latent-space_selection-vs-pca")
    assert kept.tolist() == [1, 4]
    # The first component separates the classes: its class means lie far apart.
    gap = projected[y == 1, 0].mean() - projected[y == 0, 0].mean()
    assert abs(gap) > 2.0


def test_precision_recall_envelope_gives_the_page_aps() -> None:
    """The envelope lies on or above the points and only falls; sampled at 11 and 101 recall
    levels it averages to the VOC2007 and COCO APs, and the step curve's area is the step AP."""
    figure = load("mean-average-precision_precision-recall")
    precision, recall = data("mean-average-precision_precision-recall")
    envelope = np.array([figure.interpolated(precision, recall, r) for r in recall])
    assert np.all(envelope >= precision)
    assert np.all(np.diff(envelope) <= 0)
    ap = {
        method: average_precision(figure.LABELS, figure.SCORES, method=method)
        for method in ("step", "voc11", "voc", "coco101")
    }
    for levels, method in ((11, "voc11"), (101, "coco101")):
        sampled = [figure.interpolated(precision, recall, r) for r in np.linspace(0, 1, levels)]
        assert np.mean(sampled) == pytest.approx(ap[method])
    gains = np.diff(np.r_[0.0, recall])
    assert float(gains @ precision) == pytest.approx(ap["step"])
    assert float(gains @ envelope) == pytest.approx(ap["voc"])


def test_attention_weight_panels() -> None:
    panels = data("query-key-value_attention-weights")
    plain, causal = panels["no mask"], panels["causal mask"]
    assert np.round(plain, 4).tolist() == [
        [0.6652, 0.09, 0.2447],
        [0.1554, 0.4223, 0.4223],
        [0.2741, 0.2741, 0.4519],
    ]
    np.testing.assert_allclose(causal.sum(axis=1), 1.0)
    assert np.all(np.triu(causal, k=1) == 0)


def test_edge_maps_activation_is_relu_of_feature() -> None:
    """The feature maps are signed (both edges of the square); ReLU keeps the positive one."""
    _, feature, active = data("feature-map-vs-activation-map_edge-maps")
    assert np.array_equal(active, np.maximum(feature, 0))
    for channel in range(2):
        assert feature[channel].min() < 0 < feature[channel].max()
    assert float(active.min()) == 0.0


@pytest.mark.parametrize("path", sorted(FIGURES.glob("*.py")), ids=lambda path: path.stem)
def test_script_draws_a_figure(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each script draws at least one axes with something on it, as the plot directive runs it."""
    import matplotlib.pyplot as plt

    figure = load(path.stem)
    values = data(path.stem)  # computed once per run, before draw() is pointed at it
    monkeypatch.setattr(figure, "data", lambda: values)
    figure.draw()
    try:
        axes = plt.gcf().get_axes()
        assert axes
        assert all(ax.has_data() for ax in axes)
    finally:
        plt.close("all")
