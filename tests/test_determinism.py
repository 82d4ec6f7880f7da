"""The same random_state gives the same bits in two separate processes on the same machine
(one thread each), for every estimator. A promise about one machine, not across machines: another
CPU may pick other float kernels (see ``_equality.py``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import skspectra

# slow: fits every estimator in two subprocesses
pytestmark = pytest.mark.slow

# Fits every estimator (the small instances of test_common, seeded) and prints a SHA-256 of each
# output's bytes.
SCRIPT = r"""
import hashlib, json
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.decomposition import PCA
from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor, ImageToSpectrum
from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import GaussianLineFitter
from skspectra.spectra import SpectralVAE

rng = np.random.default_rng(0)
x = np.linspace(-1, 1, 48)
flux = 1 + rng.uniform(-0.3, 0.3, (64, 1)) * x + rng.normal(0, 0.01, (64, 48))
ivar = np.full(flux.shape, 1e4)
images = rng.random((48, 1, 8, 8))
mags = rng.normal(size=(64, 5))
lines_X, lines_y = make_gaussian_spectra(64, 48, n_components=(1, 1), return_params=True,
                                         random_state=0)[:2]

def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

out = {}
cae = SpectralCAE(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=16,
                  random_state=0).fit(flux, ivar=ivar)
out["SpectralCAE"] = digest(cae.transform(flux), cae.score_samples(flux, ivar=ivar))
vae = SpectralVAE(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=16,
                  random_state=0).fit(flux, ivar=ivar)
out["SpectralVAE"] = digest(vae.transform(flux), vae.score_samples(flux, ivar=ivar),
                            vae.sample(4, random_state=0))
fitter = GaussianLineFitter(max_components=1, kernel_sizes=(3,), n_filters=2, n_blocks=1,
                            hidden_size=8, max_epochs=2, random_state=0).fit(lines_X, lines_y)
out["GaussianLineFitter"] = digest(fitter.predict(lines_X))
reg = ImageRegressor(n_filters=2, depth=1, hidden_layer_sizes=(16,), max_epochs=3,
                     batch_size=16, random_state=0).fit(images, flux[:48, :3])
out["ImageRegressor"] = digest(reg.predict(images))
i2s = ImageToSpectrum(PCA(2), ImageRegressor(hidden_layer_sizes=(16,), max_epochs=3,
                                             batch_size=16), random_state=0).fit(mags, flux)
out["ImageToSpectrum"] = digest(i2s.predict(mags))
ae = ImageAutoencoder(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=16,
                      random_state=0).fit(images)
out["ImageAutoencoder"] = digest(ae.transform(images), ae.score_samples(images))
print(json.dumps(out))
"""


def test_same_random_state_same_bits_in_two_processes(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(skspectra.__file__).resolve().parents[1]),
        "OMP_NUM_THREADS": "1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    first, second = results
    assert set(first) == {
        "SpectralCAE",
        "SpectralVAE",
        "GaussianLineFitter",
        "ImageRegressor",
        "ImageToSpectrum",
        "ImageAutoencoder",
    }
    assert first == second
