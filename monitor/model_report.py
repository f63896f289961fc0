"""What `monitor model list` and `monitor train` print: versions, and metrics before and after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from monitor.evaluation import Side, format_sides, report_rows
from monitor.models import VersionInfo
from monitor.report import table
from monitor.training import TrainResult

VERSION_COLUMNS = ("current", "version", "created", "examples", "verdicts", "flag_f1", "recall")


def version_records(versions: Sequence[VersionInfo]) -> list[dict[str, Any]]:
    return [v.as_dict() for v in versions]


def format_versions(versions: Sequence[VersionInfo], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(version_records(versions), ensure_ascii=False, indent=2)
    if not versions:
        return "No model installed yet: run `monitor train`."
    rows = [_version_row(v) for v in versions]
    return table(rows, VERSION_COLUMNS, flex="version") + "\n* current; flag_f1, recall: CV"


def _version_row(v: VersionInfo) -> dict[str, Any]:
    flag = v.cv.get("flag") or {}
    return {
        "current": "*" if v.current else "",
        "version": v.version,
        "created": v.created.replace("T", " ")[:16] or "?",
        "examples": _count(v.examples),
        "verdicts": _count(v.verdicts),
        "flag_f1": _rate(flag.get("f1")),
        "recall": _rate(flag.get("recall")),
    }


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def _rate(value: float | None) -> str:
    return "?" if value is None else f"{value:.3f}"


def format_before_after(before: dict[str, Any] | None, after: dict[str, Any], title: str) -> str:
    """One table: the previous model's figures (when known) beside the new one's."""
    sides = [Side("after", "", report_rows(after))]
    if before and before.get("per_label"):
        sides.insert(0, Side("before", "", report_rows(before)))
    return format_sides(sides, title)


def format_train(result: TrainResult) -> str:
    new = result.model.version
    lines = [
        f"model {new}: {result.seed_examples} seed examples + {result.verdicts} analyst"
        f" verdicts, saved to {result.path}"
    ]
    before = result.before.cv if result.before else None
    old = f"before: {result.before.version}, " if result.before else ""
    title = f"{result.report.folds}-fold cross-validation ({old}after: {new})"
    lines.append(format_before_after(before, result.report.as_dict(), title))
    if result.report.thresholds:  # chosen out of fold for the target recall, and what they gave
        from classifiers.evaluation import format_thresholds

        lines.append(format_thresholds(result.report.as_dict()))
    if result.evaluation:
        where = result.evaluation["file"]
        title = f"evaluation on {where} ({old}after: {new})"
        lines.append(format_before_after(result.before_evaluation, result.evaluation, title))
    if result.rescored is not None:
        lines.append(f"re-scored {result.rescored} unreviewed articles with {new}")
    return "\n".join(lines)
