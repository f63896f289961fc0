"""fast_tfidf.transform gives scikit-learn's TfidfVectorizer.transform matrix, only faster."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from scipy.special import expit
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from classifiers import LABELS, Example, Model, fast_tfidf, load_model, load_seed, save_model
from classifiers.corpus import label_matrix
from classifiers.features import TextFeatures, field_texts
from classifiers.training import DEFAULT_PARAMS, fit_pipeline, fitted_parts, title_summary

pytestmark = pytest.mark.filterwarnings("error")

Pair = tuple[str, str]

EDGE_CASES: list[Pair] = [
    ("", ""),
    ("a", ""),
    ("", "I a x y z"),
    ("ab cd ef", "abc def ghi"),  # padded to exactly 4 and 5 characters
    ("abcd", "abcde abcdef"),
    ("go to be or no", "on at in it is"),
    ("탈북민", "북송 국경 탈 북"),
    ("脱北者在中国被强制遣返", "边境 鸭绿江 图们江"),
    ("脱北者が中国で送還された", "カタカナ ひらがな ﾃｽﾄ ｶﾞ"),
    ("North Korea 북한 朝鮮 デモ", "defectors 탈북자 and 脱北者 mixed-script-text"),
    ("ＮＯＲＴＨ　ＫＯＲＥＡ　１２３", "ｄｅｆｅｃｔｏｒ，ｂｏｒｄｅｒ！"),
    ("tabs\tand\nnewlines\r\nand   many    spaces", "\t\t  \n leading and trailing \n\t "),
    ("\u00a0no-break\u2003em space\u3000ideographic", "line\u2028separator\x1cfile\x85next"),
    ("zzqx qqvv wxyz", "jjjj kkkk ppppp"),  # only terms the seed corpus never uses
    ("x" * 2000, "defector" * 300),
    ("DEFECTORS REPATRIATED AT THE BORDER", "North KOREAN Defector FLED"),
    ("2024 1,200 No. 7 99%", "3.5 million 10,000 people 24/7"),
    ("!!! ??? ... --- ,,, ;;;", "(defector) [border], {china}; 'repatriation' \"quoted\""),
    ("ΣΑΣ ΟΔΟΣ İstanbul ǅemal", "Straße ß Œuvre ﬁnance"),
    ("😀 emoji 🇰🇵 flag", "astral 𝐛𝐨𝐥𝐝 𠀀 chars"),
    ("café naïve résumé", "ÀÉÎÕÜ àéîõü ÿ"),
    ("defector_s snake_case x_y", "a_b _ __ ___"),
]

UNKNOWN: list[Pair] = [
    ("Quokka marmalade xylophone", "Zebras juggle quartz vuvuzelas in Reykjavík"),
    ("쿼카 마멀레이드 실로폰", "얼룩말이 석영을 저글링한다"),
    ("袋鼠果酱木琴", "斑马杂耍石英"),
    ("defector quokka", "border xylophone repatriation vuvuzela"),
]


def sklearn_transform(features: TextFeatures, pairs: list[Pair]) -> sp.csr_matrix:
    """TextFeatures.transform as it was: scikit-learn's own transform for every view (and the
    keyword indicators, which are not TF-IDF)."""
    fields = field_texts(pairs)
    blocks = [vec.transform(fields[view.field]) for view, vec in features.vectorizers_]
    if features.keywords_ is not None:
        blocks.append(features.keywords_.transform(fields["text"]))
    return sp.hstack(blocks, format="csr")


def assert_same_matrix(fast: sp.spmatrix, reference: sp.spmatrix) -> None:
    assert type(fast) is type(reference)
    assert fast.shape == reference.shape
    assert fast.has_sorted_indices and reference.has_sorted_indices
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)
    assert np.abs(fast.data - reference.data).max(initial=0.0) < 1e-12


@pytest.fixture(scope="module")
def seed() -> list[Example]:
    return load_seed()


@pytest.fixture(scope="module")
def pipeline(seed):
    return fit_pipeline(DEFAULT_PARAMS, seed, label_matrix(seed))


@pytest.fixture(scope="module")
def features(pipeline) -> TextFeatures:
    return pipeline.named_steps["features"]


@pytest.fixture(scope="module")
def model(pipeline) -> Model:
    return Model(
        version="test",
        labels=LABELS,
        thresholds=dict.fromkeys(LABELS, 0.5),
        **fitted_parts(pipeline),
    )


def test_the_model_views_take_the_fast_path(features):
    assert [view.name for view, _ in features.vectorizers_] == ["word", "cjk_char", "latin_char"]
    assert all(fast_tfidf.supports(vec) for _, vec in features.vectorizers_)


@pytest.mark.parametrize("texts", ["seed", "edge", "unknown"])
def test_each_view_matches_scikit_learn(features, seed, texts):
    pairs = {"seed": title_summary(seed), "edge": EDGE_CASES, "unknown": UNKNOWN}[texts]
    fields = field_texts(pairs)
    for view, vec in features.vectorizers_:
        assert_same_matrix(
            fast_tfidf.transform(vec, fields[view.field]), vec.transform(fields[view.field])
        )
        # Every view also on the unfiltered text, whatever its whitespace and scripts.
        assert_same_matrix(fast_tfidf.transform(vec, fields["text"]), vec.transform(fields["text"]))


def test_rows_of_unknown_and_empty_texts_are_zero(features):
    fields = field_texts([("", ""), ("zzqx", "qqvv"), ("", "\t \n")])
    for view, vec in features.vectorizers_:
        matrix = fast_tfidf.transform(vec, fields[view.field])
        assert matrix.shape == (3, len(vec.vocabulary_))
        assert matrix.nnz == 0
        assert matrix.data.size == 0


def test_text_features_transform_is_unchanged(features, seed):
    pairs = title_summary(seed) + EDGE_CASES + UNKNOWN
    assert_same_matrix(features.transform(pairs), sklearn_transform(features, pairs))
    for start in range(0, 200, 45):  # the batch size the monitor scores in
        batch = pairs[start : start + 45]
        assert_same_matrix(features.transform(batch), sklearn_transform(features, batch))


def test_model_scores_are_unchanged_after_a_save_and_load(model, seed, tmp_path: Path):
    pairs = title_summary(seed[::7]) + EDGE_CASES + UNKNOWN
    restored = load_model(save_model(model, tmp_path / "models"))
    for scored in (model, restored):
        reference = sklearn_transform(scored.features, pairs)
        expected = expit(np.asarray(reference @ scored.coef.T) + scored.intercept)
        assert np.abs(scored.scores(pairs) - expected).max() < 1e-12
        assert all(fast_tfidf.supports(vec) for _, vec in scored.features.vectorizers_)


@pytest.mark.parametrize(
    "params",
    [
        {"analyzer": "char", "ngram_range": (1, 3)},
        {"analyzer": "char_wb", "ngram_range": (2, 4), "binary": True},
        {"analyzer": "word", "stop_words": "english"},
        {"analyzer": "word", "strip_accents": "unicode"},
        {"analyzer": "word", "token_pattern": r"(?u)\b\w+\b"},
        {"analyzer": "word", "norm": "l1"},
        {"analyzer": "word", "use_idf": False},
        {"analyzer": "char_wb", "dtype": np.float32},
        {"analyzer": str.split},
    ],
    ids=lambda params: "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in params.items()),
)
def test_unsupported_vectorisers_fall_back_to_scikit_learn(seed, params):
    texts = field_texts(title_summary(seed[::5]))["text"]
    vec = TfidfVectorizer(**params).fit(texts)
    assert not fast_tfidf.supports(vec)
    queries = texts[:60] + field_texts(EDGE_CASES)["text"]
    fast, reference = fast_tfidf.transform(vec, queries), vec.transform(queries)
    assert fast.shape == reference.shape
    assert abs(fast - reference).max() == 0


def test_unfitted_and_odd_input_behave_as_scikit_learn():
    vec = TfidfVectorizer(analyzer="char_wb")
    assert not fast_tfidf.supports(vec)
    with pytest.raises(ValueError, match="not fitted"):
        fast_tfidf.transform(vec, ["text"])
    vec.fit(["some text", "more text"])
    with pytest.raises(ValueError, match="string object received"):
        fast_tfidf.transform(vec, "a string, not a list of them")
    assert_same_matrix(fast_tfidf.transform(vec, [b"bytes text"]), vec.transform([b"bytes text"]))
    with pytest.raises(ValueError, match="0 sample"):
        fast_tfidf.transform(vec, [])


class NoParams:
    """Has a fitted vectoriser's attributes but no get_params(): not something to read."""

    def __init__(self, vec: TfidfVectorizer) -> None:
        self.vec, self.vocabulary_, self.idf_ = vec, vec.vocabulary_, vec.idf_

    def transform(self, texts):
        return self.vec.transform(texts)


def test_other_vectoriser_like_objects_fall_back_to_their_own_transform():
    corpus, texts = ["some text here", "more text there"], ["text here", "nothing"]
    counts = CountVectorizer(analyzer="char_wb").fit(corpus)
    assert not fast_tfidf.supports(counts)
    assert abs(fast_tfidf.transform(counts, texts) - counts.transform(texts)).max() == 0
    vec = TfidfVectorizer(analyzer="char_wb").fit(corpus)
    assert fast_tfidf.supports(vec) and not fast_tfidf.supports(NoParams(vec))
    assert_same_matrix(fast_tfidf.transform(NoParams(vec), texts), vec.transform(texts))


def test_a_refitted_or_reconfigured_vectoriser_is_not_served_stale_tables():
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(["first corpus", "of two"])
    texts = ["first second third", "corpus corpora"]
    assert_same_matrix(fast_tfidf.transform(vec, texts), vec.transform(texts))
    vec.fit(["second corpus", "third one", "corpora"])
    assert_same_matrix(fast_tfidf.transform(vec, texts), vec.transform(texts))
    vec.set_params(binary=True)
    assert not fast_tfidf.supports(vec)


@pytest.mark.parametrize(
    ("analyzer", "ngram_range", "vocabulary"),
    [
        # Terms sklearn's char_wb never produces: windows across words or runs of whitespace,
        # pieces shorter than n that are not a whole padded word, other whitespace.
        (
            "char_wb",
            (4, 4),
            [" ab ", "abc", " ab", "b c", "  ", " ", "a  b", "\tab ", "", " a ", "ab c"],
        ),
        ("char_wb", (1, 3), [" ", "  ", "a", " a ", " a", "a b", "\t", "ab", "abcd", "é"]),
        ("char_wb", (2, 2), [" a", "a ", "  ", " ", "a", "ab"]),
        # Word n-grams: only space-joined tokens of 2+ word characters, n within the range.
        ("word", (1, 2), ["ab", "ab cd", "a", "ab  cd", " ab", "ab cd ef", "", "cd_ef", "ab\tcd"]),
        ("word", (2, 3), ["ab", "ab cd", "ab cd ef", "cd ef", "ef ab cd ef"]),
    ],
)
def test_a_given_vocabulary_matches_only_what_scikit_learn_produces(
    analyzer, ngram_range, vocabulary
):
    corpus = ["ab cd ef", "a b ab\tcd  é", " ab  a cd_ef ", "abcd ab c"]
    vec = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, vocabulary=vocabulary)
    vec.fit(corpus)
    assert fast_tfidf.supports(vec)
    queries = [*corpus, "a", "  ", "ab", "ab ab ab cd", "x ab c a", "\tab\n cd ef ab cd"]
    assert_same_matrix(fast_tfidf.transform(vec, queries), vec.transform(queries))


def random_text(rng: random.Random) -> str:
    alphabet = list("aabbccAΣς  \t\n\u3000\u00a0é北탈İ_1,.") + ["\ud800", "😀"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))


def test_random_texts_and_settings_match_scikit_learn():
    """Short words, padded lengths, whitespace runs and case folding in every combination."""
    rng = random.Random(0)
    for _ in range(80):
        low = rng.randint(1, 5)
        params = {
            "analyzer": rng.choice(["char_wb", "word"]),
            "ngram_range": (low, rng.randint(low, 6)),
            "lowercase": rng.random() < 0.7,
            "sublinear_tf": rng.random() < 0.5,
            "norm": rng.choice(["l2", None]),
        }
        corpus = [random_text(rng) for _ in range(60)]
        if not any(re.search(r"\w\w", text) for text in corpus):
            continue
        vec = TfidfVectorizer(**params).fit(corpus)
        assert fast_tfidf.supports(vec), params
        queries = [random_text(rng) for _ in range(40)] + corpus[:10]
        assert_same_matrix(fast_tfidf.transform(vec, queries), vec.transform(queries))


def test_whitespace_is_what_scikit_learn_splits_on():
    """char_wb_hits tabulates whitespace up to U+3000; str.split() and re's \\s must agree."""
    spaces = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert max(spaces) <= fast_tfidf.WHITESPACE_LIMIT
    assert spaces == [c for c in range(sys.maxunicode + 1) if re.match(r"\s", chr(c))]
    assert np.flatnonzero(fast_tfidf.IS_WHITESPACE).tolist() == spaces


def test_the_sparse_interface_follows_the_scikit_learn_setting(features):
    vec = features.vectorizers_[0][1]
    texts = ["Defectors crossed the border", ""]
    with sklearn.config_context(sparse_interface="sparray"):
        assert_same_matrix(fast_tfidf.transform(vec, texts), vec.transform(texts))
