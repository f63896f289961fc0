"""Confusion counts and precision/recall/F1 for binary decisions, as plain numbers."""

from __future__ import annotations

import numpy as np


def confusion(truth: np.ndarray, predicted: np.ndarray) -> dict[str, int]:
    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    return {
        "tp": int(np.sum(truth & predicted)),
        "fp": int(np.sum(~truth & predicted)),
        "fn": int(np.sum(truth & ~predicted)),
        "tn": int(np.sum(~truth & ~predicted)),
    }


def scores_from_counts(counts: dict[str, int]) -> dict[str, float]:
    """Precision, recall and F1; a ratio with a zero denominator counts as 0."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "support": tp + fn,
    }


def binary_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    counts = confusion(truth, predicted)
    return {**scores_from_counts(counts), **counts}


def metrics_by_group(
    truth: np.ndarray, predicted: np.ndarray, groups: list[str]
) -> dict[str, dict[str, float]]:
    keys = np.array(groups, dtype=str)
    return {
        group: binary_metrics(truth[keys == group], predicted[keys == group])
        for group in sorted(set(groups))
    }


def ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0
