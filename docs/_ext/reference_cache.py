"""Formatted references, kept across builds: pybtex formats each entry once per change.

pybtex looks its plugins (styles, name and label formats) up among the installed distributions'
entry points every time one is named, and sphinxcontrib-bibtex names one for every citation on
every page: a scan of every installed distribution each time, about 2 s of an HTML build. Here
the entry points are read once per build; plugins
registered at run time are still looked up first, as before.

sphinxcontrib-bibtex formats every entry of ``references.bib`` in every build, twice (the
reference list and its tooltip), when the environment is updated: about 1 s of every build, even
one that reads no page. A formatted entry depends only on the style (its classes and their
code), the label and the entry's own type, key, fields and names, so this extension remembers
each one under a hash of exactly those, in ``_build/.formatted-references.pickle``, shared
by every builder and both editions. Change an entry (or the style) and only that entry is
formatted again. Entries that refer to others (``crossref``) are always formatted afresh, and an
entry whose formatting fails is never remembered, so its warning comes back in every build.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import sys
from typing import Any

import pybtex.plugin
from build_memory import Memory
from pybtex.style.formatting import BaseStyle
from sphinx.application import Sphinx

VERSIONS = tuple(
    importlib.metadata.version(name) for name in ("pybtex", "sphinxcontrib-bibtex", "latexcodec")
)

_format_entry = BaseStyle.format_entry  # pybtex's own, called for anything not remembered


_memory: Memory | None = None  # of the current build


def _code(cls: type) -> str:
    """The qualified name and the source of the module that defines ``cls``."""
    module = sys.modules.get(cls.__module__)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        source = ""
    return f"{cls.__module__}.{cls.__qualname__}:{source}"


def _style_key(style: BaseStyle) -> str:
    """What the formatting of an entry takes from its style (cached on the style object)."""
    key = style.__dict__.get("_reference_cache_key")
    if key is None:
        parts = [
            _code(type(part))
            for part in (style, style.name_style, style.label_style, style.sorting_style)
        ]
        parts += [repr((style.abbreviate_names, style.min_crossrefs, VERSIONS))]
        key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
        style.__dict__["_reference_cache_key"] = key
    return key


def _entry_key(style: BaseStyle, label: str, entry: Any) -> str | None:
    """The hash of everything ``entry``'s formatting reads, or None if it reads other entries."""
    if "crossref" in entry.fields:
        return None
    names = [
        (
            role,
            [
                (p.first_names, p.middle_names, p.prelast_names, p.last_names, p.lineage_names)
                for p in people
            ],
        )
        for role, people in entry.persons.items()
    ]
    described = repr((label, entry.type, entry.key, list(entry.fields.items()), names))
    return hashlib.sha256(f"{_style_key(style)}\0{described}".encode()).hexdigest()


def format_entry(self: BaseStyle, label: str, entry: Any, bib_data: Any = None) -> Any:
    """pybtex's ``BaseStyle.format_entry``, remembered across builds."""
    key = _entry_key(self, label, entry) if bib_data is None and _memory is not None else None
    if key is None or _memory is None:
        return _format_entry(self, label, entry, bib_data)
    found = _memory.get(key)
    if found is None:
        found = _format_entry(self, label, entry, bib_data)  # a failure is not remembered
        _memory.put(key, found)
    return found


@functools.cache
def _installed_entry_points() -> importlib.metadata.EntryPoints:
    return importlib.metadata.entry_points()


def entry_points(**selection: str) -> importlib.metadata.EntryPoints:
    """``importlib.metadata.entry_points(group=..., name=...)``, the distributions read once."""
    return _installed_entry_points().select(**selection)


def _start(app: Sphinx) -> None:
    global _memory  # one build per process at a time
    _memory = Memory.of(app, ".formatted-references.pickle")
    _installed_entry_points.cache_clear()  # a long-running process may see new installs


def _save(app: Sphinx, exception: BaseException | None) -> None:
    if exception is None and _memory is not None:
        _memory.save()


def setup(app: Sphinx) -> dict[str, object]:
    """Remember formatted entries for the rest of this process and in the next builds."""
    BaseStyle.format_entry = format_entry  # type: ignore[method-assign]
    pybtex.plugin.entry_points = entry_points  # the name pybtex's plugin lookup calls
    app.connect("builder-inited", _start)
    app.connect("build-finished", _save)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
