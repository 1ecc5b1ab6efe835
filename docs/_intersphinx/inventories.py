"""Write the intersphinx inventories of docs/_intersphinx/: the outside objects the site names.

The build runs offline, so it cannot fetch ``objects.inv`` from docs.python.org, numpy.org,
pytorch.org or scikit-learn.org. Instead each project gets a small inventory of the objects
these pages and docstrings refer to, pointing at their real addresses. When a strict build
reports ``py:... reference target not found: <outside object>``, add the object below and run

    python docs/_intersphinx/inventories.py

(``tests/test_docs.py`` checks that the committed files are what this script writes).
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project: (version, {name: (object type, address relative to the project's base URL)}).
# "$" in an address stands for the name, as in Sphinx's own inventories.
GENERATED = "generated/$.html#$"
NUMPY_GENERATED = "reference/generated/$.html#$"
SCALARS = "reference/arrays.scalars.html#$"
SKLEARN = "modules/generated/$.html#$"
POLYNOMIAL = "reference/generated/numpy.polynomial.polynomial.Polynomial{}.html#$"

INVENTORIES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "python": (
        "3",
        {
            "Ellipsis": ("data", "library/constants.html#Ellipsis"),
            "collections.abc.Callable": ("class", "library/collections.abc.html#$"),
            "collections.abc.Iterable": ("class", "library/collections.abc.html#$"),
            "collections.abc.Iterator": ("class", "library/collections.abc.html#$"),
            "collections.abc.Mapping": ("class", "library/collections.abc.html#$"),
            "collections.abc.Sequence": ("class", "library/collections.abc.html#$"),
            "typing.Any": ("data", "library/typing.html#$"),
            "typing.Literal": ("data", "library/typing.html#$"),
        },
    ),
    "numpy": (
        "2.4",
        {
            "numpy.allclose": ("function", NUMPY_GENERATED),
            "numpy.argmax": ("function", NUMPY_GENERATED),
            "numpy.bool": ("class", SCALARS),
            "numpy.dtype": ("class", NUMPY_GENERATED),
            "numpy.float32": ("class", SCALARS),
            "numpy.float64": ("class", SCALARS),
            "numpy.generic": ("class", SCALARS),
            "numpy.int64": ("class", SCALARS),
            "numpy.linalg.norm": ("function", NUMPY_GENERATED),
            "numpy.ndarray": ("class", NUMPY_GENERATED),
            "numpy.polyfit": ("function", NUMPY_GENERATED),
            "numpy.polynomial.Polynomial": ("class", POLYNOMIAL.format("")),
            "numpy.polynomial.Polynomial.fit": ("method", POLYNOMIAL.format(".fit")),
            "numpy.random.Generator": ("class", "reference/random/generator.html#$"),
            "numpy.random._generator.Generator": (
                "class",
                "reference/random/generator.html#numpy.random.Generator",
            ),
            "numpy.random.default_rng": ("function", "reference/random/generator.html#$"),
            "numpy.typing.ArrayLike": ("data", "reference/typing.html#$"),
            "numpy.typing.NDArray": ("data", "reference/typing.html#$"),
            "numpy.var": ("function", NUMPY_GENERATED),
        },
    ),
    "torch": (
        "2.13",
        {
            "torch.Generator": ("class", GENERATED),
            "torch._C.Generator": ("class", "generated/torch.Generator.html#torch.Generator"),
            "torch.Tensor": ("class", "tensors.html#$"),
            "torch.Tensor.std": ("method", GENERATED),
            "torch.argsort": ("function", GENERATED),
            "torch.nn.functional.cosine_similarity": ("function", GENERATED),
            "torch.distributions.Normal": (
                "class",
                "distributions.html#torch.distributions.normal.Normal",
            ),
            "torch.distributions.kl_divergence": (
                "function",
                "distributions.html#torch.distributions.kl.kl_divergence",
            ),
            "torch.manual_seed": ("function", GENERATED),
            "torch.nn.BatchNorm2d": ("class", GENERATED),
            "torch.nn.Conv2d": ("class", GENERATED),
            "torch.nn.Dropout": ("class", GENERATED),
            "torch.nn.Dropout2d": ("class", GENERATED),
            "torch.nn.GroupNorm": ("class", GENERATED),
            "torch.nn.LayerNorm": ("class", GENERATED),
            "torch.nn.Linear": ("class", GENERATED),
            "torch.nn.MaxPool2d": ("class", GENERATED),
            "torch.nn.Module": ("class", GENERATED),
            "torch.nn.MultiheadAttention": ("class", GENERATED),
            "torch.nn.RMSNorm": ("class", GENERATED),
            "torch.nn.Transformer.generate_square_subsequent_mask": (
                "function",
                "generated/torch.nn.Transformer.html#$",
            ),
            "torch.nn.TransformerDecoderLayer": ("class", GENERATED),
            "torch.nn.TransformerEncoderLayer": ("class", GENERATED),
            "torch.nn.functional.binary_cross_entropy_with_logits": ("function", GENERATED),
            "torch.nn.functional.normalize": ("function", GENERATED),
            "torch.nn.functional.scaled_dot_product_attention": ("function", GENERATED),
            # Where autodoc finds these classes: the modules that define them.
            "torch.nn.modules.batchnorm.BatchNorm2d": (
                "class",
                "generated/torch.nn.BatchNorm2d.html#torch.nn.BatchNorm2d",
            ),
            "torch.nn.modules.conv.Conv2d": (
                "class",
                "generated/torch.nn.Conv2d.html#torch.nn.Conv2d",
            ),
            "torch.nn.modules.linear.Linear": (
                "class",
                "generated/torch.nn.Linear.html#torch.nn.Linear",
            ),
            "torch.nn.modules.module.Module": (
                "class",
                "generated/torch.nn.Module.html#torch.nn.Module",
            ),
            "torch.nn.utils.fusion.fuse_conv_bn_eval": ("function", GENERATED),
            "torch.optim": ("module", "optim.html#module-torch.optim"),
            "torch.optim.Adam": ("class", GENERATED),
            "torch.optim.AdamW": ("class", GENERATED),
            "torch.optim.SGD": ("class", GENERATED),
            "torch.rand": ("function", GENERATED),
            "torch.random.fork_rng": ("function", "random.html#$"),
            "torch.utils.flop_counter.FlopCounterMode": ("class", "torch.compiler_api.html"),
        },
    ),
    "sklearn": (
        "1.9",
        {
            "sklearn.linear_model.LinearRegression": ("class", SKLEARN),
            "sklearn.metrics.average_precision_score": ("function", SKLEARN),
            "sklearn.metrics.precision_recall_curve": ("function", SKLEARN),
        },
    ),
    # pycocotools publishes no API documentation: its functions link to their source.
    "pycocotools": (
        "2.0",
        {"pycocotools.mask.iou": ("function", "pycocotools/mask.py")},
    ),
}


def inventory(project: str) -> bytes:
    """The bytes of ``project``'s objects.inv (Sphinx's format, version 2)."""
    version, objects = INVENTORIES[project]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(
        f"{name} py:{kind} 1 {address} -\n" for name, (kind, address) in sorted(objects.items())
    )
    return header.encode() + zlib.compress(lines.encode(), 9)


def main() -> None:
    for project in INVENTORIES:
        (HERE / f"{project}.inv").write_bytes(inventory(project))


if __name__ == "__main__":
    main()
