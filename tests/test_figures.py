"""The figure scripts under docs/figures: every page's figure is one, what a page reads off a
figure holds on the data the figure plots, and the data is computed again exactly when the code
behind it changes."""

from __future__ import annotations

import functools
import re
import shutil
import sys
import warnings
from modulefinder import ModuleFinder
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
SCRIPTS = sorted(FIGURES.glob("*.py"))
PLOT = re.compile(r"^\.\. plot::(.*)$", flags=re.MULTILINE)

sys.path.insert(0, str(DOCS / "_ext"))
import figure_scripts  # docs/_ext: the Sphinx extension that runs the scripts


@functools.cache
def load(name: str) -> ModuleType:
    """Import docs/figures/<name>.py as a module (its file name has hyphens)."""
    return figure_scripts.load_script(FIGURES / f"{name}.py")


@functools.cache
def data(name: str) -> Any:
    """What docs/figures/<name>.py plots, from the cache the documentation builds share."""
    return figure_scripts.figure_data(FIGURES / f"{name}.py")


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


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.stem)
def test_script_has_data_and_draw(path: Path) -> None:
    source = path.read_text()
    assert "def data(" in source
    assert re.search(r"^def draw\(data: .*, _\) -> None:$", source, re.MULTILINE), path.name
    assert 'if __name__ == "__main__":\n    draw(data(), str)\n' in source


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


def draws(name: str, translate: Any) -> list[Any]:
    """Draw docs/figures/<name>.py with ``translate`` as ``_``; return the figure's axes."""
    import matplotlib.pyplot as plt

    plt.close("all")
    load(name).draw(data(name), translate)
    return plt.gcf().get_axes()


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.stem)
def test_script_draws_a_figure_with_every_string_translated(path: Path) -> None:
    """Each script draws axes with something on them; every text it shows went through ``_``.

    The translation marks each string; any text of the figure without the mark was not passed
    to ``_`` (numbers, tick values and mathematics alone are exempt).
    """
    import matplotlib.pyplot as plt

    try:
        axes = draws(path.stem, lambda text: f"«{text}»")
        assert axes
        assert all(ax.has_data() for ax in axes)
        figure = plt.gcf()
        texts = [t.get_text() for t in figure.findobj(matplotlib.text.Text)]
        for text in texts:
            words = re.sub(r"\$[^$]*\$|\{[^}]*\}", "", text)
            while "«" in words:  # translated strings, innermost first (they may nest)
                words = re.sub(r"«[^«»]*»", "", words)
            assert not re.search(r"[A-Za-z]{2,}", words), f"{path.name}: not translated: {text!r}"
    finally:
        plt.close("all")


def test_korean_figures_draw_hangul_without_missing_glyphs(tmp_path: Path) -> None:
    """In Korean, Noto Sans CJK KR draws the Hangul: no missing-glyph warning (an error here)."""
    (tmp_path / "ko" / "LC_MESSAGES").mkdir(parents=True)
    script = FIGURES / "query-key-value_attention-weights.py"
    translate = figure_scripts.translator("ko", tmp_path)
    assert translate("no mask") == "no mask"  # no catalog: English
    po = tmp_path / "ko" / "LC_MESSAGES" / "figures.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "no mask"\nmsgstr "마스크 없음"\n\n'
        'msgid "query {i}"\nmsgstr "쿼리 {i}"\n\n'
        '#, fuzzy\nmsgid "causal mask"\nmsgstr "인과 마스크"\n',
        encoding="utf-8",
    )
    translate = figure_scripts.translator("ko", tmp_path)
    assert translate("no mask") == "마스크 없음"
    assert translate("causal mask") == "causal mask"  # fuzzy: not used
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        target = tmp_path / "figure.png"
        figure_scripts.draw_figure(script, target, "ko", locale_dir=tmp_path)
    assert target.stat().st_size > 1000


def test_figure_strings_reach_the_template(tmp_path: Path) -> None:
    pot = figure_scripts.write_pot(tmp_path / "figures.pot")
    text = pot.read_text(encoding="utf-8")
    assert 'msgid "causal mask"' in text
    assert 'msgid "{name}: codes of the data"' in text
    assert "#: figures/query-key-value_attention-weights.py:" in text


@functools.cache
def imported_modules(script: Path) -> frozenset[str]:
    """The package modules a script imports, found by the standard library's ModuleFinder."""
    finder = ModuleFinder(path=[str(figure_scripts.PACKAGE.parent)])
    finder.run_script(str(script))
    return frozenset(name for name in finder.modules if name.startswith("conceptref"))


@pytest.mark.parametrize("module", ["demos.vae", "attention", "metrics"])
def test_a_changed_module_changes_exactly_the_keys_of_the_figures_that_import_it(
    tmp_path: Path, module: str
) -> None:
    """Plant a change in a copy of the package: the figures that import the module (as the
    standard library's ModuleFinder sees it, directly or not) get a new key, no other does."""
    src = tmp_path / "src"
    shutil.copytree(figure_scripts.PACKAGE, src / "conceptref")
    package = src / "conceptref"
    before = {s.stem: figure_scripts.data_key(s, package) for s in SCRIPTS}
    planted = package.joinpath(*module.split(".")).with_suffix(".py")
    planted.write_text(planted.read_text() + "\n# a planted change\n")
    after = {s.stem: figure_scripts.data_key(s, package) for s in SCRIPTS}
    changed = {name for name in before if before[name] != after[name]}
    users = {s.stem for s in SCRIPTS if f"conceptref.{module}" in imported_modules(s)}
    assert users
    assert users != {s.stem for s in SCRIPTS}
    assert changed == users


def sphinx_build(srcdir: Path, builder: str, read: list[str] | None = None) -> None:
    """Build ``srcdir`` with ``builder`` in this process (fast: the imports are done)."""
    from io import StringIO

    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    warnings_ = StringIO()
    with docutils_namespace():  # each build registers its directives afresh
        app = Sphinx(srcdir, srcdir, srcdir / "_build" / builder, srcdir / "_build" / "doctrees",
                     builder, status=None, warning=warnings_)  # fmt: skip
        if read is not None:
            app.connect("env-before-read-docs", lambda app, env, docnames: read.extend(docnames))
        app.build()
    assert app.statuscode == 0, warnings_.getvalue()
    assert not warnings_.getvalue(), warnings_.getvalue()


@pytest.mark.slow
def test_an_incremental_build_redraws_exactly_the_figures_of_a_changed_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pages, each with a figure whose script imports a different module of a copy of the
    package. The doctest builder neither computes nor draws; HTML computes and draws both; after
    a planted change to one module, an incremental HTML build reads that figure's page alone,
    computes and draws that figure alone."""
    import os

    shutil.copytree(figure_scripts.PACKAGE, tmp_path / "src" / "conceptref")
    monkeypatch.setattr(figure_scripts, "PACKAGE", tmp_path / "src" / "conceptref")
    monkeypatch.setattr(figure_scripts, "CACHE", tmp_path / "cache")
    docs = tmp_path / "docs"
    (docs / "figures").mkdir(parents=True)
    (docs / "conf.py").write_text('extensions = ["sphinx.ext.doctest", "figure_scripts"]\n')
    (docs / "index.rst").write_text("Index\n=====\n\n.. toctree::\n\n   a\n   b\n")
    for page, module in (("a", "attention"), ("b", "metrics")):
        (docs / "figures" / f"{page}.py").write_text(
            "import matplotlib.pyplot as plt\n\n"
            f"from conceptref.{module} import *  # noqa: F403\n\n\n"
            "def data():\n    return [1, 3, 2]\n\n\n"
            "def draw(data, _):\n    plt.plot(data, label=_('values'))\n"
        )
        (docs / f"{page}.rst").write_text(
            f"{page}\n=\n\n.. plot:: figures/{page}.py\n   :alt: A line.\n   :caption: A line.\n"
        )
    drawings = docs / "_build" / "doctrees" / "_figures"

    sphinx_build(docs, "doctest")
    assert not (tmp_path / "cache").exists()
    assert not drawings.exists()

    sphinx_build(docs, "html")
    cached = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cache").iterdir()}
    drawn = {p.name for p in drawings.iterdir()}
    assert sorted(name.split("-")[0] for name in cached) == ["a", "b"]
    assert sorted(name.split(".")[0] for name in drawn) == ["a", "b"]

    planted = tmp_path / "src" / "conceptref" / "attention.py"
    planted.write_text(planted.read_text() + "\n# a planted change\n")
    later = planted.stat().st_mtime + 5
    os.utime(planted, (later, later))
    read: list[str] = []
    sphinx_build(docs, "html", read)
    assert read == ["a"]
    now = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cache").iterdir()}
    assert {name for name in now if name not in cached} == {n for n in now if n.startswith("a-")}
    assert {name: cached[name] for name in cached if name.startswith("b-")}.items() <= now.items()
    new = {p.name for p in drawings.iterdir()} - drawn
    assert [name.split(".")[0] for name in new] == ["a"]
