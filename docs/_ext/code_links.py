"""sphinx-codeautolink's links put into the page's code blocks without re-parsing the page.

sphinx-codeautolink finds, for every name in an example, the API entry it refers to; then, as
each page is written, its ``link_html`` parses the page's whole body with BeautifulSoup to find
the code blocks, wraps the names in links and serializes the whole body again: about a third of
an HTML build, spent on prose it leaves alone. :func:`link_html` here does the same work on the
code blocks' own HTML, found with a regular expression in Pygments' output, and leaves the rest of
the page as it is: the same blocks, matched to the same examples by their text, the same names
linked with the same patterns and titles. ``tests/test_build_memory.py`` checks that the result
parses to exactly what the library's own function returns, on generated pages (Python blocks and
doctests, names next to ``&``, ``<`` and quotes, blocks with no example, nested documents).

To find what a name refers to, sphinx-codeautolink imports the modules an example uses and
follows their attributes and annotations, so a build that reads one page using ``torch`` imports
torch (1 to 2 s), and runs the ``if TYPE_CHECKING:`` imports of every module on the way (for
torch, its compiler stack: 1.5 s more). Here:

- :func:`resolve_location` remembers each name's resolution across builds, in
  ``_build/.code-links.pickle``, under a hash of the name, the names in the inventory of
  link targets, the installed distributions and their versions, and the source of this
  project's own packages (``code_links_packages``): a build whose pages name only names it
  resolved before imports nothing.
- :func:`populate_type_checking` runs the ``if TYPE_CHECKING:`` imports of those packages'
  modules only, whose annotations name the types the links follow; the libraries' own
  annotations resolve without them (on this site's pages, the HTML is the same either way).

Like the functions it replaces, it is written against sphinx-codeautolink's internals (version
pinned in constraints.txt): its block classes, name patterns and link format.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import sphinx_codeautolink.extension as codeautolink
from build_memory import Memory
from sphinx.application import Sphinx
from sphinx_codeautolink.extension import block, resolve
from sphinx_codeautolink.warn import logger, warn_type

_DIV = re.compile(r'<div class="([^"]*)"[^>]*>')
_PRE = re.compile(r"<pre\b[^>]*>.*?</pre>", re.DOTALL)
_LINENOS = re.compile(r'<span class="linenos">.*?</span>', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _text(fragment: str) -> str:
    """The text of an HTML fragment, entities decoded (what BeautifulSoup's ``strings`` join to)."""
    return html.unescape(_TAG.sub("", fragment))


def _title(location: str, text: str) -> str:
    """The link's ``title`` attribute, empty when the code already reads as the location."""
    return "" if _SPACE.sub("", _text(text)) == location else f' title="{location}"'


def _code_blocks(page: str, classes: set[str]) -> list[tuple[int, int]]:
    """Spans of the ``<pre>`` elements of the code blocks in ``page``, in page order."""
    spans: dict[int, tuple[int, int]] = {}
    for div in _DIV.finditer(page):
        if classes.isdisjoint(div.group(1).split()):
            continue
        pre = _PRE.search(page, div.end())
        if pre is not None:
            spans[pre.start()] = pre.span()
    return [spans[start] for start in sorted(spans)]


def link_html(
    document: str,
    html_body: str,
    transforms: list[Any],
    inventory: dict[str, str],
    custom_blocks: dict[str, Any],
    search_css_classes: list[str],
    builder_name: str = "html",
    *,
    disable_link_titles: bool,
) -> str:
    """Link the names of ``transforms`` in the code blocks of a page's HTML body."""
    if builder_name == "dirhtml" and Path(document).name != "index":
        html_file = Path(document) / "index.html"
    else:
        html_file = Path(document + ".html")
    local_prefix = "../" * (len(html_file.parents) - 1)

    block_types = block.BUILTIN_BLOCKS.keys() | custom_blocks.keys()
    classes = {f"highlight-{t}" for t in block_types} | {"doctest", *search_css_classes}
    spans = _code_blocks(html_body, classes)
    texts = [_text(_LINENOS.sub("", html_body[start:end])).rstrip() for start, end in spans]
    linked: dict[int, str] = {}  # the new HTML of each block matched to an example

    for trans in transforms:
        for ix, text in enumerate(texts):
            if ix not in linked and trans.source.rstrip() == text:  # each block, one example
                break
        else:
            msg = f"Could not match a code example to HTML, source:\n{trans.source}"
            logger.warning(msg, type=warn_type, subtype="match_block", location=document)
            continue
        start, end = spans[ix]
        lines = html_body[start:end].split("\n")
        for name in trans.names:
            begin_line, end_line = name.lineno - 1, name.end_lineno - 1
            selection = "\n".join(lines[begin_line : end_line + 1])
            pattern = block.construct_name_pattern(name)
            matches = list(re.finditer(pattern, selection))[::-1]  # a.b = a.b: from the right
            if not matches:
                msg = (
                    f"Could not match transformation of `{name.code_str}` "
                    f"on source lines {name.lineno}-{name.end_lineno}, "
                    f"source:\n{trans.source}"
                )
                logger.warning(msg, type=warn_type, subtype="match_name", location=document)
                continue
            first, last = matches[0].span()
            first += len(matches[0].group(1))
            location = inventory[name.resolved_location]
            if not location.startswith(("http://", "https://")):
                location = local_prefix + location
            text = selection[first:last]
            title = "" if disable_link_titles else _title(name.resolved_location, text)
            link = f'<a href="{location}"{title} class="sphinx-codeautolink-a">{text}</a>'
            lines[begin_line : end_line + 1] = (selection[:first] + link + selection[last:]).split(
                "\n"
            )
        linked[ix] = "\n".join(lines)

    pieces, done = [], 0
    for ix in sorted(linked):
        start, end = spans[ix]
        pieces += [html_body[done:start], linked[ix]]
        done = end
    return "".join([*pieces, html_body[done:]])


_populate_type_checking = resolve.populate_type_checking
_resolve_location = resolve.resolve_location
METADATA_FOLDERS = (".dist-info", ".egg-info")
_PACKAGES: set[str] = set()  # this project's own (code_links_packages)
_memory: Memory | None = None  # of the current build
_inventory: tuple[dict[str, str], str] | None = None  # the last inventory and its hash


def populate_type_checking(module: ModuleType) -> None:
    """Run a module's ``if TYPE_CHECKING:`` imports if it is one of this project's."""
    if module.__name__.partition(".")[0] in _PACKAGES:
        _populate_type_checking(module)


@functools.cache
def _environment() -> str:
    """A hash of what resolving can import: installed distributions and the project's sources.

    The distributions are named by their metadata folders (``<name>-<version>.dist-info``) on
    the import path, which a listing of each folder finds without reading any metadata.
    """
    digest = hashlib.sha256(sys.version.encode())
    for entry in sys.path:
        with contextlib.suppress(OSError):
            names = sorted(
                name for name in os.listdir(entry or ".") if name.endswith(METADATA_FOLDERS)
            )
            digest.update(repr((entry, names)).encode())
    for package in sorted(_PACKAGES):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for source in sorted(Path(folder).rglob("*.py")):
                digest.update(f"{source.relative_to(folder)}\0".encode() + source.read_bytes())
    return digest.hexdigest()


def _inventory_hash(inventory: dict[str, str]) -> str:
    """A hash of the inventory's names: all that resolving reads of it (not the addresses)."""
    global _inventory  # a build resolves every name against one inventory
    if _inventory is None or _inventory[0] is not inventory:
        _inventory = (inventory, hashlib.sha256(repr(sorted(inventory)).encode()).hexdigest())
    return _inventory[1]


def resolve_location(chain: Any, inventory: dict[str, str]) -> str | None:
    """sphinx-codeautolink's ``resolve_location``, remembered across builds."""
    if _memory is None:
        return _resolve_location(chain, inventory)
    what = repr((list(chain.import_components), _inventory_hash(inventory), _environment()))
    key = hashlib.sha256(what.encode()).hexdigest()
    found = _memory.get(key)
    if found is None:
        try:
            found = ("resolved", _resolve_location(chain, inventory))
        except resolve.CouldNotResolve as error:  # remembered too: its warning comes back
            found = ("failed", str(error))
        _memory.put(key, found)
    if found[0] == "failed":
        raise resolve.CouldNotResolve(found[1])
    return found[1]


def _start(app: Sphinx) -> None:
    global _memory, _inventory  # one build per process at a time
    _memory, _inventory = Memory.of(app, ".code-links.pickle"), None
    _PACKAGES.clear()
    _PACKAGES.update(app.config.code_links_packages)
    _environment.cache_clear()  # sources and installs may change between builds (autobuild)


def _save(app: Sphinx, exception: BaseException | None) -> None:
    if exception is None and _memory is not None:
        _memory.save()


def setup(app: Sphinx) -> dict[str, object]:
    """Use this module's functions in sphinx-codeautolink."""
    app.setup_extension("sphinx_codeautolink")
    app.add_config_value("code_links_packages", [], "env", types=[list])
    app.connect("builder-inited", _start)
    app.connect("build-finished", _save)
    # The names its handlers call, in the modules that call them.
    codeautolink.link_html = link_html
    codeautolink.resolve_location = resolve_location
    resolve.populate_type_checking = populate_type_checking
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
