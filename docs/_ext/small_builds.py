"""Small rebuilds in one process: with ``-j``, Sphinx starts worker processes even for one page.

With ``-j auto`` Sphinx reads and writes the documents in worker processes and pays for it in
every build: each reading worker's environment is pickled back to the main process (about 0.3 s
for this site) while the main process polls the workers. That pays off in a full build, not in
the usual rebuild after an edit, which reads a page or two. When at most :data:`FEW` documents
are to be read, this extension has Sphinx read and write them in its own process.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

FEW = 4


def _serial_if_few(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    if len(docnames) <= FEW:
        app.parallel = 1  # read in this process (Sphinx decides right after this event)
        app.builder.parallel_ok = False  # and write in it


def setup(app: Sphinx) -> dict[str, object]:
    """Read and write serially when few documents changed."""
    app.connect("env-before-read-docs", _serial_if_few)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
