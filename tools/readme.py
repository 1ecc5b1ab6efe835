"""Write the README's table of concepts from the pages: page, modules, tests.

Each concept page's modules are the ``conceptref`` modules its ``{doctest}`` blocks import; the
tests of module ``m`` (``conceptref.m`` or ``conceptref.demos.m``) are ``tests/test_m.py``. The
table stands between two marker comments in README.md::

    python tools/readme.py           # rewrite README.md     (or: nox -s readme)
    python tools/readme.py --check   # exit 1 if it is not current
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- The concepts: generated from docs/concepts/ by `nox -s readme`. -->"
END = "<!-- End of the generated table. -->"
IMPORT = re.compile(r"^\s*(?:>>>|\.\.\.)\s+(?:from|import)\s+conceptref\.([\w.]+)", re.MULTILINE)


def page_title(text: str) -> str:
    """Return the page's first level-1 heading."""
    match = re.search(r"^# (.+)$", text, re.MULTILINE)
    if match is None:
        raise ValueError("a concept page has no '# ' title")
    return match.group(1).strip()


def page_modules(text: str) -> list[str]:
    """Return the ``conceptref`` modules the page's doctest blocks import, in order of use."""
    modules: list[str] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type == "fence" and token.info.strip() == "{doctest}":
            for name in IMPORT.findall(token.content):
                if name not in modules:
                    modules.append(name)
    return modules


def module_path(module: str, root: Path) -> Path:
    """Return the source file of ``conceptref.<module>``, relative to the repository."""
    base = Path("src", "conceptref", *module.split("."))
    package = base / "__init__.py"
    return package if (root / package).is_file() else base.with_suffix(".py")


def table(root: Path = ROOT) -> str:
    """Return the Markdown table: one row per concept page, in file-name order."""
    rows = ["| Concept | Page | Modules | Tests |", "| --- | --- | --- | --- |"]
    for page in sorted((root / "docs" / "concepts").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        modules = page_modules(text)
        tests = [Path("tests", f"test_{m.rsplit('.', 1)[-1]}.py") for m in modules]
        link = f"[`{page.relative_to(root)}`]({page.relative_to(root)})"
        module_links = [f"[`{m}`]({module_path(m, root)})" for m in modules]
        test_links = [f"[`{t.stem}`]({t})" for t in dict.fromkeys(tests)]
        cells = [page_title(text), link, ", ".join(module_links), ", ".join(test_links)]
        rows.append("| " + " | ".join(cell.replace("|", r"\|") for cell in cells) + " |")
    return "\n".join(rows)


def render(readme: str, root: Path = ROOT) -> str:
    """Return ``readme`` with the text between the markers replaced by the current table."""
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(root)}\n{END}{tail}"


def main() -> int:
    """Rewrite README.md, or with ``--check`` report whether it is current."""
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in sys.argv[1:]:
        if current != wanted:
            print("README.md's concept table is out of date: run `nox -s readme`")
            return 1
        return 0
    if current != wanted:
        path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
