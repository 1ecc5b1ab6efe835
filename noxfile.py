"""Build the site and the PDF and check every example. `nox -l` lists the sessions.

Plain `nox` runs every check that needs no TeX: lint, tests, doctest, docs and docchecks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "virtualenv"
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).resolve().parent
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"
DOCTREES = BUILD / "doctrees"  # shared by the html, doctest and latex builders
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
STRICT = ("-W", "--keep-going", "-n", "-T")
KOREAN = ("-D", "language=ko")  # the Korean edition (see korean())

# Hugging Face libraries (test oracles) must never reach for the network: a download fails at once.
# And Python keeps compiled modules, even where PYTHONDONTWRITEBYTECODE is set: otherwise pytest
# rewrites the asserts of every test module (and of hypothesis, a plugin) in every worker of
# every run, about 2 s of CPU a worker.
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PYTHONDONTWRITEBYTECODE": "",
}

# Debian/Ubuntu packages that the PDF needs; .ci/run installs the same list.
TEX_PACKAGES = " ".join((DOCS / "tex-packages.txt").read_text().split())


def install(session: nox.Session, *groups: str) -> None:
    """Install the package and the named dependency groups, pinned by constraints.txt."""
    session.install("-c", str(CONSTRAINTS), "-e", ".", *requirements(*groups))


def requirements(*groups: str) -> list[str]:
    """The requirements of the named dependency groups of pyproject.toml."""
    return [dep for group in groups for dep in nox.project.dependency_groups(PYPROJECT, group)]


def environment(session: nox.Session, name: str, *groups: str) -> Path:
    """The bin directory of .nox/<name>, one virtualenv that several sessions share.

    nox gives each session an environment of its own; sessions that need the same packages run
    with ``venv_backend="none"`` in this shared one instead. It is created once and installed
    into again only when the requirements or the pins change (a stamp file records them).
    """
    location = ROOT / ".nox" / name
    bin_dir = location / ("Scripts" if sys.platform == "win32" else "bin")
    project = PYPROJECT["project"]["dependencies"]
    wanted = "\n".join([CONSTRAINTS.read_text(), *project, *requirements(*groups, "test-no-deps")])
    stamp = location.with_name(f"{name}.installed")
    if not (bin_dir / "python").exists() and not (bin_dir / "python.exe").exists():
        session.run(sys.executable, "-m", "virtualenv", "-q", str(location), external=True)
    if not stamp.is_file() or stamp.read_text() != wanted:
        session.run(
            str(bin_dir / "python"), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS),
            "-e", str(ROOT), *requirements(*groups), external=True,
        )  # fmt: skip
        session.run(
            str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps",
            "-c", str(CONSTRAINTS), *requirements("test-no-deps"), external=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return bin_dir


def shared_environment(session: nox.Session) -> Path:
    """The environment of every session that runs the package (all but lint and lock).

    The documentation builders (html, doctest, LaTeX, live preview), the tests and the
    benchmarks need the same packages, PyTorch included: one install serves them all.
    """
    return environment(session, "shared", "bench", "serve")


def sphinx_command(
    session: nox.Session, builder: str, outdir: Path, *options: str, doctrees: Path = DOCTREES
) -> list[str]:
    """The command of a strict Sphinx build with one builder (see ``sphinx``)."""
    bin_dir = shared_environment(session)
    return [
        str(bin_dir / "python"), "-m", "sphinx", "-b", builder, *STRICT, "-j", "auto",
        "-d", str(doctrees), *options, str(DOCS), str(outdir), *session.posargs,
    ]  # fmt: skip


def sphinx(
    session: nox.Session, builder: str, outdir: Path, *options: str, doctrees: Path = DOCTREES
) -> None:
    """Run Sphinx strictly with one builder; every builder shares one doctree directory.

    The doctrees are what Sphinx reads from the sources, the same for every builder, so a page
    read for the doctest builder is not read again for HTML or LaTeX (another language reads
    into a directory of its own: ``doctrees=``). Reading runs in parallel (every extension
    declares itself parallel-safe).
    """
    command = sphinx_command(session, builder, outdir, *options, doctrees=doctrees)
    session.run(*command, env=OFFLINE, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """Check formatting and lint with ruff, and type-check src/ with mypy --strict."""
    install(session, "lint")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Run pytest on every core: oracle, property, bad-input and docs tests, docstring examples.

    The tests that build part of the site with Sphinx (marked ``slow``) run in ``docchecks``.
    """
    python = shared_environment(session) / "python"
    # The ten slowest tests are listed: the suite must stay under 25 s.
    session.run(
        str(python), "-m", "pytest", "-n", "auto", "-m", "not slow", "--durations=10",
        *session.posargs, env=OFFLINE, external=True,
    )  # fmt: skip


@nox.session(default=False, venv_backend="none")
def fuzz(session: nox.Session) -> None:
    """Run the property tests with 20 times as many generated examples (hypothesis profile)."""
    python = shared_environment(session) / "python"
    session.run(
        str(python), "-m", "pytest", "-n", "auto", "-m", "not slow", "-p", "no:cacheprovider",
        *session.posargs, env={**OFFLINE, "HYPOTHESIS_PROFILE": "fuzz"}, external=True,
    )  # fmt: skip


@nox.session(venv_backend="none")
def doctest(session: nox.Session) -> None:
    """Run every example on every page (Sphinx doctest builder; docstrings run in tests)."""
    sphinx(session, "doctest", BUILD / "doctest")


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Build the HTML site into docs/_build/html, its Korean edition into html/ko (strict)."""
    if shutil.which("dot") is None:
        session.error("The concept map needs Graphviz's dot. On Debian or Ubuntu:\n"
                      "    sudo apt-get install graphviz")  # fmt: skip
    # The two editions are built side by side: each build has serial stretches that leave a
    # core idle, so together they take about two thirds of the time of one after the other.
    # Figure data is computed once for both (a lock per figure in the shared cache).
    out = BUILD / "html"
    command = sphinx_command(session, "html", out / "ko", *KOREAN, doctrees=BUILD / "doctrees-ko")
    BUILD.mkdir(parents=True, exist_ok=True)
    with (BUILD / "html-ko.log").open("w+", encoding="utf-8") as log:
        session.log(f"Korean edition, side by side: {' '.join(command)}")
        second = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, **OFFLINE})  # fmt: skip
        try:
            sphinx(session, "html", out)
        finally:
            second.wait()
            log.seek(0)
            print(log.read(), end="", flush=True)
    if second.returncode:
        session.error(f"The Korean edition failed (exit {second.returncode}); see above.")
    session.log(f"Open the site: {(out / 'index.html').as_uri()}")


@nox.session(venv_backend="none")
def docchecks(session: nox.Session) -> None:
    """Run the tests that build sites with Sphinx (pytest -m slow), planted errors among them.

    Apart from ``tests`` so that it stays fast; after ``docs``, whose built site some of them
    search. Plain ``nox`` and CI run it.
    """
    python = shared_environment(session) / "python"
    session.run(
        str(python), "-m", "pytest", "-n", "auto", "-m", "slow", "--durations=5",
        *session.posargs, env=OFFLINE, external=True,
    )  # fmt: skip


@nox.session(default=False, venv_backend="none")
def serve(session: nox.Session) -> None:
    """Serve the HTML site at http://127.0.0.1:8000 and rebuild it on every change (live preview)."""
    bin_dir = shared_environment(session)
    # Not -W: a warning is printed and the preview still updates; `nox -s docs` stays strict.
    # The same doctrees and figure data as `nox -s docs`; src/ is watched, and a changed module
    # makes Sphinx read again the pages whose figures use it.
    session.run(
        str(bin_dir / "sphinx-autobuild"), "-b", "html", "--keep-going", "-n", "-T",
        "-d", str(DOCTREES), "--watch", str(ROOT / "src"), "--ignore", str(BUILD),
        str(DOCS), str(BUILD / "html"), *session.posargs, external=True,
    )  # fmt: skip


@nox.session(default=False, venv_backend="none")
def pdf(session: nox.Session) -> None:
    """Build docs/_build/latex/conceptref.pdf and latex/ko/conceptref.pdf (needs TeX: see README)."""
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
    latex = BUILD / "latex"
    # The same two steps as Read the Docs: the LaTeX builder, then latexmk on its output.
    sphinx(session, "latex", latex)
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

    It reads the sources into doctrees of its own (the language changes what is read); the
    figure data is the English edition's, from the shared cache.
    """
    out = english / "ko"
    sphinx(session, builder, out, *KOREAN, doctrees=BUILD / "doctrees-ko")
    return out


@nox.session(default=False, venv_backend="none")
def catalogs(session: nox.Session) -> None:
    """Update the Korean catalogs (docs/locale/ko) from the English pages; then translate them."""
    bin_dir = shared_environment(session)
    pot = BUILD / "gettext"
    session.run(
        str(bin_dir / "python"), "-m", "sphinx", "-b", "gettext", "-q", str(DOCS), str(pot),
        *session.posargs, external=True,
    )  # fmt: skip
    for template in (pot / "api").glob("*.pot"):  # the API reference stays English
        if template.name != "index.pot":
            template.unlink()
    # The figures' labels: every _("...") string of docs/figures/*.py, into figures.po.
    session.run(
        str(bin_dir / "python"), str(DOCS / "_ext" / "figure_scripts.py"), "pot",
        str(pot / "figures.pot"), external=True,
    )  # fmt: skip
    session.run(
        str(bin_dir / "sphinx-intl"), "update", "-p", str(pot), "-d", str(DOCS / "locale"),
        "-l", "ko", "-w", "0", external=True,
    )  # fmt: skip


@nox.session(default=False, venv_backend="none")
def readme(session: nox.Session) -> None:
    """Write the README's table of concepts from the pages (tests/test_docs.py checks it)."""
    session.run(str(shared_environment(session) / "python"), "tools/readme.py", external=True)


@nox.session(default=False, venv_backend="none")
def bench(session: nox.Session) -> None:
    """Time the checks, and mAP against pycocotools and faster-coco-eval (benchmarks/)."""
    python = str(shared_environment(session) / "python")
    session.run(python, "benchmarks/bench_checks.py", *session.posargs, external=True)
    session.run(python, "benchmarks/bench_map.py", external=True)


@nox.session(default=False, reuse_venv=False)
def lock(session: nox.Session) -> None:
    """Re-resolve every dependency group and rewrite constraints.txt."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "dev"))
    session.install("--no-deps", *nox.project.dependency_groups(PYPROJECT, "test-no-deps"))
    frozen = session.run("pip", "freeze", "--exclude-editable", silent=True)
    assert isinstance(frozen, str)
    # The local "+cpu" label is dropped so the pin is satisfied by the CPU build from any index.
    pins = [re.sub(r"^(torch==[^+\s]+)\+\w+$", r"\1", line) for line in frozen.splitlines()]
    header = "# Pins for every nox environment. Regenerate with: nox -s lock\n"
    CONSTRAINTS.write_text(header + "\n".join(line for line in pins if line) + "\n")
