"""MathJax 3 served from the site itself, so that math renders with no network.

The files come from the ``sphinx-mathjax-offline`` package. Its own ``setup()`` copies them
after every build of every builder (LaTeX and doctest included) and does not declare whether it
is safe for parallel reading, which makes Sphinx warn and read serially. This module does the
same job for the HTML builders only (not EPUB, which cannot load it), copies the 24 MB once per output directory, and is parallel-safe.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util.fileutil import copy_asset

SOURCE = Path(importlib.import_module("sphinx-mathjax-offline").__file__ or "").parent
ENTRY = "mathjax/tex-chtml.js"


def _copy(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or app.builder.name not in ("html", "dirhtml", "singlehtml"):
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target.parent / ENTRY).is_file():  # already there: the files never change
        copy_asset(SOURCE / "static" / "mathjax", target)


def setup(app: Sphinx) -> dict[str, object]:
    """Point MathJax at the copy in ``_static`` and copy it there after HTML builds."""
    app.setup_extension("sphinx.ext.mathjax")
    app.config.mathjax_path = ENTRY
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
