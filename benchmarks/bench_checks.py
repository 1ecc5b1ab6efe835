"""Time the checks a reader runs: every example on every page, and the test suite.

Each run starts from scratch (a new Sphinx output directory, no pytest cache), so the numbers
are what `nox -s doctest tests` costs once its environments exist. Prints the median of the
runs for: the doctest build of the landing page alone (Sphinx and import overhead), the doctest
build of every page, each concept page on its own, and pytest. Then, for the HTML site: a clean
build (a new output directory), and the rebuild of that output after touching one concept page,
which should read and write that page alone.

    python benchmarks/bench_checks.py [--repeat N] [--html-only]      (or: nox -s bench)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def doctest(*pages: Path) -> list[str]:
    out = tempfile.mkdtemp(prefix="bench-doctest-")
    return [sys.executable, "-m", "sphinx", "-b", "doctest", "-W", "-n", "-q", "-E",
            str(DOCS), out, *map(str, pages)]  # fmt: skip


def html(out: str) -> list[str]:
    return [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "-q", str(DOCS), out]


def html_builds(repeat: int) -> dict[str, float]:
    """Median seconds of a clean HTML build, and of the rebuild after touching one page."""
    page = DOCS / "concepts" / "bias-vs-variance.md"
    clean, touched = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-html-") as out:
            clean.append(timed(html(out)))
            os.utime(page)  # a new modification time: Sphinx must read this page again
            touched.append(timed(html(out)))
    return {
        "html: clean build": statistics.median(clean),
        f"html: rebuild after touching {page.relative_to(DOCS)}": statistics.median(touched),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--html-only", action="store_true", help="time the HTML builds only")
    args = parser.parse_args()
    repeat = args.repeat

    results = html_builds(repeat)
    width = max(map(len, results))
    print(f"{'html build':<{width}}  median of {repeat} (s)")
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds:6.2f}")
    if args.html_only:
        return

    cases = {"sphinx + imports only (index.md)": doctest(DOCS / "index.md")}
    cases["every page (doctest builder)"] = doctest()
    for page in sorted((DOCS / "concepts").glob("*.md")):
        cases[f"  {page.relative_to(DOCS)}"] = doctest(page)
    cases["pytest (whole suite)"] = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]

    width = max(map(len, cases))
    print(f"{'check':<{width}}  median of {repeat} (s)")
    for name, command in cases.items():
        seconds = statistics.median(timed(command) for _ in range(repeat))
        print(f"{name:<{width}}  {seconds:6.2f}")


if __name__ == "__main__":
    main()
