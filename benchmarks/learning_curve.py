"""How fast analysts' verdicts improve the classifier: uncertainty sampling against random picks.

Starting from the model trained on the seed corpus, a simulated analyst labels k items of a
labelled file (by default ../shared/eval/dev.jsonl, real news), k = 0, 20, 50, 100. The items
are chosen either by uncertainty (in rounds of 10: the items whose score is closest to a label's
threshold under the current model, which is then retrained with them) or at random (the mean of
several draws). Each labelled item joins the training data as an analyst verdict does (weight
3). Flag precision, recall and F1 are measured on the items *not* labelled, so labelling an
item never counts towards its own score.

This trains benchmark models on part of the evaluation file; the shipped model never sees it.

    python benchmarks/learning_curve.py [--file ../shared/eval/dev.jsonl] [--draws 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from classifiers import Example, Model, load_jsonl, load_seed, train
from classifiers.metrics import binary_metrics

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
VERDICT_WEIGHT = 3.0  # as monitor/training.py weighs analysts' verdicts
STEPS = (0, 20, 50, 100)
ROUND = 10  # uncertainty sampling retrains after every ROUND items


@dataclass(frozen=True)
class Point:
    k: int
    precision: float
    recall: float
    f1: float


def flag_metrics(model: Model, items: Sequence[Example]) -> tuple[float, float, float]:
    predictions = model.predict([(ex.title, ex.summary) for ex in items])
    truth = np.array([bool(ex.labels) for ex in items])
    flagged = np.array([p.flagged for p in predictions])
    m = binary_metrics(truth, flagged)
    return m["precision"], m["recall"], m["f1"]


def margins(model: Model, items: Sequence[Example]) -> list[float]:
    """Per item, the smallest distance between a label's score and that label's threshold."""
    predictions = model.predict([(ex.title, ex.summary) for ex in items])
    return [
        min(abs(p.scores[label] - model.thresholds[label]) for label in model.labels)
        for p in predictions
    ]


def fit(seed: list[Example], labelled: list[Example]) -> Model:
    verdicts = [replace(ex, weight=VERDICT_WEIGHT) for ex in labelled]
    model, _report = train(seed + verdicts)
    return model


def uncertainty_curve(seed: list[Example], pool: list[Example]) -> list[Point]:
    model = fit(seed, [])
    labelled: list[Example] = []
    rest = list(pool)
    points = []
    for k in STEPS:
        while len(labelled) < k:
            take = min(ROUND, k - len(labelled))
            order = np.argsort(margins(model, rest), kind="stable")[:take]
            chosen = set(int(i) for i in order)
            labelled += [rest[i] for i in sorted(chosen)]
            rest = [ex for i, ex in enumerate(rest) if i not in chosen]
            model = fit(seed, labelled)
        points.append(Point(k, *flag_metrics(model, rest)))
        print(f"  uncertainty k={k:3d}: flag F1 {points[-1].f1:.3f}", flush=True)
    return points


def random_curve(seed: list[Example], pool: list[Example], draws: int) -> list[Point]:
    points = []
    for k in STEPS:
        runs = []
        for draw in range(draws if k else 1):
            picked = set(random.Random(f"{k}:{draw}").sample(range(len(pool)), k))
            labelled = [ex for i, ex in enumerate(pool) if i in picked]
            rest = [ex for i, ex in enumerate(pool) if i not in picked]
            runs.append(flag_metrics(fit(seed, labelled), rest))
        p, r, f = (statistics.mean(column) for column in zip(*runs, strict=True))
        points.append(Point(k, p, r, f))
        print(f"  random      k={k:3d}: flag F1 {f:.3f} (mean of {len(runs)})", flush=True)
    return points


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="labelled JSON lines")
    parser.add_argument("--draws", type=int, default=3, help="random draws per k (mean)")
    args = parser.parse_args(argv)
    if not args.file.exists():
        sys.exit(f"{args.file}: not found (pass --file with a labelled JSON-lines file)")
    seed, pool = load_seed(), load_jsonl(args.file)
    print(f"seed corpus {len(seed)} examples; pool {len(pool)} labelled items from {args.file}")
    started = time.perf_counter()
    by_uncertainty = uncertainty_curve(seed, pool)
    at_random = random_curve(seed, pool, args.draws)
    print(f"\n{'k':>4}  {'uncertainty P / R / F1':>24}  {'random P / R / F1':>24}")
    for u, r in zip(by_uncertainty, at_random, strict=True):
        print(
            f"{u.k:>4}  {u.precision:6.3f} {u.recall:6.3f} {u.f1:6.3f}     "
            f"  {r.precision:6.3f} {r.recall:6.3f} {r.f1:6.3f}"
        )
    print(f"(flag metrics on the items not labelled; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
