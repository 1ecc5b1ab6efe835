"""The API reference, one page per module of ``conceptref``, written from the package.

Before Sphinx looks for sources, ``docs/api/<module>.md`` (``vae.md`` for ``conceptref.vae``,
``demos.vae.md`` for ``conceptref.demos.vae``, …) is written for every module and subpackage,
the private ones too (``_validation``, ``_random``, ``demos._training``: the conventions every
module follows, which docstrings and the README point at), and pages of modules that no longer
exist are removed. A page is rewritten only when its text changes, so an incremental build reads
none of them again. ``docs/api/index.md`` lists them with a glob. The generated pages are not
committed (see ``.gitignore``).

The doctest builder reads each of them as its heading alone: the examples of the docstrings run
under pytest (``--doctest-modules``), and autodoc is most of what reading the whole site costs.
The site's structure stays whole (every page is there, no warning), and the environment records
which pages it holds as headings only, so that another builder sharing its doctrees reads them
again in full.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

PACKAGE = "conceptref"
PAGE = """\
# `{name}`

```{{eval-rst}}
.. automodule:: {name}
   :members:
```
"""


def modules(package: Path) -> list[str]:
    """Dotted names of the package's modules and subpackages, sorted."""
    return sorted(m.name for m in pkgutil.walk_packages([str(package)], prefix=f"{PACKAGE}."))


def write_pages(target: Path, package: Path) -> list[Path]:
    """Write one page per public module into ``target``; remove pages of vanished modules."""
    target.mkdir(parents=True, exist_ok=True)
    pages = []
    for name in modules(package):
        page = target / f"{name.removeprefix(PACKAGE + '.')}.md"
        text = PAGE.format(name=name)
        if not page.is_file() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")
        pages.append(page)
    for stale in set(target.glob("*.md")) - {*pages, target / "index.md"}:
        stale.unlink()
    return pages


# The builders that read the module pages as their headings alone.
HEADINGS_ONLY = frozenset({"doctest"})


def _generate(app: Sphinx) -> None:
    import conceptref

    write_pages(Path(app.srcdir) / "api", Path(conceptref.__path__[0]))


def _module_page(docname: str) -> bool:
    return docname.startswith("api/") and docname != "api/index"


def _heading_only(app: Sphinx, docname: str, source: list[str]) -> None:
    if app.builder.name in HEADINGS_ONLY and _module_page(docname):
        source[0] = source[0].split("\n", 1)[0] + "\n"


def _note_headings(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Record which module pages the environment holds as headings alone."""
    read = {name for name in docnames if _module_page(name)}
    short: set[str] = getattr(env, "conceptref_api_headings", set())
    short = short | read if app.builder.name in HEADINGS_ONLY else short - read
    env.conceptref_api_headings = short  # type: ignore[attr-defined]


def _read_in_full(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Module pages read as headings by the doctest builder: outdated for every other builder."""
    if app.builder.name in HEADINGS_ONLY:
        return []
    return sorted(getattr(env, "conceptref_api_headings", set()) & env.found_docs)


def setup(app: Sphinx) -> dict[str, object]:
    """Write the pages when the builder starts, before Sphinx lists the sources."""
    app.connect("builder-inited", _generate)
    app.connect("source-read", _heading_only)
    app.connect("env-before-read-docs", _note_headings)
    app.connect("env-get-outdated", _read_in_full)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
