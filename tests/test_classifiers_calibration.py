"""Calibrated probabilities, thresholds chosen for a target recall, and weighted verdicts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit

from classifiers import LABELS, Example, ModelError, cross_validate, train
from classifiers.calibration import MIN_SLOPE, fit_platt
from classifiers.corpus import label_matrix
from classifiers.thresholds import (
    best_f1_threshold,
    figures_at,
    target_recall_threshold,
)
from classifiers.training import DEFAULT_PARAMS, out_of_fold
from tests.conftest import PROBES

pytestmark = pytest.mark.filterwarnings("error")

TARGET = 0.95


@pytest.fixture(scope="module")
def trained(seed_training):
    return seed_training  # the defaults monitor train uses: 5 folds, seed 0, recall 0.95


@pytest.fixture(scope="module")
def model(trained):
    return trained[0]


@pytest.fixture(scope="module")
def report(trained):
    return trained[1]


@pytest.fixture(scope="module")
def oof(seed):
    """The out-of-fold logits and calibration train() computed, computed again."""
    return out_of_fold(seed, label_matrix(seed), DEFAULT_PARAMS, 5, 0)


# --- calibration ---------------------------------------------------------------------------


def test_scores_are_the_calibrated_sigmoid_of_the_logits(model, seed):
    pairs = [(ex.title, ex.summary) for ex in seed[::11]] + PROBES
    logits, scores = model.logits(pairs), model.scores(pairs)
    assert scores.shape == logits.shape == (len(pairs), len(LABELS))
    for j, label in enumerate(LABELS):
        a, b = model.calibration[label]
        assert a > 0
        np.testing.assert_allclose(scores[:, j], expit(a * logits[:, j] + b), rtol=0, atol=1e-15)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_calibration_is_monotone_in_the_logit_for_every_label(model):
    grid = np.linspace(-40, 40, 4001)
    probabilities = model.probabilities(np.repeat(grid[:, None], len(LABELS), axis=1))
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    for j in range(len(LABELS)):
        steps = np.diff(probabilities[:, j])
        assert (steps >= 0).all()
        # Strictly increasing wherever float64 can still tell the values apart.
        middle = (probabilities[:-1, j] > 1e-12) & (probabilities[1:, j] < 1 - 1e-12)
        assert (steps[middle] > 0).all()


def test_a_higher_logit_never_gets_a_lower_score_on_real_articles(model, seed):
    pairs = [(ex.title, ex.summary) for ex in seed]
    logits, scores = model.logits(pairs), model.scores(pairs)
    for j in range(len(LABELS)):
        order = np.argsort(logits[:, j], kind="stable")
        assert (np.diff(scores[order, j]) >= 0).all()


def test_calibration_is_fitted_on_out_of_fold_logits(model, report, oof, seed):
    truth = label_matrix(seed)
    for j, label in enumerate(LABELS):
        assert model.calibration[label] == oof.calibration[label]
        assert report.calibration[label] == dict(zip("ab", oof.calibration[label], strict=True))
        # Calibrated: on the data it was fitted on, the mean probability is the positive rate
        # (Platt's smoothed targets shift it by less than 1/N).
        assert oof.scores[:, j].mean() == pytest.approx(truth[:, j].mean(), abs=0.01)


def test_platt_scaling_recovers_a_known_sigmoid():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, 20_000)
    y = rng.random(z.size) < expit(0.5 * z - 1.0)
    a, b = fit_platt(z, y)
    assert a == pytest.approx(0.5, abs=0.03)
    assert b == pytest.approx(-1.0, abs=0.06)


def test_platt_weights_count_like_repeated_examples():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 300)
    y = rng.random(300) < expit(z)
    weights = rng.integers(1, 4, 300)
    repeated = fit_platt(np.repeat(z, weights), np.repeat(y, weights))
    assert fit_platt(z, y, weights.astype(float)) == pytest.approx(repeated, rel=1e-6)
    assert fit_platt(z, y) != pytest.approx(repeated, rel=1e-3)


def test_platt_slope_stays_positive_for_a_label_the_logits_get_backwards():
    z = np.arange(20.0)
    y = z < 10  # higher logit, fewer positives
    a, b = fit_platt(z, y)
    assert a == MIN_SLOPE
    assert np.isfinite(b)
    assert fit_platt(z, np.zeros(20, bool)) == (1.0, 0.0)  # nothing to fit: identity


# --- thresholds ----------------------------------------------------------------------------


def test_thresholds_reach_the_target_recall_out_of_fold(model, report, oof, seed):
    truth = label_matrix(seed).astype(bool)
    scores = oof.scores
    assert report.rule == "target_recall" and report.target_recall == TARGET
    for j, label in enumerate(LABELS):
        threshold = model.thresholds[label]
        assert report.thresholds[label]["threshold"] == threshold
        called = scores[:, j] >= threshold
        recall = (called & truth[:, j]).sum() / truth[:, j].sum()
        precision = (called & truth[:, j]).sum() / called.sum()
        assert recall >= TARGET
        assert report.thresholds[label]["recall"] == pytest.approx(recall)
        assert report.thresholds[label]["precision"] == pytest.approx(precision)
        # The highest such threshold: the next distinct score up loses recall.
        above = np.unique(scores[:, j][scores[:, j] >= threshold])
        if len(above) > 1:
            stricter = scores[:, j] >= above[1]
            assert (stricter & truth[:, j]).sum() / truth[:, j].sum() < TARGET


def test_the_target_recall_is_recorded_in_the_model(model, report):
    assert model.metadata["target_recall"] == TARGET
    assert model.metadata["threshold_rule"] == "target_recall"
    cv = model.metadata["cv"]
    assert cv["thresholds"] == report.thresholds
    assert set(cv["per_lang"]) == {"en", "ja", "ko", "zh"}
    assert set(cv["per_label"]) == set(LABELS)


def test_cross_validated_decisions_recall_about_the_target(report):
    # Each fold is cut at thresholds chosen on the others, so recall only comes close to 0.95.
    for label in LABELS:
        assert report.per_label[label]["recall"] >= TARGET - 0.03, (label, report.per_label)
    assert report.flag["recall"] >= TARGET


def test_a_higher_target_recall_lowers_every_threshold(seed):
    usual, stricter = (cross_validate(seed, folds=2, target_recall=t) for t in (TARGET, 0.99))
    for label in LABELS:
        assert stricter.thresholds[label]["threshold"] < usual.thresholds[label]["threshold"]
        assert stricter.thresholds[label]["recall"] >= 0.99
    assert stricter.flag["recall"] >= usual.flag["recall"]


@pytest.mark.parametrize(
    ("truth", "scores", "target", "expected"),
    [
        # 4 positives: recall 0.75 needs the top 3 positives, so the cut goes below 0.7.
        ([1, 1, 0, 1, 0, 1], [0.9, 0.8, 0.75, 0.7, 0.4, 0.2], 0.75, 0.55),
        ([1, 1, 0, 1, 0, 1], [0.9, 0.8, 0.75, 0.7, 0.4, 0.2], 1.0, 0.1),
        ([1, 1, 0, 1, 0, 1], [0.9, 0.8, 0.75, 0.7, 0.4, 0.2], 0.5, 0.775),
        # A cut never splits equal scores: the tie at 0.5 is taken whole.
        ([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1], 1.0, 0.3),
        # 19 of 20 is 0.95 exactly, despite floating point.
        ([1] * 20 + [0], [*np.linspace(1, 0.05, 20), 0.01], 0.95, (0.1 + 0.05) / 2),
    ],
)
def test_target_recall_threshold(truth, scores, target, expected):
    got = target_recall_threshold(np.array(truth), np.array(scores), target)
    assert got == pytest.approx(expected)
    assert figures_at(np.array(truth), np.array(scores), got)["recall"] >= target


def test_threshold_weights_count_like_repeated_examples():
    rng = np.random.default_rng(2)
    scores, truth = rng.random(200), rng.random(200) < 0.4
    weights = rng.integers(1, 4, 200)
    repeated = (np.repeat(truth, weights), np.repeat(scores, weights))
    weighted = target_recall_threshold(truth, scores, 0.9, weights.astype(float))
    assert weighted == pytest.approx(target_recall_threshold(*repeated, 0.9))
    assert best_f1_threshold(truth, scores, weights.astype(float)) == pytest.approx(
        best_f1_threshold(*repeated)
    )


@pytest.mark.parametrize("target", [0.0, 1.5, -0.1, True])
def test_a_target_recall_outside_0_1_is_refused(seed, target):
    with pytest.raises(ModelError, match="target recall"):
        train(seed[:50], target_recall=target)


# --- analyst verdicts ----------------------------------------------------------------------

VERDICTS = [
    # An analyst marks a story the seed model misses (it names no country and no "repatriation")
    # as repatriation...
    Example(
        "Families of the five detained in Shenyang hold vigil in Seoul",
        "Relatives fear the group will be put on a train to Sinuiju within days.",
        frozenset({"defectors", "repatriation"}),
        lang="en",
        id="verdict-1",
    ),
    # ... and a flagged story as not relevant.
    Example(
        "Defector-turned-chef opens second restaurant in Busan",
        "The menu draws on recipes from the chef's childhood in Hamhung, which customers queue for.",
        frozenset(),
        lang="en",
        id="verdict-2",
    ),
]


def score_of(model, example: Example, label: str) -> float:
    return float(model.scores([(example.title, example.summary)])[0, LABELS.index(label)])


@pytest.fixture(scope="module")
def retrained(seed):
    """Models trained on the seed corpus alone, and with both verdicts weighing 1 and 3."""
    return {
        weight: train([*seed, *(replace(v, weight=weight) for v in VERDICTS)], folds=2)[0]
        for weight in (1.0, 3.0)
    } | {0.0: train(seed, folds=2)[0]}


@pytest.mark.parametrize(
    ("verdict", "label", "direction"),
    [(VERDICTS[0], "repatriation", +1), (VERDICTS[1], "defectors", -1)],
    ids=["positive", "negative"],
)
def test_a_weighted_verdict_moves_the_next_model_its_way(retrained, verdict, label, direction):
    before, once, weighted = (score_of(retrained[w], verdict, label) for w in (0.0, 1.0, 3.0))
    assert direction * (once - before) > 0, (before, once, weighted)
    assert direction * (weighted - once) > 0, (before, once, weighted)  # weight 3 counts more
    assert len({model.version for model in retrained.values()}) == 3
    threshold = retrained[3.0].thresholds[label]
    assert (weighted >= threshold) == (direction > 0), (weighted, threshold)


def test_weights_reach_cross_validation_and_calibration(seed):
    """Weighting the border positives changes the out-of-fold logits and their calibration."""
    truth = label_matrix(seed)
    plain = out_of_fold(seed, truth, DEFAULT_PARAMS, 2, 0)
    border = [replace(ex, weight=3.0 if "border" in ex.labels else 1.0) for ex in seed]
    skewed = out_of_fold(border, truth, DEFAULT_PARAMS, 2, 0)
    j = LABELS.index("border")
    assert np.abs(skewed.logits[:, j] - plain.logits[:, j]).max() > 0.1
    assert skewed.calibration["border"] != pytest.approx(plain.calibration["border"], rel=1e-3)
    # The other labels' fits see the same examples with other weights, so they move too.
    assert not np.array_equal(skewed.logits, plain.logits)
