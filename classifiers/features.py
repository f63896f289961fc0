"""Text features for English and Korean/Chinese/Japanese: TF-IDF over three views of an article.

- ``word``: word 1-2-grams of title + summary; English phrases, and Korean word-forms as written.
- ``cjk_char``: character 1-3-grams of the Hangul, Han and kana runs only. Chinese and Japanese have
  no spaces between words and Korean attaches particles to nouns (탈북민들이), so characters are the
  unit that generalises; 2-grams already spell most terms (脱北, 遣返, 边境, 국경, 북송).
- ``latin_char``: character 4-grams inside Latin words, which tie together defector / defected /
  defection and repatriate / repatriation without a stemmer.
- ``kw``: not TF-IDF but 0/1 indicators of the analyst's keyword alert (keyword_features.py): North
  Korea AND a defection / repatriation / border term, in all four languages.

Splitting the scripts keeps each article's n-gram count low: scoring is dominated by generating
n-grams, and character n-grams over English text would cost three times as much for no gain in
cross-validation. A separate title vectoriser and a repeated title were also tried on the seed
corpus; both lowered cross-validated F1 by about 0.01, so the title is simply part of the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

# Scoring a saved model needs none of this module, only fields.py, fitted.py, fast_tfidf.py,
# keyword_features.py and calibration.py.
from .fields import FIELDS, NOT_CJK, NOT_LATIN, Pair, field_texts, normalize
from .fitted import TRANSFORM_PARAMS, View, export_views, stacked_feature_names, stacked_transform
from .keyword_features import DEFAULT_FEATURES, DEFAULT_VALUE, KeywordFeatures

__all__ = [
    "FIELDS",
    "NOT_CJK",
    "NOT_LATIN",
    "TRANSFORM_PARAMS",
    "Pair",
    "TextFeatures",
    "View",
    "export_views",
    "field_texts",
    "normalize",
    "vectorizer_params",
]


class TextFeatures(BaseEstimator, TransformerMixin):
    """Sparse TF-IDF features of (title, summary) pairs, the views stacked side by side."""

    def __init__(
        self,
        word_ngram: tuple[int, int] = (1, 2),
        cjk_ngram: tuple[int, int] = (1, 3),
        latin_ngram: tuple[int, int] = (4, 4),
        min_df: int = 2,
        keywords: tuple[str, ...] = DEFAULT_FEATURES,
        keyword_value: float = DEFAULT_VALUE,
    ) -> None:
        self.word_ngram = word_ngram
        self.cjk_ngram = cjk_ngram
        self.latin_ngram = latin_ngram
        self.min_df = min_df
        self.keywords = keywords
        self.keyword_value = keyword_value

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
        self.keywords_ = (
            KeywordFeatures(features=self.keywords, value=self.keyword_value)
            if self.keywords
            else None
        )
        return self

    def transform(self, X: Sequence[Pair]) -> sp.csr_matrix:
        # fast_tfidf gives the same matrix as each vectoriser's transform, about 3x faster.
        return stacked_transform(self.vectorizers_, X, self.keywords_)

    def feature_names(self) -> list[str]:
        return stacked_feature_names(self.vectorizers_, self.keywords_)


def vectorizer_params(analyzer: str, ngram: Sequence[int], min_df: int) -> dict[str, Any]:
    return {
        "analyzer": analyzer,
        "ngram_range": (int(ngram[0]), int(ngram[1])),
        "lowercase": True,
        "min_df": min_df,
        "sublinear_tf": True,
        "dtype": np.float64,
    }
