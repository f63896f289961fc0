"""The texts each feature view reads from a (title, summary) pair; no scikit-learn needed.

- ``text``: NFKC-normalised title and summary, one line each.
- ``cjk``: the Hangul, Han and kana runs of ``text``, everything else a space.
- ``latin``: the Latin-letter runs of ``text``, everything else a space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

Pair = tuple[str, str]  # (title, summary)

NOT_CJK = re.compile(
    "[^\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)
NOT_LATIN = re.compile("[^A-Za-z\u00c0-\u024f]+")

FIELDS = ("text", "cjk", "latin")


def field_texts(pairs: Sequence[Pair]) -> dict[str, list[str]]:
    texts = [normalize(f"{title}\n{summary}") for title, summary in pairs]
    return {
        "text": texts,
        "cjk": [NOT_CJK.sub(" ", text) for text in texts],
        "latin": [NOT_LATIN.sub(" ", text) for text in texts],
    }


def normalize(text: str) -> str:
    """NFKC folds full-width Latin and digits, and half-width kana, common in CJK feeds."""
    return unicodedata.normalize("NFKC", text)
