"""Build the site and the PDF and check every example. `nox -l` lists the sessions.

Plain `nox` runs every check that needs no TeX: lint, tests, doctest and docs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "virtualenv"
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).resolve().parent
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
STRICT = ("-W", "--keep-going", "-n", "-T")

# Hugging Face libraries (test oracles) must never reach for the network: a download fails at once.
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

# Debian/Ubuntu packages that the PDF needs; .ci/run installs the same list.
TEX_PACKAGES = " ".join((DOCS / "tex-packages.txt").read_text().split())


def install(session: nox.Session, *groups: str) -> None:
    """Install the package and the named dependency groups, pinned by constraints.txt."""
    deps = [dep for group in groups for dep in nox.project.dependency_groups(PYPROJECT, group)]
    session.install("-c", str(CONSTRAINTS), "-e", ".", *deps)


@nox.session
def lint(session: nox.Session) -> None:
    """Check formatting and lint with ruff, and type-check src/ with mypy --strict."""
    install(session, "lint")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """Run pytest: oracle, property, bad-input and docs tests, and the docstring examples."""
    install(session, "test")
    session.run("pytest", *session.posargs, env=OFFLINE)


@nox.session(default=False)
def fuzz(session: nox.Session) -> None:
    """Run the property tests with 20 times as many generated examples (hypothesis profile)."""
    install(session, "test")
    session.run(
        "pytest", "-m", "not slow", "-p", "no:cacheprovider", *session.posargs,
        env={**OFFLINE, "HYPOTHESIS_PROFILE": "fuzz"},
    )  # fmt: skip


@nox.session
def doctest(session: nox.Session) -> None:
    """Run every example on every page (Sphinx doctest builder; docstrings run in tests)."""
    install(session, "docs")
    session.run(
        "sphinx-build", "-b", "doctest", *STRICT, str(DOCS), str(BUILD / "doctest"),
        *session.posargs,
    )  # fmt: skip


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML site into docs/_build/html (strict: any warning fails)."""
    if shutil.which("dot") is None:
        session.error("The concept map needs Graphviz's dot. On Debian or Ubuntu:\n"
                      "    sudo apt-get install graphviz")  # fmt: skip
    install(session, "docs")
    session.run(
        "sphinx-build", "-b", "html", *STRICT, str(DOCS), str(BUILD / "html"), *session.posargs
    )
    korean(session, "html", BUILD / "html")
    session.log(f"Open the site: {(BUILD / 'html' / 'index.html').as_uri()}")


@nox.session(default=False)
def serve(session: nox.Session) -> None:
    """Serve the HTML site at http://127.0.0.1:8000 and rebuild it on every change (live preview)."""
    install(session, "serve")
    # Not -W: a warning is printed and the preview still updates; `nox -s docs` stays strict.
    session.run(
        "sphinx-autobuild", "-b", "html", "--keep-going", "-n", "-T", "--watch", str(ROOT / "src"),
        str(DOCS), str(BUILD / "html"), *session.posargs,
    )  # fmt: skip


@nox.session(default=False)
def pdf(session: nox.Session) -> None:
    """Build docs/_build/latex/conceptref.pdf with xelatex (needs TeX: see README)."""
    missing = [
        tool for tool in ("xelatex", "latexmk", "xindy", "dot") if shutil.which(tool) is None
    ]
    if (
        not missing
        and subprocess.run(["kpsewhich", "kotex.sty"], capture_output=True, check=False).returncode
    ):
        missing.append("kotex.sty")
    if missing:
        session.error(
            f"The PDF needs TeX, and {', '.join(missing)} is missing. On Debian or Ubuntu:\n"
            f"    sudo apt-get install {TEX_PACKAGES}"
        )
    install(session, "docs")
    latex = BUILD / "latex"
    # The same two steps as Read the Docs: the LaTeX builder, then latexmk on its output.
    session.run("sphinx-build", "-b", "latex", *STRICT, str(DOCS), str(latex), *session.posargs)
    typeset(session, latex)
    typeset(session, korean(session, "latex", latex))


def typeset(session: nox.Session, latex: Path) -> None:
    """Run latexmk on the LaTeX builder's output; fail if a character has no glyph."""
    with session.chdir(latex):
        session.run(
            "latexmk", "-r", "latexmkrc", "-pdf", "-dvi-", "-ps-", "-jobname=conceptref",
            "-interaction=nonstopmode", "-halt-on-error", "conceptref.tex",
            external=True, silent=True,
        )  # fmt: skip
    log = (latex / "conceptref.log").read_text(encoding="utf-8", errors="replace")
    problems = sorted(set(re.findall(r"^Missing character: .*$", log, flags=re.MULTILINE)))
    if problems:
        session.error("Glyphs missing from the PDF's fonts:\n" + "\n".join(problems[:20]))
    session.log(f"PDF: {latex / 'conceptref.pdf'}")


def korean(session: nox.Session, builder: str, english: Path) -> Path:
    """Build the Korean edition (한국어판) into <english>/ko, from the catalogs in docs/locale/ko.

    Its doctrees sit beside the English ones, so both editions share the drawn figures.
    """
    out = english / "ko"
    session.run(
        "sphinx-build", "-b", builder, *STRICT, "-D", "language=ko",
        "-d", str(english / ".doctrees-ko"), str(DOCS), str(out), *session.posargs,
    )  # fmt: skip
    return out


@nox.session(default=False)
def catalogs(session: nox.Session) -> None:
    """Update the Korean catalogs (docs/locale/ko) from the English pages; then translate them."""
    install(session, "docs")
    pot = BUILD / "gettext"
    session.run("sphinx-build", "-b", "gettext", "-q", str(DOCS), str(pot), *session.posargs)
    for template in (pot / "api").glob("*.pot"):  # the API reference stays English
        if template.name != "index.pot":
            template.unlink()
    session.run(
        "sphinx-intl", "update", "-p", str(pot), "-d", str(DOCS / "locale"), "-l", "ko", "-w", "0"
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time the checks, and mAP against pycocotools and faster-coco-eval (benchmarks/)."""
    install(session, "bench")
    session.run("python", "benchmarks/bench_checks.py", *session.posargs)
    session.run("python", "benchmarks/bench_map.py")


@nox.session(default=False, reuse_venv=False)
def lock(session: nox.Session) -> None:
    """Re-resolve every dependency group and rewrite constraints.txt."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "dev"))
    frozen = session.run("pip", "freeze", "--exclude-editable", silent=True)
    assert isinstance(frozen, str)
    # The local "+cpu" label is dropped so the pin is satisfied by the CPU build from any index.
    pins = [re.sub(r"^(torch==[^+\s]+)\+\w+$", r"\1", line) for line in frozen.splitlines()]
    header = "# Pins for every nox environment. Regenerate with: nox -s lock\n"
    CONSTRAINTS.write_text(header + "\n".join(line for line in pins if line) + "\n")
