"""A trained multi-label model: TF-IDF features, one logistic regression per label, thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import expit

from .fields import Pair


class Features(Protocol):
    """Fitted features: features.TextFeatures when trained, fitted.FittedFeatures when loaded.

    Model never imports either, so that scoring a loaded model does not load scikit-learn.
    """

    def transform(self, X: Sequence[Pair]) -> Any: ...

    def feature_names(self) -> list[str]: ...

    def get_params(self, deep: bool = True) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Prediction:
    scores: dict[str, float]  # label -> probability-like score in [0, 1]
    labels: tuple[str, ...]  # labels whose score >= that label's threshold
    flagged: bool  # any label passed


class Model:
    """Scores articles with plain numpy: sigmoid(X @ coef.T + intercept), one column per label."""

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
    ) -> None:
        self.version = version
        self.labels = tuple(labels)
        self.thresholds = {label: float(thresholds[label]) for label in self.labels}
        self.features = features
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.metadata = metadata or {}

    def __repr__(self) -> str:
        return f"Model(version={self.version!r}, labels={self.labels!r})"

    def scores(self, texts: Sequence[Pair]) -> np.ndarray:
        """Array of shape (len(texts), len(labels))."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        X = self.features.transform(texts)
        # expit is the sigmoid scikit-learn's binary LogisticRegression uses in predict_proba.
        return expit(np.asarray(X @ self.coef.T) + self.intercept)

    def predict(self, texts: Sequence[Pair]) -> list[Prediction]:
        return predictions_from_scores(self.scores(texts), self.labels, self.thresholds)

    def explain(self, title: str, summary: str, top: int = 5) -> dict[str, list[tuple[str, float]]]:
        """Per label, the features that raise its score most, with their share of the logit."""
        row = self.features.transform([(title, summary)]).tocsr()
        names = self.features.feature_names()
        explained = {}
        for i, label in enumerate(self.labels):
            contributions = row.data * self.coef[i, row.indices]
            order = np.argsort(-contributions)[:top]
            explained[label] = [
                (names[row.indices[j]], float(contributions[j]))
                for j in order
                if contributions[j] > 0
            ]
        return explained


def predictions_from_scores(
    scores: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]
) -> list[Prediction]:
    cut = np.array([thresholds[label] for label in labels])
    passed = scores >= cut
    return [
        Prediction(
            scores={label: float(s) for label, s in zip(labels, row_scores, strict=True)},
            labels=tuple(label for label, ok in zip(labels, row_passed, strict=True) if ok),
            flagged=bool(row_passed.any()),
        )
        for row_scores, row_passed in zip(scores, passed, strict=True)
    ]
