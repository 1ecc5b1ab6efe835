"""Time the HTML build of both editions (English and Korean), full and after a one-page edit.

Run from the repository root with the docs environment (``python benchmarks/bench_editions.py``).
"Full" builds start from empty output and doctree folders but keep the drawn figures (warm), as
a rebuild after ``rm -rf docs/_build/html/*.html`` would; "one page" touches one concept page and
its Korean catalog and rebuilds incrementally. Each is the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
STRICT = ["-W", "--keep-going", "-n", "-T", "-q"]
PAGE = DOCS / "concepts" / "one-by-one-convolution.md"
CATALOG = DOCS / "locale" / "ko" / "LC_MESSAGES" / "concepts" / "one-by-one-convolution.po"


def build(language: str) -> float:
    """Build one edition into its usual folder; return the seconds it took."""
    out, doctrees = (
        (HTML, HTML / ".doctrees") if language == "en" else (HTML / "ko", HTML / ".doctrees-ko")
    )
    command = [sys.executable, "-m", "sphinx", "-b", "html", *STRICT, "-d", str(doctrees)]
    if language != "en":
        command += ["-D", f"language={language}"]
    start = time.perf_counter()
    subprocess.run([*command, str(DOCS), str(out)], check=True)
    return time.perf_counter() - start


def clean() -> None:
    """Remove both editions' pages and doctrees, keeping the drawn figures."""
    for folder in (HTML / ".doctrees", HTML / ".doctrees-ko", HTML / "ko"):
        shutil.rmtree(folder, ignore_errors=True)
    for page in HTML.glob("**/*.html"):
        page.unlink()


def main() -> None:
    """Print the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    build("en"), build("ko")  # draw the figures once, outside the timing
    full, page = [], []
    for _ in range(args.repeat):
        clean()
        full.append(build("en") + build("ko"))
        PAGE.touch(), CATALOG.touch()
        page.append(build("en") + build("ko"))
    print(f"both editions, full HTML (warm): {statistics.median(full):.1f} s  {full}")
    print(f"both editions, one page rebuilt: {statistics.median(page):.1f} s  {page}")


if __name__ == "__main__":
    main()
