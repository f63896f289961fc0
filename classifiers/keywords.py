"""The analyst's boolean keyword alert, as a baseline with the Model's predict() interface.

A label fires when the text names North Korea AND one of the label's terms, in English, Korean,
Chinese or Japanese. Terms that already say "North Korea" (탈북, 북송, 脱北) count for both sides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .corpus import LABELS
from .model import Prediction

NORTH_KOREA = (
    r"north\s+korea|\bdprk\b|pyongyang|kim\s+jong[\s-]un"
    r"|북한|북측|탈북|북송|북조선"
    r"|朝鲜|朝鮮|北韩|北韓|脱北|脫北|北送|平壤|平壌"
)

TERMS = {
    "defectors": (
        r"\bdefect\w*|\bescap\w*|\bfled\b|\bflee\w*"
        r"|탈북|귀순|북한이탈주민|새터민"
        r"|脱北|脫北|叛逃|逃北|亡命"
    ),
    "repatriation": (
        r"\brepatriat\w*|forcibly\s+returned|forced\s+return\w*|\bsent\s+back\b|\bdeport\w*"
        r"|refoulement"
        r"|북송|송환"
        r"|遣返|遣送|北送|送還|送还"
    ),
    "border": (
        r"\bborder\w*|\bfrontier|\btumen\b|\byalu\b"
        r"|국경|접경|두만강|압록강"
        r"|边境|邊境|边界|边防|图们江|鸭绿江|国境|國境|豆満江|鴨緑江"
    ),
}


class KeywordClassifier:
    version = "keywords-1"
    labels = LABELS
    thresholds = dict.fromkeys(LABELS, 0.5)

    def __init__(self) -> None:
        self._north_korea = re.compile(NORTH_KOREA, re.IGNORECASE)
        self._terms = {label: re.compile(TERMS[label], re.IGNORECASE) for label in LABELS}

    def predict(self, texts: Sequence[tuple[str, str]]) -> list[Prediction]:
        return [self._predict_one(f"{title}\n{summary}") for title, summary in texts]

    def _predict_one(self, text: str) -> Prediction:
        text = unicodedata.normalize("NFKC", text)
        nk = self._north_korea.search(text) is not None
        hits = tuple(label for label in LABELS if nk and self._terms[label].search(text))
        scores = {label: float(label in hits) for label in LABELS}
        return Prediction(scores=scores, labels=hits, flagged=bool(hits))
