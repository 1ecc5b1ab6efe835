"""The API reference, one page per module of ``conceptref``, written from the package.

Before Sphinx looks for sources, ``docs/api/<module>.md`` (``vae.md`` for ``conceptref.vae``,
``demos.vae.md`` for ``conceptref.demos.vae``, …) is written for every module and subpackage,
the private ones too (``_validation``, ``_random``, ``demos._training``: the conventions every
module follows, which docstrings and the README point at), and pages of modules that no longer
exist are removed. A page is rewritten only when its text changes, so an incremental build reads
none of them again. ``docs/api/index.md`` lists them with a glob. The generated pages are not
committed (see ``.gitignore``).
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

from sphinx.application import Sphinx

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


def _generate(app: Sphinx) -> None:
    import conceptref

    write_pages(Path(app.srcdir) / "api", Path(conceptref.__path__[0]))


def setup(app: Sphinx) -> dict[str, object]:
    """Write the pages when the builder starts, before Sphinx lists the sources."""
    app.connect("builder-inited", _generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
