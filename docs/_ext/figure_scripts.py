"""Make a page depend on the figure scripts it draws with ``.. plot:: figures/<file>.py``.

matplotlib's plot directive redraws a figure when its script is newer than the image, but only
while the page is being read. Recording the script as a dependency of the page makes Sphinx
read the page again when the script changes, so an incremental build never keeps a stale figure.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

PLOT = re.compile(r"^\.\. plot:: +(\S+\.py)\b", flags=re.MULTILINE)


def _note_scripts(app: Sphinx, docname: str, source: list[str]) -> None:
    for script in PLOT.findall(source[0]):
        app.env.note_dependency(script)  # relative to the source directory, like the directive


def setup(app: Sphinx) -> dict[str, object]:
    """Connect to ``source-read``, which sees each page's text before it is parsed."""
    app.connect("source-read", _note_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
