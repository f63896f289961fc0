from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifiers import ModelError, load_model, load_seed, save_model, train
from tests.conftest import PROBES

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def model(seed_training):
    return seed_training[0]


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory) -> Path:
    return save_model(model, tmp_path_factory.mktemp("models"))


def test_round_trip_gives_identical_scores(model, saved):
    loaded = load_model(saved)
    texts = PROBES + [(ex, "") for ex in ("", "x", "北")]
    np.testing.assert_allclose(loaded.scores(texts), model.scores(texts), rtol=0, atol=1e-9)
    assert loaded.predict(texts) == model.predict(texts)
    assert loaded.version == model.version
    assert loaded.labels == model.labels
    assert loaded.thresholds == model.thresholds
    assert loaded.metadata == json.loads(json.dumps(model.metadata))


def test_saved_model_is_json_and_plain_arrays(model, saved):
    assert saved.name == model.version
    assert sorted(p.name for p in saved.iterdir()) == ["arrays.npz", "model.json"]
    with np.load(saved / "arrays.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    assert all(array.dtype != object for array in arrays.values())
    assert arrays["coef"].shape[0] == len(model.labels)
    document = json.loads((saved / "model.json").read_text(encoding="utf-8"))
    assert document["version"] == model.version
    assert not list(saved.parent.glob("**/*.pkl")) and not list(saved.parent.glob("**/*.joblib"))


def test_saving_the_same_version_twice_is_refused(model, saved):
    with pytest.raises(ModelError, match="already saved"):
        save_model(model, saved.parent)


def copy_of(saved: Path, target: Path) -> Path:
    target.mkdir()
    for path in saved.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_missing_directory_raises(tmp_path):
    with pytest.raises(ModelError, match="not a saved model"):
        load_model(tmp_path / "nothing-here")


def test_missing_arrays_raises(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    (broken / "arrays.npz").unlink()
    with pytest.raises(ModelError, match="arrays.npz is missing"):
        load_model(broken)


def test_corrupt_json_raises(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    (broken / "model.json").write_text('{"format": 1, "version": ', encoding="utf-8")
    with pytest.raises(ModelError, match="unreadable model file"):
        load_model(broken)


def test_truncated_arrays_raise(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    data = (broken / "arrays.npz").read_bytes()
    (broken / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="unreadable array file"):
        load_model(broken)


def test_pickled_arrays_are_refused(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    with np.load(saved / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["coef"] = np.array([object()], dtype=object)
    np.savez(broken / "arrays.npz", **arrays)
    with pytest.raises(ModelError, match="unreadable array file"):
        load_model(broken)


def test_arrays_that_do_not_match_the_vocabulary_raise(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    with np.load(saved / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["coef"] = arrays["coef"][:, :-1]
    np.savez(broken / "arrays.npz", **arrays)
    with pytest.raises(ModelError, match="inconsistent model files"):
        load_model(broken)


def test_missing_key_raises(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    document = json.loads((broken / "model.json").read_text(encoding="utf-8"))
    del document["thresholds"]
    (broken / "model.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ModelError, match="inconsistent model files: missing 'thresholds'"):
        load_model(broken)


def test_not_a_zip_raises(saved, tmp_path):
    broken = copy_of(saved, tmp_path / "v")
    (broken / "arrays.npz").write_bytes(b"not an archive")
    assert not zipfile.is_zipfile(broken / "arrays.npz")
    with pytest.raises(ModelError, match="unreadable array file"):
        load_model(broken)


def test_calibration_and_keywords_are_saved_as_json(model, saved):
    document = json.loads((saved / "model.json").read_text(encoding="utf-8"))
    assert document["format"] == 2
    assert document["calibration"] == {
        label: list(model.calibration[label]) for label in model.labels
    }
    keywords = document["features"]["keywords"]
    assert keywords == model.features.keywords_.state()
    assert set(keywords) == {"groups", "features", "value"}
    loaded = load_model(saved)
    assert loaded.calibration == model.calibration
    assert loaded.features.feature_names() == model.features.feature_names()
    assert loaded.features.feature_names()[-1].startswith("kw:")


def as_format_1(saved: Path, target: Path) -> Path:
    """A copy of saved rewritten exactly as save_model wrote it before calibration and keywords.

    Only valid for a model trained without the keyword block (the arrays are reused as they are).
    """
    target.mkdir()
    (target / "arrays.npz").write_bytes((saved / "arrays.npz").read_bytes())
    document = json.loads((saved / "model.json").read_text(encoding="utf-8"))
    assert document["features"]["keywords"] is None
    del document["calibration"], document["features"]["keywords"]
    document["format"] = 1
    assert set(document) == {"format", "version", "labels", "thresholds", "metadata", "features"}
    assert set(document["features"]) == {"params", "views"}
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    (target / "model.json").write_text(text, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def old_model_dir(tmp_path_factory) -> Path:
    from classifiers.training import DEFAULT_PARAMS

    params = {**DEFAULT_PARAMS, "features": {**DEFAULT_PARAMS["features"], "keywords": ()}}
    plain, _ = train(load_seed(), folds=2, params=params)
    saved = save_model(plain, tmp_path_factory.mktemp("new"))
    return as_format_1(saved, tmp_path_factory.mktemp("old") / plain.version)


def test_a_format_1_model_loads_and_scores_as_it_was_trained(old_model_dir):
    """Before calibration: the score is the plain sigmoid of the logit, as it was then."""
    old = load_model(old_model_dir)
    assert old.calibration is None
    assert old.features.keywords_ is None
    with np.load(old_model_dir / "arrays.npz", allow_pickle=False) as npz:
        coef, intercept = npz["coef"], npz["intercept"]
    X = old.features.transform(PROBES)
    expected = 1 / (1 + np.exp(-(np.asarray(X @ coef.T) + intercept)))
    np.testing.assert_allclose(old.scores(PROBES), expected, rtol=0, atol=1e-12)
    predictions = old.predict(PROBES, explain=True)
    assert predictions[0].flagged and not predictions[-1].flagged
    assert predictions[0].terms
    assert old.explain(*PROBES[0])["defectors"]


def test_a_format_1_model_saved_again_becomes_format_2_and_scores_the_same(old_model_dir, tmp_path):
    old = load_model(old_model_dir)
    again = load_model(save_model(old, tmp_path))
    document = json.loads((tmp_path / old.version / "model.json").read_text(encoding="utf-8"))
    assert document["format"] == 2 and document["calibration"] is None
    assert document["features"]["keywords"] is None
    np.testing.assert_array_equal(again.scores(PROBES), old.scores(PROBES))


@pytest.mark.parametrize("fmt", [0, 3, "2", None])
def test_an_unknown_format_is_refused_with_a_clear_error(saved, tmp_path, fmt):
    broken = copy_of(saved, tmp_path / "v")
    document = json.loads((broken / "model.json").read_text(encoding="utf-8"))
    document["format"] = fmt
    (broken / "model.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ModelError, match=r"not a model file of a known format .*reads 1, 2"):
        load_model(broken)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("calibration"), "missing 'calibration'"),
        (lambda d: d["calibration"].update(border=[-1.0, 0.0]), "need finite a > 0"),
        (lambda d: d["features"].pop("keywords"), "missing 'keywords'"),
        (lambda d: d["features"]["keywords"].update(features=["nk&x"]), "unknown group 'x'"),
        (lambda d: d["features"]["keywords"]["features"].pop(), "do not match"),
    ],
    ids=["no-calibration", "negative-slope", "no-keywords", "bad-keyword", "keywords-vs-coef"],
)
def test_inconsistent_calibration_or_keywords_raise(saved, tmp_path, edit, message):
    broken = copy_of(saved, tmp_path / "v")
    document = json.loads((broken / "model.json").read_text(encoding="utf-8"))
    edit(document)
    (broken / "model.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ModelError, match=f"inconsistent model files: .*{re.escape(message)}"):
        load_model(broken)
