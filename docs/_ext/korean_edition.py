"""The Korean edition (한국어판): the same pages, translated through gettext catalogs.

Built with ``-D language=ko`` (see ``nox -s docs``), or as the Read the Docs translation project.
This extension gives that edition what translation alone does not:

- Korean search (``korean_search.SearchKorean``): particles stripped, compounds by bigrams;
- the glossary with Korean headwords in 가나다 order, the English name beside each, and the
  concept map's boxes titled in Korean (from the pages' catalogs);
- the "Builds on / Used by" labels in Korean;
- in both editions, a link in the sidebar to the same page in the other edition;
- the checks of ``i18n_checks`` on every catalog before the build reads a page (a bad catalog
  fails the strict build, naming the file and line), and, on each page listed in
  ``locale/ko/translated.txt``, a warning for every paragraph the catalogs leave in English (an
  English edit that the catalog has not caught up with).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import conceptmap
import i18n_checks
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.latex.util import ExtBabel
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.nodes import extract_messages

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
EDITIONS = {"en": "English", "ko": "한국어"}
HANGUL = re.compile("[\uac00-\ud7a3]")  # precomposed Hangul syllables
LABELS = {"Builds on: ": "선행 개념: ", "Used by: ": "후속 개념: "}


def _locale(app: Sphinx) -> Path:
    return Path(app.srcdir) / "locale" / app.config.language


def _korean(app: Sphinx) -> bool:
    return str(app.config.language).startswith("ko")


# --- Glossary and concept map ---------------------------------------------------------------


def korean_headwords(glossary: str) -> str:
    """A generated ``{glossary}`` block with each entry's main Korean name first, English second.

    An entry's names are its unindented lines, English first (``Term.names``); its definition and
    links are indented and stay as they are. ``:sorted:`` then orders the entries by their Korean
    headword: 가나다 order.
    """
    lines: list[str] = []
    names: list[str] = []
    for line in [*glossary.splitlines(), ""]:
        if line and not line.startswith((" ", "`", ":")):
            names.append(line)
            continue
        lines += [names[1], names[0], *names[2:]] if len(names) > 1 else names
        names = []
        lines.append(line)
    return "\n".join(lines[:-1])


def korean_glossary_markdown(pages: dict[str, conceptmap.Page]) -> str:
    """The glossary for the Korean edition: main Korean name, English name, other Korean names."""
    return korean_headwords(conceptmap.glossary_markdown(pages))


def translated_titles(locale: Path, pages: dict[str, conceptmap.Page]) -> dict[str, str]:
    """Each concept page's title as its catalog translates it (pages without one are left out)."""
    titles = {}
    for stem, page in pages.items():
        path = locale / "LC_MESSAGES" / conceptmap.CONCEPTS / f"{stem}.po"
        if not path.is_file():
            continue
        for message in i18n_checks.read_catalog(path):
            if (
                isinstance(message.id, str)
                and message.id.replace("`", "") == page.title
                and message.string
                and not message.fuzzy
            ):
                titles[stem] = str(message.string).replace("`", "")
    return titles


class KoreanGlossary(conceptmap.ConceptGlossary):
    """``{concept-glossary}``, in the Korean edition with Korean headwords."""

    def markdown(self, pages: dict[str, conceptmap.Page]) -> str:
        if _korean(self.env.app):
            return korean_glossary_markdown(pages)
        return super().markdown(pages)


class KoreanConceptMap(conceptmap.ConceptMap):
    """``{concept-map}``, in the Korean edition with the pages' Korean titles."""

    def run(self) -> list[nodes.Node]:
        result = super().run()
        if not _korean(self.env.app):
            return result
        locale = _locale(self.env.app)
        pages = conceptmap.pages_of(self.env)
        for stem in pages:  # a new title in a catalog redraws the map
            path = locale / "LC_MESSAGES" / conceptmap.CONCEPTS / f"{stem}.po"
            if path.is_file():
                self.env.note_dependency(str(path))
        titles = translated_titles(locale, pages)
        korean = {
            stem: dataclasses.replace(page, title=titles.get(stem, page.title))
            for stem, page in pages.items()
        }
        for node in result:
            code = conceptmap.dot_source(korean, {stem: f"@@{stem}@@" for stem in korean})
            node["code"] = code.replace('fontname="Helvetica"', 'fontname="Noto Sans CJK KR"')
            node["alt"] = "개념 지도: " + ", ".join(
                f"{korean[a].title} → {korean[b].title}" for a, b in conceptmap.edges(korean)
            )
        return result


def _doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    # Glossary headwords are names, and display math is code: neither reaches the catalogs.
    for glossary in doctree.findall(addnodes.glossary):
        for term in glossary.findall(nodes.term):
            term["translatable"] = False
    for math in doctree.findall(nodes.math_block):
        math["translatable"] = False
    if not _korean(app):
        return
    for para in doctree.findall(nodes.paragraph):
        if "concept-links" in para["classes"]:
            for strong in para.findall(nodes.strong):
                text = strong.astext()
                if text in LABELS:
                    strong.replace(strong[0], nodes.Text(LABELS[text]))
    docname = app.env.current_document.docname
    listed = _locale(app) / "translated.txt"
    if listed.is_file():  # a page added to the list is read and checked again
        app.env.note_dependency(str(listed))
    if docname in i18n_checks.read_translated(listed):
        _untranslated(app, docname, doctree)


def _untranslated(app: Sphinx, docname: str, doctree: nodes.document) -> None:
    """Warn for each paragraph of a translated page that its catalog left in English.

    A message counts as translated when Sphinx marked its node so, when the catalog holds a
    translation of it (a toctree caption; a name that translates as itself, such as the project's),
    or when it is Korean text already (an image's alt text is translated without a mark).
    """
    path = _locale(app) / "LC_MESSAGES" / f"{docname}.po"
    done = {
        message.id
        for message in (i18n_checks.read_catalog(path) if path.is_file() else ())
        if message.id and message.string and not message.fuzzy
    }
    for node, message in extract_messages(doctree):
        if node.get("translated") or message in done or not i18n_checks.has_prose(message):
            continue
        if HANGUL.search(message):  # translated already (an image's alt text carries no mark)
            continue
        start = " ".join(message.split())[:70]
        logger.warning(
            "not translated in the Korean edition (an English change the catalog lacks: run "
            "`nox -s catalogs` and translate locale/%s/LC_MESSAGES/%s.po): %r",
            app.config.language, docname, start, location=node,
            type="i18n", subtype="untranslated",
        )  # fmt: skip


# --- Catalog checks ---------------------------------------------------------------------------


def check_catalogs(app: Sphinx) -> None:
    """Check every catalog of the edition's language before a page is read."""
    locale = _locale(app)
    if app.config.language == "en" or not locale.is_dir():
        return
    pages = {}
    for path in sorted((Path(app.srcdir) / conceptmap.CONCEPTS).glob("*.md")):
        try:
            pages[path.stem] = conceptmap.parse_page(path.stem, path.read_text(encoding="utf-8"))
        except (conceptmap.FrontMatterError, ValueError):  # conceptmap warns about the page
            continue
    terms = {t.en: t.ko for t in conceptmap.all_terms(pages)}
    names = {name.lower(): t.en for t in conceptmap.all_terms(pages) for name in t.names}
    docnames = [
        p.relative_to(app.srcdir).with_suffix("").as_posix()
        for p in Path(app.srcdir).rglob("*.md")
        if "_build" not in p.parts
    ]
    try:
        problems = i18n_checks.check_locale(locale, terms, names, docnames)
    except i18n_checks.CatalogSyntaxError as error:
        raise ExtensionError(f"a translation catalog cannot be read: {error}") from None
    for problem in problems:
        logger.warning(
            problem.message,
            location=f"{problem.path}:{problem.line}",
            type="i18n",
            subtype="catalog",
        )


# --- Edition switch ---------------------------------------------------------------------------


def edition_links(language: str, pagename: str, target: str) -> list[tuple[str, str, str, bool]]:
    """``(language, label, URL, current)`` of each edition's copy of a page, relative to it.

    Locally the Korean edition lives in ``ko/`` inside the English one; on Read the Docs each
    edition is a project under ``/<language>/<version>/``.
    """
    up = "../" * pagename.count("/")
    version = os.environ.get("READTHEDOCS_VERSION")
    links = []
    for other, label in EDITIONS.items():
        if other == language:
            links.append((other, label, f"{up}{target}", True))
        elif version and os.environ.get("READTHEDOCS") == "True":
            links.append((other, label, f"{up}../../{other}/{version}/{target}", False))
        elif language == "en":
            links.append((other, label, f"{up}{other}/{target}", False))
        else:
            links.append((other, label, f"{up}../{target}", False))
    return links


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    language = "ko" if _korean(app) else "en"
    context["edition_links"] = edition_links(
        language, pagename, app.builder.get_target_uri(pagename)
    )


KOREAN_TITLE = "conceptref: 헷갈리는 딥러닝 개념, 실행되는 예제로 확인하기"


def _config_inited(app: Sphinx, config: Config) -> None:
    config.templates_path.append(str(HERE / "templates"))
    if not _korean(app):
        return
    config.latex_documents = [
        (start, target, KOREAN_TITLE, *rest) for start, target, _, *rest in config.latex_documents
    ]
    contents = config.latex_elements.get("tableofcontents", "")
    config.latex_elements["tableofcontents"] = contents.replace("{Contents}", "{차례}")
    # Chapters are numbered without the English word "Chapter": polyglossia sets the captions of
    # its main language (English, see below) when the document starts, so they are amended there.
    preamble = config.latex_elements.get("preamble", "")
    config.latex_elements["preamble"] = (
        preamble + "\\gappto\\captionsenglish{\\renewcommand{\\chaptername}{}}\n"
    )


# LaTeX knows no Babel or polyglossia language "ko"; kotex typesets the Hangul, so the Korean PDF
# keeps polyglossia's English rules for its Latin text (as Sphinx does for Chinese), instead of
# warning that the language is unknown.
_language_name = ExtBabel.language_name


def _babel_language_name(self: ExtBabel, language_code: str) -> str:
    if language_code.startswith("ko"):
        return "english"
    return _language_name(self, language_code)


ExtBabel.language_name = _babel_language_name  # type: ignore[method-assign]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the Korean search language, the directives' Korean forms and the checks."""
    app.setup_extension("conceptmap")
    app.setup_extension("korean_search")
    app.add_directive("concept-glossary", KoreanGlossary, override=True)
    app.add_directive("concept-map", KoreanConceptMap, override=True)
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", check_catalogs)
    app.connect("doctree-read", _doctree_read, priority=600)  # after conceptmap's links
    app.connect("html-page-context", _page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
