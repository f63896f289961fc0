"""`monitor evaluate`: the model beside the keyword baseline on one labelled file, and the items
the model gets wrong with the terms that drove its scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.text import one_line

if TYPE_CHECKING:
    from classifiers import Example, Model

CJK = ("ko", "zh", "ja")
RATES = ("precision", "recall", "f1")
RATE_HEADS = ("prec", "recall", "f1")
COUNTS = ("tp", "fp", "fn", "tn")
TITLE_WIDTH = 80
TERMS_PER_LABEL = 3


@dataclass(frozen=True)
class Side:
    """One predictor's results: per label, flag, and flag per language (+ the CJK subset)."""

    name: str
    version: str
    rows: dict[str, dict[str, float]]


def measure(predictor: Any, name: str, items: Sequence[Example]) -> Side:
    from classifiers import evaluate

    report = evaluate(predictor, items)
    rows = report_rows(report)
    cjk = [ex for ex in items if ex.lang in CJK]
    if cjk and len({ex.lang for ex in cjk}) > 1:
        rows["  lang " + "+".join(CJK)] = evaluate(predictor, cjk)["flag"]
    return Side(name, report["version"], rows)


def compare(model: Model, items: Sequence[Example]) -> list[Side]:
    """The model and the keyword baseline measured on the same items."""
    from classifiers import KeywordClassifier

    return [measure(model, "model", items), measure(KeywordClassifier(), "keywords", items)]


def report_rows(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Rows of a CV or evaluation report: each label, the flag, the flag per language."""
    rows = dict(report.get("per_label") or {})
    if report.get("flag"):
        rows["flag (any)"] = report["flag"]
    for lang, metrics in (report.get("per_lang") or {}).items():
        rows[f"  lang {lang}"] = metrics
    return rows


def format_sides(sides: Sequence[Side], title: str) -> str:
    """One table, a block of columns per predictor; rows in the last side's order, as is
    the support column."""
    names = list(dict.fromkeys(name for side in reversed(sides) for name in side.rows))
    width = max(len(n) for n in names)
    heads = "".join([*(f"{h:>7}" for h in RATE_HEADS), *(f"{c:>6}" for c in COUNTS)])
    lead = " " * width + f"{'':>9}"
    lines = [
        title,
        lead + "".join(f"   {f' {side.name} ':-^{len(heads)}}" for side in sides),
        " " * width + f"{'support':>9}" + "".join(f"   {heads}" for _ in sides),
    ]
    for name in names:
        support = int(sides[-1].rows.get(name, {}).get("support", 0))
        cells = "".join(f"   {_cells(side.rows.get(name, {}))}" for side in sides)
        lines.append(f"{name.ljust(width)}{support:>9}{cells}".rstrip())
    return "\n".join(lines)


def _cells(metrics: dict[str, float]) -> str:
    if not metrics:
        return ""
    rates = "".join(f"{metrics[c]:7.3f}" for c in RATES)
    return rates + "".join(f"{int(metrics[c]):6d}" for c in COUNTS)


def error_lines(model: Model, items: Sequence[Example]) -> list[str]:
    """One line per item whose predicted labels differ from the gold ones."""
    predictions = model.predict([(ex.title, ex.summary) for ex in items])
    lines = []
    for ex, p in zip(items, predictions, strict=True):
        if set(p.labels) != set(ex.labels):
            lines.append(error_line(model, ex, p.labels, p.scores))
    return lines


def error_line(
    model: Model, ex: Example, predicted: Sequence[str], scores: dict[str, float]
) -> str:
    shown = [label for label in model.labels if label in ex.labels or label in predicted]
    explained = model.explain(ex.title, ex.summary, top=2 * TERMS_PER_LABEL)
    terms = " ".join(f"{label}[{', '.join(_terms(explained[label]))}]" for label in shown)
    parts = [
        one_line(ex.id or "-"),
        one_line(ex.lang or "?"),
        error_kind(ex.labels, predicted),
        "gold=" + _labels(ex.labels, model.labels),
        "predicted=" + _labels(predicted, model.labels),
        "scores=" + ",".join(f"{label}:{scores[label]:.2f}" for label in model.labels),
        terms or "-",
        _truncate(one_line(ex.title), TITLE_WIDTH),
    ]
    return "  ".join(parts)


def error_kind(gold: frozenset[str], predicted: Sequence[str]) -> str:
    """missed: a story not flagged; false: flagged, not a story; labels: flagged, wrong labels."""
    if gold and not predicted:
        return "missed"
    return "false" if predicted and not gold else "labels"


def _labels(labels: Sequence[str] | frozenset[str], order: Sequence[str]) -> str:
    return ",".join(label for label in order if label in labels) or "-"


def _terms(contributions: list[tuple[str, float]]) -> list[str]:
    """Distinct readable terms: 'word:tumen', 'latin_char: tum' -> 'tumen', 'tum'."""
    seen: list[str] = []
    for feature, _weight in contributions:
        term = one_line(feature.split(":", 1)[-1])
        if term and term not in seen:
            seen.append(term)
    return seen[:TERMS_PER_LABEL]


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
