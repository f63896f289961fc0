"""Platt scaling: calibrated probability = sigmoid(a * logit + b), with a > 0.

Fitted per label on the out-of-fold logits of cross-validation (each example scored by a model
that never saw it), so the probabilities describe how often an unseen article with that logit is
relevant rather than how sure the model is about its own training data. The logistic regressions
are trained with balanced class weights, which inflates the positive class's logits; calibration
undoes that too.

Why Platt rather than isotonic regression: two numbers per label are easy to store and audit,
the map is strictly increasing (a > 0), so it never reorders articles and never creates ties, and
with a few hundred positives per label isotonic steps would mostly fit noise.

Targets follow Platt (1999): (N+ + 1) / (N+ + 2) for positives and 1 / (N- + 2) for negatives,
rather than 1 and 0, so that a separable label does not drive a to infinity. Example weights
(analyst verdicts weigh more) multiply each example's log-loss term and count in N+ and N-.

Needs numpy only: applying a calibration is part of scoring a loaded model.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

# The smallest slope accepted, so that calibration stays strictly increasing even for a label the
# model cannot rank at all (whose fitted slope would be about 0 or negative).
MIN_SLOPE = 1e-3
IDENTITY = (1.0, 0.0)


def fit_platt(
    logits: np.ndarray, truth: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """(a, b) minimising the weighted log-loss of sigmoid(a * logits + b) against Platt's targets.

    Newton's method with step halving on the two parameters; the loss is convex in (a, b). If the
    best slope is below MIN_SLOPE, a is fixed at MIN_SLOPE and only b is fitted.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(truth, dtype=bool)
    w = np.ones_like(z) if weights is None else np.asarray(weights, dtype=np.float64)
    if z.shape != y.shape or z.shape != w.shape or z.ndim != 1:
        raise ValueError("logits, truth and weights must be 1-d arrays of the same length")
    positives, negatives = w[y].sum(), w[~y].sum()
    if positives == 0 or negatives == 0:
        return IDENTITY
    target = np.where(y, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    a, b = newton(z, target, w, a=1.0, b=0.0, fit_slope=True)
    if a < MIN_SLOPE:
        a, b = newton(z, target, w, a=MIN_SLOPE, b=b, fit_slope=False)
    return float(a), float(b)


def newton(
    z: np.ndarray, t: np.ndarray, w: np.ndarray, *, a: float, b: float, fit_slope: bool
) -> tuple[float, float]:
    def loss(a: float, b: float) -> float:
        f = a * z + b
        # -[t log p + (1 - t) log(1 - p)] with p = sigmoid(f), written to avoid overflow.
        return float(np.sum(w * (np.logaddexp(0.0, f) - t * f)))

    current = loss(a, b)
    for _ in range(100):
        p = expit(a * z + b)
        r = w * (p - t)
        h = w * p * (1 - p)
        g_a, g_b = float(r @ z), float(r.sum())
        h_aa, h_ab, h_bb = float(h @ (z * z)), float(h @ z), float(h.sum())
        if fit_slope:
            det = h_aa * h_bb - h_ab * h_ab + 1e-12
            step_a = (h_bb * g_a - h_ab * g_b) / det
            step_b = (h_aa * g_b - h_ab * g_a) / det
        else:
            step_a, step_b = 0.0, g_b / (h_bb + 1e-12)
        scale = 1.0
        while scale > 1e-10:
            new_a, new_b = a - scale * step_a, b - scale * step_b
            new = loss(new_a, new_b)
            if new <= current:
                break
            scale /= 2
        else:
            break
        converged = abs(current - new) <= 1e-12 * max(1.0, abs(current))
        a, b, current = new_a, new_b, new
        if converged:
            break
    return a, b


def calibrate(logits: np.ndarray, slopes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """sigmoid(slopes * logits + offsets), column j of logits with slopes[j] and offsets[j]."""
    return expit(np.asarray(logits) * slopes + offsets)
