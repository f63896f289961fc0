"""Cross-validation, calibration, threshold choice and the final fit that produce a Model.

1. Out-of-fold logits: the examples are dealt into folds; each fold is scored by the pipeline
   fitted on the others.
2. Calibration: per label, Platt scaling fitted on those logits (calibration.py).
3. Thresholds: per label, on the calibrated out-of-fold scores, the highest threshold reaching the
   target recall (thresholds.py), reported with the out-of-fold precision and recall at it.
4. The report: precision/recall/F1 of out-of-fold decisions, each fold cut at thresholds chosen
   on the other folds only, per label, for the flag and per language.
5. The final pipeline fitted on every example; the model is it with the calibration and thresholds.

Example weights (analyst verdicts weigh more than the seed corpus) count in every fit, in the
calibration and in the recall the thresholds are chosen for.
"""

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

from .calibration import calibrate, fit_platt
from .corpus import LABELS, Example, label_matrix, languages
from .errors import ModelError
from .estimator import MultiLabelLogistic
from .features import TextFeatures
from .keyword_features import DEFAULT_FEATURES, DEFAULT_VALUE
from .metrics import binary_metrics, metrics_by_group
from .model import Model
from .thresholds import DEFAULT_TARGET_RECALL, RULES, check_target, choose_threshold, figures_at

# Chosen by cross-validation on the seed corpus only: C from 3 to 30 and character n-gram ranges
# around these all scored within about 0.01 F1; min_df=1 was clearly worse (rare n-grams overfit).
# The keyword conjunctions (keyword_features.py) were kept because they raised cross-validated F1.
DEFAULT_PARAMS: dict[str, Any] = {
    "features": {
        "word_ngram": (1, 2),
        "cjk_ngram": (1, 3),
        "latin_ngram": (4, 4),
        "min_df": 2,
        "keywords": DEFAULT_FEATURES,
        "keyword_value": DEFAULT_VALUE,
    },
    "classifier": {"C": 10.0, "class_weight": "balanced"},
}


@dataclass
class TrainReport:
    """Cross-validated precision/recall/F1 (+support) per label and for the flag.

    per_label, flag and per_lang (flag metrics per language) count out-of-fold decisions, each
    fold cut at thresholds chosen on the other folds. thresholds holds, per label, the threshold
    the model uses (chosen on all out-of-fold scores by `rule`, for `target_recall`) and the
    out-of-fold precision, recall and F1 at it (weighted by example weight); calibration the
    Platt parameters a and b.
    """

    per_label: dict[str, dict[str, float]]
    flag: dict[str, float]
    n_examples: int
    folds: int
    per_lang: dict[str, dict[str, float]] = field(default_factory=dict)  # flag metrics
    rule: str = "target_recall"
    target_recall: float | None = DEFAULT_TARGET_RECALL
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ThresholdRule:
    rule: str = "target_recall"
    target_recall: float = DEFAULT_TARGET_RECALL

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ModelError(f"train: unknown threshold rule {self.rule!r}")
        try:
            check_target(self.target_recall)
        except ValueError as exc:
            raise ModelError(f"train: {exc}") from None

    def choose(self, truth: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """One threshold per label (column)."""
        return np.array(
            [
                choose_threshold(
                    truth[:, j],
                    scores[:, j],
                    rule=self.rule,
                    target=self.target_recall,
                    weights=weights,
                )
                for j in range(truth.shape[1])
            ]
        )


@dataclass(frozen=True)
class OutOfFold:
    """Cross-validation's raw material: each example's logits from a model that did not see it."""

    logits: np.ndarray
    fold_of: np.ndarray
    folds: int
    calibration: dict[str, tuple[float, float]]

    @property
    def scores(self) -> np.ndarray:
        """Calibrated out-of-fold probabilities."""
        slopes = np.array([self.calibration[label][0] for label in LABELS])
        offsets = np.array([self.calibration[label][1] for label in LABELS])
        return calibrate(self.logits, slopes, offsets)


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
    target_recall: float = DEFAULT_TARGET_RECALL,
    rule: str = "target_recall",
) -> tuple[Model, TrainReport]:
    """Cross-validate to get the calibration, thresholds and report, then fit on every example.

    rule "target_recall" (the default) gives each label the highest threshold whose out-of-fold
    recall reaches target_recall; "best_f1" the one with the best out-of-fold F1.
    """
    params = params or DEFAULT_PARAMS
    chooser = ThresholdRule(rule, target_recall)
    truth = label_matrix(examples)
    weights = example_weights(examples)
    oof = out_of_fold(examples, truth, params, folds, seed)
    report = report_from_oof(examples, truth, oof, chooser)
    created = now or datetime.now(UTC)
    model = Model(
        version=version_string(params, examples, created),
        labels=LABELS,
        thresholds={label: report.thresholds[label]["threshold"] for label in LABELS},
        calibration=oof.calibration,
        metadata=describe(examples, params, report, folds, seed, created),
        **fitted_parts(fit_pipeline(params, examples, truth, weights)),
    )
    return model, report


def cross_validate(
    examples: Sequence[Example],
    *,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    target_recall: float = DEFAULT_TARGET_RECALL,
    rule: str = "target_recall",
) -> TrainReport:
    params = params or DEFAULT_PARAMS
    chooser = ThresholdRule(rule, target_recall)
    truth = label_matrix(examples)
    oof = out_of_fold(examples, truth, params, folds, seed)
    return report_from_oof(examples, truth, oof, chooser)


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


def out_of_fold(
    examples: Sequence[Example],
    truth: np.ndarray,
    params: dict[str, Any],
    folds: int,
    seed: int,
) -> OutOfFold:
    """Out-of-fold logits, fold numbers and the Platt calibration fitted on those logits."""
    check_trainable(truth, folds)
    weights = example_weights(examples)
    fold_of = assign_folds(examples, folds, seed)
    logits = np.zeros(truth.shape)
    for k in range(folds):
        train_idx, test_idx = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        fitted = fit_pipeline(
            params, [examples[i] for i in train_idx], truth[train_idx], weights[train_idx]
        )
        logits[test_idx] = fitted.decision_function(title_summary([examples[i] for i in test_idx]))
    calibration = {
        label: fit_platt(logits[:, j], truth[:, j], weights) for j, label in enumerate(LABELS)
    }
    return OutOfFold(logits, fold_of, folds, calibration)


def example_weights(examples: Sequence[Example]) -> np.ndarray:
    return np.array([ex.weight for ex in examples], dtype=np.float64)


def fit_pipeline(
    params: dict[str, Any],
    examples: Sequence[Example],
    truth: np.ndarray,
    weights: np.ndarray | None = None,
) -> Pipeline:
    if weights is None:
        weights = example_weights(examples)
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


def choose_thresholds(
    truth: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray | None = None,
    chooser: ThresholdRule | None = None,
) -> dict[str, float]:
    chooser = chooser or ThresholdRule()
    weights = np.ones(len(truth)) if weights is None else weights
    cuts = chooser.choose(truth, scores, weights)
    return {label: float(cut) for label, cut in zip(LABELS, cuts, strict=True)}


def report_from_oof(
    examples: Sequence[Example], truth: np.ndarray, oof: OutOfFold, chooser: ThresholdRule
) -> TrainReport:
    """Metrics of out-of-fold decisions, and the thresholds chosen on all out-of-fold scores.

    Fold k is cut at thresholds chosen on the other folds' out-of-fold scores, so the reported
    P/R/F1 do not benefit from choosing a threshold on the very scores they measure. (The
    calibration is fitted once on all folds; being monotone, it does not change which examples
    a rank-based rule such as a target recall lets through.)
    """
    scores, fold_of, weights = oof.scores, oof.fold_of, example_weights(examples)
    decided = np.zeros(truth.shape, dtype=bool)
    for k in range(oof.folds):
        inside, outside = fold_of == k, fold_of != k
        cuts = chooser.choose(truth[outside], scores[outside], weights[outside])
        decided[inside] = scores[inside] >= cuts
    flag_truth, flag_decided = truth.any(axis=1), decided.any(axis=1)
    cuts = chooser.choose(truth, scores, weights)
    return TrainReport(
        per_label={
            label: binary_metrics(truth[:, j], decided[:, j]) for j, label in enumerate(LABELS)
        },
        flag=binary_metrics(flag_truth, flag_decided),
        n_examples=len(examples),
        folds=oof.folds,
        per_lang=metrics_by_group(flag_truth, flag_decided, languages(examples)),
        rule=chooser.rule,
        target_recall=chooser.target_recall if chooser.rule == "target_recall" else None,
        thresholds={
            label: figures_at(truth[:, j], scores[:, j], cuts[j], weights)
            for j, label in enumerate(LABELS)
        },
        calibration={
            label: {"a": oof.calibration[label][0], "b": oof.calibration[label][1]}
            for label in LABELS
        },
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
        "threshold_rule": report.rule,
        "target_recall": report.target_recall,
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
