"""score_dask: block-by-block inference on Dask arrays, equal to in-memory inference.

Any machine: Dask blocks group the samples into other batches than one in-memory call, so the
results agree to float64 rounding (``rtol=1e-12``), not bit for bit (see ``_equality.py``)."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from skspectra import GaussianLineFitter, ImageAutoencoder, SpectralCAE  # noqa: E402
from skspectra.parallel import score_dask  # noqa: E402

from _equality import assert_equal_to_rounding  # noqa: E402


@pytest.fixture(scope="module")
def cae(toy_spectra):
    flux, ivar = toy_spectra
    return SpectralCAE(n_components=3, n_filters=2, depth=1, max_epochs=2, random_state=0).fit(
        flux, ivar=ivar
    )


@pytest.mark.parametrize("method", ["score_samples", "decision_function", "predict", "transform"])
def test_equal_to_in_memory(cae, toy_spectra, method):
    flux, ivar = toy_spectra
    # blocks of 37 samples do not line up with batch_size=64; the last one holds 9
    X = da.from_array(flux, chunks=(37, 16))
    out = score_dask(cae, X, method=method).compute(scheduler="threads")
    assert_equal_to_rounding(out, getattr(cae, method)(flux))


def test_ivar_is_routed_blockwise(cae, toy_spectra):
    flux, ivar = toy_spectra
    ivar = ivar.copy()
    ivar[:, 10:20] = 0
    out = score_dask(cae, flux, ivar=ivar, chunk_size=50).compute(scheduler="sync")
    assert_equal_to_rounding(out, cae.score_samples(flux, ivar=ivar))
    assert not np.array_equal(out, cae.score_samples(flux))


def test_image_estimator_drops_all_pixel_axes():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(20, 1, 8, 8))
    model = ImageAutoencoder(
        n_components=2, n_filters=2, depth=1, max_epochs=1, random_state=0
    ).fit(images)
    out = score_dask(model, da.from_array(images, chunks=(7, 1, 4, 8))).compute(scheduler="sync")
    assert out.shape == (20,)
    assert_equal_to_rounding(out, model.score_samples(images))


def test_multi_output_predict():
    from skspectra.datasets import make_gaussian_spectra

    X, y = make_gaussian_spectra(40, 64, return_params=True, random_state=0)[:2]
    model = GaussianLineFitter(
        kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=8, max_epochs=1, random_state=0
    ).fit(X, y)
    out = score_dask(model, X, method="predict", chunk_size=15).compute(scheduler="sync")
    assert_equal_to_rounding(out, model.predict(X))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "fit"}, "method must be one of"),
        ({"method": "reconstruct", "ivar": np.ones((3, 3))}, "ivar has shape"),
    ],
)
def test_bad_arguments(cae, toy_spectra, kwargs, match):
    with pytest.raises(ValueError, match=match):
        score_dask(cae, toy_spectra[0], **kwargs)


def test_unfitted_estimator_is_refused(toy_spectra):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        score_dask(SpectralCAE(), toy_spectra[0])


@pytest.mark.slow  # a dask LocalCluster
def test_local_cluster_with_two_worker_processes(cae, toy_spectra):
    distributed = pytest.importorskip("distributed")
    flux, _ = toy_spectra
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        X = da.from_array(flux, chunks=(30, -1))
        out = client.compute(score_dask(cae, X)).result()
        pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2
    assert_equal_to_rounding(out, cae.score_samples(flux))
