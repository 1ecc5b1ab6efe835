"""Time the checks a reader runs: the examples on every page, the test suite, the HTML site.

Prints the median of the runs (wall-clock seconds, and the CPU seconds of the processes, which
other work on the machine inflates less) for:

- ``nox -s doctest tests``, each run from no doctrees (every page read again) and no pytest cache;
- pytest alone;
- the doctest builder's start-up: the landing page alone (Sphinx, the extensions, reading);
- the doctest builder over every page, and (``--pages``) over each concept page on its own;
- a clean HTML build (a new output and doctree directory), and the rebuild after touching one
  concept page, which reads and writes that page alone.

Figure data comes from the shared cache (``docs/_build/.figure-data``), as in every build after
the first: the figures are drawn in each clean HTML build, never computed.

    python benchmarks/bench_checks.py [--repeat N] [--html-only] [--pages]   (or: nox -s bench)
"""

from __future__ import annotations

import argparse
import importlib.util
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
SPHINX = [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-j", "auto"]


def timed(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return its wall-clock and CPU (user + system, children) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def doctest(*pages: Path) -> list[str]:
    out = tempfile.mkdtemp(prefix="bench-doctest-")
    return [*SPHINX, "-b", "doctest", "-E", "-d", f"{out}/doctrees", str(DOCS), out,
            *map(str, pages)]  # fmt: skip


def html(out: str) -> list[str]:
    return [*SPHINX, "-b", "html", "-d", f"{out}/doctrees", str(DOCS), f"{out}/html"]


def html_builds(repeat: int) -> dict[str, tuple[float, float]]:
    """Median seconds of a clean HTML build, and of the rebuild after touching one page."""
    page = DOCS / "concepts" / "bias-vs-variance.md"
    clean, touched = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-html-") as out:
            clean.append(timed(html(out)))
            os.utime(page)  # a new modification time: Sphinx must read this page again
            touched.append(timed(html(out)))
    return {
        "html: clean build": median(clean),
        f"html: rebuild after touching {page.relative_to(DOCS)}": median(touched),
    }


def nox_doctest_tests() -> tuple[float, float]:
    """One run of ``nox -s doctest tests`` from no doctrees and no pytest cache."""
    shutil.rmtree(DOCS / "_build" / "doctrees", ignore_errors=True)
    shutil.rmtree(DOCS / "_build" / "doctest", ignore_errors=True)
    shutil.rmtree(ROOT / ".pytest_cache", ignore_errors=True)
    return timed([sys.executable, "-m", "nox", "-s", "doctest", "tests"])


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
        "pytest (whole suite)": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        "doctest builder start-up (index.md)": doctest(DOCS / "index.md"),
        "doctest builder, every page": doctest(),
    }
    if args.pages:
        for page in sorted((DOCS / "concepts").glob("*.md")):
            cases[f"  {page.relative_to(DOCS)}"] = doctest(page)
    results = {
        name: median([timed(command) for _ in range(repeat)]) for name, command in cases.items()
    }
    if importlib.util.find_spec("nox") is not None:  # nox itself, when this Python has it
        results["nox -s doctest tests"] = median([nox_doctest_tests() for _ in range(repeat)])
    report("check", results, repeat)


if __name__ == "__main__":
    main()
