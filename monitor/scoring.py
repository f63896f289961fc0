"""`monitor classify`: JSON lines in, scores out, for scripts and other tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from classifiers import Model

BATCH = 500


class InputError(ValueError):
    pass


def _items(lines: TextIO) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"stdin:{number}: not JSON: {exc.msg}") from None
        if not isinstance(item, dict) or not isinstance(item.get("title", ""), str):
            raise InputError(f'stdin:{number}: expected an object with "title" and "summary"')
        yield item


def _emit(model: Model, batch: list[dict[str, Any]], out: TextIO) -> None:
    predictions = model.predict([(i.get("title") or "", i.get("summary") or "") for i in batch])
    for item, p in zip(batch, predictions, strict=True):
        record = {
            "id": item.get("id"),
            "flagged": p.flagged,
            "labels": list(p.labels),
            "scores": {k: round(v, 4) for k, v in p.scores.items()},
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def classify_stream(model: Model, lines: TextIO, out: TextIO) -> int:
    """Score each {"id","title","summary"} line; write {"id","flagged","labels","scores"}."""
    batch: list[dict[str, Any]] = []
    count = 0
    for item in _items(lines):
        batch.append(item)
        if len(batch) >= BATCH:
            _emit(model, batch, out)
            count += len(batch)
            batch = []
    if batch:
        _emit(model, batch, out)
        count += len(batch)
    return count
