"""Model files that never run code: round trips of every estimator, and refusal of pickles.

A round trip restores the weights exactly, so the loaded model repeats the original's
computation: the same bits on the same machine (see ``_equality.py``)."""

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch.callbacks import EarlyStopping, EpochScoring

from skspectra import (
    GaussianLineFitter,
    ImageAutoencoder,
    ImageRegressor,
    ImageToSpectrum,
    SpectralCAE,
    SpectralVAE,
)
from skspectra.io import load_model, save_model
from skspectra.preprocessing import SpectrumNormalizer
from skspectra.preprocessing.images import ImageNormalizer

from _equality import assert_same_bits

TINY = {"n_components": 2, "n_filters": 2, "depth": 1, "max_epochs": 2, "random_state": 0}
REGRESSOR = {"hidden_layer_sizes": (16,), "max_epochs": 2, "random_state": 0}


class _Marker:
    """Unpickling this touches a file: proof that code from a model file ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    spectra = 1 + 0.1 * rng.normal(size=(60, 32))
    lines = np.abs(rng.normal(size=(60, 3))) + 0.5  # amplitude, centre, sigma > 0
    images = rng.random((40, 1, 8, 8))
    targets = rng.normal(size=(40, 16))
    return spectra, lines, images, targets


# (estimator, which of the data it fits on, methods to compare)
CASES = {
    "SpectralCAE": (lambda: SpectralCAE(**TINY), "spectra", ["score_samples", "transform"]),
    "SpectralCAE-no-pca": (
        lambda: SpectralCAE(pca_init=False, anomaly_score="residual", **TINY),
        "spectra",
        ["score_samples", "reconstruct"],
    ),
    "SpectralVAE": (lambda: SpectralVAE(**TINY), "spectra", ["score_samples", "transform"]),
    "GaussianLineFitter": (
        lambda: GaussianLineFitter(
            max_components=1,
            kernel_sizes=(3,),
            n_filters=2,
            n_blocks=1,
            hidden_size=8,
            max_epochs=2,
            random_state=0,
        ),
        "lines",
        ["predict"],
    ),
    "ImageAutoencoder": (
        lambda: ImageAutoencoder(**TINY),
        "images",
        ["score_samples", "transform"],
    ),
    "ImageRegressor": (lambda: ImageRegressor(**REGRESSOR), "images->targets", ["predict"]),
    "ImageToSpectrum": (
        lambda: ImageToSpectrum(PCA(2), ImageRegressor(**REGRESSOR)),
        "images->targets",
        ["predict"],
    ),
    "ImageToSpectrum-RandomForest": (
        lambda: ImageToSpectrum(PCA(2), RandomForestRegressor(5, random_state=0)),
        "photometry->targets",
        ["predict"],
    ),
    "SpectrumNormalizer": (lambda: SpectrumNormalizer(), "spectra", ["transform"]),
    "ImageNormalizer": (lambda: ImageNormalizer(stretch="asinh"), "images", ["transform"]),
    "Pipeline": (
        lambda: make_pipeline(StandardScaler(), SpectralCAE(**TINY)),
        "spectra",
        ["score_samples", "transform"],
    ),
}


def _fit_args(kind, data):
    spectra, lines, images, targets = data
    return {
        "spectra": (spectra,),
        "lines": (spectra, lines),
        "images": (images,),
        "images->targets": (images, targets),
        "photometry->targets": (images.reshape(len(images), -1), targets),
    }[kind]


@pytest.mark.parametrize("name", CASES)
def test_round_trip_gives_identical_results(name, data, tmp_path):
    make, kind, methods = CASES[name]
    args = _fit_args(kind, data)
    est = make().fit(*args)
    path = save_model(est, tmp_path / "model.zip")
    loaded = load_model(path)
    assert type(loaded) is type(est)
    assert repr(loaded.get_params(deep=True)) == repr(est.get_params(deep=True))
    for method in methods:
        assert_same_bits(getattr(loaded, method)(args[0]), getattr(est, method)(args[0]))
    with zipfile.ZipFile(path) as zf:  # data only: JSON, .npy and safetensors
        assert {n.rsplit(".", 1)[-1] for n in zf.namelist()} <= {"json", "npy", "safetensors"}


def test_unfitted_estimator_round_trips(tmp_path):
    est = ImageToSpectrum(PCA(3), RandomForestRegressor(7, max_depth=2))
    loaded = load_model(save_model(est, tmp_path / "m.zip"))
    assert loaded.get_params()["regressor__n_estimators"] == 7
    assert loaded.get_params()["spectrum_model__n_components"] == 3


def test_loaded_net_keeps_history_and_callbacks(data, tmp_path):
    est = SpectralCAE(callbacks=[("stop", EarlyStopping(patience=3))], **TINY).fit(data[0])
    loaded = load_model(save_model(est, tmp_path / "m.zip"))
    assert isinstance(loaded.callbacks[0][1], EarlyStopping)
    assert loaded.callbacks[0][1].patience == 3
    assert [h["train_loss"] for h in loaded.history_] == [h["train_loss"] for h in est.history_]
    assert loaded.net_.history is loaded.history_


def test_metadata_round_trips(data, tmp_path):
    grid = np.linspace(3600.0, 9000.0, 32)
    path = save_model(SpectrumNormalizer(), tmp_path / "m.zip", metadata={"wavelength": grid})
    _, metadata = load_model(path, return_metadata=True)
    np.testing.assert_array_equal(metadata["wavelength"], grid)


def test_loading_leaves_the_global_torch_rng_alone(data, tmp_path):
    path = save_model(SpectralCAE(**TINY).fit(data[0]), tmp_path / "m.zip")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load_model(path)
    assert torch.equal(torch.rand(3), expected)


def test_save_never_overwrites(tmp_path):
    path = save_model(PCA(2), tmp_path / "m.zip")
    with pytest.raises(FileExistsError, match="exists"):
        save_model(PCA(2), path)
    save_model(PCA(3), path, overwrite=True)
    assert load_model(path).n_components == 3


def test_unsupported_values_are_named(data, tmp_path):
    with pytest.raises(TypeError, match=r"func.*function"):
        save_model(FunctionTransformer(func=lambda x: x), tmp_path / "m.zip")
    assert not (tmp_path / "m.zip").exists()
    scoring = EpochScoring(lambda net, X, y: 0.0, name="zero")
    est = SpectralCAE(callbacks=[scoring], **TINY).fit(data[0])
    with pytest.warns(UserWarning, match="callbacks cannot be saved"):
        path = save_model(est, tmp_path / "m.zip")
    loaded = load_model(path)
    assert loaded.callbacks is None
    assert_same_bits(loaded.score_samples(data[0]), est.score_samples(data[0]))


# -- files that would run code are refused, without running it -----------------------------------
def test_joblib_and_pickle_files_are_refused_unread(tmp_path):
    marker = tmp_path / "ran"
    for dump in (joblib.dump, lambda obj, p: p.write_bytes(pickle.dumps(obj))):
        path = tmp_path / "model.joblib"
        dump({"model": _Marker(marker)}, path)
        with pytest.raises(ValueError, match="joblib/pickle files are not loaded"):
            load_model(path)
        assert not marker.exists()
        path.unlink()


def _rewrite(path, edit):
    """Copy of a model file with ``edit(members)`` applied to its {name: bytes}."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    out = path.with_name("edited.zip")
    with zipfile.ZipFile(out, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return out


def test_array_with_a_pickle_payload_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = save_model(StandardScaler().fit(np.eye(3)), tmp_path / "m.zip")

    def poison(members):
        buf = io.BytesIO()
        np.save(buf, np.array([_Marker(marker)], dtype=object), allow_pickle=True)
        for name in members:
            if name.endswith(".npy"):
                members[name] = buf.getvalue()

    with pytest.raises(ValueError, match="allow_pickle"):
        load_model(_rewrite(path, poison))
    assert not marker.exists()


@pytest.mark.parametrize(
    "kind, name",
    [
        ("object", "subprocess:Popen"),
        ("object", "sklearn.base:copy.deepcopy"),  # defined elsewhere, merely imported there
        ("type", "sklearn.base:re.Pattern"),
        ("object", "sklearn.utils.validation:check_array"),  # not a class
        ("type", "os:system"),
        ("function", "builtins:eval"),
        ("reduce", "builtins:exec"),
    ],
)
def test_names_outside_the_allowlist_are_refused(kind, name, tmp_path):
    path = save_model(StandardScaler(), tmp_path / "m.zip")

    def swap(members):
        header = json.loads(members["model.json"])
        key = "class" if kind in ("object", "reduce") else "name"
        node = {"!": kind, key: name, "state": {}, "args": {"!": "tuple", "items": []}}
        if kind == "object":
            header["estimator"] = node
        else:
            header["estimator"]["state"]["copy"] = node
        members["model.json"] = json.dumps(header).encode()

    with pytest.raises(ValueError, match="refus"):
        load_model(_rewrite(path, swap))


def test_loading_never_unpickles(data, tmp_path, monkeypatch):
    est = ImageToSpectrum(PCA(2), RandomForestRegressor(3, random_state=0)).fit(
        data[2].reshape(40, -1), data[3]
    )
    path = save_model(est, tmp_path / "m.zip")
    calls = []
    real_load = np.load

    def spy_load(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("load_model unpickled something")

    monkeypatch.setattr(np, "load", spy_load)
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    loaded = load_model(path)
    assert calls and set(calls) == {False}
    np.testing.assert_array_equal(
        loaded.predict(data[2].reshape(40, -1)), est.predict(data[2].reshape(40, -1))
    )


def test_other_files_are_refused_with_one_clear_error(tmp_path):
    (tmp_path / "text.zip").write_text("not a zip")
    with pytest.raises(ValueError, match="not a skspectra model file"):
        load_model(tmp_path / "text.zip")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="lacks its member 'model.json'"):
        load_model(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.zip")


# -- devices -----------------------------------------------------------------------------------
def test_model_saved_for_cuda_loads_on_cpu(data, tmp_path):
    est = SpectralCAE(**TINY).fit(data[0])
    path = save_model(est, tmp_path / "m.zip")

    def to_cuda(members):
        header = json.loads(members["model.json"])
        header["estimator"]["state"]["device"] = "cuda"
        members["model.json"] = json.dumps(header).encode()

    cuda_file = _rewrite(path, to_cuda)
    if torch.cuda.is_available():
        loaded = load_model(cuda_file, device="cpu")
    else:
        with pytest.warns(UserWarning, match="CUDA device, which this machine lacks"):
            loaded = load_model(cuda_file)
    assert loaded.device == "cpu" and loaded.net_.device == "cpu"
    assert_same_bits(loaded.score_samples(data[0]), est.score_samples(data[0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_model_trained_on_cuda_loads_on_cpu(data, tmp_path):
    est = SpectralCAE(device="cuda", **TINY).fit(data[0])
    path = save_model(est, tmp_path / "m.zip")
    loaded = load_model(path, device="cpu")
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.transform(data[0]), est.transform(data[0]), rtol=1e-6)
