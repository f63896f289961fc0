"""Text features for English and Korean/Chinese/Japanese: TF-IDF over three views of an article.

- ``word``: word 1-2-grams of title + summary; English phrases, and Korean word-forms as written.
- ``cjk_char``: character 1-3-grams of the Hangul, Han and kana runs only. Chinese and Japanese have
  no spaces between words and Korean attaches particles to nouns (탈북민들이), so characters are the
  unit that generalises; 2-grams already spell most terms (脱北, 遣返, 边境, 국경, 북송).
- ``latin_char``: character 4-grams inside Latin words, which tie together defector / defected /
  defection and repatriate / repatriation without a stemmer.

Splitting the scripts keeps each article's n-gram count low: scoring is dominated by generating
n-grams, and character n-grams over English text would cost three times as much for no gain in
cross-validation. A separate title vectoriser and a repeated title were also tried on the seed
corpus; both lowered cross-validated F1 by about 0.01, so the title is simply part of the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from . import fast_tfidf  # the same matrix as vec.transform, about 3x faster

Pair = tuple[str, str]  # (title, summary)

NOT_CJK = re.compile(
    "[^\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)
NOT_LATIN = re.compile("[^A-Za-z\u00c0-\u024f]+")

FIELDS = ("text", "cjk", "latin")

# TfidfVectorizer parameters that change how a fitted vectoriser transforms text; with a fixed
# vocabulary and idf_ these are all that is needed to rebuild it.
TRANSFORM_PARAMS = (
    "analyzer",
    "ngram_range",
    "lowercase",
    "token_pattern",
    "strip_accents",
    "binary",
    "norm",
    "use_idf",
    "smooth_idf",
    "sublinear_tf",
)


@dataclass(frozen=True)
class View:
    name: str
    field: str  # one of FIELDS
    params: dict[str, Any]


class TextFeatures(BaseEstimator, TransformerMixin):
    """Sparse TF-IDF features of (title, summary) pairs, the views stacked side by side."""

    def __init__(
        self,
        word_ngram: tuple[int, int] = (1, 2),
        cjk_ngram: tuple[int, int] = (1, 3),
        latin_ngram: tuple[int, int] = (4, 4),
        min_df: int = 2,
    ) -> None:
        self.word_ngram = word_ngram
        self.cjk_ngram = cjk_ngram
        self.latin_ngram = latin_ngram
        self.min_df = min_df

    def views(self) -> list[View]:
        word = vectorizer_params("word", self.word_ngram, self.min_df)
        cjk = vectorizer_params("char_wb", self.cjk_ngram, self.min_df)
        latin = vectorizer_params("char_wb", self.latin_ngram, self.min_df)
        return [
            View("word", "text", word),
            View("cjk_char", "cjk", cjk),
            View("latin_char", "latin", latin),
        ]

    def fit(self, X: Sequence[Pair], y: Any = None) -> TextFeatures:
        fields = field_texts(X)
        self.vectorizers_ = [
            (view, TfidfVectorizer(**view.params).fit(fields[view.field])) for view in self.views()
        ]
        return self

    def transform(self, X: Sequence[Pair]) -> sp.csr_matrix:
        fields = field_texts(X)
        blocks = [fast_tfidf.transform(vec, fields[view.field]) for view, vec in self.vectorizers_]
        return sp.hstack(blocks, format="csr")

    def feature_names(self) -> list[str]:
        names: list[str] = []
        for view, vec in self.vectorizers_:
            names.extend(f"{view.name}:{term}" for term in vec.get_feature_names_out())
        return names


def vectorizer_params(analyzer: str, ngram: Sequence[int], min_df: int) -> dict[str, Any]:
    return {
        "analyzer": analyzer,
        "ngram_range": (int(ngram[0]), int(ngram[1])),
        "lowercase": True,
        "min_df": min_df,
        "sublinear_tf": True,
        "dtype": np.float64,
    }


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


def export_views(features: TextFeatures) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """JSON-ready description of each fitted view, and its idf vector keyed by view name."""
    described, idfs = [], {}
    for view, vec in features.vectorizers_:
        params = {key: vec.get_params()[key] for key in TRANSFORM_PARAMS}
        vocabulary = {term: int(index) for term, index in vec.vocabulary_.items()}
        described.append(
            {"name": view.name, "field": view.field, "params": params, "vocabulary": vocabulary}
        )
        idfs[view.name] = np.asarray(vec.idf_, dtype=np.float64)
    return described, idfs


def restore_features(
    params: dict[str, Any], views: list[dict[str, Any]], idfs: dict[str, np.ndarray]
) -> TextFeatures:
    """Rebuild fitted TextFeatures from export_views() output; ValueError/KeyError if malformed."""
    features = TextFeatures(**params)
    features.vectorizers_ = [restore_view(described, idfs) for described in views]
    return features


def restore_view(
    described: dict[str, Any], idfs: dict[str, np.ndarray]
) -> tuple[View, TfidfVectorizer]:
    params = dict(described["params"])
    params["ngram_range"] = tuple(params["ngram_range"])
    view = View(described["name"], described["field"], params)
    if view.field not in FIELDS:
        raise ValueError(f"view {view.name!r}: unknown field {view.field!r}")
    vec = TfidfVectorizer(**params, vocabulary=described["vocabulary"], dtype=np.float64)
    vec.idf_ = idfs[view.name]
    return view, vec
