"""scikit-learn's own estimator checks over every public estimator, with no expected failures,
on small instances (fewer filters and epochs than the defaults, for speed)."""

from sklearn.decomposition import PCA
from sklearn.utils.estimator_checks import parametrize_with_checks

from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor, ImageToSpectrum
from skspectra.lines import GaussianLineFitter
from skspectra.preprocessing import SpectrumNormalizer
from skspectra.preprocessing.images import ImageNormalizer
from skspectra.spectra import SpectralVAE

# Small, fast instances: the checks fit each one dozens of times. SpectrumNormalizer skips
# (rather than rejects) rows with a median <= 0, which the checks' synthetic data are full of.
ESTIMATORS = [
    SpectralCAE(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=16),
    SpectralVAE(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=16),
    SpectrumNormalizer(on_invalid="skip"),
    ImageNormalizer(stretch="asinh"),
    GaussianLineFitter(
        max_components=1, kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=8, max_epochs=2
    ),
    # 5 epochs at lr=1e-2 reach the R² > 0.5 of check_regressors_train: no poor_score tag.
    ImageRegressor(hidden_layer_sizes=(16,), max_epochs=5, lr=1e-2, batch_size=16),
    ImageToSpectrum(
        PCA(1), ImageRegressor(hidden_layer_sizes=(16,), max_epochs=5, lr=1e-2, batch_size=16)
    ),
    # flat rows of any length become one-band 1 x n_features images
    ImageAutoencoder(
        n_components=2, n_filters=2, depth=1, image_shape=(1, 1, -1), max_epochs=2, batch_size=16
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
