"""A trained multi-label model: features, a logistic regression per label, calibration, thresholds.

Scoring needs numpy and scipy only: the feature matrix X (fitted.FittedFeatures or
features.TextFeatures), logits X @ coef.T + intercept, and per label the Platt calibration
sigmoid(a * logit + b) (calibration.py). A label passes when its calibrated probability reaches
its threshold (thresholds.py); the article is flagged when any label passes.

Explanations split a label's calibrated log-odds a * logit + b into a * (value * weight) per
feature of the article: the features with the largest positive shares are the ones that pushed
the score up. ``explain`` gives them by feature name for one article; ``explain_many`` (and
``predict(..., explain=True)``) give readable terms for the labels that passed, from the feature
matrix already computed for scoring (see ``readable_terms``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .calibration import calibrate
from .fields import NOT_LATIN, Pair, normalize


class Features(Protocol):
    """Fitted features: features.TextFeatures when trained, fitted.FittedFeatures when loaded.

    Model never imports either, so that scoring a loaded model does not load scikit-learn.
    """

    def transform(self, X: Sequence[Pair]) -> Any: ...

    def feature_names(self) -> list[str]: ...

    def get_params(self, deep: bool = True) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Prediction:
    scores: dict[str, float]  # label -> calibrated probability in [0, 1]
    labels: tuple[str, ...]  # labels whose score >= that label's threshold
    flagged: bool  # any label passed
    # With predict(..., explain=True): passing label -> the readable terms that drove its score.
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)


Explanation = dict[str, list[tuple[str, float]]]


class Model:
    """Scores articles with plain numpy: calibrated sigmoid(X @ coef.T + intercept) per label.

    calibration: label -> (a, b) with a > 0; None (models saved before calibration) means
    a = 1, b = 0, the plain sigmoid of the logit.
    """

    def __init__(
        self,
        *,
        version: str,
        labels: Sequence[str],
        thresholds: dict[str, float],
        features: Features,
        coef: np.ndarray,
        intercept: np.ndarray,
        metadata: dict[str, Any] | None = None,
        calibration: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.version = version
        self.labels = tuple(labels)
        self.thresholds = {label: float(thresholds[label]) for label in self.labels}
        self.features = features
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.metadata = metadata or {}
        self.calibration = (
            None
            if calibration is None
            else {label: checked_platt(label, calibration[label]) for label in self.labels}
        )
        pairs = [self.calibration[label] for label in self.labels] if self.calibration else []
        self.slopes = np.array([a for a, _ in pairs]) if pairs else np.ones(len(self.labels))
        self.offsets = np.array([b for _, b in pairs]) if pairs else np.zeros(len(self.labels))
        self._names: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Model(version={self.version!r}, labels={self.labels!r})"

    def cut(self) -> np.ndarray:
        """The thresholds in label order."""
        return np.array([self.thresholds[label] for label in self.labels])

    def matrix(self, texts: Sequence[Pair]) -> Any:
        """The sparse feature matrix (CSR), one row per (title, summary)."""
        return self.features.transform(texts).tocsr()

    def logits(self, texts: Sequence[Pair]) -> np.ndarray:
        """Uncalibrated decision values X @ coef.T + intercept, shape (len(texts), len(labels))."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        return self.logits_of(self.matrix(texts))

    def logits_of(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef.T) + self.intercept

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of logits (last axis: labels), increasing in each logit."""
        return calibrate(logits, self.slopes, self.offsets)

    def scores(self, texts: Sequence[Pair]) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), len(labels))."""
        return self.probabilities(self.logits(texts))

    def predict(
        self, texts: Sequence[Pair], *, explain: bool = False, top: int = 5
    ) -> list[Prediction]:
        """Scores, passing labels and flag per article; with explain, the terms behind each label.

        Explanations reuse the feature matrix scoring computed, for the passing labels only.
        """
        if not texts:
            return []
        X = self.matrix(texts)
        scores = self.probabilities(self.logits_of(X))
        if not explain:
            return predictions_from_scores(scores, self.labels, self.thresholds)
        explained = self.explain_matrix(texts, X, scores >= self.cut(), top)
        terms = [
            {label: tuple(term for term, _ in ranked) for label, ranked in e.items()}
            for e in explained
        ]
        return predictions_from_scores(scores, self.labels, self.thresholds, terms)

    def explain(self, title: str, summary: str, top: int = 5) -> Explanation:
        """Per label, the features that raise its score most, with their share of the log-odds.

        Shares are a * value * weight for each feature of the article (a: the label's calibration
        slope), largest first, positive ones only; names are ``view:term`` as feature_names() gives.
        """
        row = self.matrix([(title, summary)])
        names = self.feature_names()
        explained = {}
        for i, label in enumerate(self.labels):
            contributions = row.data * self.coef[i, row.indices] * self.slopes[i]
            order = np.lexsort((row.indices, -contributions))[:top]
            explained[label] = [
                (str(names[row.indices[j]]), float(contributions[j]))
                for j in order
                if contributions[j] > 0
            ]
        return explained

    def explain_many(self, texts: Sequence[Pair], top: int = 5) -> list[Explanation]:
        """Per article, per label that passed, the top readable terms with their shares.

        One feature matrix for the whole batch; the result for an article equals
        ``readable_terms(explain(title, summary, top=all features)[label], ...)`` (see there).
        """
        if not texts:
            return []
        X = self.matrix(texts)
        passed = self.probabilities(self.logits_of(X)) >= self.cut()
        return self.explain_matrix(texts, X, passed, top)

    def explain_matrix(
        self, texts: Sequence[Pair], X: Any, passed: np.ndarray, top: int
    ) -> list[Explanation]:
        """explain_many() given the batch's feature matrix and its (article, label) pass matrix."""
        explained: list[Explanation] = [{} for _ in range(len(texts))]
        rows, labels = np.nonzero(passed)
        if not len(rows) or top <= 0:
            return explained
        sub = X[rows]
        per_pair = np.diff(sub.indptr)
        pair_of = np.repeat(np.arange(len(rows)), per_pair)
        label_of = np.repeat(labels, per_pair)
        shares = sub.data * self.coef[label_of, sub.indices] * self.slopes[label_of]
        positive = shares > 0
        pair_of, columns, shares = pair_of[positive], sub.indices[positive], shares[positive]
        order = np.lexsort((columns, -shares, pair_of))
        pair_of, columns, shares = pair_of[order], columns[order], shares[order]
        bounds = np.searchsorted(pair_of, np.arange(len(rows) + 1))
        names = self.feature_names()
        keywords = getattr(self.features, "keywords_", None)
        for k, (row, label) in enumerate(zip(rows, labels, strict=True)):
            start, stop = bounds[k], bounds[k + 1]
            ranked = zip(names[columns[start:stop]], shares[start:stop].tolist(), strict=True)
            title, summary = texts[row]
            text = f"{title}\n{summary}"
            explained[row][self.labels[label]] = readable_terms(ranked, text, top, keywords)
        return explained

    def feature_names(self) -> np.ndarray:
        """Every column's ``view:term`` name, as an array (built once)."""
        if self._names is None:
            self._names = np.array(self.features.feature_names(), dtype=object)
        return self._names


def checked_platt(label: str, pair: Any) -> tuple[float, float]:
    a, b = (float(x) for x in pair)
    if not (np.isfinite(a) and np.isfinite(b) and a > 0):
        raise ValueError(f"calibration of {label!r}: need finite a > 0 and b, got {pair!r}")
    return a, b


def predictions_from_scores(
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: dict[str, float],
    terms: Sequence[dict[str, tuple[str, ...]]] | None = None,
) -> list[Prediction]:
    cut = np.array([thresholds[label] for label in labels])
    passed = scores >= cut
    return [
        Prediction(
            scores={label: float(s) for label, s in zip(labels, row_scores, strict=True)},
            labels=tuple(label for label, ok in zip(labels, row_passed, strict=True) if ok),
            flagged=bool(row_passed.any()),
            terms={} if terms is None else terms[i],
        )
        for i, (row_scores, row_passed) in enumerate(zip(scores, passed, strict=True))
    ]


def readable_terms(
    ranked: Iterable[tuple[str, float]], text: str, top: int, keywords: Any = None
) -> list[tuple[str, float]]:
    """The first `top` distinct readable terms of features ranked by share, with their shares.

    Each feature name becomes the words of `text` it stands for (readable_term), so that terms
    can be highlighted in the article; a term equal to, inside, or containing one already chosen
    is skipped, so five terms are five different things ("defector" and its 4-grams "defe",
    "efec" count once, under the highest share among them).
    """
    chosen: list[tuple[str, float]] = []
    if top <= 0:
        return chosen
    context = Context(text, keywords)
    for name, share in ranked:
        term = readable_term(name, context, keywords)
        if not term or any(term in seen or seen in term for seen, _ in chosen):
            continue
        chosen.append((term, share))
        if len(chosen) == top:
            break
    return chosen


class Context:
    """An article's text as readable terms are looked up in, each form prepared on first need."""

    def __init__(self, text: str, keywords: Any = None) -> None:
        self.text = text
        self.keywords = keywords
        self._normalized: str | None = None
        self._latin: list[str] | None = None
        self._matched: dict[str, str | None] = {}

    @property
    def normalized(self) -> str:
        if self._normalized is None:
            self._normalized = normalize(self.text)
        return self._normalized

    def latin_words(self) -> list[str]:
        if self._latin is None:
            self._latin = NOT_LATIN.sub(" ", self.normalized).lower().split()
        return self._latin

    def keyword_match(self, group: str) -> str | None:
        """The first words of the text that a keyword group matches."""
        if group not in self._matched:
            self._matched[group] = self.keywords.first_match(group, self.normalized)
        return self._matched[group]


def readable_term(name: str, context: Context | str, keywords: Any = None) -> str:
    """The words a feature stands for, lowercased as features see them ("" for padding only).

    ``word:north korea`` -> "north korea"; ``cjk_char: 탈북`` -> "탈북" (padding trimmed);
    ``latin_char:efec`` -> the first word of the text containing it ("defector"), padding
    meaning the word starts or ends there; ``kw:nk&repat`` -> the words the keyword groups
    matched, joined by " + " ("north korea + repatriated").
    """
    if isinstance(context, str):
        context = Context(context, keywords)
    view, _, term = name.partition(":")
    if view == "latin_char":
        for word in context.latin_words():
            if term in f" {word} ":
                return word
        return term.strip()
    if view == "kw":
        if context.keywords is None:
            return term
        found: list[str] = []
        for group in term.split("&"):
            match = context.keyword_match(group)
            if match and match not in found:
                found.append(match)
        return " + ".join(found)
    return term.strip()
