"""Results kept across builds in one pickle file, under keys that hash everything they depend on.

:class:`Memory` holds what earlier builds wrote (read on first use) and what this build used or
computed. :meth:`Memory.save` writes the latter (so entries no build uses any more are dropped),
as a whole file (a temporary file, then renamed: builds of the two editions run side by side),
and only if this build computed something new. Each site keeps its memories in its own
``_build`` folder (:meth:`Memory.of`), beside the figure data. Used by ``reference_cache`` and
``code_links``.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


class Memory:
    """A dictionary from hash keys to picklable results, kept in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loaded: dict[str, Any] | None = None
        self.used: dict[str, Any] = {}
        self.new = False

    @classmethod
    def of(cls, app: Sphinx, name: str) -> Memory:
        """The memory called ``name`` of the site that ``app`` builds."""
        return cls(Path(app.srcdir) / "_build" / name)

    def get(self, key: str) -> Any:
        """The result stored under ``key``, or None."""
        if self.loaded is None:
            try:
                self.loaded = pickle.loads(self.path.read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                self.loaded = {}
        found = self.used.get(key, self.loaded.get(key))
        if found is not None:
            self.used[key] = found
        return found

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (not None) under ``key``."""
        self.used[key] = value
        self.new = True

    def save(self) -> None:
        """Write what this build used, if it computed anything new."""
        if not self.new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}-")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(self.used, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(partial, 0o644)
        os.replace(partial, self.path)
        self.new = False
