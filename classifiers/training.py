"""Cross-validation, threshold choice and the final fit that produce a Model."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from .corpus import LABELS, Example, label_matrix, languages
from .errors import ModelError
from .estimator import MultiLabelLogistic
from .features import TextFeatures
from .metrics import binary_metrics, metrics_by_group
from .model import Model
from .thresholds import best_f1_threshold

# Chosen by cross-validation on the seed corpus only: C from 3 to 30 and character n-gram ranges
# around these all scored within about 0.01 F1; min_df=1 was clearly worse (rare n-grams overfit).
DEFAULT_PARAMS: dict[str, Any] = {
    "features": {"word_ngram": (1, 2), "cjk_ngram": (1, 3), "latin_ngram": (4, 4), "min_df": 2},
    "classifier": {"C": 10.0, "class_weight": "balanced"},
}


@dataclass
class TrainReport:
    """Cross-validated precision/recall/F1 (+support) per label and for the flag."""

    per_label: dict[str, dict[str, float]]
    flag: dict[str, float]
    n_examples: int
    folds: int
    per_lang: dict[str, dict[str, float]] = field(default_factory=dict)  # flag metrics

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_pipeline(params: dict[str, Any]) -> Pipeline:
    return Pipeline(
        [
            ("features", TextFeatures(**params["features"])),
            ("classifier", MultiLabelLogistic(**params["classifier"])),
        ]
    )


def train(
    examples: Sequence[Example],
    *,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[Model, TrainReport]:
    """Cross-validate to get the report and the thresholds, then fit on every example."""
    params = params or DEFAULT_PARAMS
    truth = label_matrix(examples)
    oof, fold_of = out_of_fold_scores(examples, truth, params, folds, seed)
    report = report_from_scores(examples, truth, oof, fold_of, folds)
    created = now or datetime.now(UTC)
    model = Model(
        version=version_string(params, examples, created),
        labels=LABELS,
        # Each label's threshold maximises F1 on all out-of-fold scores (see thresholds.py).
        thresholds=choose_thresholds(truth, oof),
        metadata=describe(examples, params, report, folds, seed, created),
        **fitted_parts(fit_pipeline(params, examples, truth)),
    )
    return model, report


def cross_validate(
    examples: Sequence[Example],
    *,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
) -> TrainReport:
    params = params or DEFAULT_PARAMS
    truth = label_matrix(examples)
    oof, fold_of = out_of_fold_scores(examples, truth, params, folds, seed)
    return report_from_scores(examples, truth, oof, fold_of, folds)


def check_trainable(truth: np.ndarray, folds: int) -> None:
    if folds < 2:
        raise ModelError(f"train: folds must be at least 2, got {folds}")
    if len(truth) < folds:
        raise ModelError(f"train: {len(truth)} examples are too few for {folds} folds")
    for label, positives in zip(LABELS, truth.sum(axis=0), strict=True):
        if positives < folds:
            raise ModelError(
                f"train: label {label!r} has {positives} positive examples, need at least {folds}"
            )


def assign_folds(examples: Sequence[Example], folds: int, seed: int) -> np.ndarray:
    """Stratified-ish folds: examples sharing a label set and language are dealt round-robin."""
    rng = np.random.default_rng(seed)
    keys = [("|".join(sorted(ex.labels)), ex.lang or "") for ex in examples]
    shuffled = rng.permutation(len(examples))
    dealt = sorted(shuffled, key=lambda i: keys[i])  # stable: shuffled order within a key
    fold_of = np.empty(len(examples), dtype=int)
    fold_of[dealt] = np.arange(len(examples)) % folds
    return fold_of


def out_of_fold_scores(
    examples: Sequence[Example],
    truth: np.ndarray,
    params: dict[str, Any],
    folds: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each example's scores from the model fitted on the other folds, and its fold number."""
    check_trainable(truth, folds)
    fold_of = assign_folds(examples, folds, seed)
    scores = np.zeros(truth.shape)
    for k in range(folds):
        train_idx, test_idx = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        fitted = fit_pipeline(params, [examples[i] for i in train_idx], truth[train_idx])
        scores[test_idx] = fitted.predict_proba(title_summary([examples[i] for i in test_idx]))
    return scores, fold_of


def fit_pipeline(
    params: dict[str, Any], examples: Sequence[Example], truth: np.ndarray
) -> Pipeline:
    weights = np.array([ex.weight for ex in examples], dtype=np.float64)
    return build_pipeline(params).fit(
        title_summary(examples), truth, classifier__sample_weight=weights
    )


def fitted_parts(pipeline: Pipeline) -> dict[str, Any]:
    classifier = pipeline.named_steps["classifier"]
    return {
        "features": pipeline.named_steps["features"],
        "coef": classifier.coef_,
        "intercept": classifier.intercept_,
    }


def title_summary(examples: Sequence[Example]) -> list[tuple[str, str]]:
    return [(ex.title, ex.summary) for ex in examples]


def choose_thresholds(truth: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {label: best_f1_threshold(truth[:, j], scores[:, j]) for j, label in enumerate(LABELS)}


def report_from_scores(
    examples: Sequence[Example],
    truth: np.ndarray,
    scores: np.ndarray,
    fold_of: np.ndarray,
    folds: int,
) -> TrainReport:
    """Metrics of out-of-fold decisions.

    Fold k is cut at thresholds chosen on the other folds' out-of-fold scores, so the reported
    figures do not benefit from choosing a threshold on the very scores they measure.
    """
    decided = np.zeros(truth.shape, dtype=bool)
    for k in range(folds):
        inside, outside = fold_of == k, fold_of != k
        cuts = choose_thresholds(truth[outside], scores[outside])
        decided[inside] = scores[inside] >= np.array([cuts[label] for label in LABELS])
    flag_truth, flag_decided = truth.any(axis=1), decided.any(axis=1)
    return TrainReport(
        per_label={
            label: binary_metrics(truth[:, j], decided[:, j]) for j, label in enumerate(LABELS)
        },
        flag=binary_metrics(flag_truth, flag_decided),
        n_examples=len(examples),
        folds=folds,
        per_lang=metrics_by_group(flag_truth, flag_decided, languages(examples)),
    )


def describe(
    examples: Sequence[Example],
    params: dict[str, Any],
    report: TrainReport,
    folds: int,
    seed: int,
    created: datetime,
) -> dict[str, Any]:
    return {
        "created": created.astimezone(UTC).isoformat(timespec="seconds"),
        "params": jsonable(params),
        "counts": {
            "examples": len(examples),
            "labels": {label: sum(label in ex.labels for ex in examples) for label in LABELS},
            "negatives": sum(not ex.labels for ex in examples),
            "langs": dict(sorted(Counter(languages(examples)).items())),
        },
        "cv": {"folds": folds, "seed": seed, **report.as_dict()},
    }


def version_string(params: dict[str, Any], examples: Sequence[Example], created: datetime) -> str:
    """UTC creation time and a short hash of the parameters and the training data."""
    digest = hashlib.sha256(json.dumps(jsonable(params), sort_keys=True).encode())
    for ex in examples:
        record = [ex.id, ex.lang, ex.title, ex.summary, sorted(ex.labels), ex.weight]
        digest.update(json.dumps(record, ensure_ascii=False).encode())
    return f"{created.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:6]}"


def jsonable(value: Any) -> Any:
    """Tuples become lists, as json would write them, so params compare equal after a round trip."""
    return json.loads(json.dumps(value))
