"""One L2 logistic regression per label over a shared sparse feature matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

# Logit given to a label that had a single class in training (all negative: score ~ 4.5e-5).
CONSTANT_LOGIT = 10.0


class MultiLabelLogistic(BaseEstimator, ClassifierMixin):
    """Fits column j of a 0/1 label matrix with its own LogisticRegression.

    Exposes the stacked ``coef_`` (n_labels, n_features) and ``intercept_`` (n_labels,) so that a
    trained model can be stored and scored as plain arrays.
    """

    def __init__(
        self, C: float = 10.0, class_weight: str | None = "balanced", random_state: int = 0
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Any, Y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
        Y = np.asarray(Y)
        fitted = [self._fit_column(X, Y[:, j], sample_weight) for j in range(Y.shape[1])]
        self.coef_ = np.vstack([coef for coef, _ in fitted])
        self.intercept_ = np.array([intercept for _, intercept in fitted])
        return self

    def _fit_column(
        self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, float]:
        if np.unique(y).size < 2:
            return np.zeros(X.shape[1]), CONSTANT_LOGIT if y[0] else -CONSTANT_LOGIT
        lr = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            solver="liblinear",
            random_state=self.random_state,
        )
        lr.fit(X, y, sample_weight=sample_weight)
        return lr.coef_[0], float(lr.intercept_[0])

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Independent per-label probabilities, shape (n_samples, n_labels)."""
        return expit(self.decision_function(X))

    def predict(self, X: Any) -> np.ndarray:
        return (self.decision_function(X) >= 0).astype(int)
