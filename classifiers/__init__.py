"""Classifying news items about North Korean defectors, forced repatriation and border control.

Texts and labels in, scores and explanations out; nothing here touches feeds or storage.
Names are imported on first use, so `from classifiers.errors import ModelError` (or a parse
worker importing a module that mentions it) does not load scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .corpus import LABELS, Example, load_jsonl, load_seed
    from .errors import ModelError
    from .evaluation import evaluate, format_report
    from .keywords import KeywordClassifier
    from .model import Model, Prediction
    from .persist import load_model, save_model
    from .training import TrainReport, cross_validate, train

_WHERE = {
    "LABELS": "corpus",
    "Example": "corpus",
    "load_jsonl": "corpus",
    "load_seed": "corpus",
    "ModelError": "errors",
    "evaluate": "evaluation",
    "format_report": "evaluation",
    "KeywordClassifier": "keywords",
    "Model": "model",
    "Prediction": "model",
    "load_model": "persist",
    "save_model": "persist",
    "TrainReport": "training",
    "cross_validate": "training",
    "train": "training",
}

__all__ = [
    "LABELS",
    "Example",
    "KeywordClassifier",
    "Model",
    "ModelError",
    "Prediction",
    "TrainReport",
    "cross_validate",
    "evaluate",
    "format_report",
    "load_jsonl",
    "load_model",
    "load_seed",
    "save_model",
    "train",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'classifiers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
