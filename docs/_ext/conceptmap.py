"""The glossary, the term tables and the concept map, all read from the concept pages' front matter.

Each page ``concepts/<stem>.md`` starts with YAML front matter, the one source of truth::

    ---
    summary: What the page settles, in one or two sentences (MyST inline markup allowed).
    builds_on: [query-key-value]     # stems of the concept pages this page assumes
    terms:
      - en: multi-head attention
        ko: [멀티헤드 어텐션, 다중 헤드 어텐션]   # the first Korean name is the main one
        confused_with: [self-attention]  # optional: English names of terms it is mixed up with
        def: One or two sentences (MyST inline markup allowed).
        symbol: $h$                  # optional: the page's notation, shown in its term table
    ---

From it this extension generates:

- ``{concept-glossary}``: a Sphinx glossary with one entry per term, under its English name and
  every Korean name (so ``{term}`` and the general index work with either), linking the page;
- ``{terms}``: the term table of the page it is on (its own terms, then the terms of other pages
  named one per line in the directive's body);
- in both, "not to be confused with" links: a term's ``confused_with`` names, and the terms whose
  ``confused_with`` names it (a confusion goes both ways, so one side may state it);
- ``{concept-index}``: the landing page's table of the pages and their ``summary``, and the
  hidden toctree of the pages, both in reading order;
- ``{concept-map}``: the Graphviz graph of ``builds_on`` (nodes link to the pages);
- ``{reading-order}``: the pages in a topological order of that graph (ties broken by stem);
- on every concept page, "Builds on / Used by" links after the title, and index entries for the
  page's terms (English and Korean) pointing at the page.

The functions above the Sphinx part are pure: ``tests/test_glossary.py`` checks them directly.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext.graphviz import graphviz
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

CONCEPTS = "concepts"  # the folder of the concept pages, relative to the Sphinx source folder
TERM_ROLE = re.compile(r"\{term\}`([^`]+)`")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it


@dataclass(frozen=True)
class Term:
    """One glossary entry: defined on exactly one page."""

    en: str
    ko: tuple[str, ...]
    definition: str
    page: str
    symbol: str = ""
    confused_with: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The English name, then every Korean name."""
        return (self.en, *self.ko)


@dataclass(frozen=True)
class Page:
    """A concept page as its front matter describes it."""

    stem: str
    title: str
    builds_on: tuple[str, ...]
    terms: tuple[Term, ...]
    summary: str = ""


class FrontMatterError(ValueError):
    """A concept page's front matter breaks the contract."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return a page's YAML front matter (``{}`` if it has none) and the rest of the page."""
    match = re.match(r"---[ \t]*\n(.*?\n)---[ \t]*\n", text, flags=re.DOTALL)
    if match is None:
        return {}, text
    data = yaml.load(match.group(1), Loader=_LOADER) or {}
    if not isinstance(data, dict):
        raise FrontMatterError("the front matter is not a mapping")
    return data, text[match.end() :]


def page_title(body: str) -> str:
    """Return the first level-1 heading of a MyST page, as plain text."""
    for line in body.splitlines():
        if line.startswith("# "):
            return line[2:].replace("`", "").strip()
    return ""


def parse_page(stem: str, text: str) -> Page:
    """Read one concept page; raise FrontMatterError naming the key when it breaks the contract."""
    data, body = split_front_matter(text)
    where = f"concepts/{stem}.md"
    if "builds_on" not in data or "terms" not in data:
        raise FrontMatterError(f"{where}: front matter needs `builds_on` and `terms` (may be [])")
    builds_on = data["builds_on"] or []
    if not isinstance(builds_on, list) or not all(isinstance(s, str) for s in builds_on):
        raise FrontMatterError(f"{where}: `builds_on` must be a list of page stems")
    terms = []
    for entry in data["terms"] or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("en"), str):
            raise FrontMatterError(f"{where}: every term needs an English name `en`: {entry!r}")
        en = entry["en"].strip()
        ko = entry.get("ko") or []
        ko = [ko] if isinstance(ko, str) else ko
        if not ko or not all(isinstance(k, str) and HANGUL.search(k) for k in ko):
            raise FrontMatterError(f"{where}: term {en!r} needs Korean names `ko` (in Hangul)")
        definition = entry.get("def")
        if not isinstance(definition, str) or not definition.strip():
            raise FrontMatterError(f"{where}: term {en!r} needs a definition `def`")
        symbol = entry.get("symbol", "")
        confused = entry.get("confused_with") or []
        confused = [confused] if isinstance(confused, str) else confused
        if not isinstance(confused, list) or not all(isinstance(c, str) for c in confused):
            raise FrontMatterError(
                f"{where}: term {en!r}: `confused_with` must be a list of English term names"
            )
        terms.append(
            Term(
                en,
                tuple(k.strip() for k in ko),
                " ".join(definition.split()),
                stem,
                str(symbol),
                tuple(" ".join(c.split()) for c in confused),
            )
        )
    summary = data.get("summary") or ""
    if not isinstance(summary, str):
        raise FrontMatterError(f"{where}: `summary` must be text (one or two sentences)")
    return Page(stem, page_title(body), tuple(builds_on), tuple(terms), " ".join(summary.split()))


def load_pages(concepts: Path) -> dict[str, Page]:
    """Read every concept page in a folder, by stem."""
    return {
        path.stem: parse_page(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(concepts.glob("*.md"))
    }


def find_cycle(pages: Mapping[str, Page]) -> list[str]:
    """Return one cycle of ``builds_on`` as ``[a, b, ..., a]``, or ``[]`` if there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(stem: str) -> list[str]:
        state[stem] = 1
        path.append(stem)
        for before in pages[stem].builds_on:
            if before not in pages:
                continue
            if state.get(before) == 1:
                return [*path[path.index(before) :], before]
            if before not in state and (cycle := visit(before)):
                return cycle
        path.pop()
        state[stem] = 2
        return []

    for stem in sorted(pages):
        if stem not in state and (cycle := visit(stem)):
            return cycle
    return []


def problems(pages: Mapping[str, Page]) -> list[str]:
    """Return every way the pages break the contract.

    Unknown pages in ``builds_on``, cycles, duplicate term names, a ``confused_with`` name that is
    no term's English name (or the term itself), and a page without a ``summary``.
    """
    found = []
    english = {t.en.lower(): t for p in pages.values() for t in p.terms}
    for page in pages.values():
        if not page.summary:
            found.append(
                f"concepts/{page.stem}.md has no `summary` in its front matter "
                "(one or two sentences for the landing page's table)"
            )
        for term in page.terms:
            for other in term.confused_with:
                if other.lower() == term.en.lower():
                    found.append(f"concepts/{page.stem}.md: {term.en!r} is confused with itself")
                elif other.lower() not in english:
                    found.append(
                        f"concepts/{page.stem}.md: {term.en!r} is confused with {other!r}, "
                        "which is no term (name a term's English name)"
                    )
        for before in page.builds_on:
            if before not in pages:
                found.append(f"concepts/{page.stem}.md builds on {before!r}, which is no page")
            elif before == page.stem:
                found.append(f"concepts/{page.stem}.md builds on itself")
    cycle = find_cycle(pages)
    if cycle and len(cycle) > 2:
        found.append("the concept map has a cycle: " + " -> ".join(cycle))
    owner: dict[str, Term] = {}
    for term in all_terms(pages):
        for name in term.names:
            key = name.lower()
            if key in owner:
                first = owner[key]
                found.append(
                    f"the term name {name!r} is defined twice: in concepts/{first.page}.md "
                    f"({first.en}) and in concepts/{term.page}.md ({term.en})"
                )
            else:
                owner[key] = term
    return found


def all_terms(pages: Mapping[str, Page]) -> list[Term]:
    """Every term of every page, sorted by English name."""
    return sorted((t for p in pages.values() for t in p.terms), key=lambda t: t.en.lower())


def term_names(pages: Mapping[str, Page]) -> dict[str, Term]:
    """Map every name of every term (English and Korean, lower case) to its term."""
    return {name.lower(): term for term in all_terms(pages) for name in term.names}


def confusions(pages: Mapping[str, Page]) -> dict[str, list[str]]:
    """For each term (by English name), the English names of the terms it is confused with.

    A confusion goes both ways: a term lists the names in its ``confused_with`` (in their order,
    spelled as the other term's ``en``), then the terms that name it in theirs (sorted). Names
    that are no term are left out (``problems`` reports them).
    """
    english = {t.en.lower(): t.en for t in all_terms(pages)}
    found: dict[str, list[str]] = {t.en: [] for t in all_terms(pages)}
    for term in all_terms(pages):
        for other in term.confused_with:
            name = english.get(other.lower())
            if name is not None and name != term.en and name not in found[term.en]:
                found[term.en].append(name)
    for term in all_terms(pages):  # sorted, so the added names are sorted too
        for other in term.confused_with:
            name = english.get(other.lower())
            if name is not None and name != term.en and term.en not in found[name]:
                found[name].append(term.en)
    return found


def term_targets(text: str) -> list[str]:
    """Return the glossary names that the ``{term}`` roles of a MyST text point to."""
    targets = []
    for content in TERM_ROLE.findall(text):
        match = re.fullmatch(r"(?s).*?<(.+)>\s*", content)
        targets.append(" ".join((match.group(1) if match else content).split()))
    return targets


def used_by(pages: Mapping[str, Page]) -> dict[str, list[str]]:
    """For each page, the pages that build on it (sorted)."""
    users: dict[str, list[str]] = {stem: [] for stem in pages}
    for page in sorted(pages.values(), key=lambda p: p.stem):
        for before in page.builds_on:
            if before in users:
                users[before].append(page.stem)
    return users


def edges(pages: Mapping[str, Page]) -> list[tuple[str, str]]:
    """The map's edges ``(prerequisite, page)``, sorted."""
    return sorted((b, p.stem) for p in pages.values() for b in p.builds_on if b in pages)


def reading_order(pages: Mapping[str, Page]) -> list[str]:
    """A topological order of the pages: every page after the pages it builds on.

    Among the pages whose prerequisites are all read, the ones that the last page read made
    ready come first (so a page follows its prerequisites closely), then the rest; ties are broken
    by stem, so the order is stable. Raises ValueError if the map has a cycle.
    """
    waiting = {stem: {b for b in page.builds_on if b in pages} for stem, page in pages.items()}
    users = used_by(pages)
    stack = [sorted(stem for stem, before in waiting.items() if not before)]
    order = []
    while stack:
        if not stack[-1]:
            stack.pop()
            continue
        stem = stack[-1].pop(0)
        order.append(stem)
        for user in users[stem]:
            waiting[user].discard(stem)
        stack.append([user for user in users[stem] if not waiting[user]])
    if len(order) != len(pages):
        raise ValueError("the concept map has a cycle: " + " -> ".join(find_cycle(pages)))
    return order


def fingerprint(pages: Mapping[str, Page]) -> str:
    """A hash of everything the generated content depends on."""
    data = [
        (p.stem, p.title, p.summary, p.builds_on, [vars(t) for t in p.terms])
        for p in pages.values()
    ]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# --- Generated MyST source -------------------------------------------------------------------


def _term_links(names: Iterable[str]) -> str:
    return ", ".join(f"{{term}}`{name}`" for name in names)


def glossary_markdown(pages: Mapping[str, Page]) -> str:
    """The glossary as a MyST ``{glossary}`` block.

    Each entry: the English name, the Korean names, the definition, "Not to be confused with"
    links (if any), and the page that explains the term.
    """
    confused = confusions(pages)
    lines = ["```{glossary}", ":sorted:", ""]
    for term in all_terms(pages):
        lines += term.names
        lines += [f"   {term.definition}", ""]
        if confused[term.en]:
            lines += [f"   Not to be confused with {_term_links(confused[term.en])}.", ""]
        lines += [f"   → {{doc}}`/{CONCEPTS}/{term.page}`", ""]
    return "\n".join([*lines, "```"])


def table_markdown(rows: Iterable[Term], confused: Mapping[str, list[str]] | None = None) -> str:
    """A term table as a MyST list-table.

    Columns: English (linked to the glossary), Korean, then, if any row has one, the symbol and
    the terms it is not to be confused with (``confused``: see ``confusions``).
    """
    rows = list(rows)
    confused = confused or {}
    symbols = any(t.symbol for t in rows)
    others = any(confused.get(t.en) for t in rows)
    header = [
        "English", "한국어", *(["Symbol"] if symbols else []),
        *(["Not to be confused with"] if others else []),
    ]  # fmt: skip
    lines = ["```{list-table}", ":header-rows: 1", ":class: concept-terms", ""]
    for cells in [header] + [
        [
            f"{{term}}`{t.en}`",
            ", ".join(t.ko),
            *([t.symbol] if symbols else []),
            *([_term_links(confused.get(t.en, []))] if others else []),
        ]
        for t in rows
    ]:
        lines.append(f"* - {cells[0]}")
        lines += [f"  - {cell}" if cell else "  -" for cell in cells[1:]]
    return "\n".join([*lines, "```"])


def index_markdown(pages: Mapping[str, Page]) -> str:
    """The landing page's table of the pages and their summaries, then their hidden toctree.

    Both list the pages in reading order (prerequisites first).
    """
    order = reading_order(pages)
    lines = ["```{list-table}", ":header-rows: 1", ":widths: 30 70", ""]
    lines += ["* - Page", "  - What it settles"]
    for stem in order:
        lines += [f"* - {{doc}}`/{CONCEPTS}/{stem}`", f"  - {pages[stem].summary}"]
    lines += ["```", "", "```{toctree}", ":caption: Concepts", ":maxdepth: 1", ":hidden:", ""]
    lines += [f"/{CONCEPTS}/{stem}" for stem in order]
    return "\n".join([*lines, "```"])


def dot_source(pages: Mapping[str, Page], url: Mapping[str, str]) -> str:
    """The concept map in Graphviz's DOT language; a node links to ``url[stem]`` if given."""
    lines = [
        "digraph concepts {",
        '  graph [rankdir=LR, nodesep=0.15, ranksep=0.5, bgcolor="white"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#4a6fa5",',
        '        fontname="Helvetica", fontsize=11, margin="0.12,0.05"];',
        '  edge [color="#4a6fa5", arrowsize=0.7];',
    ]
    for stem in sorted(pages):
        title = (pages[stem].title or stem).replace('"', '\\"')
        label = "\\n".join(textwrap.wrap(title, 26))
        link = f', URL="{url[stem]}", target="_top"' if stem in url else ""
        lines.append(f'  "{stem}" [label="{label}", tooltip="{title}"{link}];')
    lines += [f'  "{before}" -> "{stem}";' for before, stem in edges(pages)]
    return "\n".join([*lines, "}"])


# --- Sphinx ---------------------------------------------------------------------------------

logger = logging.getLogger(__name__)
_PAGES: dict[str, dict[str, Page]] = {}


def pages_of(env: BuildEnvironment) -> dict[str, Page]:
    """The concept pages of this project (read once per build)."""
    key = str(env.srcdir)
    if key not in _PAGES:
        pages = {}
        for path in sorted((Path(env.srcdir) / CONCEPTS).glob("*.md")):
            try:
                pages[path.stem] = parse_page(path.stem, path.read_text(encoding="utf-8"))
            except (FrontMatterError, yaml.YAMLError) as error:  # the page stays off the map
                logger.warning(str(error), type="conceptmap", subtype="contract")
        _PAGES[key] = pages
    return _PAGES[key]


def _users(env: BuildEnvironment) -> set[str]:
    """Documents whose content is generated from other pages' front matter."""
    if not hasattr(env, "conceptmap_users"):
        env.conceptmap_users = set()  # type: ignore[attr-defined]
    users: set[str] = env.conceptmap_users  # type: ignore[attr-defined]
    return users


class _Generated(SphinxDirective):
    """A directive whose output is MyST text generated from the front matter."""

    def markdown(self, pages: dict[str, Page]) -> str:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        _users(self.env).add(self.env.current_document.docname)
        container = nodes.container()
        text = self.markdown(pages_of(self.env))
        self.state.nested_parse(
            StringList(text.splitlines(), self.get_source_info()[0]), 0, container
        )
        return list(container.children)


class ConceptGlossary(_Generated):
    """``{concept-glossary}``: every term of every concept page."""

    def markdown(self, pages: dict[str, Page]) -> str:
        return glossary_markdown(pages)


class ConceptIndex(_Generated):
    """``{concept-index}``: the pages with their summaries, and the toctree of the pages."""

    def markdown(self, pages: dict[str, Page]) -> str:
        return index_markdown(pages)


class ReadingOrder(_Generated):
    """``{reading-order}``: the concept pages, prerequisites first."""

    def markdown(self, pages: dict[str, Page]) -> str:
        return "\n".join(
            f"{n}. {{doc}}`/{CONCEPTS}/{stem}`"
            for n, stem in enumerate(reading_order(pages), start=1)
        )


class Terms(_Generated):
    """``{terms}``: this page's terms, then the other pages' terms named in the body."""

    has_content = True

    def markdown(self, pages: dict[str, Page]) -> str:
        stem = Path(self.env.current_document.docname).name
        own = pages[stem].terms if stem in pages else ()
        names = term_names(pages)
        borrowed = []
        for line in self.content:
            if line.strip() and line.strip().lower() not in names:
                raise self.error(f"{{terms}}: {line.strip()!r} is no glossary term")
            if line.strip():
                borrowed.append(names[line.strip().lower()])
        return table_markdown([*own, *borrowed], confusions(pages))


class ConceptMap(SphinxDirective):
    """``{concept-map}``: the graph of what builds on what; nodes link to the pages."""

    def run(self) -> list[nodes.Node]:
        docname = self.env.current_document.docname
        _users(self.env).add(docname)
        pages = pages_of(self.env)
        node = graphviz()
        # Links are filled in per builder (see _resolve_links): "@@stem@@" marks each one.
        node["code"] = dot_source(pages, {stem: f"@@{stem}@@" for stem in pages})
        node["options"] = {"docname": docname}
        node["alt"] = "Concept map: " + ", ".join(
            f"{pages[a].title} → {pages[b].title}" for a, b in edges(pages)
        )
        node["align"] = "center"
        return [node]


def _resolve_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in doctree.findall(graphviz):
        if "@@" not in node["code"]:
            continue
        if app.builder.format == "html":

            def uri(match: re.Match[str]) -> str:
                return app.builder.get_relative_uri(docname, f"{CONCEPTS}/{match.group(1)}")

            node["code"] = re.sub(r"@@([^@]+)@@", uri, node["code"])
        else:  # no links in the PDF's figure
            node["code"] = re.sub(r', URL="@@[^@]+@@", target="_top"', "", node["code"])


def _doc_link(docname: str, stem: str) -> addnodes.pending_xref:
    xref = addnodes.pending_xref(
        "", refdomain="std", reftype="doc", reftarget=f"/{CONCEPTS}/{stem}",
        refdoc=docname, refexplicit=False, refwarn=True,
    )  # fmt: skip
    xref.append(nodes.inline("", stem))
    return xref


def _add_links_and_index(app: Sphinx, doctree: nodes.document) -> None:
    """After a concept page's title: "Builds on / Used by" links and the terms' index entries."""
    docname = app.env.current_document.docname
    folder, _, stem = docname.rpartition("/")
    pages = pages_of(app.env)
    if folder != CONCEPTS or stem not in pages:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    _users(app.env).add(docname)
    added: list[nodes.Node] = []
    page = pages[stem]
    if page.terms:
        entries = [
            ("single", name, "concept-terms", "", None) for t in page.terms for name in t.names
        ]
        added += [addnodes.index(entries=entries), nodes.target("", "", ids=["concept-terms"])]
    para = nodes.paragraph(classes=["concept-links"])
    for label, stems in (("Builds on", page.builds_on), ("Used by", used_by(pages)[stem])):
        if not stems:
            continue
        if len(para):
            para += nodes.Text("   ")
        para += nodes.strong("", f"{label}: ")
        for n, other in enumerate(sorted(stems)):
            para += [nodes.Text(", ")] if n else []
            para += _doc_link(docname, other)
    if len(para):
        added.append(para)
    section.insert(1, added)  # index 0 is the title


# The PDF's index holds Korean names: xindy's Korean module (kotex's, in Debian's xindy-rules)
# sorts them and groups them by initial consonant; makeindex would split their UTF-8 bytes.
XINDY_OPTIONS = "-L korean -C utf8 -M sphinx.xdy -M conceptref.xdy"
# A term inside a glossary entry reaches the .idx file as "\sphinxhyphen {}" (TeX writes a
# space after a control word), the same term elsewhere as "\sphinxhyphen{}": one entry.
XINDY_MODULE = '(merge-rule "\\sphinxhyphen {}" "-" :string)\n'


def _xindy_options(app: Sphinx, exception: Exception | None) -> None:
    """Make latexmk call xindy with the Korean module, however latexmk is started."""
    if exception or app.builder.name != "latex" or not app.config.latex_use_xindy:
        return
    rc = Path(app.outdir) / "latexmkrc"
    text = rc.read_text(encoding="utf-8")
    rc.write_text(text.replace("$ENV{'XINDYOPTS'}", f"'{XINDY_OPTIONS}'"), encoding="utf-8")
    (Path(app.outdir) / "conceptref.xdy").write_text(XINDY_MODULE, encoding="utf-8")


def _outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Read the front matter and check it; if it changed, re-read the pages made from it."""
    _PAGES.pop(str(env.srcdir), None)  # this process may have built before (autobuild)
    for problem in problems(pages_of(env)):
        logger.warning(problem, type="conceptmap", subtype="contract")
    new = fingerprint(pages_of(env))
    old = getattr(env, "conceptmap_fingerprint", None)
    env.conceptmap_fingerprint = new  # type: ignore[attr-defined]
    if old is None or old == new:
        return []
    return sorted(_users(env) & set(env.found_docs))


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _users(env).discard(docname)


def _merge(
    app: Sphinx, env: BuildEnvironment, docnames: Iterable[str], other: BuildEnvironment
) -> None:
    _users(env).update(_users(other))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directives and the event handlers."""
    app.setup_extension("sphinx.ext.graphviz")
    app.add_directive("concept-glossary", ConceptGlossary)
    app.add_directive("concept-index", ConceptIndex)
    app.add_directive("concept-map", ConceptMap)
    app.add_directive("reading-order", ReadingOrder)
    app.add_directive("terms", Terms)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-read", _add_links_and_index)
    app.connect("doctree-resolved", _resolve_links)
    app.connect("build-finished", _xindy_options)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
