"""What the HTML build remembers and how it links code (docs/_ext): the same result, less work.

- ``code_links.link_html`` equals sphinx-codeautolink's own ``link_html`` on generated pages;
- ``code_links.resolve_location`` remembers resolutions (and failures) under a key that changes
  with the project's sources and the inventory's names, not with the pages' addresses;
- ``reference_cache`` formats every entry of references.bib exactly as pybtex does, remembers
  it across builds, and never remembers a failure;
- ``build_memory.Memory`` writes whole files and keeps only what the last build used;
- ``small_builds`` keeps a rebuild of a few pages in one process.
"""

from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from pybtex.database import Entry, Person, parse_file
from pybtex.plugin import find_plugin
from pybtex.style.template import FieldIsMissing
from sphinx.highlighting import PygmentsBridge
from sphinx_codeautolink.extension import block, resolve
from sphinx_codeautolink.extension.backref import CodeExample
from sphinx_codeautolink.parse import parse_names

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import build_memory  # docs/_ext
import code_links  # docs/_ext
import reference_cache  # docs/_ext
import small_builds  # docs/_ext

# --- link_html: the same HTML as sphinx-codeautolink's ------------------------------------------

MODULES = {"np": "numpy", "metrics": "conceptref.metrics", "F": "torch.nn.functional"}
FUNCTIONS = ["zeros", "iou", "round", "relu", "average_precision"]
STRINGS = st.text(alphabet="ab &<>\"'", max_size=6)


@st.composite
def statements(draw: st.DrawFn) -> str:
    """One line of an example: a call through an imported name, maybe with awkward strings."""
    alias = draw(st.sampled_from(sorted(MODULES)))
    function = draw(st.sampled_from(FUNCTIONS))
    argument = draw(st.one_of(STRINGS.map(repr), st.integers(-3, 3).map(str)))
    form = draw(st.sampled_from(["x = {c}", "print({c})", "y = {c}.shape", "{c} < 2 & True"]))
    return form.format(c=f"{alias}.{function}({argument})")


@st.composite
def examples(draw: st.DrawFn) -> tuple[str, str]:
    """(language, source): a Python block or a doctest with output, importing what it uses."""
    lines = [f"import {module} as {alias}" for alias, module in sorted(MODULES.items())]
    lines += draw(st.lists(statements(), min_size=1, max_size=3))
    if draw(st.booleans()):
        return "python", "\n".join(lines)
    output = draw(STRINGS)
    return "pycon", "\n".join(f">>> {line}" for line in lines) + (f"\n{output}" if output else "")


def html_block(language: str, source: str) -> str:
    """The HTML Sphinx writes for a code block (Pygments inside Sphinx's wrapper)."""
    kind = "doctest highlight-default" if language == "pycon" else f"highlight-{language}"
    highlighted = PygmentsBridge("html").highlight_block(source, language)
    return f'<div class="{kind} notranslate">{highlighted}</div>\n'


def transform(language: str, source: str, document: str) -> block.SourceTransform:
    """sphinx-codeautolink's record of the block, every name resolved to an inventory key."""
    clean = block.clean_pycon(source)[1] if language == "pycon" else source
    names = [n for n in parse_names(clean, None) if n.code_str]
    for name in names:
        name.resolved_location = ".".join(str(c) for c in name.import_components)
    example = CodeExample(document, "id", [])
    return block.SourceTransform(source, names, example, 1)


@given(
    blocks=st.lists(examples(), min_size=1, max_size=4),
    unlinked=st.lists(st.sampled_from([0, 1, 2, 3]), max_size=2),
    document=st.sampled_from(["index", "concepts/page", "api/x/y"]),
    builder=st.sampled_from(["html", "dirhtml"]),
    titles=st.booleans(),
)
def test_link_html_equals_sphinx_codeautolinks_own(blocks, unlinked, document, builder, titles):
    prose = '<p>Text with &amp; and &lt;b&gt; and "quotes".</p>\n'
    parts = [prose, '<div class="highlight-text notranslate"><pre>x = np.zeros(1)</pre></div>\n']
    transforms = []
    for ix, (language, source) in enumerate(blocks):
        parts += [html_block(language, source), prose]
        if ix not in unlinked:  # some blocks have no transform (a language it does not parse)
            transforms.append(transform(language, source, document))
    body = "".join(parts)
    inventory = {
        name.resolved_location: f"api/{name.resolved_location}.html#x"
        for t in transforms
        for name in t.names
    }
    arguments = (document, body, transforms, inventory, {}, [], builder)
    ours = code_links.link_html(*copy.deepcopy(arguments), disable_link_titles=not titles)
    theirs = block.link_html(*arguments, disable_link_titles=not titles)
    assert str(BeautifulSoup(ours, "html.parser")) == theirs
    assert ours.count("sphinx-codeautolink-a") == theirs.count("sphinx-codeautolink-a")


def test_link_html_leaves_the_rest_of_the_page_byte_for_byte():
    source = "import numpy as np\nx = np.zeros(3)"
    prose = "<p>Quotes &quot;as written&quot; and <br/> stay.</p>"
    body = prose + html_block("python", source) + prose
    t = transform("python", source, "index")
    inventory = {name.resolved_location: "api/np.html#x" for name in t.names}
    linked = code_links.link_html("index", body, [t], inventory, {}, [], disable_link_titles=False)
    assert linked.startswith(prose)
    assert linked.endswith(prose)
    assert '<a href="api/np.html#x" title="numpy.zeros" class="sphinx-codeautolink-a">' in linked


# --- resolve_location: remembered under the right key ---------------------------------------------


@pytest.fixture
def memory(tmp_path, monkeypatch):
    """A fresh memory for code links, as a build starts one."""
    app = SimpleNamespace(
        srcdir=tmp_path, config=SimpleNamespace(code_links_packages=["conceptref"])
    )
    code_links._start(app)
    yield code_links._memory
    monkeypatch.setattr(code_links, "_memory", None)


def chain(*components: str) -> SimpleNamespace:
    return SimpleNamespace(import_components=list(components))


def test_a_resolution_is_remembered_and_not_repeated(memory, monkeypatch):
    inventory = {"numpy.zeros": "a.html"}
    first = code_links.resolve_location(chain("numpy", "zeros"), inventory)
    assert first == resolve.resolve_location(chain("numpy", "zeros"), inventory) == "numpy.zeros"
    monkeypatch.setattr(code_links, "_resolve_location", lambda *_: pytest.fail("resolved again"))
    # Same names at other addresses (the Korean edition's): still remembered.
    assert code_links.resolve_location(chain("numpy", "zeros"), {"numpy.zeros": "ko/a.html"})
    memory.save()
    again = build_memory.Memory(memory.path)
    monkeypatch.setattr(code_links, "_memory", again)
    assert code_links.resolve_location(chain("numpy", "zeros"), inventory) == "numpy.zeros"


def test_a_failed_resolution_is_remembered_and_raised_again(memory, monkeypatch):
    with pytest.raises(resolve.CouldNotResolve) as error:
        code_links.resolve_location(chain("no_such_module_xyz", "f", "()", "g"), {})
    monkeypatch.setattr(code_links, "_resolve_location", lambda *_: pytest.fail("resolved again"))
    with pytest.raises(resolve.CouldNotResolve, match=str(error.value)):
        code_links.resolve_location(chain("no_such_module_xyz", "f", "()", "g"), {})


def test_a_new_inventory_name_is_a_new_key(memory, monkeypatch):
    calls = []
    monkeypatch.setattr(code_links, "_resolve_location", lambda c, i: calls.append(c) or "x")
    code_links.resolve_location(chain("numpy", "zeros"), {"numpy.zeros": "a.html"})
    code_links.resolve_location(chain("numpy", "zeros"), {"numpy.zeros": "a.html", "b": "b"})
    assert len(calls) == 2


def test_a_change_to_the_projects_sources_is_a_new_environment(tmp_path, monkeypatch):
    package = tmp_path / "planted_package"
    package.mkdir()
    (package / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(code_links, "_PACKAGES", {"planted_package"})
    code_links._environment.cache_clear()
    before = code_links._environment()
    (package / "__init__.py").write_text("X = 2\n")
    code_links._environment.cache_clear()
    assert code_links._environment() != before
    code_links._environment.cache_clear()


def test_type_checking_imports_run_only_in_the_projects_packages(monkeypatch):
    ran = []
    monkeypatch.setattr(code_links, "_populate_type_checking", ran.append)
    monkeypatch.setattr(code_links, "_PACKAGES", {"conceptref"})
    import numpy

    import conceptref.metrics

    code_links.populate_type_checking(numpy)
    code_links.populate_type_checking(conceptref.metrics)
    assert ran == [conceptref.metrics]


# --- Formatted references: pybtex's own text, remembered ----------------------------------------


@pytest.fixture
def references(tmp_path, monkeypatch):
    """A fresh reference memory in ``tmp_path``."""
    monkeypatch.setattr(reference_cache, "_memory", build_memory.Memory(tmp_path / "refs.pickle"))
    return reference_cache._memory


def parts(formatted: Any) -> tuple[str, str, Any]:
    """A formatted entry's key, label and rich text (which compares by its parts)."""
    return formatted.key, formatted.label, formatted.text


def test_every_reference_is_remembered_as_pybtex_formats_it(references, monkeypatch):
    style = find_plugin("pybtex.style.formatting", "plain")()
    entries = parse_file(DOCS / "references.bib").entries
    own = reference_cache._format_entry
    formatted = {
        key: parts(own(style, str(label), entry))
        for label, (key, entry) in enumerate(entries.items())
    }
    for label, entry in enumerate(entries.values()):  # formatted, and remembered
        assert parts(reference_cache.format_entry(style, str(label), entry)) == formatted[entry.key]
    references.save()
    assert len(pickle.loads(references.path.read_bytes())) == len(entries)
    # A later build reads them all from the file, and formats none again.
    monkeypatch.setattr(reference_cache, "_memory", build_memory.Memory(references.path))
    monkeypatch.setattr(reference_cache, "_format_entry", lambda *_: pytest.fail("formatted"))
    for label, entry in enumerate(entries.values()):
        remembered = reference_cache.format_entry(style, str(label), entry)
        assert parts(remembered) == formatted[entry.key]  # the rich text compared part by part


def test_a_changed_field_or_label_is_formatted_again(references):
    style = find_plugin("pybtex.style.formatting", "plain")()
    entry = Entry("article", {"title": "One", "journal": "J", "year": "2020"})
    entry.key = "a"
    entry.persons["author"] = [Person("Doe, Jane")]
    first = reference_cache.format_entry(style, "1", entry).text.render_as("text")
    entry.fields["title"] = "Two"
    second = reference_cache.format_entry(style, "1", entry).text.render_as("text")
    relabelled = reference_cache.format_entry(style, "7", entry)
    assert "One" in first
    assert "Two" in second
    assert relabelled.label == "7"


def test_a_reference_that_fails_to_format_fails_every_time(references):
    style = find_plugin("pybtex.style.formatting", "plain")()
    entry = Entry("article", {"title": "No journal, no year"})
    entry.key = "broken"
    entry.persons["author"] = [Person("Doe, Jane")]
    for _ in range(2):
        with pytest.raises(FieldIsMissing):
            reference_cache.format_entry(style, "1", entry)
    assert not references.used


def test_a_reference_with_a_crossref_is_never_remembered(references):
    style = find_plugin("pybtex.style.formatting", "plain")()
    entry = Entry("misc", {"title": "T", "crossref": "other"})
    entry.key = "c"
    reference_cache.format_entry(style, "1", entry)
    assert not references.used


def test_entry_points_are_selected_as_importlib_selects_them():
    from importlib.metadata import entry_points

    for group in ("pybtex.style.formatting", "pybtex.style.names", "no.such.group"):
        ours = reference_cache.entry_points(group=group)
        assert sorted(e.name for e in ours) == sorted(e.name for e in entry_points(group=group))
    assert [
        e.value for e in reference_cache.entry_points(group="pybtex.style.formatting", name="plain")
    ] == [e.value for e in entry_points(group="pybtex.style.formatting", name="plain")]


# --- Memory --------------------------------------------------------------------------------------


def test_a_memory_keeps_what_the_last_build_used_in_a_whole_file(tmp_path):
    path = tmp_path / "m.pickle"
    first = build_memory.Memory(path)
    first.put("a", 1)
    first.put("b", 2)
    first.save()
    second = build_memory.Memory(path)
    assert second.get("a") == 1
    assert second.get("missing") is None
    second.put("c", 3)
    second.save()
    assert pickle.loads(path.read_bytes()) == {"a": 1, "c": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pickle"]  # no partial file left


def test_a_memory_with_nothing_new_writes_nothing_and_survives_a_broken_file(tmp_path):
    path = tmp_path / "m.pickle"
    path.write_bytes(b"not a pickle")
    memory = build_memory.Memory(path)
    assert memory.get("a") is None
    memory.save()
    assert path.read_bytes() == b"not a pickle"


# --- Small builds -------------------------------------------------------------------------------


@pytest.mark.parametrize(("pages", "parallel"), [(0, 1), (1, 1), (small_builds.FEW, 1), (20, 2)])
def test_a_build_that_reads_few_pages_runs_in_one_process(pages, parallel):
    app = SimpleNamespace(parallel=2, builder=SimpleNamespace(parallel_ok=True))
    small_builds._serial_if_few(app, None, [f"page{i}" for i in range(pages)])
    assert app.parallel == parallel
    assert app.builder.parallel_ok is (parallel > 1)
