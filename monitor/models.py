"""Which trained model the application uses: versions on disk, the CURRENT pointer, first use.

Each version is a folder `<model_dir>/<version>/` written by classifiers.save_model, plus an
`info.json` written here: when it was made, from what data (seed examples, analysts' verdicts,
the state of the reviews table), its cross-validated metrics, thresholds and target recall, and
its metrics on a labelled file if one was given. `CURRENT` names the version in use.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.errors import ModelError
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from classifiers import Model

log = logging.getLogger("monitor.models")
CURRENT = "CURRENT"
INFO_FILE = "info.json"
MODEL_FILE = "model.json"


class UnknownVersion(MonitorError):
    """A model version that is not installed: a usage error."""

    exit_code = 2


@dataclass(frozen=True)
class ReviewState:
    """How many verdicts the reviews table held, and the newest one's id: a model trained on
    one state has seen every verdict if the table still has that state."""

    count: int = 0
    latest_id: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "latest_id": self.latest_id}

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> ReviewState:
        """What a version's info recorded; versions that recorded nothing saw no verdicts."""
        reviews = info.get("reviews") or {}
        return cls(int(reviews.get("count") or 0), int(reviews.get("latest_id") or 0))


@dataclass(frozen=True)
class VersionInfo:
    """One installed version and what info.json (or model.json) says about it."""

    version: str
    current: bool
    info: dict[str, Any]

    @property
    def created(self) -> str:
        return str(self.info.get("created") or "")

    @property
    def examples(self) -> int | None:
        return self.info.get("data", {}).get("examples")

    @property
    def verdicts(self) -> int | None:
        return self.info.get("data", {}).get("verdicts")

    @property
    def cv(self) -> dict[str, Any]:
        return dict(self.info.get("cv") or {})

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "current": self.current, **self.info}


def current_version(model_dir: Path) -> str | None:
    try:
        version = (model_dir / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return version or None


def install(model: Model, model_dir: Path, info: dict[str, Any] | None = None) -> Path:
    """Save a model as a new version with its info.json and make it the current one."""
    from classifiers import save_model

    model_dir.mkdir(parents=True, exist_ok=True)
    path = save_model(model, model_dir)
    write_info(path, {**model_info(model), **(info or {})})
    point_current(model_dir, model.version)
    return path


def model_info(model: Model) -> dict[str, Any]:
    """What the model itself records: creation time, data counts, CV metrics, thresholds."""
    return info_from_metadata(model.metadata, model.thresholds)


def info_from_metadata(metadata: dict[str, Any], thresholds: dict[str, float]) -> dict[str, Any]:
    counts = dict(metadata.get("counts") or {})
    data = {"examples": counts.pop("examples", None), **counts}
    return {
        "created": metadata.get("created"),
        "data": data,
        "cv": metadata.get("cv") or {},
        "thresholds": thresholds,
        "target_recall": metadata.get("target_recall"),
    }


def write_info(version_dir: Path, info: dict[str, Any]) -> None:
    stamped = {**info, "installed": datetime.now(UTC).isoformat()}
    text = json.dumps(stamped, ensure_ascii=False, indent=1, sort_keys=True)
    _replace_text(version_dir / INFO_FILE, text + "\n")


def read_info(version_dir: Path) -> dict[str, Any]:
    """info.json, or for versions installed without one, what model.json's metadata says."""
    for name in (INFO_FILE, MODEL_FILE):
        try:
            document = json.loads((version_dir / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{version_dir / name}: unreadable: {exc}") from exc
        if name == INFO_FILE:
            return dict(document)
        return info_from_metadata(document.get("metadata") or {}, document.get("thresholds") or {})
    raise ModelError(f"{version_dir}: not a saved model ({MODEL_FILE} is missing)")


def version_names(model_dir: Path) -> list[str]:
    """Installed versions (folders holding a model.json), in name order."""
    if not model_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in model_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MODEL_FILE).is_file()
    )


def list_versions(model_dir: Path) -> list[VersionInfo]:
    """Every installed version, newest first, the current one marked."""
    current = current_version(model_dir)
    records = [
        VersionInfo(name, name == current, _info_or_error(model_dir / name))
        for name in version_names(model_dir)
    ]
    return sorted(records, key=_age, reverse=True)


def _info_or_error(version_dir: Path) -> dict[str, Any]:
    """A version whose info cannot be read is still listed, with the reason."""
    try:
        return read_info(version_dir)
    except ModelError as exc:
        return {"error": str(exc)}


def _age(record: VersionInfo) -> tuple[str, str, str]:
    return (record.created, str(record.info.get("installed") or ""), record.version)


def version_info(model_dir: Path, version: str | None) -> VersionInfo | None:
    if version is None or version not in version_names(model_dir):
        return None
    current = current_version(model_dir)
    return VersionInfo(version, version == current, _info_or_error(model_dir / version))


@dataclass(frozen=True)
class Switch:
    previous: str | None
    model: Model


def use_version(model_dir: Path, version: str) -> Switch:
    """Make an installed version the current one (after checking that it loads)."""
    from classifiers import load_model

    names = version_names(model_dir)
    if version not in names:
        installed = ", ".join(reversed(names)) or "none"
        raise UnknownVersion(f"no model version {version!r} in {model_dir}; installed: {installed}")
    model = load_model(model_dir / version)
    previous = current_version(model_dir)
    point_current(model_dir, version)
    return Switch(previous, model)


def point_current(model_dir: Path, version: str) -> None:
    """Switch CURRENT atomically: readers see the old version or the new, never a torn file."""
    _replace_text(model_dir / CURRENT, version + "\n")


def _replace_text(path: Path, text: str) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_current(model_dir: Path, *, train_if_missing: bool = True) -> Model:
    """The current model; on first use, train one from the seed corpus and install it."""
    from classifiers import load_model, load_seed, train

    version = current_version(model_dir)
    if version is None:
        if not train_if_missing:
            raise ModelError(f"{model_dir}: no trained model yet (run `monitor train`)")
        log.info("no model in %s yet: training one from the seed corpus", model_dir)
        seed = load_seed()
        model, _report = train(seed)
        install(model, model_dir, training_info(model, seed_examples=len(seed), verdicts=0))
        return model
    return load_model(model_dir / version)


def training_info(
    model: Model, *, seed_examples: int, verdicts: int, reviews: ReviewState | None = None
) -> dict[str, Any]:
    """info.json entries on the training data: counts, and the reviews table it reflects."""
    data = {**model_info(model)["data"], "seed_examples": seed_examples, "verdicts": verdicts}
    return {"data": data, "reviews": (reviews or ReviewState()).as_dict()}


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
