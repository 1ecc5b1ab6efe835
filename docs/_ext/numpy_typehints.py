"""Render NumPy's type aliases in the API pages as ``ArrayLike`` and ``NDArray[...]``.

sphinx-autodoc-typehints calls ``config.typehints_formatter`` for every annotation. A plain
function there cannot be pickled with the build environment, so Sphinx would see a changed
configuration on every build and read every page again. An instance of the class below pickles
by reference to this module and compares equal to every other instance, so the configuration
stays cached and a rebuild reads only the pages that changed.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx_autodoc_typehints import format_annotation


@dataclass(frozen=True)
class NumPyAliases:
    """A ``typehints_formatter``: NumPy's aliases, not the private types behind them."""

    def __call__(self, annotation: object, config: Config) -> str | None:
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) is np.ndarray and typing.get_origin(args[1]) is np.dtype:
            dtype = format_annotation(args[1].__args__[0], config)
            return rf":py:data:`~numpy.typing.NDArray`\ \[{dtype}]"
        alias = typing.get_args(npt.ArrayLike)
        union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
        if union and set(alias) <= set(args):
            rest = [format_annotation(arg, config) for arg in args if arg not in alias]
            return " | ".join([":py:data:`~numpy.typing.ArrayLike`", *rest])
        return None


def _set_formatter(app: Sphinx, config: Config) -> None:
    if config.typehints_formatter is None:
        config.typehints_formatter = NumPyAliases()


def setup(app: Sphinx) -> dict[str, object]:
    """Install the formatter (after sphinx_autodoc_typehints has declared the option)."""
    app.setup_extension("sphinx_autodoc_typehints")
    app.connect("config-inited", _set_formatter)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
