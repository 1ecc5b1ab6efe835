"""Figures drawn from scripts: data computed once per change, drawn by the builders that show it.

A page includes a figure with ::

    .. plot:: figures/<page>_<name>.py
       :alt: What the figure shows, for a reader who cannot see it.
       :caption: The caption (reStructuredText inline markup).

(in a ```{eval-rst}``` block of a MyST page; ``:name:`` gives the figure a label). The script,
relative to the source directory, defines two functions:

``data()``
    Computes what is plotted (arrays, tensors, dataclasses: anything that pickles).
``draw(data, _)``
    Draws ``data`` with pyplot. ``_`` translates each user-visible string (titles, labels,
    legends): wrap every such string in ``_()``, with placeholders filled after translation,
    ``_("{name}: codes of the data").format(name=...)``. Run on its own, a script draws in
    English: ``if __name__ == "__main__": draw(data(), str)``.

Computing is the expensive half (some scripts train small models), so its result is cached by
content, in ``docs/_build/.figure-data/<key>.pickle``, one directory shared by every builder, both
languages, ``nox -s serve`` and the figure tests. The key hashes the script's source, the source
of every ``conceptref`` module the script imports (transitively, package ``__init__`` files
included) and the versions of Python, NumPy, PyTorch and matplotlib. A page depends on its
scripts and on those modules, so changing a helper makes Sphinx read again exactly the pages whose
figures use it, and only figures whose key changed are computed again. Builds running side by
side (the two editions, tests) compute each figure's data once: one takes a lock per script
(``docs/_build/.figure-data-locks``) while it computes, the others wait and read its file, which
appears whole (written to a temporary file, then renamed).

Drawing is cheap and is not cached across builds: the builders that show figures (PNG for HTML
and EPUB, PDF for LaTeX) draw them into the build's doctree directory, one file per figure,
language, look and content, so an incremental build draws only figures whose key changed. They
draw while reading the page (in parallel with ``-j``), or when writing it if another builder
read it (doctrees are shared). Builders that show no figure (doctest, gettext, linkcheck, …)
neither compute nor draw, and the pages they read carry no drawing: the doctrees stay the same
for every builder.

Languages: with ``language`` set to anything but English, ``_`` looks messages up in
``docs/locale/<language>/LC_MESSAGES/figures.po`` (untranslated and fuzzy messages stay English);
Korean is drawn with Noto Sans CJK KR. The message template is written by ::

    python docs/_ext/figure_scripts.py pot [docs/locale/figures.pot]

(or :func:`write_pot`), which collects every ``_("...")`` of the figure scripts.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
PACKAGE = DOCS.parent / "src" / "conceptref"
CACHE = DOCS / "_build" / ".figure-data"
LIBRARIES = ("numpy", "torch", "matplotlib")
# What the builders that show figures draw: the image format for each builder format.
FORMATS = {"html": "png", "latex": "pdf"}
DPI = 144
# Fonts per language; the first family that has a glyph draws it (matplotlib's font fallback).
FONTS = {"ko": ["Noto Sans CJK KR", "DejaVu Sans"]}

Translate = Callable[[str], str]


# --- What a script depends on -------------------------------------------------------------


def _module_file(name: str, package: Path) -> Path | None:
    """The file of module ``name`` (dotted) if it lies in ``package``, else None."""
    parts = name.split(".")
    if parts[0] != package.name:
        return None
    base = package.parent.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(path: Path, name: str) -> Iterable[str]:
    """Dotted names of the modules (and of the names inside them) that ``path`` imports."""
    return _parsed_imports(path.read_text(encoding="utf-8"), str(path), name)


@functools.lru_cache(maxsize=1024)
def _parsed_imports(source: str, path: str, name: str) -> tuple[str, ...]:
    """The imports of a module's source, parsed once per process (every figure walks them)."""
    return tuple(_walk_imports(source, path, name))


def _walk_imports(source: str, path: str, name: str) -> Iterable[str]:
    is_package = Path(path).name == "__init__.py"
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package that holds this module
                parts = name.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def package_modules(script: Path, package: Path | None = None) -> list[Path]:
    """Every module file of ``package`` that running ``script`` imports, transitively.

    Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` as well, so they count.
    The package is ``conceptref`` (``src/conceptref``) unless another directory is given.
    """
    package = PACKAGE if package is None else package
    found: dict[Path, str] = {}
    todo: list[tuple[Path, str]] = [(script, "__main__")]
    while todo:
        path, name = todo.pop()
        for imported in _imported_names(path, name):
            parts = imported.split(".")
            for end in range(1, len(parts) + 1):
                module = ".".join(parts[:end])
                file = _module_file(module, package)
                if file is not None and file not in found:
                    found[file] = module
                    todo.append((file, module))
    return sorted(found)


@functools.cache
def _versions() -> str:
    """The versions of Python and of the libraries that compute and pickle the data."""
    versions = [f"python {sys.version_info[:2]}"]
    versions += [f"{name} {importlib.metadata.version(name)}" for name in LIBRARIES]
    return "\n".join(versions) + "\n"


def data_key(script: Path, package: Path | None = None) -> str:
    """The cache key of a script's data: its source, its modules' sources, library versions."""
    package = PACKAGE if package is None else package
    digest = hashlib.sha256(_versions().encode())
    for path in [script, *package_modules(script, package)]:
        name = path.name if path == script else str(path.relative_to(package.parent))
        digest.update(f"{name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


# --- Computing and drawing ----------------------------------------------------------------


def load_script(script: Path) -> Any:
    """Import a figure script (its file name has hyphens) as a fresh module."""
    name = "figure_" + script.stem.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(path: Path) -> Any:
    with path.open("rb") as file:
        return pickle.load(file)  # written by this module from the project's own scripts


@contextlib.contextmanager
def _locked(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (on systems without ``fcntl``: no lock)."""
    try:
        import fcntl
    except ImportError:  # Windows: two builds at once may compute the same data twice
        yield
        return
    with lock.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def figure_data(script: Path, cache: Path | None = None) -> Any:
    """What ``script`` plots: from the cache when its key is there, else computed and stored."""
    cache = CACHE if cache is None else cache
    script = Path(script).resolve()
    path = cache / f"{script.stem}-{data_key(script)}.pickle"
    if path.is_file():
        return _load(path)
    cache.mkdir(parents=True, exist_ok=True)
    # One process computes a figure's data: another build that wants it meanwhile (the other
    # edition, a test) waits for it and reads the file. The locks live beside the cache.
    locks = cache.with_name(f"{cache.name}-locks")
    locks.mkdir(exist_ok=True)
    with _locked(locks / f"{script.stem}.lock"):
        if path.is_file():
            return _load(path)
        logger.info("computing the data of %s", script.name)
        value = load_script(script).data()
        # Written to a temporary file and renamed: no build ever reads half a file.
        with tempfile.NamedTemporaryFile(dir=cache, suffix=".tmp", delete=False) as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, path)
    for stale in cache.glob(f"{script.stem}-*.pickle"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return value


def translator(language: str | None, locale_dir: Path = DOCS / "locale") -> Translate:
    """The ``_`` of a figure script: identity in English, else figures.po's translations."""
    po = locale_dir / str(language) / "LC_MESSAGES" / "figures.po"
    if not language or language == "en" or not po.is_file():
        return str
    from babel.messages.pofile import read_po

    with po.open("rb") as file:
        catalog = read_po(file, locale=language)
    table = {
        message.id: message.string
        for message in catalog
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }
    return lambda text: table.get(text, text)


def draw_figure(
    script: Path,
    target: Path,
    language: str | None = None,
    rcparams: dict[str, Any] | None = None,
    locale_dir: Path = DOCS / "locale",
) -> None:
    """Draw ``script``'s figure in ``language`` into ``target`` (its suffix names the format)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    script = Path(script).resolve()
    values = figure_data(script)
    rc = dict(rcparams or {})
    if language in FONTS:
        rc["font.family"] = FONTS[language]
    plt.close("all")
    with plt.rc_context(rc):
        try:
            load_script(script).draw(values, translator(language, locale_dir))
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}")
            plt.gcf().savefig(partial, dpi=DPI, format=target.suffix[1:])
            os.replace(partial, target)  # whole files only, for builds running side by side
        finally:
            plt.close("all")


# --- The directive and the builders -------------------------------------------------------


class FigureScript(SphinxDirective):
    """``.. plot:: figures/<file>.py`` with ``:alt:``, ``:caption:`` and ``:name:``."""

    required_arguments = 1
    option_spec = {  # noqa: RUF012 (docutils' interface)
        "alt": directives.unchanged,
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        # Relative to the source directory, as with matplotlib's directive of the same name.
        relative, script = self.env.relfn2path("/" + self.arguments[0].lstrip("/"))
        if not Path(script).is_file():
            raise self.error(f"figure script not found: {self.arguments[0]}")
        # The page is read again when the script or a module it imports changes.
        self.env.note_dependency(relative)
        for module in package_modules(Path(script)):
            self.env.note_dependency(str(module))
        catalog = _catalog(self.env.srcdir, self.config.language)
        if catalog is not None:  # and when the figures' translations change
            self.env.note_dependency(str(catalog))
        # An image whose URI is the script: Sphinx notes it, its alt text is translatable, and
        # the builders that show figures replace the URI by the drawing when they write the page.
        image = nodes.image(uri=f"/{relative}", alt=self.options.get("alt", ""))
        image["figure_script"] = relative
        if _drawings is not None:  # drawn now, while pages are read in parallel, if shown
            _drawings.prepare(Path(script))
        figure = nodes.figure("", image)
        self.set_source_info(figure)
        if "caption" in self.options:
            text = self.options["caption"]
            inline, messages = self.parse_inline(text, lineno=self.lineno)
            caption = nodes.caption(text, "", *inline)
            self.set_source_info(caption)
            figure += caption
        else:
            messages = []
        self.add_name(figure)
        return [figure, *messages]


def _catalog(srcdir: Path, language: str | None) -> Path | None:
    """The figures' message catalog of the build's language, if there is one."""
    language = language or "en"
    po = Path(srcdir) / "locale" / language / "LC_MESSAGES" / "figures.po"
    return po if language != "en" and po.is_file() else None


@dataclass(frozen=True)
class Drawings:
    """Where and how a build that shows figures draws them."""

    suffix: str  # the image format: png or pdf
    language: str
    rcparams: dict[str, Any]
    directory: Path  # in the build's doctree directory
    locale_dir: Path
    catalog: Path | None

    @classmethod
    def of(cls, app: Sphinx) -> Drawings | None:
        """The drawings of ``app``'s build, or None if its builder shows no figure."""
        suffix = FORMATS.get(app.builder.format)
        if suffix is None:  # doctest, gettext, …: the figure is never shown, so never drawn
            return None
        srcdir = Path(app.srcdir)
        return cls(
            suffix=suffix,
            language=app.config.language or "en",
            rcparams=dict(app.config.figure_rcparams),
            directory=Path(app.doctreedir) / "_figures",
            locale_dir=srcdir / "locale",
            catalog=_catalog(srcdir, app.config.language),
        )

    def target(self, script: Path) -> Path:
        """The file of the script's drawing: one per data key, language, look and format."""
        look = hashlib.sha256(repr((data_key(script), sorted(self.rcparams.items()), DPI)).encode())
        if self.catalog is not None:  # a new translation is a new drawing
            look.update(self.catalog.read_bytes())
        return (
            self.directory / f"{script.stem}.{self.language}-{look.hexdigest()[:12]}.{self.suffix}"
        )

    def draw(self, script: Path) -> Path:
        """The script's drawing, drawn now unless this build drew it already."""
        target = self.target(script)
        if not target.is_file():
            logger.info("drawing %s (%s)", script.name, self.language)
            draw_figure(script, target, self.language, self.rcparams, self.locale_dir)
        return target

    def prepare(self, script: Path) -> None:
        """Draw while reading; an error is reported when the page is written."""
        with contextlib.suppress(Exception):
            self.draw(script)


_drawings: Drawings | None = None  # of the current build; forked reading processes inherit it


def _start(app: Sphinx) -> None:
    global _drawings  # one build per process at a time
    _drawings = Drawings.of(app)


def _draw_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put the drawings in place of the scripts, for the builders that show figures."""
    drawings = Drawings.of(app)
    if drawings is None:
        return
    for image in list(doctree.findall(nodes.image)):
        if "figure_script" not in image:
            continue
        try:
            target = drawings.draw(Path(app.srcdir) / image["figure_script"])
        except Exception as error:  # noqa: BLE001 (any error of the script, reported at its figure)
            logger.warning(
                "figure script %s failed: %s: %s", image["figure_script"],
                type(error).__name__, error, location=image,
            )  # fmt: skip
            image.parent.remove(image)
            continue
        image["uri"] = str(target)
        image["candidates"] = {"*": str(target)}
        app.env.images.add_file(docname, str(target))


# --- The message template of the figures' strings -----------------------------------------


def write_pot(
    target: Path = DOCS / "locale" / "figures.pot", scripts: Path = DOCS / "figures"
) -> Path:
    """Write every ``_("...")`` string of the figure scripts into a gettext template."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import write_po

    catalog = Catalog(project="conceptref figures", charset="utf-8")
    for script in sorted(scripts.glob("*.py")):
        for line, message, comments, context in extract_from_file(
            "python", script, keywords={"_": None}
        ):
            where = (str(script.relative_to(scripts.parent)), line)
            catalog.add(message, locations=[where], auto_comments=comments, context=context)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as file:
        write_po(file, catalog, omit_header=False, sort_output=True, width=100)
    return target


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``plot`` directive and draw at write time."""
    app.add_config_value("figure_rcparams", {}, "env", types=[dict])
    app.add_directive("plot", FigureScript)
    app.connect("builder-inited", _start)
    app.connect("doctree-resolved", _draw_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if sys.argv[1:2] != ["pot"]:
        sys.exit("usage: python docs/_ext/figure_scripts.py pot [TARGET.pot]")
    print(write_pot(*map(Path, sys.argv[2:3])))
