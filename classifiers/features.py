"""Text features for English and Korean/Chinese/Japanese: word and character TF-IDF views.

Each view is a TfidfVectorizer over one field of the article. Word n-grams carry English phrases;
character n-grams inside word boundaries (``char_wb``) carry Korean word-forms with their particles
and Chinese/Japanese, which have no spaces between words. The title gets a view of its own so that
a term in the headline counts more than the same term in the lede.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

Pair = tuple[str, str]  # (title, summary)

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
    field: str  # "title" or "text" (title + summary)
    params: dict[str, Any]


class TextFeatures(BaseEstimator, TransformerMixin):
    """Sparse TF-IDF features of (title, summary) pairs, the views stacked side by side."""

    def __init__(
        self,
        word_ngram: tuple[int, int] = (1, 2),
        char_ngram: tuple[int, int] = (2, 4),
        min_df: int = 2,
        title_view: bool = True,
    ) -> None:
        self.word_ngram = word_ngram
        self.char_ngram = char_ngram
        self.min_df = min_df
        self.title_view = title_view

    def views(self) -> list[View]:
        word = vectorizer_params("word", self.word_ngram, self.min_df)
        char = vectorizer_params("char_wb", self.char_ngram, self.min_df)
        views = [View("text_word", "text", word), View("text_char", "text", char)]
        if self.title_view:
            views.append(View("title_word", "title", word))
        return views

    def fit(self, X: Sequence[Pair], y: Any = None) -> TextFeatures:
        fields = field_texts(X)
        self.vectorizers_ = [
            (view, TfidfVectorizer(**view.params).fit(fields[view.field])) for view in self.views()
        ]
        return self

    def transform(self, X: Sequence[Pair]) -> sp.csr_matrix:
        fields = field_texts(X)
        blocks = [vec.transform(fields[view.field]) for view, vec in self.vectorizers_]
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
    titles = [normalize(title) for title, _ in pairs]
    summaries = [normalize(summary) for _, summary in pairs]
    texts = [f"{title}\n{summary}" for title, summary in zip(titles, summaries, strict=True)]
    return {"title": titles, "text": texts}


def normalize(text: str) -> str:
    """NFKC folds full-width Latin and digits, and half-width kana, common in CJK feeds."""
    return unicodedata.normalize("NFKC", text or "")


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
    if view.field not in ("title", "text"):
        raise ValueError(f"view {view.name!r}: unknown field {view.field!r}")
    vec = TfidfVectorizer(**params, vocabulary=described["vocabulary"], dtype=np.float64)
    vec.idf_ = idfs[view.name]
    return view, vec
