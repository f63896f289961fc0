"""The keyword view: the analyst's alert terms and their conjunctions as 0/1 features."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from classifiers import load_seed
from classifiers.features import TextFeatures
from classifiers.fields import field_texts
from classifiers.keyword_features import (
    DEFAULT_FEATURES,
    DEFAULT_GROUPS,
    KeywordFeatures,
    loose_pattern,
)
from classifiers.training import title_summary

pytestmark = pytest.mark.filterwarnings("error")

EDGE_CASES = [
    ("", ""),
    ("North\nKorea", "defectors"),  # \s+ spans the line break between title and summary
    ("NORTH KOREAN DEFECTORS", "REPATRIATED"),
    ("ＮＯＲＴＨ　ＫＯＲＥＡ", "ｂｏｒｄｅｒ"),  # full-width, folded by NFKC
    ("baffled north korea", "scoffed"),  # "fled" inside words is not "fled"
    ("north korea", "fled\x00border"),  # a NUL does not split or join articles
    ("Kim Jong-un", "deported"),
    ("Pyongyang", "the borderline case"),
    ("탈북민", ""),  # one word, both "North Korea" and "defect"
    ("북한 국경", "두만강"),
    ("朝鲜边境", "遣返"),
    ("北朝鮮", "国境 送還"),
    ("dprk", "undprk-ish refoulement"),
    ("North Korean family arrested", "in Kunming"),
    ("北朝鮮", "脱北者を拘束"),
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    pairs = title_summary(load_seed()) + EDGE_CASES
    return field_texts(pairs)["text"]


def reference(texts: list[str], features: tuple[str, ...]) -> np.ndarray:
    """The keyword alert's own way: each group searched case-insensitively in each article."""
    groups = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in DEFAULT_GROUPS.items()}
    hits = {name: np.array([bool(g.search(t)) for t in texts]) for name, g in groups.items()}
    return np.column_stack(
        [np.logical_and.reduce([hits[g] for g in feature.split("&")]) for feature in features]
    )


ALL = ("nk", "defect", "repat", "border", "nk&defect", "nk&repat", "nk&border", "defect&border")


@pytest.mark.parametrize("features", [DEFAULT_FEATURES, ALL, ("border&nk",)])
def test_indicators_are_what_the_keyword_alert_matches(texts, features):
    keywords = KeywordFeatures(features=features, value=0.25)
    matrix = keywords.transform(texts)
    assert isinstance(matrix, sp.csr_matrix) and matrix.shape == (len(texts), len(features))
    assert set(np.unique(matrix.toarray())) <= {0.0, 0.25}
    expected = reference(texts, features)
    assert np.array_equal(matrix.toarray() > 0, expected)
    for j in range(len(features)):
        assert expected[:, j].any() and not expected[:, j].all()  # the test means something


def test_groups_widen_the_alert_where_it_is_silent():
    keywords = KeywordFeatures(features=("nk&defect", "nk&border", "nk&held"))
    texts = [
        "north korean loggers seek asylum at a consulate",
        "북한 주민 망명 신청",
        "north korea orders guards to shoot-to-kill anyone crossing",
        "seven north koreans detained in yunnan",
        "중국 공안, 북한 여성 3명 체포",
        "north korea detains a us soldier",  # held, not defect: the model weighs it
        "north korean missile test",
    ]
    rows = (keywords.transform(texts).toarray() > 0).astype(int).tolist()
    assert rows == [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 0]]


def test_batches_give_the_rows_of_the_whole(texts):
    keywords = KeywordFeatures(features=ALL)
    whole = keywords.transform(texts).toarray()
    for size in (1, 7, 45):
        parts = [keywords.transform(texts[i : i + size]).toarray() for i in range(0, 300, size)]
        assert np.array_equal(np.vstack(parts)[:300], whole[:300])
    assert keywords.transform([]).shape == (0, len(ALL))


def test_feature_names_and_state_round_trip():
    keywords = KeywordFeatures(features=("nk", "nk&repat"), value=0.5)
    assert keywords.feature_names() == ["kw:nk", "kw:nk&repat"]
    again = KeywordFeatures.from_state(keywords.state())
    assert again.state() == keywords.state()
    assert again.state()["groups"] == DEFAULT_GROUPS
    texts = ["north korea repatriated", "repatriated", ""]
    assert np.array_equal(again.transform(texts).toarray(), keywords.transform(texts).toarray())


def test_saved_patterns_are_used_not_the_current_term_lists():
    keywords = KeywordFeatures(groups={"nk": "pyongyang", "repat": "sent home"}, features=("nk",))
    assert keywords.transform(["North Korea", "Pyongyang"]).toarray().ravel().tolist() == [0, 0.1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"features": ("nk&missiles",)}, "unknown group 'missiles'"),
        ({"features": ()}, "none given"),
        ({"features": ("nk", "nk")}, "repeated"),
        ({"value": 0}, "positive number"),
        ({"value": True}, "positive number"),
        ({"groups": {"nk": "(unclosed"}, "features": ("nk",)}, "invalid regular expression"),
        ({"groups": {}}, "map names to regular expressions"),
    ],
)
def test_a_malformed_keyword_view_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        KeywordFeatures(**kwargs)


@pytest.mark.parametrize(
    ("pattern", "loose"),
    [
        (r"\bdefect\w*|\bfled\b", r"defect\w*|fled"),
        (r"north\s+korea|\bdprk\b", r"north\s+korea|dprk"),
        (r"a\\b", r"a\\b"),  # a backslash and a "b", not a word boundary
        (r"[\b]x", None),  # backspace in a class: left alone
        (r"탈북|脱北", r"탈북|脱北"),
    ],
)
def test_loose_pattern_drops_word_boundaries_only(pattern, loose):
    got = loose_pattern(pattern)
    assert (got.pattern if got is not None else None) == loose


def test_text_features_place_the_keyword_block_last(texts):
    features = TextFeatures().fit(title_summary(load_seed()[::3]))
    names = features.feature_names()
    assert names[-len(DEFAULT_FEATURES) :] == [f"kw:{f}" for f in DEFAULT_FEATURES]
    pairs = [("North Korea repatriates defectors", ""), ("Markets", "")]
    block = features.transform(pairs).toarray()[:, -len(DEFAULT_FEATURES) :]
    assert block[1].sum() == 0
    named = {"nk", "defect", "repat"}  # the groups the first title matches
    assert block[0].tolist() == [
        0.1 if set(f.split("&")) <= named else 0.0 for f in DEFAULT_FEATURES
    ]
    plain = TextFeatures(keywords=()).fit(title_summary(load_seed()[::3]))
    assert plain.keywords_ is None
    assert not any(name.startswith("kw:") for name in plain.feature_names())
    assert len(plain.feature_names()) == len(names) - len(DEFAULT_FEATURES)
