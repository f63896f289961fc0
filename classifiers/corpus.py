"""Labelled examples: the seed corpus shipped in classifiers/data and JSON-lines files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

LABELS: tuple[str, ...] = ("defectors", "repatriation", "border")

SEED_PREFIX = "seed"
SEED_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class Example:
    title: str
    summary: str
    labels: frozenset[str]
    lang: str | None = None
    weight: float = 1.0  # analyst verdicts are passed with weight > 1
    id: str | None = None

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.summary}"


def label_matrix(examples: Sequence[Example]) -> np.ndarray:
    """0/1 array of shape (len(examples), len(LABELS))."""
    rows = [[label in ex.labels for label in LABELS] for ex in examples]
    return np.array(rows, dtype=int).reshape(len(examples), len(LABELS))


def languages(examples: Sequence[Example]) -> list[str]:
    return [ex.lang or "?" for ex in examples]


def load_jsonl(path: str | Path) -> list[Example]:
    """One example per line; blank lines are skipped and unknown keys ignored."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read: {exc}") from exc
    return parse_lines(text.splitlines(), str(path))


def load_seed() -> list[Example]:
    """Every classifiers/data/seed*.jsonl file, in name order."""
    examples: list[Example] = []
    for resource in seed_resources():
        source = f"classifiers/data/{resource.name}"
        examples.extend(parse_lines(resource.read_text(encoding="utf-8").splitlines(), source))
    if not examples:
        raise ModelError("classifiers/data: no seed corpus (seed*.jsonl) found")
    return examples


def seed_resources() -> list[Traversable]:
    data = resources.files(__package__).joinpath("data")
    if not data.is_dir():
        return []
    found = [r for r in data.iterdir() if is_seed_name(r.name) and r.is_file()]
    return sorted(found, key=lambda r: r.name)


def is_seed_name(name: str) -> bool:
    return name.startswith(SEED_PREFIX) and name.endswith(SEED_SUFFIX)


def parse_lines(lines: Iterable[str], source: str) -> list[Example]:
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            examples.append(parse_record(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ModelError(f"{source}:{number}: invalid JSON: {exc.msg}") from exc
        except ValueError as exc:
            raise ModelError(f"{source}:{number}: {exc}") from exc
    return examples


def parse_record(record: Any) -> Example:
    """Build an Example from a decoded JSON object; ValueError names the offending field."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    return Example(
        title=required_text(record, "title"),
        summary=optional_text(record, "summary") or "",
        labels=parse_labels(record.get("labels")),
        lang=optional_text(record, "lang"),
        weight=parse_weight(record.get("weight", 1.0)),
        id=parse_id(record.get("id")),
    )


def required_text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def optional_text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string")
    return value


def parse_labels(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("'labels' must be a list of strings")
    unknown = sorted(set(value) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label {unknown[0]!r} (expected one of {', '.join(LABELS)})")
    return frozenset(value)


def parse_weight(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError("'weight' must be a positive number")
    return float(value)


def parse_id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("'id' must be a string")
