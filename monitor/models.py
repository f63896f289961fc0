"""Which trained model the application uses: versions on disk, the CURRENT pointer, first use."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.errors import ModelError

if TYPE_CHECKING:
    from classifiers import Model

log = logging.getLogger("monitor.models")
CURRENT = "CURRENT"


def current_version(model_dir: Path) -> str | None:
    try:
        version = (model_dir / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return version or None


def install(model: Model, model_dir: Path) -> Path:
    """Save a model as a new version and make it the current one."""
    from classifiers import save_model

    model_dir.mkdir(parents=True, exist_ok=True)
    path = save_model(model, model_dir)
    tmp = model_dir / f".{CURRENT}.tmp"
    tmp.write_text(model.version + "\n", encoding="utf-8")
    tmp.replace(model_dir / CURRENT)
    return path


def load_current(model_dir: Path, *, train_if_missing: bool = True) -> Model:
    """The current model; on first use, train one from the seed corpus and install it."""
    from classifiers import load_model, load_seed, train

    version = current_version(model_dir)
    if version is None:
        if not train_if_missing:
            raise ModelError(f"{model_dir}: no trained model yet (run `monitor train`)")
        log.info("no model in %s yet: training one from the seed corpus", model_dir)
        model, _report = train(load_seed())
        install(model, model_dir)
        return model
    return load_model(model_dir / version)


class ModelHolder:
    """The current model, loaded on first use (a cycle of 304s needs none) and reloaded when
    `monitor train` installs a new version."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.model: Model | None = None

    def current_path(self) -> Path:
        """The current version's directory, for processes that load the model themselves; on
        first use, a model is trained and installed first."""
        version = current_version(self.model_dir)
        if version is None:
            self.get()
            version = current_version(self.model_dir)
        if version is None:
            raise ModelError(f"{self.model_dir}: no current model after training")
        return self.model_dir / version

    def get(self) -> Model:
        if self.model is None:
            self.model = load_current(self.model_dir)
            return self.model
        version = current_version(self.model_dir)
        if version and version != self.model.version:
            try:
                self.model = load_current(self.model_dir)
                log.info("switched to model %s", version)
            except ModelError as exc:
                log.error("keeping model %s: %s", self.model.version, exc)
        return self.model
