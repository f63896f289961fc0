from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from classifiers import (
    LABELS,
    Example,
    KeywordClassifier,
    ModelError,
    Prediction,
    cross_validate,
    evaluate,
    format_report,
    load_jsonl,
    load_seed,
    train,
)
from classifiers.thresholds import best_f1_threshold
from classifiers.training import DEFAULT_PARAMS

pytestmark = pytest.mark.filterwarnings("error")

ROOT = Path(__file__).parents[1]
LABELLED = ROOT / "tests" / "data" / "labelled.jsonl"
NOW = datetime(2026, 11, 29, 10, 15, 0, tzinfo=UTC)

# Floors sit about 0.03 below the figures measured when they were pinned: cross-validation on the
# seed corpus (1,854 examples, 5 folds, seed 0, thresholds for recall 0.95) and the labelled set
# written for the tests (80 items, never trained on). The corpus has since gained hard negatives
# that mention defectors in passing (seed_gaps8), which cross-validation finds harder: with
# 3,429 examples it measures defectors 0.947, repatriation 0.957, border 0.928, flag 0.958.
CV_F1_FLOORS = {
    "defectors": 0.94,  # measured 0.966 with 1,854 examples
    "repatriation": 0.93,  # measured 0.958
    "border": 0.89,  # measured 0.922
    "flag": 0.945,  # measured 0.973
}
LABELLED_FLAG_F1_FLOOR = 0.95  # measured 1.000 (keyword baseline: 0.918)


@pytest.fixture(scope="module")
def seed() -> list[Example]:
    return load_seed()


@pytest.fixture(scope="module")
def trained(seed):
    return train(seed, folds=5, seed=0, now=NOW)


@pytest.fixture(scope="module")
def model(trained):
    return trained[0]


@pytest.fixture(scope="module")
def report(trained):
    return trained[1]


RELEVANT = [
    (
        "North Korean defector family reaches Seoul after escaping through China and Laos",
        "A broker helped the five escapees cross the Mekong before they were handed to the "
        "South Korean embassy.",
        "defectors",
    ),
    (
        "China forcibly repatriates dozens of North Korean escapees despite UN appeals",
        "Rights groups said the detainees were sent back across the border and face torture "
        "in North Korean prison camps.",
        "repatriation",
    ),
    (
        "North Korea orders guards to shoot anyone approaching the Chinese border",
        "New fences and surveillance cameras have been installed along the Yalu and Tumen "
        "rivers to stop crossings and smuggling.",
        "border",
    ),
    (
        "탈북민 일가족 제3국 거쳐 국내 입국",
        "중국에 숨어 지내던 탈북민 가족이 브로커의 도움으로 라오스를 거쳐 한국에 도착했다.",
        "defectors",
    ),
    (
        "중국, 구금 중이던 탈북민 수백 명 강제북송",
        "인권단체들은 북송된 탈북민들이 보위부 조사와 수감 등 가혹한 처벌을 받을 것이라고 우려했다.",
        "repatriation",
    ),
    (
        "中国将数百名脱北者强制遣返朝鲜",
        "人权组织表示，被遣返的脱北者回国后将面临酷刑和劳改营关押。",
        "repatriation",
    ),
    (
        "朝鲜加强中朝边境警戒 增设铁丝网和监控摄像头",
        "消息人士称，朝鲜边防部队奉命严厉打击越境和走私行为。",
        "border",
    ),
    (
        "脱北者の家族、第三国経由で韓国に到着",
        "中国に潜伏していた脱北者の一家がブローカーの手引きでラオスを経て韓国入りした。",
        "defectors",
    ),
    (
        "中国、拘束中の脱北者数百人を北朝鮮へ強制送還",
        "人権団体は送還された人々が拷問や収容所送りの危険にさらされると警告した。",
        "repatriation",
    ),
]

IRRELEVANT = [
    (
        "Stock market closes higher as chipmakers rally",
        "Investors bought technology shares after strong quarterly earnings and a drop in bond yields.",
    ),
    (
        "North Korea test-fires ballistic missile into the sea",
        "The missile flew about 600 km before landing outside Japan's exclusive economic zone, "
        "the defence ministry said.",
    ),
    (
        "코스피, 반도체 강세에 2% 상승 마감",
        "외국인과 기관 투자자들이 대형 반도체주를 대거 순매수했다.",
    ),
    (
        "북한, 동해상으로 탄도미사일 발사",
        "합동참모본부는 북한이 오늘 오전 동해상으로 단거리 탄도미사일 1발을 발사했다고 밝혔다.",
    ),
]


# The story's words about something else, as ordinary news uses them every day. A model that
# learnt them as North Korea words scored the first 0.36 (commit 617ede0); now 0.04.
ORDINARY = [
    (
        "No escape for drug-resistant lung tumours, mouse study suggests",
        "Cancers that escaped immunotherapy in earlier trials lost their defence when researchers"
        " blocked a single enzyme, the team reported.",
    ),
    (
        "Thousands flee as wildfire jumps motorway near Valencia",
        "Residents fled their homes overnight and the regional government opened sports halls"
        " for those who escaped the flames.",
    ),
    (
        "Backbench MP defects to rival party on eve of budget vote",
        "The defection cuts the government's majority to four; the MP said she had fled a party"
        " that no longer listened to its voters.",
    ),
    (
        "러시아 반정부 성향 기자, 라트비아에 망명 신청",
        "크렘린 비판 보도로 수배된 기자가 가족과 함께 리가에 도착해 난민 지위를 신청했다.",
    ),
]
ORDINARY_SCORE_CEILING = 0.25


def test_seed_corpus_covers_every_label_and_language(seed):
    assert {label for ex in seed for label in ex.labels} == set(LABELS)
    assert {ex.lang for ex in seed} >= {"en", "ko", "zh", "ja"}
    assert any(not ex.labels for ex in seed)


@pytest.mark.parametrize(("title", "summary", "label"), RELEVANT, ids=lambda v: str(v)[:24])
def test_obviously_relevant_items_are_flagged_with_their_label(model, title, summary, label):
    [prediction] = model.predict([(title, summary)])
    assert prediction.flagged
    assert label in prediction.labels, prediction.scores


@pytest.mark.parametrize(("title", "summary"), IRRELEVANT, ids=lambda v: str(v)[:24])
def test_obvious_negatives_are_not_flagged(model, title, summary):
    [prediction] = model.predict([(title, summary)])
    assert not prediction.flagged, prediction.scores


@pytest.mark.parametrize(("title", "summary"), ORDINARY, ids=lambda v: str(v)[:24])
def test_ordinary_news_using_the_storys_words_scores_low(model, title, summary):
    [prediction] = model.predict([(title, summary)])
    assert max(prediction.scores.values()) < ORDINARY_SCORE_CEILING, prediction.scores


def test_prediction_shape(model):
    predictions = model.predict([RELEVANT[0][:2], IRRELEVANT[0]])
    assert [type(p) for p in predictions] == [Prediction, Prediction]
    for prediction in predictions:
        assert set(prediction.scores) == set(LABELS)
        assert all(0.0 <= s <= 1.0 for s in prediction.scores.values())
        assert prediction.flagged == bool(prediction.labels)
        passed = {label for label in LABELS if prediction.scores[label] >= model.thresholds[label]}
        assert set(prediction.labels) == passed
    assert model.predict([]) == []


def test_model_version_and_metadata(model, seed):
    assert re.fullmatch(r"20261129T101500Z-[0-9a-f]{6}", model.version)
    assert model.labels == LABELS
    assert set(model.thresholds) == set(LABELS)
    assert model.metadata["counts"]["examples"] == len(seed)
    assert model.metadata["created"] == "2026-11-29T10:15:00+00:00"
    assert set(model.metadata["cv"]["per_label"]) == set(LABELS)


def test_explain_names_the_terms_behind_a_score(model):
    explained = model.explain("North Korean defectors forcibly repatriated by China", "")
    assert set(explained) == set(LABELS)
    assert explained["repatriation"]
    assert all(weight > 0 for _, weight in explained["repatriation"])


def test_cross_validated_f1_meets_the_floor(report, seed):
    assert report.n_examples == len(seed)
    assert report.folds == 5
    for label in LABELS:
        assert report.per_label[label]["f1"] >= CV_F1_FLOORS[label], (label, report.per_label)
    assert report.flag["f1"] >= CV_F1_FLOORS["flag"], report.flag


def test_the_keyword_view_earns_its_place_in_cross_validation(report, seed):
    """Kept because it helps the flag. On 1,854 seed examples: flag F1 0.973 with it, 0.950
    without. On 2,256 (more examples written without the keywords' words): flag 0.962 / 0.959,
    defectors 0.962 / 0.954, repatriation 0.951 / 0.945, but border 0.910 / 0.918."""
    params = {**DEFAULT_PARAMS, "features": {**DEFAULT_PARAMS["features"], "keywords": ()}}
    without = cross_validate(seed, folds=5, seed=0, params=params)
    assert report.flag["f1"] > without.flag["f1"], (report.flag, without.flag)
    for label in ("defectors", "repatriation"):
        assert report.per_label[label]["f1"] > without.per_label[label]["f1"], label


def test_flag_f1_on_the_labelled_set_meets_the_floor(model):
    result = evaluate(model, load_jsonl(LABELLED))
    assert result["flag"]["f1"] >= LABELLED_FLAG_F1_FLOOR, format_report(result)


def test_training_needs_positive_examples_of_every_label():
    examples = [Example(f"title {i}", "summary", frozenset({"defectors"})) for i in range(10)]
    with pytest.raises(ModelError, match="'repatriation' has 0 positive examples"):
        train(examples, folds=2)


@pytest.mark.parametrize(
    ("title", "summary", "labels"),
    [
        ("North Korean defectors arrive in Seoul", "", ("defectors",)),
        ("China repatriates North Koreans", "They were sent across the border.", LABELS[1:]),
        ("탈북민 3명 입국", "통일부가 밝혔다.", ("defectors",)),
        ("중국, 탈북민 강제북송", "", ("defectors", "repatriation")),
    ],
)
def test_keyword_classifier_flags_keyword_hits(title, summary, labels):
    [prediction] = KeywordClassifier().predict([(title, summary)])
    assert prediction.flagged
    assert prediction.labels == labels


def test_keyword_classifier_needs_a_north_korea_term():
    [prediction] = KeywordClassifier().predict(
        [("Afghan refugees deported at the Pakistan border", "Thousands were repatriated.")]
    )
    assert not prediction.flagged
    assert prediction.scores == dict.fromkeys(LABELS, 0.0)
    assert KeywordClassifier.version == "keywords-1"


class FixedPredictor:
    version = "fixed"

    def __init__(self, answers: dict[str, tuple[str, ...]]) -> None:
        self.answers = answers

    def predict(self, texts):
        return [
            Prediction(
                scores={label: float(label in self.answers[title]) for label in LABELS},
                labels=self.answers[title],
                flagged=bool(self.answers[title]),
            )
            for title, _ in texts
        ]


def hand_example(title: str, labels: set[str], lang: str) -> Example:
    return Example(title=title, summary="", labels=frozenset(labels), lang=lang)


def test_evaluate_counts_match_hand_computed_values():
    examples = [
        hand_example("a", {"defectors"}, "en"),
        hand_example("b", {"defectors", "repatriation"}, "ko"),
        hand_example("c", set(), "en"),
        hand_example("d", {"border"}, "zh"),
        hand_example("e", set(), "en"),
    ]
    predictor = FixedPredictor(
        {"a": ("defectors",), "b": ("repatriation",), "c": ("border",), "d": (), "e": ()}
    )
    result = evaluate(predictor, examples)
    assert result["n_examples"] == 5
    assert result["version"] == "fixed"
    assert result["per_label"]["defectors"] == {
        "precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2,
        "tp": 1, "fp": 0, "fn": 1, "tn": 3,
    }  # fmt: skip
    assert result["per_label"]["repatriation"] == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1,
        "tp": 1, "fp": 0, "fn": 0, "tn": 4,
    }  # fmt: skip
    assert result["per_label"]["border"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1,
        "tp": 0, "fp": 1, "fn": 1, "tn": 3,
    }  # fmt: skip
    assert result["flag"] == {
        "precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(2 / 3), "support": 3,
        "tp": 2, "fp": 1, "fn": 1, "tn": 1,
    }  # fmt: skip
    per_lang = result["per_lang"]
    assert sorted(per_lang) == ["en", "ko", "zh"]
    assert (per_lang["en"]["tp"], per_lang["en"]["fp"], per_lang["en"]["tn"]) == (1, 1, 1)
    assert per_lang["en"]["precision"] == 0.5
    assert per_lang["en"]["f1"] == pytest.approx(2 / 3)
    assert per_lang["ko"]["f1"] == 1.0
    assert (per_lang["zh"]["fn"], per_lang["zh"]["f1"]) == (1, 0.0)


def test_format_report_is_an_aligned_table():
    result = evaluate(
        FixedPredictor({"a": ("defectors",)}), [hand_example("a", {"defectors"}, "en")]
    )
    text = format_report(result, title="tiny")
    lines = text.splitlines()
    assert lines[0] == "tiny"
    assert lines[1].split() == ["precision", "recall", "f1", "support", "tp", "fp", "fn", "tn"]
    assert [line.split()[0] for line in lines[2:]] == [*LABELS, "flag", "lang"]
    assert lines[2].split()[1:] == ["1.000", "1.000", "1.000", "1", "1", "0", "0", "0"]
    assert len({len(line) for line in lines[1:]}) == 1


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def record(**fields) -> str:
    base = {"id": "x1", "lang": "en", "title": "A title", "summary": "A lede.", "labels": []}
    return json.dumps({**base, **fields}, ensure_ascii=False)


def test_load_jsonl_reads_examples_and_ignores_extra_keys(tmp_path):
    path = write_lines(
        tmp_path / "items.jsonl",
        [record(labels=["border"], source="x", relevant=True), "", record(id="x2", weight=3)],
    )
    examples = load_jsonl(path)
    assert examples == [
        Example("A title", "A lede.", frozenset({"border"}), lang="en", id="x1"),
        Example("A title", "A lede.", frozenset(), lang="en", weight=3.0, id="x2"),
    ]
    assert examples[0].text == "A title\nA lede."


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("{not json", "invalid JSON"),
        (record(labels=["missiles"]), "unknown label 'missiles'"),
        (record(title=""), "'title' must be a non-empty string"),
        (record(weight=-1), "'weight' must be a positive number"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_load_jsonl_reports_path_and_line_of_a_bad_line(tmp_path, bad_line, reason):
    path = write_lines(tmp_path / "bad.jsonl", [record(), "", bad_line, record()])
    with pytest.raises(ModelError) as caught:
        load_jsonl(path)
    assert str(caught.value).startswith(f"{path}:3: {reason}")


def test_load_jsonl_missing_file(tmp_path):
    with pytest.raises(ModelError, match="cannot read"):
        load_jsonl(tmp_path / "absent.jsonl")


def test_threshold_maximises_f1_halfway_to_the_next_score():
    truth = np.array([1, 1, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.2])
    # Taking the top 4 gives F1 = 2*3 / (4 + 3) = 0.857, the best cut; halfway to 0.2 is 0.4.
    assert best_f1_threshold(truth, scores) == pytest.approx(0.4)


def test_threshold_never_splits_equal_scores():
    truth = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.5, 0.5, 0.1])
    # Cutting between the two 0.5s is impossible; keeping both (F1 0.8) beats 0.9 alone (0.667).
    assert best_f1_threshold(truth, scores) == pytest.approx(0.3)


def test_classifiers_import_neither_monitor_nor_storage():
    code = (
        "import sys, classifiers\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('monitor', 'storage')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_train_report_prints_its_thresholds_after_the_metrics(report):
    lines = format_report(report.as_dict(), "cv").splitlines()
    at = lines.index("thresholds for out-of-fold recall >= 0.95")
    assert lines[at + 1].split() == ["threshold", "precision", "recall"]
    for label, line in zip(LABELS, lines[at + 2 :], strict=True):
        figures = report.thresholds[label]
        expected = [label, *(f"{figures[c]:.3f}" for c in ("threshold", "precision", "recall"))]
        assert line.split() == expected
    assert "thresholds" not in format_report({"per_label": report.per_label, "flag": report.flag})
