from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifiers import ModelError, load_model, load_seed, save_model, train

pytestmark = pytest.mark.filterwarnings("error")

PROBES = [
    ("North Korean defectors arrive in Seoul after years in hiding in China", ""),
    ("China sends captured escapees back to North Korea", "They face prison camps."),
    ("탈북민 강제북송 중단하라", "국경 경비 강화"),
    ("朝鲜边境走私", "边防部队加强巡逻"),
    ("脱北者を強制送還", ""),
    ("Markets rally on rate cut hopes", "Stocks rose for a third day."),
]


@pytest.fixture(scope="module")
def model():
    return train(load_seed(), folds=2)[0]


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
