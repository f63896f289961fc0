"""Classifying news items about North Korean defectors, forced repatriation and border control.

Texts and labels in, scores and explanations out; nothing here touches feeds or storage.
"""

from __future__ import annotations

from .corpus import LABELS, Example, load_jsonl, load_seed
from .errors import ModelError
from .evaluation import evaluate, format_report
from .keywords import KeywordClassifier
from .model import Model, Prediction
from .persist import load_model, save_model
from .training import TrainReport, cross_validate, train

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
