"""
=====================================================
Tune skspectra pipelines with Optuna's OptunaSearchCV
=====================================================

:class:`optuna_integration.OptunaSearchCV` is a drop-in for scikit-learn's
``RandomizedSearchCV``: it cross-validates each set of hyper-parameters that an
Optuna sampler (TPE by default) proposes. skspectra's estimators are plain
scikit-learn estimators, so they go into a :class:`~sklearn.pipeline.Pipeline`
and the search addresses their parameters by step name.

Two searches, six trials each, two-fold cross-validation:

1. a :class:`~skspectra.preprocessing.SpectrumNormalizer` and a
   :class:`~skspectra.spectra.SpectralCAE` on 600 real Gaia XP spectra in
   calibrated flux (W m⁻² nm⁻¹), scored by the autoencoder's own ``score``
   (minus the mean squared reconstruction residual of the held-out fold);
2. a continuum subtraction and a :class:`~skspectra.lines.GaussianLineFitter`
   on synthetic spectra of up to three lines on a sloped continuum, scored by
   the F1 of the line detection (:func:`~skspectra.lines.component_f1_score`).

To stop bad trials after a few epochs, see the example
``plot_optuna_pruning.py``.
"""

import matplotlib.pyplot as plt
import numpy as np
import optuna
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna_integration import OptunaSearchCV
from sklearn.metrics import make_scorer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skspectra.datasets import load_gaia_xp, make_gaussian_spectra
from skspectra.lines import GaussianLineFitter, component_f1_score
from skspectra.preprocessing import SpectrumNormalizer
from skspectra.spectra import SpectralCAE

torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)

# %%
# A SpectralCAE on real Gaia XP spectra
# -------------------------------------
# The shipped sample is normalised by each star's median flux; multiplying by
# ``medflux`` gives back the calibrated flux, which the pipeline normalises again.

data = load_gaia_xp()
flux = data.flux * data.medflux[:, None]
X_train, X_test = flux[:600], flux[600:900]

cae_search = OptunaSearchCV(
    make_pipeline(
        SpectrumNormalizer(),
        SpectralCAE(depth=2, max_epochs=5, random_state=0),
    ),
    {
        "spectralcae__n_components": IntDistribution(2, 16, log=True),
        "spectralcae__lr": FloatDistribution(3e-4, 3e-2, log=True),
        "spectralcae__n_filters": CategoricalDistribution([4, 8]),
    },
    cv=2,
    n_trials=6,
    random_state=0,
)
cae_search.fit(X_train)
print("SpectralCAE best parameters:", cae_search.best_params_)
print(f"  cross-validated score {cae_search.best_score_:.2e}")
print(f"  held-out score (300 other stars) {cae_search.score(X_test):.2e}")

# %%
# A GaussianLineFitter after a continuum subtraction
# --------------------------------------------------
# The fitter expects continuum-subtracted spectra. Here the continuum is a
# straight line, different for each spectrum; lines cover few channels, so each
# spectrum's median is a fair estimate of it.

rng = np.random.default_rng(0)
lines, params, _ = make_gaussian_spectra(
    900, 64, n_components=(0, 3), sigma_range=(1.0, 4.0), return_params=True, random_state=0
)
channels = np.linspace(-1, 1, 64)
continuum = rng.uniform(1, 3, (900, 1)) + rng.uniform(-0.2, 0.2, (900, 1)) * channels
spectra = lines + continuum


def subtract_median(X):
    """Each spectrum minus its median: the continuum of spectra with sparse lines."""
    return X - np.median(X, axis=1, keepdims=True)


line_search = OptunaSearchCV(
    make_pipeline(
        FunctionTransformer(subtract_median),
        GaussianLineFitter(
            max_components=3,
            kernel_sizes=(3, 9),
            n_blocks=3,
            hidden_size=64,
            max_epochs=8,
            random_state=0,
        ),
    ),
    {
        "gaussianlinefitter__lr": FloatDistribution(3e-4, 1e-2, log=True),
        "gaussianlinefitter__n_filters": CategoricalDistribution([2, 4, 8]),
        "gaussianlinefitter__sparsity_weight": FloatDistribution(1e-2, 1.0, log=True),
    },
    cv=2,
    n_trials=6,
    scoring=make_scorer(component_f1_score),
    random_state=0,
)
line_search.fit(spectra[:600], params[:600])
print("GaussianLineFitter best parameters:", line_search.best_params_)
print(f"  cross-validated F1 {line_search.best_score_:.3f}")
print(f"  held-out F1 (300 other spectra) {line_search.score(spectra[600:], params[600:]):.3f}")

# %%
# Each trial's cross-validated result, and the best so far. ``study_`` is the
# Optuna study behind each search: any of Optuna's plots and tools read it.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
mse = -np.array([t.value for t in cae_search.study_.trials])
f1 = np.array([t.value for t in line_search.study_.trials])
for ax, values, best in [
    (axes[0], mse, np.minimum.accumulate(mse)),
    (axes[1], f1, np.maximum.accumulate(f1)),
]:
    ax.plot(values, "o", label="trial")
    ax.plot(best, drawstyle="steps-post", label="best so far")
    ax.set_xlabel("trial")
    ax.legend()
axes[0].set(
    yscale="log",
    ylabel="reconstruction MSE (normalised flux²)",
    title="SpectralCAE on Gaia XP (lower is better)",
)
axes[1].set(ylabel="F1 of line detection", title="GaussianLineFitter on line spectra")
plt.show()
