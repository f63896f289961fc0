"""Saving and loading models as JSON and plain numpy arrays: no pickle anywhere.

A model lives in ``<directory>/<version>/``: ``model.json`` holds the version, labels, thresholds,
the calibration (Platt a, b per label), metadata, feature parameters, vocabularies and the keyword
groups' regular expressions; ``arrays.npz`` holds each view's idf vector, the coefficient matrix
and the intercepts.

Saving takes a trained model (features.TextFeatures) or a loaded one; loading gives features as
fitted.FittedFeatures, so that loading and scoring do not import scikit-learn.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .fitted import export_keywords, export_views, n_features, restore_features
from .model import Model

# Format 2 added the Platt calibration ("calibration") and the keyword indicators
# ("features"/"keywords"). Format 1 models (saved before) still load and score as they were
# trained: no keyword block, and the plain sigmoid of the logit compared with their thresholds.
FORMAT = 2
READABLE_FORMATS = (1, 2)
MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
IDF_PREFIX = "idf_"


def save_model(model: Model, directory: Path) -> Path:
    """Write the model to directory/<version>/ and return that path; an existing one is an error."""
    target = Path(directory) / model.version
    if target.exists():
        raise ModelError(f"{target}: a model with this version is already saved")
    target.parent.mkdir(parents=True, exist_ok=True)
    document, arrays = model_state(model)
    staging = Path(tempfile.mkdtemp(prefix=f".{model.version}-", dir=target.parent))
    try:
        write_state(staging, document, arrays)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def model_state(model: Model) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    views, idfs = export_views(model.features)
    document = {
        "format": FORMAT,
        "version": model.version,
        "labels": list(model.labels),
        "thresholds": model.thresholds,
        # label -> [a, b]: probability = sigmoid(a * logit + b); null for an uncalibrated model.
        "calibration": (
            None
            if model.calibration is None
            else {label: list(model.calibration[label]) for label in model.labels}
        ),
        "metadata": model.metadata,
        "features": {
            "params": model.features.get_params(),
            "views": views,
            "keywords": export_keywords(model.features),
        },
    }
    arrays = {f"{IDF_PREFIX}{name}": idf for name, idf in idfs.items()}
    arrays.update(coef=model.coef, intercept=model.intercept)
    return document, arrays


def write_state(directory: Path, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    (directory / MODEL_FILE).write_text(text, encoding="utf-8")
    with open(directory / ARRAYS_FILE, "wb") as stream:
        np.savez(stream, **arrays)


def load_model(directory: Path) -> Model:
    """Load a version directory written by save_model()."""
    directory = Path(directory)
    document = read_document(directory / MODEL_FILE)
    arrays = read_arrays(directory / ARRAYS_FILE)
    try:
        return model_from_state(document, arrays)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{directory}: inconsistent model files: {describe(exc)}") from exc


def read_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{path.parent}: not a saved model ({path.name} is missing)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable model file: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") not in READABLE_FORMATS:
        found = document.get("format") if isinstance(document, dict) else None
        raise ModelError(
            f"{path}: not a model file of a known format (found {found!r}, this version reads "
            f"{', '.join(map(str, READABLE_FORMATS))})"
        )
    return document


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        # Opened here so that the file is closed even when numpy rejects it.
        with open(path, "rb") as stream, np.load(stream, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except FileNotFoundError as exc:
        raise ModelError(f"{path.parent}: not a saved model ({path.name} is missing)") from exc
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: unreadable array file: {exc}") from exc


def model_from_state(document: dict[str, Any], arrays: dict[str, np.ndarray]) -> Model:
    idfs = {
        name.removeprefix(IDF_PREFIX): array
        for name, array in arrays.items()
        if name.startswith(IDF_PREFIX)
    }
    described = document["features"]
    old = document["format"] == 1
    features = restore_features(
        described["params"], described["views"], idfs, None if old else described["keywords"]
    )
    model = Model(
        version=document["version"],
        labels=document["labels"],
        thresholds=document["thresholds"],
        calibration=None if old else document["calibration"],
        features=features,
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        metadata=document["metadata"],
    )
    check_shapes(model)
    return model


def check_shapes(model: Model) -> None:
    columns = n_features(model.features)
    expected = (len(model.labels), columns)
    if model.coef.shape != expected or model.intercept.shape != (len(model.labels),):
        raise ValueError(
            f"coef {model.coef.shape} and intercept {model.intercept.shape} do not match "
            f"{len(model.labels)} labels and {columns} features"
        )


def describe(exc: Exception) -> str:
    return f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
