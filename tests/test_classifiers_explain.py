"""Explanations name features that occur in the article; batch explanations equal single ones."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from classifiers import LABELS, Model, load_model, load_seed
from classifiers.fields import normalize
from classifiers.keyword_features import DEFAULT_GROUPS
from classifiers.model import readable_term, readable_terms

pytestmark = pytest.mark.filterwarnings("error")

ARTICLES = [
    (
        "탈북민 일가족 제3국 거쳐 국내 입국",
        "중국에 숨어 지내던 탈북민 가족이 브로커의 도움으로 라오스를 거쳐 한국에 도착했다.",
    ),
    (
        "중국 공안, 탈북민 20여명 강제북송",
        "국경 도시 단둥의 수용소에 갇혀 있던 탈북민들이 북한 보위부에 넘겨졌다고 인권단체가 밝혔다.",
    ),
    (
        "China forcibly repatriates dozens of North Korean escapees despite UN appeals",
        "Rights groups said the detainees were sent back across the border and face torture "
        "in North Korean prison camps.",
    ),
    (
        "North Korea orders guards to shoot anyone approaching the Chinese border",
        "New fences and surveillance cameras have been installed along the Yalu and Tumen "
        "rivers to stop crossings and smuggling.",
    ),
    (
        "朝鲜加强中朝边境警戒 增设铁丝网和监控摄像头",
        "消息人士称，朝鲜边防部队奉命严厉打击越境和走私行为。",
    ),
    (
        "中国、拘束中の脱北者数百人を北朝鮮へ強制送還",
        "人権団体は送還された人々が拷問や収容所送りの危険にさらされると警告した。",
    ),
    ("Stock market closes higher as chipmakers rally", "Investors bought technology shares."),
    ("", ""),
]


@pytest.fixture(scope="module")
def model(seed_model_dir: Path) -> Model:
    """The model monitor installs, loaded as the daemon loads it."""
    current = (seed_model_dir / "CURRENT").read_text(encoding="utf-8").strip()
    return load_model(seed_model_dir / current)


def seen_text(title: str, summary: str) -> str:
    return normalize(f"{title}\n{summary}").lower()


def occurs(term: str, text: str) -> bool:
    """term's words occur in text: a word n-gram's words in order, anything else as written."""
    if re.fullmatch(r"[\w ]+", term) and " " in term:
        return re.search(r"\W+".join(map(re.escape, term.split())), text) is not None
    return term in text


def keyword_words(group: str, text: str) -> list[str]:
    return [m.group() for m in re.finditer(DEFAULT_GROUPS[group], text)]


def test_every_explained_feature_occurs_in_the_article(model):
    for title, summary in ARTICLES:
        text = seen_text(title, summary)
        for label, features in model.explain(title, summary, top=10).items():
            assert label in LABELS
            for name, share in features:
                assert share > 0
                view, _, term = name.partition(":")
                if view == "kw":
                    assert all(keyword_words(group, text) for group in term.split("&")), name
                else:
                    assert occurs(term.strip(), text), (name, text)


def test_a_korean_article_about_talbuk_is_explained_by_a_term_in_its_text(model):
    title, summary = ARTICLES[0]
    [prediction] = model.predict([(title, summary)], explain=True)
    assert "defectors" in prediction.labels
    terms = prediction.terms["defectors"]
    assert terms and all(term in seen_text(title, summary) for term in terms)
    assert any("탈북" in term for term in terms), terms


def test_batch_explanations_are_the_single_article_ones_made_readable(model):
    batch = model.explain_many(ARTICLES, top=5)
    predictions = model.predict(ARTICLES)
    assert len(batch) == len(ARTICLES)
    for (title, summary), explained, prediction in zip(ARTICLES, batch, predictions, strict=True):
        assert set(explained) == set(prediction.labels)  # passing labels only
        single = model.explain(title, summary, top=10**6)
        for label, terms in explained.items():
            expected = readable_terms(
                single[label], f"{title}\n{summary}", 5, model.features.keywords_
            )
            assert [t for t, _ in terms] == [t for t, _ in expected]
            np.testing.assert_allclose(
                [s for _, s in terms], [s for _, s in expected], rtol=0, atol=1e-12
            )


def test_batch_explanations_do_not_depend_on_the_batch(model):
    together = model.explain_many(ARTICLES, top=3)
    alone = [model.explain_many([article], top=3)[0] for article in ARTICLES]
    assert [{k: [t for t, _ in v] for k, v in e.items()} for e in together] == [
        {k: [t for t, _ in v] for k, v in e.items()} for e in alone
    ]


def test_readable_terms_are_words_of_the_article(model):
    explained = model.explain_many(ARTICLES, top=5)
    flagged = [e for e in explained if e]
    assert len(flagged) >= 6
    for (title, summary), by_label in zip(ARTICLES, explained, strict=True):
        text = seen_text(title, summary)
        for terms in by_label.values():
            assert 0 < len(terms) <= 5
            shares = [share for _, share in terms]
            assert shares == sorted(shares, reverse=True) and shares[-1] > 0
            words = [term for term, _ in terms]
            assert len(set(words)) == len(words)
            for term in words:
                assert term == term.strip() and term
                assert not re.match(r"(word|cjk_char|latin_char|kw):", term)
                assert all(occurs(part, text) for part in term.split(" + ")), (term, text)


def test_predict_with_explanations_keeps_the_scores(model):
    plain, explained = model.predict(ARTICLES), model.predict(ARTICLES, explain=True)
    for p, e in zip(plain, explained, strict=True):
        assert (p.scores, p.labels, p.flagged) == (e.scores, e.labels, e.flagged)
        assert p.terms == {}
        assert set(e.terms) == set(e.labels)
    assert model.predict([], explain=True) == [] and model.explain_many([]) == []


def test_an_english_repatriation_story_is_explained_by_its_keywords(model):
    title, summary = ARTICLES[2]
    [explained] = model.explain_many([(title, summary)], top=5)
    terms = [term for term, _ in explained["repatriation"]]
    assert any("repatriat" in term for term in terms), terms


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("word:north korea", "North Korea", "north korea"),
        ("cjk_char: 탈북", "탈북민", "탈북"),
        ("cjk_char: ", "탈북민", ""),
        ("latin_char:efec", "Three Defectors arrive", "defectors"),
        ("latin_char: def", "undefined; defectors", "defectors"),
        ("latin_char:ors ", "orsk defectors", "defectors"),
    ],
)
def test_readable_term(name, text, expected):
    assert readable_term(name, text) == expected


def test_readable_keyword_terms_name_the_matched_words():
    from classifiers.keyword_features import KeywordFeatures

    keywords = KeywordFeatures()
    text = "China repatriated 60 North Koreans; 탈북민 강제북송"
    assert readable_term("kw:nk&repat", text, keywords) == "north korea + repatriated"
    assert readable_term("kw:defect", "탈북민 북송", keywords) == "탈북"
    assert readable_term("kw:nk&defect", "탈북민", keywords) == "탈북"  # one word, both groups


def test_readable_terms_skip_repeats_and_overlaps():
    ranked = [
        ("latin_char:efec", 3.0),
        ("word:defectors", 2.5),  # the same word as the 4-gram above
        ("latin_char:fect", 2.0),
        ("word:north", 1.5),
        ("word:north korea", 1.2),  # contains "north"
        ("cjk_char: ", 1.0),  # padding only
        ("word:seoul", 0.5),
    ]
    text = "North Korea defectors reach Seoul"
    assert readable_terms(ranked, text, 5) == [("defectors", 3.0), ("north", 1.5), ("seoul", 0.5)]
    assert readable_terms(ranked, text, 2) == [("defectors", 3.0), ("north", 1.5)]
    assert readable_terms(ranked, text, 0) == []


def test_explaining_a_batch_costs_little_more_than_scoring_it(model):
    articles = ARTICLES * 100 + [(ex.title, ex.summary) for ex in load_seed()[:600]]
    import time

    started = time.process_time()
    model.predict(articles)
    scoring = time.process_time() - started
    started = time.process_time()
    explained = model.predict(articles, explain=True)
    explaining = time.process_time() - started
    assert sum(p.flagged for p in explained) > 500
    # Generous: explanations for ~2/3 of the articles flagged; in real feeds a few percent are.
    assert explaining < 6 * scoring + 0.5, (scoring, explaining)
