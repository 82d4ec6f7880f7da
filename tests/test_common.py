"""scikit-learn's own estimator checks over every public estimator, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skspectra import SpectralCAE

# Small, fast instances: the checks fit each one dozens of times.
ESTIMATORS = [
    SpectralCAE(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=16),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
