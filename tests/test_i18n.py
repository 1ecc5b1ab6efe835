"""The Korean edition: catalogs without code, checks that fail on planted errors, Korean search.

The catalog checks (docs/_ext/i18n_checks.py) run on the real catalogs, which must pass, and on
planted errors, which must each be reported with the file, the line and the paragraph. The search
splitter (docs/_ext/korean_search.py) is checked as a function and, in headless Chromium, on a
small Korean site built here (and on the real Korean site when it has been built).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LOCALE = DOCS / "locale" / "ko"
sys.path.insert(0, str(DOCS / "_ext"))

import conceptmap as cm
import i18n_checks as ic
import korean_edition as ke
import korean_search as ks

PAGES = cm.load_pages(DOCS / "concepts")
TERMS = {t.en: t.ko for t in cm.all_terms(PAGES)}
NAMES = {name.lower(): t.en for t in cm.all_terms(PAGES) for name in t.names}
CATALOGS = sorted((LOCALE / "LC_MESSAGES").rglob("*.po"))
# Code fences. (An eval-rst block is reST, not code: its figures' alt texts and captions are
# prose and are translated.)
FENCE = re.compile(
    r"^(`{3,})\{?(doctest|python|console|code-block)\}?.*?\n(.*?)^\1",
    re.MULTILINE | re.DOTALL,
)


# --- The real catalogs ------------------------------------------------------------------------


def test_real_catalogs_pass_every_check() -> None:
    assert ic.check_locale(LOCALE, TERMS, NAMES) == []


def test_listed_pages_exist_and_have_catalogs() -> None:
    listed = ic.read_translated(LOCALE / "translated.txt")
    assert "concepts/one-by-one-convolution" in listed
    for docname in listed:
        assert (DOCS / f"{docname}.md").is_file(), docname
        assert (LOCALE / "LC_MESSAGES" / f"{docname}.po").is_file(), docname


def test_no_code_reaches_the_catalogs() -> None:
    import conf  # docs/conf.py: code blocks and doctests are no translation targets

    assert not {"literal-block", "doctest-block", "raw"} & set(conf.gettext_additional_targets)
    code_lines = {
        line.strip()
        for page in DOCS.rglob("*.md")
        if "_build" not in page.parts
        for match in FENCE.finditer(page.read_text(encoding="utf-8"))
        for line in match.group(3).splitlines()
        if len(line.strip()) >= 12 and not line.strip().startswith((":", ".. "))
    }
    assert len(code_lines) > 100  # the pattern finds the examples
    for path in CATALOGS:
        for message in ic.read_catalog(path):
            text = str(message.id)
            assert not text.lstrip().startswith(">>>"), (path, text[:60])
            assert not any(line in code_lines for line in text.splitlines()), (path, text[:60])


sys.path.insert(0, str(DOCS))


# --- Planted errors -----------------------------------------------------------------------------

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def po(*pairs: tuple[str, str], fuzzy: int | None = None) -> str:
    """A catalog text with the given (msgid, msgstr) pairs; ``fuzzy`` flags one of them."""
    entries = []
    for n, (msgid, msgstr) in enumerate(pairs):
        flag = "#, fuzzy\n" if n == fuzzy else ""
        quoted = [s.replace("\\", "\\\\").replace('"', '\\"') for s in (msgid, msgstr)]
        entries.append(f'{flag}msgid "{quoted[0]}"\nmsgstr "{quoted[1]}"\n')
    return HEADER + "\n".join(entries)


def problems_of(text: str, *, complete: bool = True, tmp: Path) -> list[str]:
    path = tmp / "page.po"
    path.write_text(text, encoding="utf-8")
    catalog = ic.read_catalog(path)
    found = ic.catalog_problems(path, catalog, complete=complete, terms=TERMS, names=NAMES)
    return [str(p) for p in found]


def test_untranslated_and_fuzzy_messages_name_the_file_line_and_paragraph(tmp_path: Path) -> None:
    text = po(
        ("Definition", "정의"),
        ("The pooling is also what lets a network accept any input size.", ""),
        ("Each pixel is transformed on its own.", "각 픽셀은 따로 변환된다."),
        fuzzy=2,
    )
    found = problems_of(text, tmp=tmp_path)
    assert len(found) == 2
    assert found[0].startswith(f"{tmp_path / 'page.po'}:8: not translated: paragraph 'The pooling")
    assert found[1].startswith(f"{tmp_path / 'page.po'}:12: fuzzy")
    assert "Each pixel" in found[1]
    # The same catalog of a page not (yet) listed as translated: no completeness problem.
    assert problems_of(text, complete=False, tmp=tmp_path) == []


def test_messages_without_prose_need_no_translation(tmp_path: Path) -> None:
    text = po(
        ("{term}`1×1 convolution`", ""),  # noqa: RUF001
        ("1×1 합성곱, 점별 합성곱", ""),  # noqa: RUF001
        ("$W \\in \\mathbb{R}^{C}$", ""),
        ("→ {doc}`/concepts/one-by-one-convolution`", ""),
        ("{term}`Fully convolutional networks <fully convolutional network>` win", ""),
    )
    found = problems_of(text, tmp=tmp_path)
    assert len(found) == 1
    assert "Fully convolutional" in found[0]


@pytest.mark.parametrize(
    ("msgid", "msgstr", "fragment"),
    [
        # A glossary term linked in the English, missing in the Korean.
        (
            "A {term}`convolution` mixes pixels.",
            "이 연산은 픽셀을 섞는다.",
            "'convolution' is not named",
        ),
        # A glossary term named in the English prose (plural), missing in the Korean.
        ("Two fully connected layers.", "두 개의 층.", "'fully connected layer' is not named"),
        # Markup: an unclosed role, a lost {term} target, math, a dropped cross-reference.
        ("See {doc}`/concepts/transformer`.", "{doc}`/concepts/transformer 참고.", "left open"),
        ("A {term}`convolution`.", "{term}`합성곱 <convolutoin>`.", "no glossary name"),
        ("A {term}`convolution`.", "합성곱이다.", "{term}`convolution` of the English is missing"),
        ("The map $y = Wx$ is linear.", "사상 $y = Wx는 선형이다.", "math span is left open"),
        ("The map $y = Wx$ is linear.", "사상 $y = Vx$는 선형이다.", "math differs"),
        (
            "See {doc}`/concepts/transformer`.",
            "트랜스포머 페이지를 보라.",
            "{doc}`/concepts/transformer`",
        ),
        ("As {cite:t}`he2016deep` show.", "He 등이 보였듯이.", "{cite}`he2016deep`"),
        (
            "Use {func}`conceptref.conv.conv2d_macs`.",
            "함수를 쓴다.",
            "{func}`conceptref.conv.conv2d_macs`",
        ),
        ("It is **bold** here.", "여기서는 **굵게 쓴다.", "bold"),
    ],
)
def test_planted_markup_and_term_errors_are_reported(
    tmp_path: Path, msgid: str, msgstr: str, fragment: str
) -> None:
    found = problems_of(po(("Title", "제목"), (msgid, msgstr)), tmp=tmp_path)
    assert found, "no problem found"
    assert all(p.startswith(f"{tmp_path / 'page.po'}:8: ") for p in found)
    assert any(fragment in p for p in found), found
    assert all(msgid[:20] in p for p in found)  # the paragraph


@pytest.mark.parametrize(
    ("msgid", "msgstr"),
    [
        (
            "A {term}`convolution` mixes pixels.",
            "{term}`합성곱(convolution) <convolution>`은 섞는다.",
        ),
        ("A {term}`convolution`.", "{term}`합성곱`이다."),  # a Korean glossary name as target
        ("Two fully connected layers.", "완전연결층 두 개."),  # spaces do not count
        ("Two fully connected layers.", "fully connected layer 두 개."),  # the English name
        (
            "As {cite:t}`he2016deep` show, {cite:p}`lin2014network`.",
            "{cite:p}`he2016deep,lin2014network`",
        ),
        ("The map $y = Wx$ is linear.", "사상 $y = W x$는 선형이다."),  # spacing inside math
        # A target the English itself uses, from a page that defines it later: the English's.
        ("Not {term}`novel thing`.", "{term}`새것 <novel thing>`이 아니다."),
    ],
)
def test_correct_translations_pass(tmp_path: Path, msgid: str, msgstr: str) -> None:
    assert problems_of(po((msgid, msgstr)), tmp=tmp_path) == []


def test_a_translator_comment_exempts_an_everyday_word(tmp_path: Path) -> None:
    text = po(("The key point is speed.", "핵심은 속도다."))
    assert "'key' is not named" in problems_of(text, tmp=tmp_path)[0]
    exempted = text.replace('msgid "The key', '# terms-ok: key\nmsgid "The key')
    assert problems_of(exempted, tmp=tmp_path) == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (HEADER + 'msgid "Title"\nmsgstr "제목\n', 6),  # no closing quote
        (HEADER + 'msgid "Title"\nmsgstr "제목"\nmsgstr "again"\n', 7),  # a second msgstr
        (HEADER + 'msgid "Title"\nmsgtsr "제목"\n', 6),  # a misspelt keyword
        (HEADER + 'msgid "Title"\nmsgstr "a \\q escape"\n', 6),  # a bad escape
        (HEADER + 'msgid "Ti"\n"tle"\nmsgstr "제목"\n\nmsgid "Title"\nmsgstr "x"\n', 9),  # twice
    ],
)
def test_bad_po_syntax_names_the_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "broken.po"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ic.CatalogSyntaxError, match=rf"broken\.po:{line}: "):
        ic.read_catalog(path)


def test_check_locale_reports_unknown_listed_pages(tmp_path: Path) -> None:
    (tmp_path / "LC_MESSAGES").mkdir()
    (tmp_path / "translated.txt").write_text("# comment\nconcepts/nothing\n")
    found = ic.check_locale(tmp_path, TERMS, NAMES, ["index"])
    assert [p.message for p in found] == ["'concepts/nothing' is no page"]


# --- Glossary, map and edition links -----------------------------------------------------------


def test_korean_glossary_has_korean_headwords_then_english() -> None:
    text = ke.korean_glossary_markdown(PAGES)
    assert ":sorted:" in text
    for term in cm.all_terms(PAGES):
        assert f"\n{term.ko[0]}\n{term.en}\n" in text


def test_korean_titles_come_from_the_catalogs() -> None:
    titles = ke.translated_titles(LOCALE, PAGES)
    assert titles["one-by-one-convolution"] == "1×1 합성곱"  # noqa: RUF001


def test_edition_links_point_at_the_same_page() -> None:
    en = ke.edition_links("en", "concepts/transformer", "concepts/transformer.html")
    ko = ke.edition_links("ko", "concepts/transformer", "concepts/transformer.html")
    assert en[1] == ("ko", "한국어", "../ko/concepts/transformer.html", False)
    assert ko[0] == ("en", "English", "../../concepts/transformer.html", False)
    assert ke.edition_links("ko", "index", "index.html")[0][2] == "../index.html"


# --- Korean search --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("가중치를", "가중치"),
        ("가중치는", "가중치"),
        ("공간에서", "공간"),
        ("공간에서는", "공간"),
        ("학습으로", "학습"),
        ("층이다", "층"),
        ("가중치들의", "가중치"),
        ("합성곱", "합성곱"),
        ("이", "이"),
    ],
)
def test_particles_are_stripped(word: str, stem: str) -> None:
    assert ks.strip_particles(word) == stem


def test_split_keeps_the_word_its_stem_and_bigrams() -> None:
    terms = ks.split_korean("전이학습을 쓰면 잠재 공간에서 ResNet의 가중치를 본다 (1x1)")
    for term in (
        "전이학습을",
        "전이학습",
        "전이",
        "학습",
        "잠재",
        "공간",
        "ResNet",
        "가중치",
        "1x1",
    ):
        assert term in terms
    assert "결과" in ks.index_terms("결과")  # a noun ending like a particle is indexed as written


SITE_PAGES = {
    "index": "# 시작\n\n```{toctree}\na\nb\nc\n```\n",
    "a": "# 가\n\n가중치를 갱신하고 잠재 공간에서 표현을 찾는다.\n",
    "b": "# 나\n\n전이학습은 사전 학습된 가중치는 그대로 쓴다.\n",
    "c": "# 다\n\n아무 관련 없는 문장이다. 잠재력.\n",
}


def chromium_search(site: Path, profiles: Path, *queries: str) -> dict[str, list[str]]:
    """The result pages (file names) of searches on a built site, in headless Chromium.

    The browsers run side by side, each with a profile of its own.
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium is not None
    runs = {}
    for n, query in enumerate(queries):
        url = f"{(site / 'search.html').as_uri()}?q={quote(query)}"
        runs[query] = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={profiles / f'chrome{n}'}",
             "--virtual-time-budget=5000", "--dump-dom", url],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
    found = {}
    for query, run in runs.items():
        dom, _ = run.communicate(timeout=120)
        results = re.search(r'<ul[^>]*class="search"[^>]*>(.*?)</ul>', dom, flags=re.DOTALL)
        links = re.findall(r'<a href="([^"#?]+)', results.group(1)) if results else []
        found[query] = sorted({Path(href).name for href in links})
    return found


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs headless Chromium")
def test_korean_search_in_chromium(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name, text in SITE_PAGES.items():
        (source / f"{name}.md").write_text(text, encoding="utf-8")
    (source / "conf.py").write_text(
        textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(DOCS / "_ext")!r})
            extensions = ["myst_parser", "korean_search"]
            language = "ko"
            html_theme = "furo"
        """)
    )
    site = tmp_path / "html"
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", str(source), str(site)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert chromium_search(site, tmp_path, "가중치", "잠재 공간", "전이 학습", "전이학습") == {
        "가중치": ["a.html", "b.html"],  # 가중치를, 가중치는
        "잠재 공간": ["a.html"],  # 공간에서; not 잠재력 alone
        "전이 학습": ["b.html"],  # 전이학습은: the bigrams of its stem
        "전이학습": ["b.html"],
    }


KOREAN_SITE = DOCS / "_build" / "html" / "ko"


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("chromium") is None or not (KOREAN_SITE / "searchindex.js").is_file(),
    reason="needs headless Chromium and the built Korean site (nox -s docs)",
)
def test_search_on_the_built_korean_site(tmp_path: Path) -> None:
    found = chromium_search(
        KOREAN_SITE, tmp_path, "가중치", "완전 연결 층", "잠재 공간", "전이 학습"
    )
    assert "one-by-one-convolution.html" in found["가중치"]
    assert "one-by-one-convolution.html" in found["완전 연결 층"]
    assert "glossary.html" in found["잠재 공간"]
    assert "glossary.html" in found["전이 학습"]


# --- The checks in a Korean build --------------------------------------------------------------


KOREAN = {"widget": "위젯", "doohickey": "도구", "gadget": "장치"}


def mini_page(stem: str, last: str = "It is also cheap.") -> str:
    """A concept page defining one term."""
    return f"""---
summary: A small page.
builds_on: []
terms:
  - en: {stem}
    ko: [{KOREAN[stem]}]
    def: A small thing.
---
# Title {stem}

A {{term}}`{stem}` is small.

{last}
"""


def mini_catalog(stem: str) -> dict[str, str]:
    return {
        f"Title {stem}": f"제목 {stem}",
        f"A {{term}}`{stem}` is small.": f"{{term}}`{KOREAN[stem]}({stem}) <{stem}>`은 작다.",
        "It is also cheap.": "값도 싸다.",
    }


def build_mini_korean_site(tmp_path: Path, pages: dict[str, tuple[str, str]]) -> str:
    """Build a small Korean site with the edition's checks; return the warnings.

    ``pages`` maps a stem to its page and its catalog's text; every page is listed as translated.
    """
    source = tmp_path / "src"
    messages = source / "locale" / "ko" / "LC_MESSAGES" / "concepts"
    messages.mkdir(parents=True)
    (source / "concepts").mkdir()
    for stem, (page, catalog) in pages.items():
        (source / "concepts" / f"{stem}.md").write_text(page, encoding="utf-8")
        (messages / f"{stem}.po").write_text(catalog, encoding="utf-8")
    toctree = "\n".join(f"concepts/{stem}" for stem in pages)
    (source / "index.md").write_text(f"# Home\n\n```{{toctree}}\n{toctree}\nglossary\n```\n")
    (source / "glossary.md").write_text("# Glossary\n\n```{concept-glossary}\n```\n")
    (source / "locale" / "ko" / "translated.txt").write_text(toctree + "\n")
    (source / "conf.py").write_text(
        textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(DOCS / "_ext")!r})
            extensions = ["myst_parser", "conceptmap", "korean_edition"]
            language = "ko"
            locale_dirs = ["locale"]
            gettext_compact = False
        """)
    )
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(source), str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return run.stderr


@pytest.mark.slow
def test_the_korean_build_names_stale_broken_and_bad_catalogs(tmp_path: Path) -> None:
    broken = mini_catalog("gadget") | {"A {term}`gadget` is small.": "장치는 작다."}
    warnings = build_mini_korean_site(
        tmp_path / "site",
        {
            "widget": (mini_page("widget"), po(*mini_catalog("widget").items())),
            # The English changed, the catalog did not: the page and the paragraph are named.
            "doohickey": (
                mini_page("doohickey", "It is also cheap and light."),
                po(*mini_catalog("doohickey").items()),
            ),
            # A translation that loses its {term} target.
            "gadget": (mini_page("gadget"), po(*broken.items())),
        },
    )
    lines = sorted(line for line in warnings.splitlines() if "WARNING" in line)
    assert "widget" not in warnings
    assert "doohickey.md:13: WARNING: not translated in the Korean edition" in lines[0]
    assert "'It is also cheap and light.'" in lines[0]
    assert "gadget.po:8: WARNING: the cross-reference {term}`gadget`" in warnings
    # A catalog that cannot be read stops the build at once, naming the file and line.
    bad = po(*mini_catalog("widget").items()).replace('"값도 싸다."', '"값도 싸다.')
    errors = build_mini_korean_site(tmp_path / "bad", {"widget": (mini_page("widget"), bad)})
    assert "a translation catalog cannot be read" in errors
    assert "widget.po:12: not a line of a .po file" in errors


@pytest.mark.skipif(
    not (KOREAN_SITE / "index.html").is_file(), reason="needs both built editions (nox -s docs)"
)
def test_every_page_links_the_same_page_in_the_other_edition() -> None:
    english = KOREAN_SITE.parent
    pairs = [
        (page, english / page.relative_to(KOREAN_SITE)) for page in KOREAN_SITE.rglob("*.html")
    ]
    assert len(pairs) > 30
    for korean, twin in pairs:
        for page, other in ((korean, twin), (twin, korean)):
            html = page.read_text(encoding="utf-8")
            link = re.search(r'class="edition-other" href="([^"]+)"', html)
            assert link, f"{page} has no link to the other edition"
            assert (page.parent / link.group(1)).resolve() == other.resolve(), page
