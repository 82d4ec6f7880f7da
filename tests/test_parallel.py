"""score_dask: block-by-block inference on Dask arrays, equal to in-memory inference.

Any machine: Dask blocks group the samples into other batches than one in-memory call, so the
results agree to float64 rounding (``rtol=1e-12``), not bit for bit (see ``_equality.py``)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import skspectra  # noqa: E402
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


FAULTS_SCRIPT = r"""
import resource, sys
import numpy as np, torch
torch.set_num_threads(1)
from skspectra import SpectralCAE
from skspectra.parallel import _apply
rng = np.random.default_rng(0)
flux = 1 + rng.normal(0, 0.01, (300, 343))
model = SpectralCAE(n_components=4, max_epochs=1, random_state=0).fit(flux[:100])
if sys.argv[1] == "dask":
    score = lambda X: _apply(X, model, "score_samples")
else:
    score = model.score_samples
score(flux)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
score(flux)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_blocks_in_a_dask_worker_do_not_page_fault_for_every_batch():
    """dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which in glibc turns off the
    dynamic mmap threshold: each batch's activations then get fresh pages (the cause of Dask
    scoring at 0.7x one process). score_dask's blocks put the threshold back. Page faults, not
    seconds, so that a loaded machine cannot make the test flaky."""
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(Path(skspectra.__file__).resolve().parents[1])
    faults = {}
    for how in ("plain", "dask"):
        proc = subprocess.run(
            [sys.executable, "-c", FAULTS_SCRIPT, how], env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        faults[how] = int(proc.stdout.split()[-1])
    assert faults["dask"] * 10 < faults["plain"], faults
