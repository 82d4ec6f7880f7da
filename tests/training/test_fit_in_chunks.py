"""Out-of-core training: fit_in_chunks over arrays larger than one chunk."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skspectra import SpectralCAE
from skspectra.lines import GaussianLineFitter
from skspectra.training import fit_in_chunks


def _small_cae(**kwargs):
    return SpectralCAE(
        n_components=2, n_filters=2, depth=1, batch_size=32, random_state=0, **kwargs
    )


def test_trains_from_a_memmap_and_restores_max_epochs(tmp_path, toy_spectra):
    flux, ivar = toy_spectra
    path = tmp_path / "flux.dat"
    disk = np.memmap(path, dtype=np.float64, mode="w+", shape=flux.shape)
    disk[:] = flux
    disk.flush()
    X = np.memmap(path, dtype=np.float64, mode="r", shape=flux.shape)
    cae = fit_in_chunks(_small_cae(max_epochs=3), X, ivar=ivar, chunk_size=40, random_state=0)
    # 3 passes over 3 chunks: one epoch per partial_fit call, the schedule planned over all 9
    assert len(cae.history_) == 9
    assert cae.net_.stream_epochs_ == 9
    assert cae.max_epochs == 3
    residual = cae.reconstruct(X, ivar=ivar) - flux
    assert np.mean(residual**2) < 0.3 * np.var(flux)  # it learned the spectra's shapes
    assert cae.transform(X[:5]).shape == (5, 2)


def test_chunks_follow_one_another_as_partial_fit_calls(toy_spectra):
    flux, _ = toy_spectra
    a = fit_in_chunks(_small_cae(max_epochs=2), flux, chunk_size=60, random_state=1)
    b = _small_cae(max_epochs=4)  # the plan fit_in_chunks sets: 2 passes x 2 chunks
    order = np.random.RandomState(1)
    for _ in range(2):
        for start in order.permutation([0, 60]):
            b.partial_fit(flux[start : start + 60])
    np.testing.assert_allclose(a.transform(flux), b.transform(flux))


@pytest.mark.parametrize("kind", ["hdf5", "dask"])
def test_hdf5_and_dask_inputs_train_as_the_array_does(tmp_path, toy_spectra, kind):
    flux, ivar = toy_spectra
    if kind == "hdf5":
        h5py = pytest.importorskip("h5py")
        handle = h5py.File(tmp_path / "flux.h5", "w")
        X = handle.create_dataset("flux", data=flux, chunks=(40, flux.shape[1]))
    else:
        da = pytest.importorskip("dask.array")
        X = da.from_array(flux, chunks=(40, flux.shape[1]))
    lazy = fit_in_chunks(_small_cae(max_epochs=2), X, ivar=ivar, chunk_size=40, random_state=0)
    eager = fit_in_chunks(_small_cae(max_epochs=2), flux, ivar=ivar, chunk_size=40, random_state=0)
    np.testing.assert_allclose(lazy.transform(flux), eager.transform(flux))


def test_supervised_estimator_gets_its_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 32))
    y = np.column_stack([X[:, :4].sum(axis=1), X[:, 4:8].sum(axis=1)])
    glf = GaussianLineFitter(kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=8)
    fit_in_chunks(glf, X, y, chunk_size=20, n_epochs=2, random_state=0)
    assert glf.predict(X).shape == (60, 2)
    assert len(glf.history_) == 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"chunk_size": 0}, "chunk_size must be an int >= 1"),
        ({"n_epochs": 1.5}, "n_epochs must be an int >= 1"),
        ({"ivar": np.ones((3, 64))}, "ivar has 3 rows but X has 120"),
    ],
)
def test_bad_arguments_raise(toy_spectra, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_in_chunks(_small_cae(), toy_spectra[0], **kwargs)


def test_estimator_without_partial_fit_raises(toy_spectra):
    from sklearn.decomposition import PCA

    with pytest.raises(ValueError, match="PCA has no partial_fit"):
        fit_in_chunks(PCA(2), toy_spectra[0])


# Peak RSS of one fit_in_chunks run on a memmap, in a fresh interpreter (MiB).
_PROBE = textwrap.dedent(
    """
    import sys
    import numpy as np, torch
    torch.set_num_threads(1)
    from skspectra import SpectralCAE
    from skspectra.training import fit_in_chunks
    path, n, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    X = np.memmap(path, dtype=np.float64, mode="r", shape=(n, 512))
    cae = SpectralCAE(n_components=2, n_filters=2, depth=1, batch_size=256, random_state=0)
    fit_in_chunks(cae, X, chunk_size=chunk, n_epochs=1, random_state=0)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent, so a
    # child of a large pytest process would report the parent's peak
    status = open('/proc/self/status').read().split('VmHWM:')[1]
    print(int(status.split()[0]) / 1024)
    """
)


def _peak_rss_mib(path, n, chunk):
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), str(n), str(chunk)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/status is Linux's")
def test_peak_rss_grows_with_chunk_size_not_with_n_samples(tmp_path):
    n_big, n_small = 16_384, 4_096  # 64 MiB and 16 MiB of float64 spectra of 512 pixels
    path = tmp_path / "flux.dat"
    disk = np.memmap(path, dtype=np.float64, mode="w+", shape=(n_big, 512))
    rng = np.random.default_rng(0)
    for start in range(0, n_big, 4096):
        disk[start : start + 4096] = rng.normal(size=(4096, 512))
    disk.flush()
    del disk
    small = _peak_rss_mib(path, n_small, 512)
    big = _peak_rss_mib(path, n_big, 512)
    big_chunks = _peak_rss_mib(path, n_small, 4096)
    print(
        f"peak RSS, MiB: {small:.0f} ({n_small} spectra in chunks of 512), {big:.0f} "
        f"({n_big} in chunks of 512), {big_chunks:.0f} ({n_small} in chunks of 4096)"
    )
    # 4x the spectra (48 MiB more on disk): no more memory than allocator noise (seen: 17 MiB)
    assert big - small < 24
    # 8x the chunk (14 MiB more per chunk, and its float32 and training copies): seen 140 MiB
    assert big_chunks - small > 48
