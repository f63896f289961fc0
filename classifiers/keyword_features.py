"""The analyst's keyword alert as features: binary indicators of term groups and their conjunctions.

The ``kw`` view adds one column per entry of ``features``: ``kw:nk`` is on when the text names North
Korea, ``kw:nk&repat`` when it names North Korea and a repatriation term, and so on, in English,
Korean, Chinese and Japanese (the term lists of keywords.py). The TF-IDF views already see each
term on its own, but each in one language and one spelling; a group's indicator pools the evidence
of all its terms in all four languages, so a Japanese article gains from what English examples
taught about "repatriation". And a linear model cannot build the conjunction from the n-grams,
while the conjunction is what makes the keyword alert precise ("repatriated" about Afghans is not
the story, "repatriated" with "North Korean" is).

The regular expressions are saved with the model (model.json), so a saved model keeps computing
its features as it was trained even if keywords.py changes later. Needs only ``re`` and numpy/scipy.

Speed: a term list searched with a leading ``\\b`` costs several microseconds per article, because
the regex engine cannot skip ahead to a likely first character. Each group is therefore searched
first with a *loose* pattern, the same expression without its ``\\b`` assertions (it matches
wherever the exact one does, and more), over the whole batch at once; only the articles it finds
are searched again with the exact pattern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .fast_tfidf import sparse_interface
from .keywords import NORTH_KOREA, TERMS

PREFIX = "kw:"
AND = "&"

# Held by the authorities: the labelling rules count "detention pending return" as repatriation,
# and most such stories never say "repatriate" (defectors arrested in China, held in Laos).
HELD = (
    r"\barrest\w*|\bdetain\w*|\bdetention|\bcustody|\bcaught\b|\bcaptur\w*|\bround(?:ed)?[\s-]up"
    r"|체포|구금|구류|붙잡|검거|억류|수감"
    r"|抓捕|逮捕|拘留|拘押|羁押|被抓|抓获|拘禁|扣押|收容|拘束|摘発|収容"
)
# Group name -> regular expression over NFKC-normalised, lowercased text. The features widen the
# analyst's alert (keywords.py, kept as the baseline) with words the alert misses: asylum and
# refugees (망명, 难民) for defectors, shoot-to-kill orders for the border.
DEFAULT_GROUPS: dict[str, str] = {
    "nk": NORTH_KOREA,
    "defect": TERMS["defectors"] + r"|\basylum|\brefugee\w*|망명|난민|难民|難民",
    "repat": TERMS["repatriation"],
    "border": TERMS["border"] + r"|shoot[\s-]to[\s-]kill|사살|射杀|射殺",
    "held": HELD,
}
# Chosen by cross-validation on the seed corpus (5 folds, mean over three fold seeds): each group
# alone and with North Korea; the conjunctions alone did a little worse (flag F1 0.969 against
# 0.972, without any keyword feature 0.951). North Korea and "held" raised repatriation F1 from
# 0.953 to 0.959; "held" alone, or with "defect", or with a group of transit countries, did not
# do better.
DEFAULT_FEATURES: tuple[str, ...] = (
    "nk",
    "defect",
    "repat",
    "border",
    "nk&defect",
    "nk&repat",
    "nk&border",
    "nk&held",
)
# The value of a matched indicator. The TF-IDF views' rows have unit length and their entries are
# mostly 0.05-0.3. At 1.0 the three conjunctions swamped them (cross-validated flag F1 0.949,
# border F1 0.854, worse than without keywords: 0.951, 0.897); 0.1-0.15 did best (0.972, 0.924).
# At 0.1 a weight must be ten times larger to have the same effect, which the L2 penalty charges
# for, so the indicators act as a nudge the n-grams can overrule.
DEFAULT_VALUE = 0.1

# Never inside an article once NUL characters are replaced, and no group pattern matches it, so no
# match can run from one article into the next in the joined batch.
SEPARATOR = "\x00"


class KeywordFeatures:
    """Fitted (nothing to learn) keyword indicators: the ``kw`` block of the feature matrix."""

    name = "kw"

    def __init__(
        self,
        groups: Mapping[str, str] | None = None,
        features: Sequence[str] = DEFAULT_FEATURES,
        value: float = DEFAULT_VALUE,
    ) -> None:
        groups = dict(DEFAULT_GROUPS if groups is None else groups)
        if not groups or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in groups.items()
        ):
            raise ValueError("keyword groups must map names to regular expressions")
        features = list(features)
        if not features:
            raise ValueError("keyword features: none given")
        for feature in features:
            if not isinstance(feature, str) or not feature:
                raise ValueError(f"keyword feature {feature!r} is not a non-empty string")
            unknown = [part for part in feature.split(AND) if part not in groups]
            if unknown:
                raise ValueError(f"keyword feature {feature!r}: unknown group {unknown[0]!r}")
        if len(set(features)) != len(features):
            raise ValueError("keyword features are repeated")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"keyword feature value must be a positive number, not {value!r}")
        self.groups = groups
        self.features = features
        self.value = float(value)
        try:
            self._exact = {name: re.compile(pattern) for name, pattern in groups.items()}
        except re.error as exc:
            raise ValueError(f"keyword groups: invalid regular expression: {exc}") from None
        self._loose = {name: loose_pattern(pattern) for name, pattern in groups.items()}
        self._parts = [feature.split(AND) for feature in features]
        self._groups_used = sorted({group for parts in self._parts for group in parts})

    def __repr__(self) -> str:
        return f"KeywordFeatures({', '.join(self.features)})"

    def __len__(self) -> int:
        return len(self.features)

    def feature_names(self) -> list[str]:
        return [f"{PREFIX}{feature}" for feature in self.features]

    def state(self) -> dict[str, Any]:
        """JSON-ready description, the argument of from_state()."""
        return {"groups": dict(self.groups), "features": list(self.features), "value": self.value}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> KeywordFeatures:
        if not isinstance(state, Mapping):
            raise TypeError("keyword features: expected a mapping")
        return cls(state["groups"], state["features"], state["value"])

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(len(texts), len(features)) matrix of ``value`` where a feature's groups all match."""
        batch = Batch(prepare(texts))
        hits = {group: self.group_hits(group, batch) for group in self._groups_used}
        columns = [np.logical_and.reduce([hits[group] for group in parts]) for parts in self._parts]
        dense = np.column_stack(columns) if batch.size else np.zeros((0, len(self.features)), bool)
        matrix = sp.csr_matrix(dense * self.value, dtype=np.float64)
        return sp.csr_array(matrix) if sparse_interface() == "sparray" else matrix

    def group_hits(self, group: str, batch: Batch) -> np.ndarray:
        """Boolean array: which articles of the batch the group's pattern matches."""
        hits = np.zeros(batch.size, dtype=bool)
        if not batch.size:
            return hits
        exact, loose = self._exact[group], self._loose[group]
        if loose is None:
            hits[:] = [exact.search(doc) is not None for doc in batch.docs]
            return hits
        starts = np.fromiter((m.start() for m in loose.finditer(batch.joined)), dtype=np.int64)
        docs = np.searchsorted(batch.ends, starts, side="right")
        # Matches come in text order, so the first match of each article is its first in `docs`.
        candidates, first = np.unique(docs, return_index=True)
        if loose.pattern == exact.pattern:
            hits[candidates] = True
            return hits
        # The exact pattern cannot match before the first loose match (every exact match is a
        # loose one), so its search starts there; \b still sees the character before.
        search, joined, stops = exact.search, batch.joined, batch.ends - 1
        hits[candidates] = [
            search(joined, start, stop) is not None
            for start, stop in zip(starts[first].tolist(), stops[candidates].tolist(), strict=True)
        ]
        return hits

    def first_match(self, group: str, text: str) -> str | None:
        """The first words of text (NFKC-normalised) that the group's pattern matches, or None."""
        match = self._exact[group].search(prepare([text])[0])
        return match.group() if match else None


class Batch:
    """Prepared articles joined by SEPARATOR, with where each one ends."""

    def __init__(self, docs: list[str]) -> None:
        self.docs = docs
        self.size = len(docs)
        self.joined = SEPARATOR.join(docs)
        # One past each article's separator (the last one's is virtual).
        self.ends = np.cumsum(np.fromiter(map(len, docs), dtype=np.int64, count=len(docs)) + 1)


def prepare(texts: Sequence[str]) -> list[str]:
    """Lowercased, with NUL (the batch separator) replaced; texts are already NFKC-normalised."""
    return [text.lower().replace(SEPARATOR, " ") for text in texts]


_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\b")


def loose_pattern(pattern: str) -> re.Pattern[str] | None:
    """pattern without its ``\\b`` assertions, or None if that cannot be done safely.

    Dropping an assertion only widens what matches, so the loose pattern finds every article the
    exact one does. A ``\\b`` inside a character class means backspace, not a word boundary, so a
    pattern with character classes containing backslash-b is left alone.
    """
    if re.search(r"\[[^\]]*\\b", pattern):
        return None
    try:
        return re.compile(_WORD_BOUNDARY.sub(r"\1", pattern))
    except re.error:
        return None
