"""Classifier speed on one core: scoring articles/s with a saved model, and retraining time.

Scoring: the model trained on the seed corpus is saved and loaded as the daemon's parse workers
load it (no scikit-learn), then scores the feed farm's English stories (HTML reduced to text,
about 470 characters of its default text) and the seed corpus's Korean, Chinese and Japanese
items, in batches of 45 (one feed) and of 1,000. Retraining: `classifiers.train`
(cross-validation, calibration, thresholds and the final fit) on 5,000 examples, the seed corpus
plus farm stories labelled by the keyword baseline (silver labels: only the timing matters here).

    python benchmarks/classifier_speed.py [--articles 20000] [--train-examples 5000]
"""

from __future__ import annotations

import os

# One core: numpy's BLAS must not spread the work over threads (set before numpy loads).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from itertools import islice  # noqa: E402
from pathlib import Path  # noqa: E402

from farm_news import make_story  # noqa: E402

from classifiers import (  # noqa: E402
    Example,
    KeywordClassifier,
    load_model,
    load_seed,
    save_model,
    train,
)
from monitor.text import html_to_text  # noqa: E402

Pair = tuple[str, str]


def farm_pairs(count: int) -> list[Pair]:
    stories = (make_story(7, feed, n, 25, 1.7e9) for feed in range(10_000) for n in range(45))
    return [(s.title, html_to_text(s.html)) for s in islice(stories, count)]


def per_second(score: object, pairs: list[Pair], batch: int) -> float:
    started = time.process_time()
    for i in range(0, len(pairs), batch):
        score(pairs[i : i + batch])  # type: ignore[operator]
    return len(pairs) / (time.process_time() - started)


def silver_examples(count: int) -> list[Example]:
    seed = load_seed()
    pairs = farm_pairs(max(0, count - len(seed)))
    baseline = KeywordClassifier().predict(pairs)
    farm = [
        Example(title=t, summary=s, labels=frozenset(p.labels), lang="en", id=f"farm-{i}")
        for i, ((t, s), p) in enumerate(zip(pairs, baseline, strict=True))
    ]
    return (seed + farm)[:count]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="English articles scored")
    parser.add_argument("--train-examples", type=int, default=5_000)
    args = parser.parse_args(argv)
    python = platform.python_version()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, CPython {python}")

    seed = load_seed()
    model, _ = train(seed)
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(save_model(model, Path(tmp)))
    english = farm_pairs(args.articles)
    cjk = [(ex.title, ex.summary) for ex in seed if ex.lang in ("ko", "zh", "ja")] * 10
    model.predict(english[:100])  # first call builds the lookup tables
    for name, pairs in (("English farm stories", english), ("ko/zh/ja seed items", cjk)):
        for batch in (45, 1000):
            rate = per_second(model.predict, pairs, batch)
            print(f"scoring {name}, batches of {batch:>4}: {rate:8,.0f} articles/s (one core)")

    examples = silver_examples(args.train_examples)
    started, cpu = time.perf_counter(), time.process_time()
    _model, report = train(examples)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"retraining on {len(examples):,} examples ({len(seed):,} seed + farm stories):"
        f" {wall:.1f} s wall, {cpu:.1f} CPU-s; CV flag F1 {report.flag['f1']:.3f}"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
