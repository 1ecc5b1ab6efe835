"""Korean full-text search for the HTML edition: particles stripped, compounds found by bigrams.

Sphinx has no Korean search language, and a Korean noun usually carries a particle (조사):
가중치를, 가중치는, 잠재 공간에서. This splitter indexes, for every Hangul word,

- the word as written (so a search for 결과 still finds 결과, whose last syllable looks like
  the particle 과);
- its stem, the word without its trailing particles (가중치를 → 가중치, 공간에서 → 공간);
- the character bigrams of a stem of three or more syllables, so that a part of a compound written
  without spaces is found (전이학습 → 전이, 이학, 학습).

The query side (JavaScript, in the page's ``language_data.js``) looks a Hangul query word up as
written when the index has it, else its stem, else the stem's bigrams; Latin words are stemmed
with the English Snowball stemmer on both sides, as in the English edition.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import snowballstemmer
import sphinx.search
from sphinx.application import Sphinx
from sphinx.search import SearchLanguage
from sphinx.search._stopwords.en import ENGLISH_STOPWORDS

HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
WORD = re.compile(r"\w+")

# Particles (조사) and the copula, tried longest first so that 에서는 is stripped whole, not as 는.
_PARTICLE_LIST = """
    에서부터 으로부터 로부터 에게서 에서는 에서도 에서의 으로서 으로써 으로는 으로도 으로의
    이라는 이라고 이라면 이라도 이므로 이지만 라는 라고 라면 에서 에게 한테 으로 부터 까지
    처럼 보다 마다 조차 이나 이나마 이란 이든 이며 이고 이다 이면 이자 와는 과는 와도 과도
    에는 에도 에의 만의 만을 만이 로서 로써 로는 로도 로의 들을 들이 들은 들의 들도 들에
    란 며 고 은 는 이 가 을 를 에 의 로 와 과 도 만 나 야
"""
PARTICLES: tuple[str, ...] = tuple(
    sorted(set(_PARTICLE_LIST.split()), key=lambda particle: (-len(particle), particle))
)


def strip_particles(word: str) -> str:
    """Return a Hangul word without its trailing particle (at most one, and ``들`` before it).

    At least one syllable stays: ``이`` alone is returned as it is.
    """
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) > len(particle):
            word = word[: -len(particle)]
            break
    if word.endswith("들") and len(word) > 2:  # the plural suffix: 가중치들 → 가중치
        word = word[:-1]
    return word


def bigrams(word: str) -> list[str]:
    """The character bigrams of a word of three or more characters (none for shorter words)."""
    return [word[i : i + 2] for i in range(len(word) - 1)] if len(word) >= 3 else []


def index_terms(word: str) -> list[str]:
    """Every index term of one Hangul word: as written, its stem, and the stem's bigrams."""
    stem = strip_particles(word)
    return list(dict.fromkeys([word, stem, *bigrams(stem)]))


def split_korean(text: str) -> list[str]:
    """Split text into index terms: Hangul words expanded by :func:`index_terms`, other words."""
    terms: list[str] = []
    for word in WORD.findall(text):
        if HANGUL_WORD.fullmatch(word):
            terms += index_terms(word)
        else:
            # A word mixing Hangul and Latin letters or digits (ResNet의, 1x1): each run apart.
            for run in re.findall(r"[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+", word):
                terms += index_terms(run) if HANGUL_WORD.fullmatch(run) else [run]
    return terms


_MINIFIED = Path(sphinx.search.__file__).parent / "minified-js"

# The query side. ``Search._index`` is loaded before a query is parsed, so the splitter can ask
# which form of a word the index holds.
_QUERY_JS = """
const KOREAN_PARTICLES = %(particles)s;
const koreanHangul = /^[\\uac00-\\ud7a3]+$/;
const koreanStrip = (word) => {
  for (const particle of KOREAN_PARTICLES) {
    if (word.endsWith(particle) && word.length > particle.length) {
      word = word.slice(0, word.length - particle.length);
      break;
    }
  }
  if (word.endsWith("들") && word.length > 2) word = word.slice(0, -1);
  return word;
};
const koreanIndexed = (word) => {
  const index = (typeof Search !== "undefined" && Search._index) || {};
  return (index.terms && word in index.terms) || (index.titleterms && word in index.titleterms);
};
var splitQuery = (query) => {
  const words = query
    .split(/[^\\p{Letter}\\p{Number}_\\p{Emoji_Presentation}]+/gu)
    .filter((term) => term);
  const out = [];
  for (const word of words) {
    const runs = word.match(/[\\uac00-\\ud7a3]+|[^\\uac00-\\ud7a3]+/g) || [];
    for (const run of runs) {
      if (!koreanHangul.test(run) || koreanIndexed(run)) { out.push(run); continue; }
      const stem = koreanStrip(run);
      if (koreanIndexed(stem) || stem.length < 3) { out.push(stem); continue; }
      for (let i = 0; i + 2 <= stem.length; i++) out.push(stem.slice(i, i + 2));
    }
  }
  return [...new Set(out)];
};
"""

_STEMMER_JS = """
var Stemmer = function () {
  const english = new EnglishStemmer();
  this.stemWord = (word) =>
    /[\\uac00-\\ud7a3]/.test(word) ? word : english.stemWord(word);
};
"""


class SearchKorean(SearchLanguage):
    """Korean: particles stripped, bigrams of long stems, English stemming for Latin words."""

    lang = "ko"
    language_name = "Korean"
    stopwords = ENGLISH_STOPWORDS

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.stemmer = snowballstemmer.stemmer("english")
        self.js_splitter_code = _QUERY_JS % {"particles": json.dumps(list(PARTICLES))}
        self.js_stemmer_code = "\n".join(
            [
                (_MINIFIED / "base-stemmer.js").read_text(encoding="utf-8"),
                (_MINIFIED / "english-stemmer.js").read_text(encoding="utf-8"),
                _STEMMER_JS,
            ]
        )

    def split(self, input: str) -> list[str]:
        """Split text into index terms (see :func:`split_korean`)."""
        return split_korean(input)

    def stem(self, word: str) -> str:
        """Hangul terms are already stems; Latin words get the English stemmer."""
        if HANGUL_WORD.search(word):
            return word
        return str(self.stemmer.stemWord(word.lower()))

    def word_filter(self, word: str) -> bool:
        """Keep every Hangul term (one syllable can be a word: 층, 값); filter English stopwords."""
        if HANGUL_WORD.search(word):
            return True
        return len(word) > 1 and not word.isdigit() and word not in self.stopwords


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the Korean search language (used when ``language = "ko"``)."""
    app.add_search_language(SearchKorean)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
