"""The glossary, the concept map and the references: every link resolves, nothing is orphaned.

The concept pages' front matter is the single source of the glossary, the term tables and the
map (docs/_ext/conceptmap.py). Each check is a function run on the real pages and, in a second
test, on data with a planted error, to show that it can fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import conceptmap as cm

TEXTS = {
    str(p.relative_to(DOCS)): p.read_text(encoding="utf-8")
    for p in sorted(DOCS.rglob("*.md"))
    if "_build" not in p.parts
}
PAGES = cm.load_pages(DOCS / "concepts")
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def unresolved_terms(texts: Mapping[str, str], pages: Mapping[str, cm.Page]) -> list[str]:
    """`{term}` links whose target is no glossary name, as "file: target"."""
    names = cm.term_names(pages)
    return [
        f"{name}: {target}"
        for name, text in texts.items()
        for target in cm.term_targets(text)
        if target.lower() not in names
    ]


def unlinked_terms(texts: Mapping[str, str], pages: Mapping[str, cm.Page]) -> list[str]:
    """Glossary terms that no page links with `{term}` (under any of their names).

    A term that a linked term is confused with counts as linked: the other term's glossary
    entry and table row link it ("not to be confused with").
    """
    names = cm.term_names(pages)
    targets = {t.lower() for text in texts.values() for t in cm.term_targets(text)}
    linked = {names[t].en for t in targets if t in names}
    confused = cm.confusions(pages)
    linked |= {other for term in linked for other in confused[term]}
    return [term.en for term in cm.all_terms(pages) if term.en not in linked]


def cited_keys(texts: Mapping[str, str]) -> set[str]:
    """Every key cited with a {cite...} role."""
    return {
        key.strip() for text in texts.values() for keys in CITE.findall(text)
        for key in keys.split(",")
    }  # fmt: skip


def bib_problems(entries: Mapping[str, Mapping[str, str]], cited: set[str]) -> list[str]:
    """Cited keys missing from the .bib, entries nobody cites, entries with no DOI/arXiv/URL."""
    fields = {key: {name.lower(): value for name, value in f.items()} for key, f in entries.items()}
    found = [f"cited but not in references.bib: {key}" for key in sorted(cited - set(fields))]
    found += [f"in references.bib but never cited: {key}" for key in sorted(set(fields) - cited)]
    for key, f in fields.items():
        arxiv = "eprint" in f and f.get("archiveprefix", "").lower() == "arxiv"
        url = "url" in f or any("\\url{" in value for value in f.values())
        if not ("doi" in f or arxiv or url):
            found.append(f"{key} has no doi, arXiv eprint or url")
    return found


def bib_entries(path: Path) -> dict[str, dict[str, str]]:
    return {key: dict(entry.fields) for key, entry in parse_file(path).entries.items()}


def page(stem: str, builds_on: tuple[str, ...] = (), *names: str, summary: str = "S.") -> cm.Page:
    terms = tuple(cm.Term(n, (f"{n} 용어",), "A definition.", stem) for n in names)
    return cm.Page(stem, stem.title(), builds_on, terms, summary)


def confused(page: cm.Page, others: Mapping[str, tuple[str, ...]]) -> cm.Page:
    """The page with `confused_with` set on the terms named in `others`."""
    terms = tuple(replace(t, confused_with=others.get(t.en, ())) for t in page.terms)
    return replace(page, terms=terms)


# --- The front matter ------------------------------------------------------------------------


def test_every_concept_page_is_in_the_map():
    stems = {p.stem for p in (DOCS / "concepts").glob("*.md")}
    assert set(PAGES) == stems
    assert sorted(cm.reading_order(PAGES)) == sorted(stems)
    assert all(p.title for p in PAGES.values()), "a concept page has no level-1 title"


FRONT = (
    "---\nsummary: >-\n  Decay,\n  explained.\nbuilds_on: []\nterms:\n  - en: weight decay\n"
    "    ko: [가중치 감쇠]\n    def: Shrink.\n    confused_with: [L2  regularization]\n---\n"
)


def hand_kept_tables(texts: Mapping[str, str]) -> list[str]:
    """Concept pages that keep a term table by hand, or have terms but no {terms} table."""
    found = []
    for name, text in texts.items():
        if not name.startswith("concepts/"):
            continue
        if re.search(r"^\|\s*English\s*\|\s*한국어", text, re.MULTILINE):
            found.append(f"{name}: a hand-kept term table (use a {{terms}} block)")
        elif "terms:\n  -" in text and "```{terms}" not in text:
            found.append(f"{name}: no {{terms}} table")
    return found


def test_term_tables_are_generated_from_the_front_matter():
    assert hand_kept_tables(TEXTS) == []
    table = "| English | 한국어 | Symbol |\n| --- | --- | --- |\n"
    assert hand_kept_tables({"concepts/a.md": FRONT + table, "concepts/b.md": FRONT}) == [
        "concepts/a.md: a hand-kept term table (use a {terms} block)",
        "concepts/b.md: no {terms} table",
    ]


def test_the_map_and_the_terms_keep_the_contract():
    assert cm.problems(PAGES) == []


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("---\nterms: []\n---\n", "needs `builds_on` and `terms`"),
        ("---\nbuilds_on: x\nterms: []\n---\n", "`builds_on` must be a list"),
        (FRONT.replace("ko: [가중치 감쇠]", "ko: []"), "needs Korean names"),
        (FRONT.replace("ko: [가중치 감쇠]", "ko: [weight decay]"), "needs Korean names"),
        (FRONT.replace("    def: Shrink.\n", ""), "needs a definition"),
        (FRONT.replace("en: weight decay", "english: weight decay"), "needs an English name"),
        (FRONT.replace("[L2  regularization]", "{a: b}"), "`confused_with` must be a list"),
        (FRONT.replace(">-\n  Decay,\n  explained.", "[a, b]"), "`summary` must be text"),
        ("# No front matter\n", "needs `builds_on` and `terms`"),
    ],
)
def test_a_broken_front_matter_is_rejected(front, message):
    wd = cm.parse_page("wd", FRONT + "# Title\n")
    assert wd.terms[0].ko == ("가중치 감쇠",)
    assert wd.terms[0].confused_with == ("L2 regularization",)
    assert wd.summary == "Decay, explained."
    with pytest.raises(cm.FrontMatterError, match=re.escape(message)):
        cm.parse_page("wd", front + "# Title\n")


def test_planted_map_errors_are_found():
    assert cm.problems({"a": page("a", ("b",)), "b": page("b", ("a",))}) == [
        "the concept map has a cycle: a -> b -> a"
    ]
    assert cm.problems({"a": page("a", ("a",))}) == ["concepts/a.md builds on itself"]
    assert cm.problems({"a": page("a", ("nowhere",))}) == [
        "concepts/a.md builds on 'nowhere', which is no page"
    ]
    twice = cm.problems({"a": page("a", (), "bias"), "b": page("b", (), "Bias")})
    assert twice[0].startswith("the term name 'Bias' is defined twice: in concepts/a.md")
    assert len(twice) == 2  # the English and the Korean name
    with pytest.raises(ValueError, match="cycle: a -> c -> b -> a"):
        cm.reading_order({"a": page("a", ("c",)), "b": page("b", ("a",)), "c": page("c", ("b",))})


SUMMARY_RULE = "(one or two sentences for the landing page's table)"
NAME_RULE = "(name a term's English name)"


def test_a_page_without_a_summary_is_found():
    assert all(p.summary for p in PAGES.values())
    front = FRONT.replace("summary: >-\n  Decay,\n  explained.\n", "")
    no_summary = cm.parse_page("wd", front.replace("L2  regularization", "weight decay 용어"))
    assert no_summary.summary == ""
    unknown = "'weight decay' is confused with 'weight decay 용어', which is no term"
    assert cm.problems({"wd": no_summary}) == [
        f"concepts/wd.md has no `summary` in its front matter {SUMMARY_RULE}",
        f"concepts/wd.md: {unknown} {NAME_RULE}",
    ]


def test_an_unknown_confused_with_name_is_found():
    pages = {
        "a": confused(page("a", (), "pre-LN", "post-LN"), {"pre-LN": ("post-ln", "pre-LN", "LN")}),
        "b": confused(page("b", (), "head"), {"head": ("post-LN 용어",)}),
    }
    assert cm.problems(pages) == [
        "concepts/a.md: 'pre-LN' is confused with itself",
        f"concepts/a.md: 'pre-LN' is confused with 'LN', which is no term {NAME_RULE}",
        f"concepts/b.md: 'head' is confused with 'post-LN 용어', which is no term {NAME_RULE}",
    ]


def test_a_confusion_goes_both_ways():
    pages = {
        "a": confused(page("a", (), "pre-LN", "post-LN"), {"pre-LN": ("post-ln", "nowhere")}),
        "b": confused(page("b", (), "head", "backbone"), {"head": ("backbone", "pre-LN")}),
    }
    assert cm.confusions(pages) == {
        "backbone": ["head"],
        "head": ["backbone", "pre-LN"],
        "post-LN": ["pre-LN"],
        "pre-LN": ["post-LN", "head"],
    }
    glossary = cm.glossary_markdown(pages)
    assert "   Not to be confused with {term}`post-LN`, {term}`head`.\n" in glossary
    table = cm.table_markdown(pages["a"].terms, cm.confusions(pages))
    assert table.endswith(
        "* - English\n  - 한국어\n  - Not to be confused with\n"
        "* - {term}`pre-LN`\n  - pre-LN 용어\n  - {term}`post-LN`, {term}`head`\n"
        "* - {term}`post-LN`\n  - post-LN 용어\n  - {term}`pre-LN`\n```"
    )
    assert "Not to be confused" not in cm.table_markdown(pages["a"].terms)


def test_the_generated_index_lists_every_page_with_its_summary_in_reading_order():
    text = cm.index_markdown(PAGES)
    order = cm.reading_order(PAGES)
    rows = re.findall(r"^\* - \{doc\}`/concepts/([^`]+)`\n  - (.+)$", text, re.MULTILINE)
    assert rows == [(stem, PAGES[stem].summary) for stem in order]
    assert text.endswith("\n".join(["", *(f"/concepts/{stem}" for stem in order), "```"]))
    assert ":caption: Concepts" in text


@given(st.sets(st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(lambda e: e[0] < e[1])))
def test_the_reading_order_puts_every_page_after_its_prerequisites(edges):
    stems = [f"p{i}" for i in range(8)]
    before = {s: tuple(f"p{a}" for a, b in sorted(edges) if f"p{b}" == s) for s in stems}
    pages = {s: page(s, before[s]) for s in reversed(stems)}
    order = cm.reading_order(pages)
    assert sorted(order) == stems
    assert all(order.index(b) < order.index(s) for s in stems for b in before[s])
    assert order == cm.reading_order(dict(reversed(pages.items())))  # stable
    assert cm.find_cycle(pages) == []


def test_the_reading_order_follows_a_chain_before_starting_the_next():
    pages = {"a": page("a"), "b": page("b"), "c": page("c", ("b",)), "z": page("z", ("a",))}
    assert cm.reading_order(pages) == ["a", "z", "b", "c"]


# --- Terms -----------------------------------------------------------------------------------


def test_every_term_link_resolves():
    assert unresolved_terms(TEXTS, PAGES) == []


def test_an_unknown_term_link_is_found():
    texts = {"x.md": "See {term}`weight decay`, {term}`가중치 감쇠` and {term}`the decay <nope>`."}
    assert unresolved_terms(texts, PAGES) == ["x.md: nope"]


def test_every_term_is_linked_from_a_page_and_has_a_korean_name():
    assert unlinked_terms(TEXTS, PAGES) == []
    for term in cm.all_terms(PAGES):
        assert term.ko, term.en
        assert all(cm.HANGUL.search(name) for name in term.ko), term.en


def test_an_unlinked_term_is_found():
    pages = {"a": page("a", (), "bias", "variance")}
    assert unlinked_terms({"a.md": "{term}`Bias <bias>`"}, pages) == ["variance"]
    assert unlinked_terms({"a.md": "{term}`variance 용어`, {term}`bias`"}, pages) == []
    pages = {"a": confused(page("a", (), "bias", "variance", "noise"), {"noise": ("bias",)})}
    assert unlinked_terms({"a.md": "{term}`Bias <bias>`"}, pages) == ["variance"]


def test_the_generated_glossary_table_and_map():
    glossary = cm.glossary_markdown(PAGES)
    for term in cm.all_terms(PAGES):
        for name in term.names:
            assert f"\n{name}\n" in glossary
    for term, others in cm.confusions(PAGES).items():
        if others:
            assert f"\n   Not to be confused with {{term}}`{others[0]}`" in glossary, term
    wd = PAGES["weight-decay-vs-l2"]
    table = cm.table_markdown(wd.terms, cm.confusions(PAGES))
    assert (
        "* - {term}`weight decay`\n  - 가중치 감쇠, 가중치 감소\n  - $\\lambda$\n"
        "  - {term}`L2 regularization`\n"
    ) in table
    dot = cm.dot_source(PAGES, {"weight-decay-vs-l2": "concepts/weight-decay-vs-l2.html"})
    assert '"bias-vs-variance" -> "weight-decay-vs-l2";' in dot
    assert 'URL="concepts/weight-decay-vs-l2.html"' in dot
    assert len(re.findall(r" -> ", dot)) == len(cm.edges(PAGES))


# --- References ------------------------------------------------------------------------------


def test_every_citation_and_every_bib_entry_match_and_have_an_identifier():
    assert bib_problems(bib_entries(DOCS / "references.bib"), cited_keys(TEXTS)) == []


def test_planted_reference_errors_are_found():
    entries = {
        "ok2020": {"DOI": "10.1/x"},
        "arxiv2020": {"eprint": "2001.00001", "archivePrefix": "arXiv"},
        "web2020": {"howpublished": "\\url{https://example.org}"},
        "bare2020": {"title": "No identifier"},
        "unused2020": {"url": "https://example.org"},
    }
    cited = cited_keys({"a.md": "{cite:t}`ok2020` {cite:p}`arxiv2020, web2020,bare2020,gone2020`"})
    assert bib_problems(entries, cited) == [
        "cited but not in references.bib: gone2020",
        "in references.bib but never cited: unused2020",
        "bare2020 has no doi, arXiv eprint or url",
    ]


# --- The built site: Korean search and the clickable map -----------------------------------

SITE = {
    "conf.py": 'import sys\nsys.path.insert(0, {ext!r})\nextensions = ["myst_parser", "conceptmap"]\n'
    'graphviz_output_format = "svg"\n',
    "index.md": "# Site\n\n```{concept-index}\n```\n\n```{concept-map}\n```\n\n"
    "```{reading-order}\n```\n\n```{toctree}\nglossary\n```\n",
    "glossary.md": "# Glossary\n\n```{concept-glossary}\n```\n",
    "concepts/a.md": "---\nsummary: Shrinking *the weights*.\nbuilds_on: []\nterms:\n"
    "  - en: weight decay\n    ko: [가중치 감쇠]\n    def: Shrinking the weights.\n"
    "    confused_with: [L2 regularization]\n  - en: L2 regularization\n    ko: [L2 규제]\n"
    "    def: A penalty.\n---\n# Decay\n\n```{terms}\n```\n\n"
    "Text about {term}`weight decay` and 가중치를 줄이는 방법.\n",
    "concepts/b.md": "---\nsummary: After.\nbuilds_on: [a]\nterms: []\n---\n# After\n\n"
    "Uses {term}`가중치 감쇠`.\n",
}


def build_site(folder: Path, files: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Write a small site into `folder` and build its HTML strictly."""
    for name, text in files.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text.replace("{ext!r}", repr(str(DOCS / "_ext"))), "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
         str(folder), str(folder / "html")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def search(index: Mapping[str, object], query: str) -> set[str]:
    """Documents that Sphinx's search page returns: those holding every word of the query."""
    terms = {**index["titleterms"], **index["terms"]}  # type: ignore[dict-item]
    found = None
    for word in re.findall(r"\w+", query.lower()):
        hits = terms.get(word, [])
        docs = {index["docnames"][i] for i in ([hits] if isinstance(hits, int) else hits)}  # type: ignore[index]
        found = docs if found is None else found & docs
    return found or set()


@pytest.mark.slow
def test_the_built_site_finds_pages_by_korean_term_and_links_the_map(tmp_path):
    result = build_site(tmp_path, SITE)
    assert result.returncode == 0, result.stderr
    js = (tmp_path / "html" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(js[js.index("(") + 1 : js.rindex(")")])
    assert search(index, "가중치 감쇠") == {"concepts/a", "concepts/b", "glossary"}
    assert search(index, "가중치를") == {"concepts/a"}  # a particle makes another word
    html = (tmp_path / "html" / "concepts" / "b.html").read_text(encoding="utf-8")
    assert re.search(
        r'<strong>Builds on: </strong><a class="reference internal" href="a.html"', html
    )
    svg = next((tmp_path / "html" / "_images").glob("graphviz-*.svg")).read_text(encoding="utf-8")
    assert re.search(r'\w+:href="\.\./concepts/a\.html"', svg)  # the box links the page
    index_html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="concepts/a.html".*\n.*Shrinking <em>the weights</em>', index_html)
    assert re.search(r'<p class="caption".*Concepts', index_html)  # the generated toctree
    glossary = (tmp_path / "html" / "glossary.html").read_text(encoding="utf-8")
    assert re.search(r'Not to be confused with <a[^>]*href="#term-L2-regularization"', glossary)
    assert re.search(r'Not to be confused with <a[^>]*href="#term-weight-decay"', glossary)


@pytest.mark.slow
def test_a_site_with_a_planted_front_matter_error_fails_to_build(tmp_path):
    planted = {**SITE, "concepts/b.md": SITE["concepts/b.md"].replace("summary: After.\n", "")}
    planted["concepts/a.md"] = SITE["concepts/a.md"].replace("[L2 regularization]", "[L2]")
    result = build_site(tmp_path, planted)
    assert result.returncode != 0
    assert "concepts/b.md has no `summary` in its front matter" in result.stderr
    assert "'weight decay' is confused with 'L2', which is no term" in result.stderr
