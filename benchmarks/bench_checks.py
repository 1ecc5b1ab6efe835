"""Time the checks a reader runs: the examples on every page, the test suite, the HTML site.

Prints the median of the runs (wall-clock seconds, and the CPU seconds of the processes, which
other work on the machine inflates less) for:

- ``nox -s doctest tests`` (its two commands), each run from no doctrees (every page read
  again) and no pytest cache;
- pytest as ``nox -s tests`` runs it (on every core, without the ``slow`` tests), and the
  ``slow`` tests as ``nox -s docchecks`` runs them;
- the doctest builder's start-up: the landing page alone, from a fresh environment (Sphinx, the
  extensions, reading every page);
- the doctest builder over every page, and (``--pages``) over each concept page on its own;
- a clean HTML build (a new output and doctree directory) of the English edition, and of both
  editions (English, and side by side Korean into ``html/ko`` with doctrees of its own, as
  ``nox -s docs`` builds them);
  and the rebuild after touching one concept page (and its Korean catalog), which reads and
  writes that page alone: English, and both editions.

Figure data comes from the shared cache (``docs/_build/.figure-data``), as in every build after
the first: the figures are drawn in each clean HTML build, never computed.

    python benchmarks/bench_checks.py [--repeat N] [--html-only] [--pages]   (or: nox -s bench)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SPHINX = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-T", "-q", "-j", "auto"]
# As nox runs them: Hugging Face libraries (test oracles) never reach for the network, and
# compiled modules (pytest's rewritten tests among them) are kept.
OFFLINE = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PYTHONDONTWRITEBYTECODE": "",
}
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto"]
PAGE = DOCS / "concepts" / "bias-vs-variance.md"
CATALOG = DOCS / "locale" / "ko" / "LC_MESSAGES" / "concepts" / "bias-vs-variance.po"


def timed(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return its wall-clock and CPU (user + system, children) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, env=OFFLINE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if result.returncode:  # timed all the same; the failure is shown
        print(f"exit {result.returncode}: {' '.join(command)}\n{result.stdout[-2000:]!r}")
    return wall, cpu


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def doctest(*pages: Path) -> list[str]:
    out = tempfile.mkdtemp(prefix="bench-doctest-")
    return [*SPHINX, "-b", "doctest", "-E", "-d", f"{out}/doctrees", str(DOCS), out,
            *map(str, pages)]  # fmt: skip


def html(out: str, language: str = "en") -> list[str]:
    """The HTML build of one edition: English into ``out/html``, another into ``out/html/<lang>``."""
    if language == "en":
        return [*SPHINX, "-b", "html", "-d", f"{out}/doctrees", str(DOCS), f"{out}/html"]
    return [*SPHINX, "-b", "html", "-D", f"language={language}", "-d", f"{out}/doctrees-{language}",
            str(DOCS), f"{out}/html/{language}"]  # fmt: skip


def together(*commands: list[str]) -> tuple[float, float]:
    """Run ``commands`` side by side (as ``nox -s docs`` builds the two editions)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    running = [
        subprocess.Popen(
            c, cwd=ROOT, env=OFFLINE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for c in commands
    ]
    for command, process in zip(commands, running, strict=True):
        _, errors = process.communicate()
        if process.returncode:  # timed all the same; the failure is shown
            print(f"exit {process.returncode}: {' '.join(command)}\n{errors[-2000:]!r}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def html_builds(repeat: int) -> dict[str, tuple[float, float]]:
    """Median seconds of clean HTML builds, and of rebuilds after touching one page."""
    clean, clean_both, touched, touched_both = [], [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-html-") as out:
            clean.append(timed(html(out)))
            os.utime(PAGE)  # a new modification time: Sphinx must read this page again
            touched.append(timed(html(out)))
        with tempfile.TemporaryDirectory(prefix="bench-html-") as out:
            clean_both.append(together(html(out), html(out, "ko")))
            os.utime(PAGE)
            os.utime(CATALOG)  # the Korean edition reads the page again when either changes
            touched_both.append(together(html(out), html(out, "ko")))
    page = PAGE.relative_to(DOCS)
    return {
        "html: clean build, English": median(clean),
        "html: clean build, both editions side by side": median(clean_both),
        f"html: rebuild after touching {page}, English": median(touched),
        f"html: rebuild after touching {page}, both editions": median(touched_both),
    }


def nox_doctest_tests() -> tuple[float, float]:
    """One run of the commands of ``nox -s doctest tests``, from no doctrees, no pytest cache.

    The commands themselves, run with this Python: nox adds only its check of the environment.
    """
    shutil.rmtree(ROOT / ".pytest_cache", ignore_errors=True)
    doctest_wall, doctest_cpu = timed(doctest())
    tests_wall, tests_cpu = timed([*PYTEST, "-m", "not slow", "--durations=10"])
    return doctest_wall + tests_wall, doctest_cpu + tests_cpu


def report(title: str, results: dict[str, tuple[float, float]], repeat: int) -> None:
    width = max(map(len, [title, *results]))
    print(f"{title:<{width}}  median of {repeat}:  wall (s)   CPU (s)")
    for name, (wall, cpu) in results.items():
        print(f"{name:<{width}}  {'':>12}{wall:8.2f}  {cpu:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--html-only", action="store_true", help="time the HTML builds only")
    parser.add_argument("--pages", action="store_true", help="time each page's doctests too")
    args = parser.parse_args()
    repeat = args.repeat

    report("html build", html_builds(repeat), repeat)
    if args.html_only:
        return

    cases = {
        "pytest as nox -s tests (-n auto, not slow)": [*PYTEST, "-m", "not slow"],
        "pytest as nox -s docchecks (-n auto, slow)": [*PYTEST, "-m", "slow"],
        "doctest builder start-up (index.md)": doctest(DOCS / "index.md"),
        "doctest builder, every page": doctest(),
    }
    if args.pages:
        for page in sorted((DOCS / "concepts").glob("*.md")):
            cases[f"  {page.relative_to(DOCS)}"] = doctest(page)
    results = {
        name: median([timed(command) for _ in range(repeat)]) for name, command in cases.items()
    }
    results["nox -s doctest tests"] = median([nox_doctest_tests() for _ in range(repeat)])
    report("check", results, repeat)


if __name__ == "__main__":
    main()
