"""Fitted text features rebuilt from a saved model, to score without importing scikit-learn.

Importing scikit-learn costs a process about 0.8 CPU-seconds and 50 MB, a price each parse worker
would pay only to score. A fitted TfidfVectorizer is needed at scoring time only for its
parameters, ``vocabulary_`` and ``idf_``, from which ``fast_tfidf`` computes the same matrix as
its ``transform``. ``FittedView`` holds exactly that state and ``FittedFeatures`` stacks the views
as ``features.TextFeatures`` does, so a loaded model scores without scikit-learn. Only a view
whose parameters fast_tfidf does not support (none that TextFeatures makes) builds a
TfidfVectorizer with the same vocabulary and idf, importing scikit-learn then and only then.

The keyword indicators (keyword_features.KeywordFeatures, the ``kw`` block after the views) need
no scikit-learn either way and are the same object in both.

Training still fits ``features.TextFeatures``; ``export_views`` and ``export_keywords`` describe
either kind for saving.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import fast_tfidf
from .fields import FIELDS, Pair, field_texts
from .keyword_features import KeywordFeatures

# TfidfVectorizer parameters that change how a fitted vectoriser transforms text; with a fixed
# vocabulary and idf_ these are all that is needed to rebuild it. These are the ones saved.
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

# TfidfVectorizer's constructor defaults but vocabulary (a test compares them with scikit-learn's):
# a saved view's parameters on top of these are the parameters its vectoriser had when loaded.
VECTORIZER_DEFAULTS: dict[str, Any] = {
    "input": "content",
    "encoding": "utf-8",
    "decode_error": "strict",
    "strip_accents": None,
    "lowercase": True,
    "preprocessor": None,
    "tokenizer": None,
    "analyzer": "word",
    "stop_words": None,
    "token_pattern": r"(?u)\b\w\w+\b",
    "ngram_range": (1, 1),
    "max_df": 1.0,
    "min_df": 1,
    "max_features": None,
    "binary": False,
    "dtype": np.float64,
    "norm": "l2",
    "use_idf": True,
    "smooth_idf": True,
    "sublinear_tf": False,
}


@dataclass(frozen=True)
class View:
    name: str
    field: str  # one of FIELDS
    params: dict[str, Any]


class FittedView:
    """A fitted TfidfVectorizer's state: parameters, ``vocabulary_`` and ``idf_``.

    fast_tfidf reads it as it reads a TfidfVectorizer; ``transform`` is the scikit-learn
    fallback that fast_tfidf calls for what it does not handle (unsupported parameters, no
    documents, bytes). Treat it as immutable: fast_tfidf caches lookup tables per object (it is
    hashed by identity) and would not notice a parameter changed in place.
    """

    def __init__(
        self,
        name: str,
        field: str,
        params: Mapping[str, Any],
        vocabulary: Mapping[str, int],
        idf: Any,
    ) -> None:
        unknown = sorted(set(params) - set(VECTORIZER_DEFAULTS))
        if unknown:
            raise TypeError(f"view {name!r}: unknown vectoriser parameters {unknown}")
        if field not in FIELDS:
            raise ValueError(f"view {name!r}: unknown field {field!r}")
        self.name = name
        self.field = field
        self.params = dict(params)
        self.vocabulary_ = checked_vocabulary(name, vocabulary)
        self.idf_ = checked_idf(name, idf, len(self.vocabulary_))
        self._all_params = {**VECTORIZER_DEFAULTS, **self.params}
        self._sklearn: Any = None

    def __repr__(self) -> str:
        return f"FittedView({self.name!r}, {self.field!r}, {len(self.vocabulary_)} terms)"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters TfidfVectorizer.get_params() would give, but vocabulary."""
        return dict(self._all_params)

    def get_feature_names_out(self) -> np.ndarray:
        """The terms in column order, as TfidfVectorizer.get_feature_names_out() gives them."""
        terms = np.empty(len(self.vocabulary_), dtype=object)
        for term, column in self.vocabulary_.items():
            terms[column] = term
        return terms

    def transform(self, texts: Any) -> Any:
        """scikit-learn's transform; fast_tfidf.transform(view, texts) is the fast one."""
        return self.sklearn_vectorizer().transform(texts)

    def sklearn_vectorizer(self) -> Any:
        """A TfidfVectorizer with this vocabulary and idf, built (importing scikit-learn) once."""
        if self._sklearn is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vec = TfidfVectorizer(**self._all_params, vocabulary=self.vocabulary_)
            vec.idf_ = self.idf_
            self._sklearn = vec
        return self._sklearn


class FittedFeatures:
    """Fitted views stacked side by side, as TextFeatures.transform stacks them.

    ``keywords_`` is the keyword indicator block (keyword_features.KeywordFeatures) placed after
    the TF-IDF views, or None for a model trained without it (every model saved in format 1).
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        vectorizers: Sequence[tuple[View, FittedView]],
        keywords: KeywordFeatures | None = None,
    ) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"feature parameters must be a mapping, not {type(params).__name__}")
        self.params = dict(params)
        self.vectorizers_ = list(vectorizers)
        self.keywords_ = keywords
        self._names: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        views = ", ".join(f"{view.name}={len(vec.vocabulary_)}" for view, vec in self.vectorizers_)
        if self.keywords_ is not None:
            views += f", kw={len(self.keywords_)}"
        return f"FittedFeatures({views})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters of the TextFeatures this was fitted as."""
        return dict(self.params)

    def transform(self, X: Sequence[Pair]) -> sp.csr_matrix:
        return stacked_transform(self.vectorizers_, X, self.keywords_)

    def feature_names(self) -> list[str]:
        if self._names is None:
            self._names = tuple(stacked_feature_names(self.vectorizers_, self.keywords_))
        return list(self._names)


def stacked_transform(
    vectorizers: Sequence[tuple[View, Any]],
    X: Sequence[Pair],
    keywords: KeywordFeatures | None = None,
) -> sp.csr_matrix:
    """Each view's TF-IDF matrix of its field of X, side by side in view order, then keywords."""
    fields = field_texts(X)
    blocks = [fast_tfidf.transform(vec, fields[view.field]) for view, vec in vectorizers]
    if keywords is not None:
        blocks.append(keywords.transform(fields["text"]))
    return sp.hstack(blocks, format="csr")


def stacked_feature_names(
    vectorizers: Sequence[tuple[View, Any]], keywords: KeywordFeatures | None = None
) -> list[str]:
    """``view:term`` for every column of stacked_transform(), then ``kw:group&group``."""
    names: list[str] = []
    for view, vec in vectorizers:
        names.extend(f"{view.name}:{term}" for term in vec.get_feature_names_out())
    if keywords is not None:
        names.extend(keywords.feature_names())
    return names


def n_features(features: Any) -> int:
    """Columns of features.transform(): the views' vocabularies and the keyword indicators."""
    total = sum(len(vec.vocabulary_) for _, vec in features.vectorizers_)
    keywords = getattr(features, "keywords_", None)
    return total + (len(keywords) if keywords is not None else 0)


def checked_vocabulary(name: str, vocabulary: Mapping[str, int]) -> dict[str, int]:
    """A copy of vocabulary with int columns; ValueError unless str terms on columns 0..n-1."""
    if not isinstance(vocabulary, Mapping) or not vocabulary:
        raise ValueError(f"view {name!r}: the vocabulary is empty or not a mapping")
    vocabulary = dict(vocabulary)
    if not all(type(column) is int for column in vocabulary.values()):  # numpy ints from sklearn
        try:
            vocabulary = {term: operator.index(column) for term, column in vocabulary.items()}
        except TypeError:
            raise ValueError(f"view {name!r}: a vocabulary column is not an integer") from None
    if not all(isinstance(term, str) for term in vocabulary):
        raise ValueError(f"view {name!r}: a vocabulary term is not a string")
    if set(vocabulary.values()) != set(range(len(vocabulary))):
        raise ValueError(f"view {name!r}: vocabulary columns are not 0..{len(vocabulary) - 1}")
    return vocabulary


def checked_idf(name: str, idf: Any, size: int) -> np.ndarray:
    idf = np.asarray(idf)
    if idf.shape != (size,):
        raise ValueError(f"view {name!r}: idf shape {idf.shape} does not match {size} terms")
    return idf


def export_views(features: Any) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """JSON-ready description of each fitted view, and its idf vector keyed by view name.

    features: fitted TextFeatures or FittedFeatures (anything with ``vectorizers_``).
    """
    described, idfs = [], {}
    for view, vec in features.vectorizers_:
        all_params = vec.get_params()
        params = {key: all_params[key] for key in TRANSFORM_PARAMS}
        vocabulary = {term: int(index) for term, index in vec.vocabulary_.items()}
        described.append(
            {"name": view.name, "field": view.field, "params": params, "vocabulary": vocabulary}
        )
        idfs[view.name] = np.asarray(vec.idf_, dtype=np.float64)
    return described, idfs


def export_keywords(features: Any) -> dict[str, Any] | None:
    """JSON-ready state of the keyword block of features, None if it has none."""
    keywords = getattr(features, "keywords_", None)
    return None if keywords is None else keywords.state()


def restore_features(
    params: dict[str, Any],
    views: list[dict[str, Any]],
    idfs: dict[str, np.ndarray],
    keywords: Mapping[str, Any] | None = None,
) -> FittedFeatures:
    """Fitted features from export_views() (and export_keywords()) output.

    ValueError/KeyError/TypeError if malformed.
    """
    restored = None if keywords is None else KeywordFeatures.from_state(keywords)
    return FittedFeatures(params, [restore_view(described, idfs) for described in views], restored)


def restore_view(described: dict[str, Any], idfs: dict[str, np.ndarray]) -> tuple[View, FittedView]:
    params = dict(described["params"])
    params["ngram_range"] = tuple(params["ngram_range"])
    view = View(described["name"], described["field"], params)
    vec = FittedView(view.name, view.field, params, described["vocabulary"], idfs[view.name])
    return view, vec
