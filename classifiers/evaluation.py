"""Measuring any predictor (Model, KeywordClassifier) on labelled examples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from .corpus import LABELS, Example, label_matrix, languages
from .metrics import binary_metrics, metrics_by_group
from .model import Prediction


class Predictor(Protocol):
    version: str

    def predict(self, texts: Sequence[tuple[str, str]]) -> list[Prediction]: ...


def evaluate(predictor: Predictor, examples: Sequence[Example]) -> dict[str, Any]:
    """Per-label and flag precision/recall/F1/support with confusion counts, and per language.

    A precision or recall whose denominator is zero is reported as 0.
    """
    predictions = predictor.predict([(ex.title, ex.summary) for ex in examples])
    truth = label_matrix(examples).astype(bool)
    decided = decided_matrix(predictions)
    flag_truth = truth.any(axis=1)
    flagged = np.array([p.flagged for p in predictions], dtype=bool)
    return {
        "version": predictor.version,
        "n_examples": len(examples),
        "per_label": {
            label: binary_metrics(truth[:, j], decided[:, j]) for j, label in enumerate(LABELS)
        },
        "flag": binary_metrics(flag_truth, flagged),
        "per_lang": metrics_by_group(flag_truth, flagged, languages(examples)),
    }


def decided_matrix(predictions: Sequence[Prediction]) -> np.ndarray:
    rows = [[label in p.labels for label in LABELS] for p in predictions]
    return np.array(rows, dtype=bool).reshape(len(predictions), len(LABELS))


COLUMNS = ("precision", "recall", "f1", "support", "tp", "fp", "fn", "tn")


def format_report(report: dict[str, Any], title: str = "") -> str:
    """An aligned plain-text table of an evaluate() result (or a TrainReport.as_dict()).

    A TrainReport's thresholds, when present, follow in a second table (format_thresholds).
    """
    rows = [(label, report["per_label"][label]) for label in report["per_label"]]
    rows.append(("flag (any)", report["flag"]))
    rows += [(f"  lang {lang}", m) for lang, m in report.get("per_lang", {}).items()]
    width = max(len(name) for name, _ in rows)
    lines = [title] if title else []
    lines.append(" ".join([" " * width, *(f"{c:>9}" for c in COLUMNS)]).rstrip())
    lines += [" ".join([name.ljust(width), *format_cells(m)]).rstrip() for name, m in rows]
    if report.get("thresholds"):
        lines.append(format_thresholds(report))
    return "\n".join(lines)


def format_thresholds(report: dict[str, Any]) -> str:
    """Each label's threshold with the out-of-fold precision and recall at it (a TrainReport)."""
    thresholds = report["thresholds"]
    if report.get("rule", "target_recall") == "target_recall":
        title = f"thresholds for out-of-fold recall >= {report.get('target_recall'):.2f}"
    else:
        title = "thresholds for the best out-of-fold F1"
    width = max(len(label) for label in thresholds)
    columns = ("threshold", "precision", "recall")
    lines = [title, " ".join([" " * width, *(f"{c:>9}" for c in columns)])]
    for label, figures in thresholds.items():
        cells = [f"{figures[c]:9.3f}" for c in columns]
        lines.append(" ".join([label.ljust(width), *cells]))
    return "\n".join(lines)


def format_cells(metrics: dict[str, float]) -> list[str]:
    cells = []
    for column in COLUMNS:
        value = metrics.get(column)
        if value is None:
            cells.append(f"{'':>9}")
        elif column in ("precision", "recall", "f1"):
            cells.append(f"{value:9.3f}")
        else:
            cells.append(f"{int(value):9d}")
    return cells
