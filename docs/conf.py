"""Sphinx configuration: MyST pages, checked examples, offline math, HTML and a Korean-ready PDF."""

import doctest
import functools
import operator
import os
import sys
import tomllib
import warnings
from pathlib import Path

import conceptref

sys.path.insert(0, str(Path(__file__).parent / "_ext"))  # this site's own small extensions

# sphinx-autodoc-typehints 3.6 calls a Sphinx API that Sphinx 9 marks for removal in Sphinx 10;
# the Python warning repeats for every docstring and buries the build log. It is not a Sphinx
# warning (``-W`` never sees it), so hiding it hides nothing about this project's pages.
warnings.filterwarnings(
    "ignore", message=r".*_RstSnippetParser\.set_application", module="sphinx_autodoc_typehints"
)

project = "conceptref"
author = "The conceptref maintainers"
copyright = "2026, the conceptref maintainers"
version = release = conceptref.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_autodoc_typehints",  # after napoleon, so it sees the parsed docstrings
    "numpy_typehints",  # docs/_ext: NumPy's aliases as ArrayLike and NDArray[...]
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "mathjax_offline",  # docs/_ext: MathJax 3 served from _static, math renders with no network
    "sphinx_copybutton",
    "sphinx_codeautolink",  # names in the examples' code link to their API entries
    "code_links",  # docs/_ext: ... and are linked without parsing the whole page again
    "sphinxcontrib.bibtex",
    "reference_cache",  # docs/_ext: formatted references kept across builds, by content
    "api_pages",  # docs/_ext: docs/api/<module>.md for every public module of the package
    "figure_scripts",  # docs/_ext: figures from docs/figures/*.py, data cached by content
    "conceptmap",  # docs/_ext: glossary, term tables and concept map from the pages' front matter
    "korean_edition",  # docs/_ext: the Korean edition's search, glossary, language switch, checks
    "small_builds",  # docs/_ext: a rebuild that reads a page or two runs in one process
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path = ["_static"]

nitpicky = True
# References to Python, NumPy, PyTorch and scikit-learn link to their documentation. The build
# runs offline, so the inventories are committed: docs/_intersphinx/*.inv, small inventories of
# the objects these pages name, pointing at the real addresses (docs/_intersphinx/inventories.py).
intersphinx_mapping = {
    name: (url, f"_intersphinx/{name}.inv")
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "torch": "https://docs.pytorch.org/docs/stable/",
        "sklearn": "https://scikit-learn.org/stable/",
        "pycocotools": "https://github.com/cocodataset/cocoapi/blob/master/PythonAPI/",
    }.items()
}

# The Korean edition: the same sources, translated through the catalogs in docs/locale/ko
# (`-D language=ko`, or the Read the Docs translation project, which sets READTHEDOCS_LANGUAGE).
# One catalog per page; code blocks and doctests are never translated (no additional targets).
language = os.environ.get("READTHEDOCS_LANGUAGE", "en")
locale_dirs = ["locale"]
gettext_compact = False
gettext_additional_targets: list[str] = []

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: NumPy-style docstrings, type hints rendered from the signatures.
autodoc_member_order = "bysource"
napoleon_google_docstring = False
napoleon_use_rtype = False
typehints_use_rtype = False
typehints_document_rtype = True


# Every {doctest} block on every page runs in `nox -s doctest`. There is no global setup: each
# page imports what it uses, as a reader copying it must. Docstring examples are pytest's
# (`--doctest-modules`), so they are not run a second time here. Both runners take their option
# flags from one place: `doctest_optionflags` in pyproject.toml.
doctest_test_doctest_blocks = ""
_PYTEST = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
_FLAGS = _PYTEST["tool"]["pytest"]["ini_options"]["doctest_optionflags"]
doctest_default_flags = functools.reduce(operator.or_, (getattr(doctest, f) for f in _FLAGS))

# Copy buttons copy the code of an example without its >>> / ... prompts and without output.
# This project's own packages: code links hash their source to know when a name's target may have
# changed, and resolve annotations imported under `if TYPE_CHECKING:` in them (docs/_ext/code_links.py).
code_links_packages = ["conceptref"]

copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True

bibtex_bibfiles = ["references.bib"]
bibtex_reference_style = "author_year"
bibtex_default_style = "plain"

# Figures are drawn from code at build time: PNG for HTML, PDF (vector) for LaTeX.
figure_rcparams = {"figure.autolayout": True, "font.size": 11}

# The concept map: SVG in HTML, so its nodes are links (and its text is sharp and searchable).
graphviz_output_format = "svg"

html_theme = "furo"
html_title = f"conceptref {release}"
html_css_files = ["conceptref.css"]

latex_engine = "xelatex"
latex_documents = [
    ("index", "conceptref.tex", "conceptref: deep-learning concepts, checked", author, "manual")
]
latex_show_urls = "footnote"
# xindy, not makeindex: the index lists every term under its Korean names too, and makeindex
# sorts UTF-8 byte by byte (a letter group per lead byte). The conceptmap extension writes the
# xindy options (Korean module) into latexmkrc, so latexmk needs no XINDYOPTS from the Makefile
# and the PDF builds the same way here and on Read the Docs.
latex_use_xindy = True
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "10pt",
    # kotex (xetexko) typesets Hangul with the Noto CJK KR fonts; Latin text keeps FreeSerif.
    # Curly quotes are ordinary characters again (xetexko treats them as CJK punctuation and
    # spaces them), so a curly apostrophe is typeset as in English.
    "preamble": r"""
\usepackage{kotex}
\setmainhangulfont{Noto Serif CJK KR}
\setsanshangulfont{Noto Sans CJK KR}
\setmonohangulfont{Noto Sans Mono CJK KR}
\xetexkofontregime{latin}[puncts=prevfont, colons=prevfont, parens=prevfont, cjksymbols=hangul]
\XeTeXcharclass"2018=0 \XeTeXcharclass"2019=0 \XeTeXcharclass"201C=0 \XeTeXcharclass"201D=0
% The References chapter has its heading: the bibliography list needs no second chapter.
\renewenvironment{sphinxthebibliography}[1]
  {\renewcommand\chapter[2]{}\begin{thebibliography}{#1}}{\end{thebibliography}}
""",
    "fvset": r"\fvset{fontsize=\footnotesize}",  # 88-character code lines fit the page
    # The first toctree's caption would otherwise become the title of the table of contents.
    "tableofcontents": r"\renewcommand{\contentsname}{Contents}\sphinxtableofcontents",
}
