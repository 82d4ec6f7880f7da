"""Images: PCA scored by ImageAutoencoder's rule."""

from sklearn.decomposition import PCA

from skspectra.images import ImageAutoencoder


# -- images: PCA scored by ImageAutoencoder's rule -----------------------------------------------
class ImagePCAResidual(ImageAutoencoder):
    """PCA on flattened images, scored by :class:`~skspectra.images.ImageAutoencoder`'s own code.

    Only the reconstruction differs from the autoencoder's: ``score_samples``, ``anomaly_map``
    and the fit of what they need (``_fit_scores``) are the autoencoder's methods, so the
    residual is divided by the same per-pixel robust spread of the training residuals (or
    multiplied by √ivar) and pooled by the same rule (``pooling``), calibrated on the training
    images as the autoencoder's is.

    Parameters
    ----------
    n_components : int, default=8
        Principal components kept.
    pooling : {'detectors', 'top_pixels'}, default='detectors'
        As :class:`~skspectra.images.ImageAutoencoder`'s (its default).
    n_top_pixels : int or None, default=2
        As :class:`~skspectra.images.ImageAutoencoder`'s (its default).
    image_shape : tuple of int or None, default=None
        ``(C, H, W)`` for flat input.
    contamination : 'auto' or float, default='auto'
    """

    def __init__(
        self,
        n_components=8,
        *,
        pooling="detectors",
        n_top_pixels=2,
        image_shape=None,
        contamination="auto",
    ):
        self.n_components = n_components
        self.pooling = pooling
        self.n_top_pixels = n_top_pixels
        self.image_shape = image_shape
        self.contamination = contamination

    def fit(self, X, y=None, ivar=None):
        """Fit PCA on the images (masked pixels at 0), then the autoencoder's noise scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W), (n_samples, H, W) or (n_samples, C*H*W)
        y : None
            Ignored.
        ivar : array-like of the shape of X, default=None

        Returns
        -------
        self : ImagePCAResidual
        """
        images, weight, _ = self._validate_images(X, ivar, reset=True)
        self.pca_ = PCA(self.n_components, svd_solver="full").fit(images.reshape(len(images), -1))
        return self._fit_scores(images, weight, ivar is not None)

    def _reconstruct(self, images, weight):
        flat = images.reshape(len(images), -1)
        return self.pca_.inverse_transform(self.pca_.transform(flat)).reshape(images.shape)
