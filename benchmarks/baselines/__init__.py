"""The fair baselines every skspectra benchmark compares against, defined once.

Rules (see benchmarks/README.md, "Fair baselines"):

- **Same inputs.** A baseline gets ``ivar`` whenever the skspectra model gets it.
- **Same scoring rule.** A PCA residual is scored by the package's own code: the spectral one
  by :class:`~skspectra.spectra._reconstruction.ReconstructionMixin` and
  :class:`~skspectra.spectra._latent_density.LatentDensityMixin` (the same per-pixel noise
  model, the same top-pixel pooling, the same latent-density term and the same ``combined``
  rule as :class:`~skspectra.SpectralCAE`), the image one by
  :class:`~skspectra.images.ImageAutoencoder`'s own ``score_samples``.
- **Same tuning budget.** PCA's ``n_components`` and pooling are searched on the dev seeds over
  at least as many settings as the model's defaults were (:data:`PCA_GRID`; the search is
  ``benchmarks/search/anomaly.py``).
- **Strongest usual settings** for the model-free detectors: IsolationForest (on the flux and on
  PCA(10)), LocalOutlierFactor and the mean distance to the k nearest neighbours; least squares
  + BIC with a greedy stop at the first BIC rise for line fitting (:func:`lsq_bic_greedy`);
  ExtraTrees and HistGradientBoosting on PCA(30) coefficients for spectra from photometry
  (:class:`PCACoefficientRegressor`).

Every anomaly detector here has ``fit(X, ivar=None)`` and ``anomaly(X, ivar=None)`` (higher =
more anomalous). ``anomaly`` on the very array passed to ``fit`` ranks the training set itself
(the transductive protocol): the nearest-neighbour detectors then leave each spectrum out of its
own neighbours, as the CAE's latent score does.

PyOD (ECOD, IForest, AutoEncoder, VAE) is not among them: ``pyod`` 3.6.7 requires ``numba``
(and with it ``llvmlite``), which the project's environment does not carry.
"""

from benchmarks.baselines.anomaly import (
    CAE_RULE_GRID,
    PCA_GRID,
    IsolationForestDetector,
    KNNDistance,
    LOFDetector,
    PCAResidual,
    anomaly_detectors,
)
from benchmarks.baselines.cannon import CANNON_ALPHAS, CannonQuadratic
from benchmarks.baselines.images import ImagePCAResidual
from benchmarks.baselines.lines import lsq_bic_greedy, lsq_bic_greedy_batch
from benchmarks.baselines.regression import (
    PCACoefficientRegressor,
    extra_trees_pca,
    hist_gradient_boosting_pca,
)

__all__ = [
    "CANNON_ALPHAS",
    "CAE_RULE_GRID",
    "CannonQuadratic",
    "PCA_GRID",
    "ImagePCAResidual",
    "IsolationForestDetector",
    "KNNDistance",
    "LOFDetector",
    "PCACoefficientRegressor",
    "PCAResidual",
    "anomaly_detectors",
    "extra_trees_pca",
    "hist_gradient_boosting_pca",
    "lsq_bic_greedy",
    "lsq_bic_greedy_batch",
]
