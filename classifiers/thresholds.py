"""Choosing a per-label decision threshold from out-of-fold calibrated scores.

The rule is a target recall (default 0.95, set per deployment): each label's threshold is the
highest one at which the out-of-fold recall on the training data is at least the target. The two
errors do not cost the same. A missed story about a group about to be repatriated is the failure
the monitor exists to prevent, and nobody sees it happen; an extra item in the queue costs an
analyst a few seconds and is visible. So the recall is fixed up front, as an explicit promise the
operator can read and change, and precision is what the model earns at that recall (reported next
to each threshold, so a drop shows). Best F1 treats the two errors alike and lets the recall float
with whatever the corpus happens to reward; it is kept (``best_f1_threshold``, rule "best_f1") for
comparison.

The scores are the calibrated probabilities of cross-validation, each example scored by a model
that did not see it, so the recall reached on them estimates the recall on new articles like the
training data. Real feeds differ from any training corpus, so read the target as an upper
estimate: recall on real news is lower when its wording drifts from the corpus (the dev set
measures by how much).

Cuts lie halfway between consecutive distinct scores, so an unseen article scoring a little below
the weakest accepted example still passes, and a cut never splits equal scores. Example weights
(analyst verdicts weigh more) count in the recall and precision, as they do in training.
"""

from __future__ import annotations

import numpy as np

# Used when a label has no positive example to learn a threshold from.
DEFAULT_THRESHOLD = 0.5
DEFAULT_TARGET_RECALL = 0.95
RULES = ("target_recall", "best_f1")


def ranked(
    truth: np.ndarray, scores: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores high to low, with each one's weighted true-positive and total counts so far,
    and whether a cut is possible right after it (after the last of a run of equal scores)."""
    truth = np.asarray(truth, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    tp = np.cumsum(weights[order] * truth[order])
    taken = np.cumsum(weights[order])
    cuttable = np.append(ordered[1:] < ordered[:-1], True)
    return ordered, tp, taken, cuttable


def cut_after(ordered: np.ndarray, index: int) -> float:
    below = ordered[index + 1] if index + 1 < len(ordered) else 0.0
    return float((ordered[index] + below) / 2)


def target_recall_threshold(
    truth: np.ndarray,
    scores: np.ndarray,
    target: float = DEFAULT_TARGET_RECALL,
    weights: np.ndarray | None = None,
) -> float:
    """The highest threshold whose (weighted) recall on these scores is >= target."""
    check_target(target)
    truth = np.asarray(truth, dtype=bool)
    if not truth.any():
        return DEFAULT_THRESHOLD
    ordered, tp, _taken, cuttable = ranked(truth, scores, weights)
    positives = tp[-1]
    # A relative tolerance, so that 19/20 reaches 0.95 despite rounding.
    reached = cuttable & (tp >= target * positives * (1 - 1e-12))
    return cut_after(ordered, int(np.flatnonzero(reached)[0]))


def best_f1_threshold(
    truth: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """The threshold that maximises (weighted) F1 when every score >= it is called positive.

    Among cuts with equal F1 the lowest wins: a missed story costs the analyst more than one
    extra item to dismiss.
    """
    truth = np.asarray(truth, dtype=bool)
    if not truth.any():
        return DEFAULT_THRESHOLD
    ordered, tp, taken, cuttable = ranked(truth, scores, weights)
    f1 = 2 * tp / (taken + tp[-1])
    f1 = np.where(cuttable, f1, -1.0)
    best = np.flatnonzero(f1 == f1.max())[-1]
    return cut_after(ordered, int(best))


def choose_threshold(
    truth: np.ndarray,
    scores: np.ndarray,
    *,
    rule: str = "target_recall",
    target: float = DEFAULT_TARGET_RECALL,
    weights: np.ndarray | None = None,
) -> float:
    if rule == "target_recall":
        return target_recall_threshold(truth, scores, target, weights)
    if rule == "best_f1":
        return best_f1_threshold(truth, scores, weights)
    raise ValueError(f"unknown threshold rule {rule!r} (expected one of {', '.join(RULES)})")


def figures_at(
    truth: np.ndarray, scores: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Weighted precision, recall and F1 of calling scores >= threshold positive."""
    truth = np.asarray(truth, dtype=bool)
    weights = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=np.float64)
    called = np.asarray(scores) >= threshold
    tp = float(weights[truth & called].sum())
    precision = tp / float(weights[called].sum()) if called.any() else 0.0
    recall = tp / float(weights[truth].sum()) if truth.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": float(threshold), "precision": precision, "recall": recall, "f1": f1}


def check_target(target: float) -> None:
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1:
        raise ValueError(f"target recall must be a number in (0, 1], got {target!r}")
