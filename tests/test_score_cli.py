"""``skspectra score`` and the chunked scoring under it: same scores as in memory, any input."""

import h5py
import joblib
import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from sklearn.decomposition import PCA

from skspectra import GaussianLineFitter, SpectralCAE
from skspectra.cli import main
from skspectra.datasets import load_gaia_xp
from skspectra.io import load_model, save_model
from skspectra.scoring import score_in_chunks

from _equality import assert_equal_to_rounding, assert_same_bits

N = 120


@pytest.fixture(scope="module")
def stars(tmp_path_factory):
    """120 Gaia XP stars as an .npz table, and a model trained on them by ``anomalies``."""
    folder = tmp_path_factory.mktemp("stars")
    gaia = load_gaia_xp()
    ids = np.asarray(gaia.ids["apogee_id"][:N], dtype="U")
    data = {"flux": gaia.flux[:N], "ivar": gaia.ivar[:N], "wavelength": gaia.wavelength}
    np.savez(folder / "stars.npz", **data, ids=ids)
    # one thread here and in _score: the bit-for-bit comparisons hold for one thread count, and
    # the default follows the machine's load
    args = ["anomalies", folder / "stars.npz", "--epochs", "1", "--top", "1", "--quiet"]
    args += ["--threads", "1"]
    status = main(
        [str(a) for a in [*args, "--out", folder / "rep", "--save-model", folder / "m.zip"]]
    )
    assert status == 0
    report = pd.read_csv(folder / "rep" / "anomalies.csv")
    return folder, data, ids, report


def _score(tmp_path, capsys, *args):
    status = main(["score", "--threads", "1", *map(str, args)])
    err = capsys.readouterr().err
    return status, err


def test_scores_match_the_anomalies_report(stars, tmp_path, capsys):
    folder, _, _, report = stars
    status, err = _score(
        tmp_path,
        capsys,
        "--model",
        folder / "m.zip",
        folder / "stars.npz",
        "--out",
        tmp_path / "s.csv",
    )
    assert status == 0, err
    table = pd.read_csv(tmp_path / "s.csv")
    assert list(table["rank"]) == list(range(1, N + 1))
    assert list(table["id"]) == list(report["id"])  # same ranking as training's own report
    # same machine: one chunk holds all 120 spectra, so scoring repeats training's batch layout
    assert_same_bits(table["score"], report["score"])
    assert_same_bits(table["is_anomaly"], report["is_anomaly"])
    assert f"{N} spectra from 1 file(s)" in err and "spectra/s" in err


def test_every_input_format_gives_the_same_scores(stars, tmp_path, capsys):
    folder, data, ids, report = stars
    np.savez_compressed(tmp_path / "c.npz", **data, ids=ids)  # streamed from a deflate stream
    with h5py.File(tmp_path / "s.h5", "w") as f:
        group = f.create_group("survey")
        for key, value in data.items():
            group[key] = value
        group["ids"] = ids.astype("S")
    fits = tmp_path / "fits"
    fits.mkdir()
    for k, rows in enumerate((slice(0, 50), slice(50, N))):
        n = rows.stop - rows.start
        columns = {"flux": data["flux"][rows], "ivar": data["ivar"][rows], "id": ids[rows]}
        columns["wavelength"] = np.tile(data["wavelength"], (n, 1))
        Table(columns).write(fits / f"part{k}.fits")
    expected = report.set_index("id")["score"]
    for source, out in [
        (tmp_path / "c.npz", "c.csv"),
        (f"{tmp_path / 's.h5'}:/survey/flux", "h.parquet"),
        (fits, "f.csv"),
    ]:
        status, err = _score(
            tmp_path,
            capsys,
            "--model",
            folder / "m.zip",
            source,
            "--out",
            tmp_path / out,
            "--chunk-size",
            "16",
        )
        assert status == 0, err
        table = (
            pd.read_parquet(tmp_path / out)
            if out.endswith("parquet")
            else pd.read_csv(tmp_path / out)
        )
        assert len(table) == N and set(table["id"]) == set(ids)
        # float32 inference (the anomalies default) differs at 1e-7 between batch layouts
        np.testing.assert_allclose(
            table.set_index("id")["score"].loc[expected.index], expected, rtol=1e-4
        )
    assert set(pd.read_csv(tmp_path / "f.csv")["file"].map(lambda p: p.rsplit("/", 1)[-1])) == {
        "part0.fits",
        "part1.fits",
    }


def test_npy_without_ivar_or_wavelength_uses_estimated_noise(stars, tmp_path, capsys):
    folder, data, _, _ = stars
    np.save(tmp_path / "flux.npy", data["flux"].astype(np.float32))
    status, err = _score(
        tmp_path,
        capsys,
        "--model",
        folder / "m.zip",
        tmp_path / "flux.npy",
        "--out",
        tmp_path / "s.csv",
    )
    assert status == 0, err
    table = pd.read_csv(tmp_path / "s.csv")
    assert len(table) == N and np.isfinite(table["score"]).all()
    assert table["id"].str.startswith("flux.npy#").all()
    model = load_model(folder / "m.zip").set_params(noise="estimate")
    flux = data["flux"].astype(np.float32).astype(float)
    np.testing.assert_allclose(
        table.sort_values("row")["score"],
        model.score_samples(flux / np.median(flux, axis=1)[:, None]),
        rtol=1e-4,
    )


def test_regressor_predictions_come_in_input_order(tmp_path, capsys):
    rng = np.random.default_rng(0)
    flux = 1 + 0.1 * rng.normal(size=(40, 32))
    fitter = GaussianLineFitter(
        max_components=1,
        kernel_sizes=(3,),
        n_filters=2,
        n_blocks=1,
        hidden_size=8,
        max_epochs=1,
        random_state=0,
    ).fit(flux, np.abs(rng.normal(size=(40, 3))) + 0.5)
    save_model(fitter, tmp_path / "lines.zip")
    np.savez(tmp_path / "x.npz", flux=flux)
    status, err = _score(
        tmp_path,
        capsys,
        "--model",
        tmp_path / "lines.zip",
        tmp_path / "x.npz",
        "--out",
        tmp_path / "p.csv",
        "--chunk-size",
        "7",
    )
    assert status == 0, err
    table = pd.read_csv(tmp_path / "p.csv")
    assert list(table["row"]) == list(range(40)) and "rank" not in table
    np.testing.assert_allclose(
        table[["predict_0", "predict_1", "predict_2"]], fitter.predict(flux), rtol=1e-12
    )


@pytest.mark.parametrize(
    "case, message",
    [
        ("joblib", "not a skspectra model file"),
        ("suffix", "--out must end in .csv or .parquet"),
        ("pixels", "gives 20 pixels and no wavelengths, but the model was trained on 343"),
        ("dataset", "has no dataset '/nope'"),
        ("nan", "spectrum nan.npz#3 has NaN or infinite flux at 1 pixels that are not masked"),
        ("missing", "No such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(case, message, stars, tmp_path, capsys):
    folder, data, _, _ = stars
    model, source, out = folder / "m.zip", folder / "stars.npz", tmp_path / "s.csv"
    if case == "joblib":
        model = tmp_path / "m.joblib"
        joblib.dump(PCA(), model)
    elif case == "suffix":
        out = tmp_path / "s.txt"
    elif case == "pixels":
        source = tmp_path / "short.npz"
        np.savez(source, flux=np.ones((5, 20)))
    elif case == "dataset":
        with h5py.File(tmp_path / "s.h5", "w") as f:
            f["flux"] = data["flux"]
        source = f"{tmp_path / 's.h5'}:/nope"
    elif case == "nan":
        source = tmp_path / "nan.npz"
        flux = data["flux"].copy()
        flux[3, 10] = np.nan
        np.savez(source, flux=flux, ivar=data["ivar"], wavelength=data["wavelength"])
    elif case == "missing":
        source = tmp_path / "nothing.npz"
    status, err = _score(tmp_path, capsys, "--model", model, source, "--out", out)
    assert status == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("skspectra: error: ") and message in last, err
    assert "Traceback" not in err
    assert not out.exists()


# -- score_in_chunks ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cae():
    rng = np.random.default_rng(1)
    flux = 1 + 0.05 * rng.normal(size=(150, 40))
    model = SpectralCAE(n_components=2, n_filters=2, depth=1, max_epochs=1, random_state=0)
    return model.fit(flux), flux, np.full(flux.shape, 400.0)


@pytest.mark.parametrize("method", ["score_samples", "transform", "predict", "decision_function"])
def test_chunks_of_a_memmap_give_the_in_memory_result(cae, method, tmp_path):
    model, flux, ivar = cae
    mm = np.lib.format.open_memmap(
        tmp_path / "f.npy", mode="w+", dtype=np.float64, shape=flux.shape
    )
    mm[:] = flux
    mm.flush()
    mm = np.load(tmp_path / "f.npy", mmap_mode="r")
    kwargs = {} if method == "transform" else {"ivar": ivar}
    expected = getattr(model, method)(flux, **kwargs)
    got = score_in_chunks(model, mm, method=method, chunk_size=37, **kwargs)
    # any machine: chunks of 37 batch the rows differently from one in-memory call (the last
    # chunk holds 2 rows), which changes float64 sums at the 1e-16 level on some CPUs
    assert_equal_to_rounding(got, expected)


def test_chunked_scores_hold_on_a_cpu_whose_kernels_depend_on_the_batch(cae, monkeypatch):
    """Another CPU, simulated: the network's float64 output for a small batch is rounded
    differently (here by 1e-14 relative), as when MKL picks another kernel for 2 rows.
    Chunked scoring then differs from in-memory scoring in its last bits, and must still agree
    to rounding: the promise of test_chunks_of_a_memmap_give_the_in_memory_result."""
    import skspectra.base

    model, flux, ivar = cae
    to_numpy = skspectra.base._to_numpy

    def batch_dependent(out):
        arrays = to_numpy(out)
        parts = arrays if isinstance(arrays, tuple) else (arrays,)
        if len(parts[0]) < 4:  # a small batch
            parts = tuple(a * (1 + 1e-14) for a in parts)
        return parts if isinstance(arrays, tuple) else parts[0]

    expected = model.score_samples(flux, ivar=ivar)
    monkeypatch.setattr(skspectra.base, "_to_numpy", batch_dependent)
    got = score_in_chunks(model, flux, method="score_samples", chunk_size=37, ivar=ivar)
    assert not np.array_equal(got, expected)  # the simulated CPU changed the last chunk's bits
    assert_equal_to_rounding(got, expected)


class _Recorder:
    """Records what it is called on: each call must get one chunk, as an in-memory array."""

    def __init__(self):
        self.calls = []

    def score_samples(self, X):
        self.calls.append((type(X), X.shape))
        return X.sum(axis=1)


def test_the_estimator_sees_one_chunk_at_a_time(tmp_path):
    mm = np.lib.format.open_memmap(tmp_path / "f.npy", mode="w+", dtype=np.float32, shape=(1000, 8))
    mm[:] = np.arange(8000, dtype=np.float32).reshape(1000, 8)
    rec = _Recorder()
    out = np.lib.format.open_memmap(tmp_path / "o.npy", mode="w+", dtype=np.float32, shape=(1000,))
    progress = []
    result = score_in_chunks(
        rec, mm, chunk_size=300, out=out, progress=lambda d, n: progress.append(d)
    )
    assert result is out
    assert [shape for _, shape in rec.calls] == [(300, 8), (300, 8), (300, 8), (100, 8)]
    assert all(t is np.ndarray for t, _ in rec.calls)
    assert progress == [300, 600, 900, 1000]
    np.testing.assert_array_equal(out, np.asarray(mm).sum(axis=1))


def test_score_in_chunks_errors(cae):
    model, flux, ivar = cae
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        score_in_chunks(model, flux, chunk_size=0)
    with pytest.raises(ValueError, match="has no method 'predict_proba'"):
        score_in_chunks(model, flux, method="predict_proba")
    with pytest.raises(ValueError, match="ivar has 10 rows but X has 150"):
        score_in_chunks(model, flux, ivar=ivar[:10])
    with pytest.raises(ValueError, match="X has no rows"):
        score_in_chunks(model, flux[:0])
    bad = flux.copy()
    bad[120, 3] = np.nan
    with pytest.raises(ValueError, match=r"rows 100-149: .*NaN"):
        score_in_chunks(model, bad, chunk_size=50)
    with pytest.raises(ValueError, match="out has shape"):
        score_in_chunks(model, flux, out=np.empty(3))


def test_copy_on_write_memmaps_keep_their_changes(tmp_path):
    np.save(tmp_path / "f.npy", np.ones((600, 1024), dtype=np.float32))  # many pages per chunk
    mm = np.load(tmp_path / "f.npy", mmap_mode="c")
    mm[:, 0] = 2.0  # private changes, which dropping pages would lose
    got = score_in_chunks(_Recorder(), mm, chunk_size=100)
    np.testing.assert_array_equal(got, np.full(600, 1025.0))
    np.testing.assert_array_equal(mm[:, 0], 2.0)
