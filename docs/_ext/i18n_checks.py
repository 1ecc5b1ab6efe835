"""Checks that keep a translated edition in step with the English sources.

The Korean edition is built from the English MyST pages and one gettext catalog per page
(``docs/locale/ko/LC_MESSAGES/<docname>.po``). A catalog can go wrong in ways that Sphinx would
turn into a silently broken page, so every catalog is read here first:

- **syntax**: a line that is no ``msgid``/``msgstr``/``msgctxt`` keyword, string continuation or
  comment, or a string with a bad escape or no closing quote;
- **markup** (any translated message): a role or code span left open (an odd number of
  backticks), a cross-reference of the English message (``{doc}``, ``{ref}``, ``{func}``, ``{cite}``
  keys, ``{term}`` targets — a term may be named by any of its glossary names) missing from the
  translation, a ``{term}`` target that is no glossary name, a math span changed or left open;
- **terminology** (any translated message): each glossary term that the English message uses (by
  a ``{term}`` role or by name) appears in the translation under one of its Korean names or its
  English name, unless a translator comment ``# terms-ok: key, value`` says the English uses
  that word in its everyday sense there;
- **completeness** (the pages listed in ``docs/locale/<lang>/translated.txt``): no message with
  English prose is untranslated or fuzzy.

Each problem names the catalog file and line and the paragraph (the start of its English text).
The functions here are pure; ``korean_edition`` runs them in the build and ``tests/test_i18n.py``
runs them on planted errors.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po

ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
CODE = re.compile(r"``[^`]+``|`[^`]+`")
DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", flags=re.DOTALL)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", flags=re.DOTALL)
URL = re.compile(r"https?://\S+")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
EXPLICIT = re.compile(r"(?s)(.*?)\s*<(.+)>\s*")
# Roles whose target must survive translation. {term} is compared by glossary entry.
XREF_ROLES = {"doc", "ref", "func", "class", "meth", "mod", "attr", "data", "exc", "obj", "numref"}
CITE_ROLES = {"cite", "cite:p", "cite:t", "cite:ps", "cite:ts", "cite:alp", "cite:year"}

# A line of a .po file: a comment, a keyword with its string, or a continued string.
_PO_STRING = r'"(?:[^"\\]|\\[\\"abfnrtv]|\\[0-7]{1,3}|\\x[0-9a-fA-F]+)*"'
_PO_LINE = re.compile(
    rf"\s*(?:#.*|(?:#~\s*)?(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+{_PO_STRING}"
    rf"|(?:#~\s*)?{_PO_STRING})?\s*"
)


@dataclass(frozen=True)
class Problem:
    """One problem of a catalog: where (file and 1-based line) and what."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CatalogSyntaxError(ValueError):
    """A .po file that cannot be read; the message names the file and the line."""


def read_catalog(path: Path, text: str | None = None) -> Catalog:
    """Read a .po file strictly; raise CatalogSyntaxError naming the file and line if it is bad."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    seen: dict[str, int] = {}  # msgctxt + msgid -> line of its first entry
    keyword, key, start = "", "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not _PO_LINE.fullmatch(line):
            raise CatalogSyntaxError(
                f"{path}:{number}: not a line of a .po file (a keyword and a quoted string, "
                f'a "continued" string, or a # comment): {line.strip()[:70]!r}'
            )
        word = line.split(" ", 1)[0] if line[:1] not in ('"', "#", "") else ""
        if word == "msgstr" and keyword == "msgstr":
            raise CatalogSyntaxError(f"{path}:{number}: a second msgstr for one msgid")
        if word in ("msgctxt", "msgid") and keyword != "msgctxt":
            if key in seen and seen[key] != start:
                raise CatalogSyntaxError(
                    f"{path}:{start}: the msgid of line {seen[key]} again (one entry per text)"
                )
            seen.setdefault(key, start)
            key, start = "", number
        if word or (line.startswith('"') and keyword in ("msgctxt", "msgid")):
            keyword = word or keyword
            if keyword in ("msgctxt", "msgid"):
                key += (f"\0{keyword}:" if word else "") + line.split('"', 1)[1].rstrip()[:-1]
    if key in seen and seen[key] != start:
        raise CatalogSyntaxError(f"{path}:{start}: the msgid of line {seen[key]} again")
    try:
        return read_po(text.splitlines(keepends=True), abort_invalid=True)
    except PoFileError as error:
        raise CatalogSyntaxError(f"{path}:{error.lineno + 1}: {error}") from None


def _plain(text: str) -> str:
    """A message without its math, code, URLs and roles (a role's explicit title stays)."""
    text = DISPLAY_MATH.sub(" ", text)
    text = INLINE_MATH.sub(" ", text)

    def title(match: re.Match[str]) -> str:
        explicit = EXPLICIT.fullmatch(match.group(2))
        return f" {explicit.group(1)} " if explicit and match.group(1) == "term" else " "

    text = ROLE.sub(title, text)
    text = CODE.sub(" ", text)
    return URL.sub(" ", text)


def has_prose(msgid: str) -> bool:
    """Whether an English message holds words to translate (not only markup, math, code, names).

    A table cell that is only a ``{term}`` link, a list of Korean names, a formula or a
    ``{doc}`` link needs no translation; anything with an English word outside them does.
    """
    return bool(LATIN_WORD.search(_plain(msgid)))


def _role_target(content: str) -> str:
    explicit = EXPLICIT.fullmatch(content)
    return " ".join((explicit.group(2) if explicit else content).split()).lstrip("~!")


def references(text: str, names: Mapping[str, str]) -> Counter[str]:
    """The cross-references of a message, as ``role:target`` (terms by their English name).

    ``names`` maps every glossary name (lower case) to its term's English name; a ``{term}``
    target that is no glossary name is kept as ``term?:<target>``.
    """
    found: Counter[str] = Counter()
    for role, content in ROLE.findall(text):
        target = _role_target(content)
        if role == "term":
            english = names.get(target.lower())
            found["term:" + english if english else "term?:" + target] += 1
        elif role in CITE_ROLES:
            for key in target.split(","):
                found["cite:" + key.strip()] += 1
        elif role in XREF_ROLES or ":" in role:
            found[f"{role}:{target}"] += 1
    return found


def _math(text: str) -> list[str]:
    spans = [m.group(0) for m in DISPLAY_MATH.finditer(text)]
    rest = DISPLAY_MATH.sub(" ", text)
    # TeX ignores spaces in math: compare without them.
    return sorted(
        "".join(span.split())
        for span in [*spans, *(m.group(1) for m in INLINE_MATH.finditer(rest))]
    )


def markup_problems(msgid: str, msgstr: str, names: Mapping[str, str]) -> list[str]:
    """Ways a translation breaks the MyST markup of its English message (empty if none)."""
    problems = []
    without_escapes = msgstr.replace("\\`", "")
    if without_escapes.count("`") % 2:
        problems.append("a role or code span is left open (an odd number of backticks)")
    if re.search(r"\{[\w:.-]+\}(?!`)", msgstr) and not re.search(r"\{[\w:.-]+\}", msgid):
        problems.append("a role name without its `target`")
    rest = DISPLAY_MATH.sub(" ", msgstr)
    rest = CODE.sub(" ", rest)
    if (rest.count("$") - rest.count("\\$")) % 2:
        problems.append("a math span is left open (an odd number of $)")
    elif _math(msgid) != _math(msgstr):
        missing = sorted(set(_math(msgid)) - set(_math(msgstr)))
        changed = f": {missing[0]!r}" if missing else ""
        problems.append(f"the math differs from the English{changed}")
    source, target = references(msgid, names), references(msgstr, names)
    for ref in sorted(source - target):
        kind, _, name = ref.partition(":")
        problems.append(f"the cross-reference {{{kind}}}`{name}` of the English is missing")
    for ref in sorted(target - source):  # an unknown target of the English is the English's
        if ref.startswith("term?:"):
            problems.append(f"{{term}}`{ref[6:]}` is no glossary name")
    if msgid.count("**") % 2 == 0 and msgstr.count("**") % 2:
        problems.append("bold (**) is left open")
    return problems


def _squeeze(text: str) -> str:
    return "".join(text.lower().split())


def term_uses(
    msgid: str, terms: Mapping[str, tuple[str, ...]], names: Mapping[str, str]
) -> set[str]:
    """The glossary terms (English names) that an English message uses, by role or by name."""
    used = {
        ref[5:] for ref in references(msgid, names) if ref.startswith("term:")
    }  # fmt: skip
    plain = _plain(msgid).lower()
    for english in terms:
        name = english.lower()
        if name not in plain:  # the pattern below needs the name itself: most terms stop here
            continue
        if re.search(r"(?<![\w-])" + re.escape(name) + r"(?:s|es)?(?![\w-])", plain):
            used.add(english)
    return used


def terminology_problems(
    msgid: str,
    msgstr: str,
    terms: Mapping[str, tuple[str, ...]],
    names: Mapping[str, str],
    exempt: Iterable[str] = (),
) -> list[str]:
    """Glossary terms of the English message that the translation names in no known way.

    ``terms`` maps each term's English name to its Korean names. Spaces do not count (완전 연결
    층 and 완전 연결층 are the same name), nor does case. ``exempt`` names terms that the English
    uses as ordinary words here ("the key point"), from a translator comment ``# terms-ok: key``.
    """
    squeezed = _squeeze(msgstr)
    problems = []
    for english in sorted(term_uses(msgid, terms, names) - set(exempt)):
        if not any(_squeeze(name) in squeezed for name in (english, *terms[english])):
            korean = ", ".join(terms[english])
            problems.append(f"the term {english!r} is not named (use one of: {korean}, {english})")
    return problems


def _where(message: Message) -> str:
    text = " ".join(str(message.id).split())
    return text if len(text) <= 70 else text[:67] + "..."


def catalog_problems(
    path: Path,
    catalog: Catalog,
    *,
    complete: bool,
    terms: Mapping[str, tuple[str, ...]],
    names: Mapping[str, str],
) -> list[Problem]:
    """Every problem of one catalog; ``complete`` for a page listed as translated."""
    found = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        line = message.lineno or 1  # babel counts from 1: the msgid line
        msgstr = message.string if isinstance(message.string, str) else ""
        where = f"paragraph {_where(message)!r}"
        if complete and message.fuzzy:
            found.append(Problem(str(path), line, f"fuzzy (the English changed): {where}"))
        elif complete and not msgstr and has_prose(message.id):
            found.append(Problem(str(path), line, f"not translated: {where}"))
        if not msgstr or message.fuzzy:
            continue
        for problem in markup_problems(message.id, msgstr, names):
            found.append(Problem(str(path), line, f"{problem}, in {where}"))
        exempt = [
            name.strip()
            for comment in message.user_comments
            if comment.strip().startswith("terms-ok:")
            for name in comment.split(":", 1)[1].split(",")
        ]
        for problem in terminology_problems(message.id, msgstr, terms, names, exempt):
            found.append(Problem(str(path), line, f"{problem}, in {where}"))
    return found


def read_translated(path: Path) -> list[str]:
    """The docnames listed in a ``translated.txt`` (one per line, ``#`` comments)."""
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line]


def check_locale(
    folder: Path,
    terms: Mapping[str, tuple[str, ...]],
    names: Mapping[str, str],
    docnames: Iterable[str] | None = None,
) -> list[Problem]:
    """Check every page catalog of one language folder (``docs/locale/ko``).

    Raises CatalogSyntaxError for a catalog that cannot be read; returns the other problems.
    ``docnames`` (the project's documents) lets a listed page that does not exist be reported.
    """
    messages = folder / "LC_MESSAGES"
    listed = read_translated(folder / "translated.txt")
    found = []
    known = set(docnames) if docnames is not None else None
    for docname in listed:
        if known is not None and docname not in known:
            found.append(Problem(str(folder / "translated.txt"), 1, f"{docname!r} is no page"))
        elif not (messages / f"{docname}.po").is_file():
            found.append(Problem(str(folder / "translated.txt"), 1, f"{docname!r} has no catalog"))
    for path in sorted(messages.rglob("*.po")):
        docname = path.relative_to(messages).with_suffix("").as_posix()
        catalog = read_catalog(path)
        if docname == "figures":  # figure labels: no MyST markup, no page
            continue
        found += catalog_problems(
            path, catalog, complete=docname in listed, terms=terms, names=names
        )
    return found
