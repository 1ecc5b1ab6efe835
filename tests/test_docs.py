"""The documentation's own rules: examples run, can fail, fit the page, and pages are listed."""

from __future__ import annotations

import doctest
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
CONCEPTS = sorted((DOCS / "concepts").glob("*.md"))
MODULES = sorted(
    p.stem for p in (ROOT / "src" / "conceptref").glob("*.py") if not p.stem.startswith("_")
)

# Directives whose `>>>` lines Sphinx's doctest builder executes.
TESTED = {"doctest", "testcode", "testsetup", "testcleanup", "testoutput"}
CODE_WIDTH = 88  # wider code lines are clipped in the HTML theme and wrapped in the PDF
PROMPT = re.compile(r"^\s*>>>")

PARSER = MarkdownIt("commonmark").use(colon_fence_plugin)


def untested_prompts(text: str) -> list[int]:
    """Return the line numbers of `>>>` lines that no doctest directive will run."""
    return sorted(_untested(text, first_line=1))


def _untested(text: str, first_line: int) -> Iterator[int]:
    lines = text.splitlines()
    covered: set[int] = set()
    for token in PARSER.parse(text):
        if token.type not in ("fence", "colon_fence", "code_block") or token.map is None:
            continue
        start, end = token.map
        covered.update(range(start, end))
        name = token.info.strip()
        if token.type != "code_block" and name.startswith("{") and "}" in name:
            directive = name[1 : name.index("}")]
            if directive in TESTED:
                continue
            if directive != "eval-rst":  # a MyST directive: its body is Markdown again
                yield from _untested(token.content, first_line + start + 1)
                continue
        body = start if token.type == "code_block" else start + 1  # after the opening fence
        for offset, line in enumerate(token.content.splitlines()):
            if PROMPT.match(line):
                yield first_line + body + offset
    for index, line in enumerate(lines):
        if index not in covered and PROMPT.match(line):
            yield first_line + index


def doctest_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) for every line inside a {doctest} block."""
    for token in PARSER.parse(text):
        if token.type == "fence" and token.info.strip() == "{doctest}" and token.map:
            for offset, line in enumerate(token.content.splitlines()):
                yield token.map[0] + 2 + offset, line


def test_the_checker_finds_untested_prompts():
    lines = [
        "# Title",                     # 1
        "```python",                   # 2
        ">>> 1 + 1",                   # 3: a code fence renders but never runs
        "2",
        "```",
        "```{doctest}",                # 6
        ">>> 1 + 1",                   # 7: runs
        "2",
        "```",
        ">>> 'in a paragraph'",        # 10
        ":::{note}",                   # 11
        "```pycon",
        ">>> 'nested in a note'",      # 13
        "```",
        ":::",
        "````{admonition} Tested",     # 16
        "```{doctest}",
        ">>> 'nested and tested'",     # 18: runs
        "'nested and tested'",
        "```",
        "````",
        "    >>> 'indented code'",     # 22
    ]  # fmt: skip
    page = "\n".join(lines)
    assert untested_prompts(page) == [3, 10, 13, 22]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_example_on_a_page_runs(page):
    lines = untested_prompts(page.read_text(encoding="utf-8"))
    assert not lines, f"{page.name}: `>>>` outside a {{doctest}} block on lines {lines}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_examples_fit_the_page_width(page):
    wide = [
        n for n, line in doctest_lines(page.read_text(encoding="utf-8")) if len(line) > CODE_WIDTH
    ]
    assert not wide, f"{page.name}: doctest lines longer than {CODE_WIDTH} characters: {wide}"


def test_every_concept_page_is_on_the_landing_page():
    # The table of pages and summaries and the toctree are generated from the pages' front
    # matter (the `summary` of each page is checked in test_glossary.py).
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "```{concept-index}\n```" in index
    assert not re.search(r"^concepts/", index, re.MULTILINE), "a hand-kept concepts toctree"


@pytest.mark.parametrize("page", CONCEPTS, ids=lambda p: p.stem)
def test_concept_pages_name_terms_in_korean_and_cite_papers(page):
    text = page.read_text(encoding="utf-8")
    assert re.search(r"[\uac00-\ud7a3]", text), f"{page.name} gives no Korean term"
    assert "{cite:" in text, f"{page.name} cites no paper"
    assert "{doctest}" in text, f"{page.name} has no checked example"


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_linked_from_a_page_and_back(module):
    linked = [p for p in CONCEPTS if f"conceptref.{module}." in p.read_text(encoding="utf-8")]
    assert linked, f"no concept page links to conceptref.{module}"
    source = (ROOT / "src" / "conceptref" / f"{module}.py").read_text(encoding="utf-8")
    assert ":doc:`/concepts/" in source, f"conceptref.{module}'s docstring links no concept page"


def test_api_pages_are_written_for_every_module(tmp_path):
    """docs/_ext/api_pages.py writes a page per module, demos and private ones included."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import api_pages
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    (tmp_path / "gone.md").write_text("# a module that no longer exists\n")
    (tmp_path / "index.md").write_text("# API reference\n")
    pages = api_pages.write_pages(tmp_path, ROOT / "src" / "conceptref")
    names = {page.stem for page in pages}
    assert set(MODULES) <= names
    assert {"demos", "_validation", "_random"} <= names
    assert not (tmp_path / "gone.md").exists()
    assert (tmp_path / "index.md").exists()
    assert "automodule:: conceptref.demos\n" in (tmp_path / "demos.md").read_text()


def test_readme_quick_start_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(
        r"^(python -m pip install nox && python -m nox.*)$", quick_start, re.MULTILINE
    )
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in commands:
        assert command in ci, f"CI does not run the README's command: {command}"


def test_readme_concept_table_is_current():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import readme
    finally:
        sys.path.remove(str(ROOT / "tools"))
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.render(text) == text, "README.md's concept table is out of date: nox -s readme"
    rows = readme.table().splitlines()[2:]
    assert len(rows) == len(CONCEPTS)
    for name in re.findall(r"\]\(((?:src|tests)/[^)]+)\)", readme.table()):
        assert (ROOT / name).exists(), f"README names {name}, which does not exist"


def test_readme_tables_render_as_tables():
    """Every block of `|` lines in the README is a table with as many cells in each row as in
    its header (a delimiter row that disagrees with the header makes Markdown render text)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    tokens = MarkdownIt("commonmark").enable("table").parse(readme)
    tables = [token.map for token in tokens if token.type == "table_open" and token.map]
    in_table = {n for start, end in tables for n in range(start, end)}
    in_code = {
        n
        for token in tokens
        if token.type in ("fence", "code_block") and token.map
        for n in range(*token.map)
    }
    strays = [n + 1 for n, line in enumerate(lines) if line.startswith("|")]
    strays = [n for n in strays if n - 1 not in in_table and n - 1 not in in_code]
    assert not strays, f"README lines that look like a table row but are not in a table: {strays}"
    assert len(tables) >= 2
    for start, end in tables:
        cells = [len(re.findall(r"(?<!\\)\|", line)) - 1 for line in lines[start:end]]
        assert len(set(cells)) == 1, f"README table at line {start + 1}: cells per row {cells}"


def test_intersphinx_inventories_are_current():
    """The committed inventories are what docs/_intersphinx/inventories.py writes."""
    sys.path.insert(0, str(DOCS / "_intersphinx"))
    try:
        import inventories
    finally:
        sys.path.remove(str(DOCS / "_intersphinx"))
    for project in inventories.INVENTORIES:
        committed = (DOCS / "_intersphinx" / f"{project}.inv").read_bytes()
        assert committed == inventories.inventory(project), f"run {inventories.__file__}"


def test_readme_names_the_tex_packages_ci_installs():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for package in (DOCS / "tex-packages.txt").read_text().split():
        assert f" {package} " in readme.replace("\\", " "), f"README does not name {package}"


def sphinx_doctest(srcdir: Path, outdir: Path, *pages: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "doctest", "-W", "--keep-going", "-n", "-T",
         "-q", str(srcdir), str(outdir), *pages],
        capture_output=True, text=True, check=False, cwd=srcdir,
    )  # fmt: skip


@pytest.mark.slow
def test_a_wrong_expected_output_fails_the_doctest_build(tmp_path):
    """Change one expected value on a real page: the strict doctest build must fail on it."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns("_build"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)  # conf.py reads the doctest flags there
    (tmp_path / "src").symlink_to(ROOT / "src")  # pages include code from src/ (literalinclude)
    page = docs / "concepts" / "query-key-value.md"
    text = page.read_text(encoding="utf-8")
    right = "[[0.6652, 0.09, 0.2447], [0.1554, 0.4223, 0.4223], [0.2741, 0.2741, 0.4519]]"
    assert text.count(right) == 1
    page.write_text(text.replace(right, right.replace("0.6652", "0.6653")), encoding="utf-8")

    result = sphinx_doctest(docs, tmp_path / "out", str(page))
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    # The build fails on the wrong value alone: its only warning is the doctest failure's.
    assert not re.search(r"WARNING: (?!\*{20})", report), report
    summary = (tmp_path / "out" / "output.txt").read_text(encoding="utf-8")
    assert re.search(r"^\s*1 failures? in tests$", summary, re.MULTILINE), summary
    assert "0.6653" in report, report
    assert "0.6652" in report, report


def test_docstring_examples_see_only_what_they_import(request):
    """pytest runs the docstring examples (Sphinx runs the pages); each starts from nothing.

    tests/conftest.py empties the namespace of every docstring example, so an example that uses
    a name it does not import fails, as it would for a reader who copies it.
    """
    examples = [
        item.dtest
        for item in request.session.items
        if isinstance(getattr(item, "dtest", None), doctest.DocTest)
    ]
    for example in examples:
        assert set(example.globs) <= {"__name__", "__builtins__"}, example.name
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert re.search(r'^doctest_test_doctest_blocks = ""$', conf, re.MULTILINE), (
        "Sphinx must not run the docstring examples a second time"
    )


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_its_test_file(module):
    assert (ROOT / "tests" / f"test_{module}.py").exists(), f"tests/test_{module}.py is missing"
