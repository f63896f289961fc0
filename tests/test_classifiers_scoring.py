"""A loaded model scores without scikit-learn, exactly as the trained model it was saved from."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers import ModelError, fast_tfidf, load_model, save_model
from classifiers.features import TextFeatures, field_texts
from classifiers.fitted import (
    TRANSFORM_PARAMS,
    VECTORIZER_DEFAULTS,
    FittedFeatures,
    FittedView,
    export_views,
    restore_view,
)
from classifiers.training import title_summary
from tests.conftest import PROBES

pytestmark = pytest.mark.filterwarnings("error")

ROOT = Path(__file__).parents[1]


SKLEARN_FREE = """
import json, sys
from classifiers import load_model
model = load_model(sys.argv[1])
predictions = model.predict([tuple(pair) for pair in json.loads(sys.argv[2])])
explained = model.explain(*json.loads(sys.argv[2])[0])
terms = model.predict([tuple(pair) for pair in json.loads(sys.argv[2])], explain=True)
batch = model.explain_many([tuple(pair) for pair in json.loads(sys.argv[2])])
from classifiers import fast_tfidf
print(json.dumps({
    "flagged": [p.flagged for p in predictions],
    "explained": explained,
    "terms": [p.terms for p in terms],
    "batch": batch,
    "fast": all(fast_tfidf.supports(vec) for _, vec in model.features.vectorizers_),
    "modules": sorted(sys.modules),
}))
"""


@pytest.fixture(scope="module")
def model(seed_training):
    return seed_training[0]


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory) -> Path:
    return save_model(model, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def loaded(saved):
    return load_model(saved)


@pytest.fixture(scope="module")
def pairs(seed):
    return title_summary(seed[::5]) + PROBES


def test_loading_and_scoring_do_not_import_scikit_learn(seed_model_dir: Path):
    version_dir = seed_model_dir / (seed_model_dir / "CURRENT").read_text(encoding="utf-8").strip()
    done = subprocess.run(
        [sys.executable, "-c", SKLEARN_FREE, str(version_dir), json.dumps(PROBES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    modules = result["modules"]
    assert not any(name == "sklearn" or name.startswith("sklearn.") for name in modules)
    for heavy in ("classifiers.features", "classifiers.training", "classifiers.estimator"):
        assert heavy not in modules
    assert result["fast"]
    assert result["flagged"][0] and not result["flagged"][5]
    assert any(result["explained"].values())
    assert any(
        name.startswith("kw:") for names in result["explained"].values() for name, _ in names
    )
    assert result["terms"][0] and not result["terms"][5]
    assert [list(e) for e in result["batch"]] == [list(t) for t in result["terms"]]


def test_a_loaded_model_scores_as_the_trained_one(model, loaded, pairs):
    assert isinstance(model.features, TextFeatures)
    assert isinstance(loaded.features, FittedFeatures)
    assert np.abs(loaded.scores(pairs) - model.scores(pairs)).max() < 1e-12
    assert loaded.predict(pairs) == model.predict(pairs)
    assert loaded.features.feature_names() == model.features.feature_names()
    assert loaded.explain_many(PROBES) == model.explain_many(PROBES)
    for title, summary in PROBES:
        got, expected = loaded.explain(title, summary), model.explain(title, summary)
        assert got.keys() == expected.keys()
        for label in expected:
            assert [name for name, _ in got[label]] == [name for name, _ in expected[label]]
            np.testing.assert_allclose(
                [share for _, share in got[label]],
                [share for _, share in expected[label]],
                rtol=0,
                atol=1e-12,
            )


def test_the_loaded_features_give_the_trained_matrix(model, loaded, pairs):
    trained, restored = model.features.transform(pairs), loaded.features.transform(pairs)
    assert type(restored) is type(trained) and restored.shape == trained.shape
    assert np.array_equal(restored.indptr, trained.indptr)
    assert np.array_equal(restored.indices, trained.indices)
    assert np.abs(restored.data - trained.data).max() < 1e-12
    for (view, vec), (loaded_view, fitted) in zip(
        model.features.vectorizers_, loaded.features.vectorizers_, strict=True
    ):
        assert loaded_view.name == view.name
        assert loaded_view.field == view.field == fitted.field
        assert fitted.vocabulary_ == vec.vocabulary_
        assert np.array_equal(fitted.idf_, vec.idf_)
        assert list(fitted.get_feature_names_out()) == list(vec.get_feature_names_out())
        assert {key: fitted.get_params()[key] for key in TRANSFORM_PARAMS} == {
            key: vec.get_params()[key] for key in TRANSFORM_PARAMS
        }


def test_a_loaded_model_saved_again_is_the_same_model(model, saved, loaded, pairs, tmp_path):
    again = save_model(loaded, tmp_path / "models")
    for name in ("model.json", "arrays.npz"):
        assert (again / name).exists()
    assert json.loads((again / "model.json").read_text(encoding="utf-8")) == json.loads(
        (saved / "model.json").read_text(encoding="utf-8")
    )
    with np.load(saved / "arrays.npz") as first, np.load(again / "arrays.npz") as second:
        assert sorted(first.files) == sorted(second.files)
        for name in first.files:
            assert np.array_equal(first[name], second[name])
    reloaded = load_model(again)
    assert np.abs(reloaded.scores(pairs) - model.scores(pairs)).max() < 1e-12
    assert reloaded.metadata == loaded.metadata and reloaded.thresholds == loaded.thresholds


def test_a_saved_model_scores_as_its_files_say(saved, loaded, pairs):
    """Rebuild the model from its files by hand: each view a TfidfVectorizer as load_model once
    made it, the keyword indicators by the keyword alert's own regular expressions, the logits
    through the Platt calibration."""
    document = json.loads((saved / "model.json").read_text(encoding="utf-8"))
    with np.load(saved / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    fields = field_texts(pairs)
    blocks = []
    for described in document["features"]["views"]:
        params = dict(described["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        vec = TfidfVectorizer(**params, vocabulary=described["vocabulary"], dtype=np.float64)
        vec.idf_ = arrays[f"idf_{described['name']}"]
        blocks.append(vec.transform(fields[described["field"]]))
    keywords = document["features"]["keywords"]
    groups = {name: re.compile(p, re.IGNORECASE) for name, p in keywords["groups"].items()}
    indicators = [
        [
            all(groups[g].search(text) for g in feature.split("&"))
            for feature in keywords["features"]
        ]
        for text in fields["text"]
    ]
    blocks.append(sp.csr_matrix(np.array(indicators, dtype=np.float64) * keywords["value"]))
    X = sp.hstack(blocks, format="csr")
    logits = np.asarray(X @ arrays["coef"].T) + arrays["intercept"]
    np.testing.assert_allclose(loaded.logits(pairs), logits, rtol=0, atol=1e-12)
    a, b = np.array([document["calibration"][label] for label in document["labels"]]).T
    expected = 1 / (1 + np.exp(-(a * logits + b)))
    assert np.abs(loaded.scores(pairs) - expected).max() < 1e-12


def test_the_sparse_interface_setting_is_followed_once_scikit_learn_is_loaded(loaded):
    with sklearn.config_context(sparse_interface="sparray"):
        assert isinstance(loaded.features.transform(PROBES), sp.csr_array)
    assert isinstance(loaded.features.transform(PROBES), sp.csr_matrix)


def test_fitted_view_defaults_are_scikit_learns():
    defaults = TfidfVectorizer().get_params()
    del defaults["vocabulary"]
    assert VECTORIZER_DEFAULTS == defaults


@pytest.mark.parametrize(
    "params",
    [
        {"analyzer": "char_wb", "ngram_range": (2, 4), "binary": True},
        {"analyzer": "word", "strip_accents": "unicode"},
        {"analyzer": "word", "norm": "l1", "sublinear_tf": True},
        {"analyzer": "char", "ngram_range": (1, 3), "lowercase": False},
    ],
    ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()),
)
def test_a_view_fast_tfidf_does_not_support_falls_back_to_scikit_learn(seed, params):
    texts = field_texts(title_summary(seed[::9]))["text"]
    vec = TfidfVectorizer(**params).fit(texts)
    features = TextFeatures()
    features.vectorizers_ = [(TextFeatures().views()[0], vec)]
    (described,), idfs = export_views(features)
    _view, fitted = restore_view(json.loads(json.dumps(described)), idfs)
    assert not fast_tfidf.supports(fitted)
    queries = texts[:50] + ["", "café Straße", "ab cd"]
    got, expected = fast_tfidf.transform(fitted, queries), vec.transform(queries)
    assert got.shape == expected.shape
    assert abs(got - expected).max() == 0
    assert list(fitted.get_feature_names_out()) == list(vec.get_feature_names_out())


def test_a_fitted_view_keeps_scikit_learns_errors():
    fitted = FittedView("v", "text", {"analyzer": "word"}, {"ab": 0, "cd": 1}, [1.0, 2.0])
    assert fast_tfidf.supports(fitted)
    with pytest.raises(ValueError, match="string object received"):
        fast_tfidf.transform(fitted, "a string, not a list of them")
    with pytest.raises(ValueError, match="0 sample"):
        fast_tfidf.transform(fitted, [])


def test_a_fitted_view_can_be_made_from_a_fitted_vectoriser(seed):
    texts = field_texts(title_summary(seed[::9]))["cjk"]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True).fit(texts)
    params = {key: vec.get_params()[key] for key in TRANSFORM_PARAMS}
    fitted = FittedView("cjk_char", "cjk", params, vec.vocabulary_, vec.idf_)
    assert fitted.get_params() == {k: v for k, v in vec.get_params().items() if k != "vocabulary"}
    assert all(type(column) is int for column in fitted.vocabulary_.values())
    assert fast_tfidf.supports(fitted)
    got, expected = fast_tfidf.transform(fitted, texts), vec.transform(texts)
    assert np.array_equal(got.indices, expected.indices)
    assert np.abs(got.data - expected.data).max() < 1e-12


@pytest.mark.parametrize(
    ("vocabulary", "idf", "message"),
    [
        ({"ab": 0, "cd": 0}, [1.0, 1.0], "columns are not 0..1"),
        ({"ab": 0, "cd": 2}, [1.0, 1.0], "columns are not 0..1"),
        ({"ab": 0, "cd": 1.0}, [1.0, 1.0], "not an integer"),
        ({}, [], "empty"),
        ({"ab": 0, "cd": 1}, [1.0], "idf shape"),
    ],
)
def test_a_malformed_view_is_refused(vocabulary, idf, message):
    with pytest.raises(ValueError, match=message):
        FittedView("v", "text", {"analyzer": "word"}, vocabulary, idf)


def edit_document(saved: Path, target: Path, edit) -> Path:
    target.mkdir()
    (target / "arrays.npz").write_bytes((saved / "arrays.npz").read_bytes())
    document = json.loads((saved / "model.json").read_text(encoding="utf-8"))
    edit(document)
    (target / "model.json").write_text(json.dumps(document), encoding="utf-8")
    return target


def _repeat_a_column(document):
    vocabulary = document["features"]["views"][0]["vocabulary"]
    first, second = list(vocabulary)[:2]
    vocabulary[second] = vocabulary[first]


def _unknown_field(document):
    document["features"]["views"][1]["field"] = "body"


def _unknown_param(document):
    document["features"]["views"][2]["params"]["stemmer"] = "porter"


def _no_params(document):
    document["features"]["params"] = None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_repeat_a_column, "vocabulary columns"),
        (_unknown_field, "unknown field 'body'"),
        (_unknown_param, "unknown vectoriser parameters"),
        (_no_params, "must be a mapping"),
    ],
)
def test_inconsistent_views_raise_a_model_error(saved, tmp_path, edit, message):
    broken = edit_document(saved, tmp_path / "v", edit)
    with pytest.raises(ModelError, match=f"inconsistent model files: .*{message}"):
        load_model(broken)
