"""The label head of ``SpectralVAE(conditional=True)``: stellar labels → latents → spectrum.

After the VAE is trained, an MLP (:class:`~skspectra.images.ImageRegressor` on tabular
input) learns the map from labels (e.g. Teff, logg, [Fe/H]) to the VAE's latents. It is
trained through the VAE's frozen decoder on the ivar-weighted χ² of the decoded spectrum
(the loss of :class:`~skspectra.images.ImageToSpectrum`), so that latents count by how much
they change the spectrum. The scatter of each training star's latents about the head's
prediction for its labels is kept, for ``sample(y=labels)``: a draw for labels ``y`` adds to
the head's latents the scatter of a training star with labels near ``y``.
"""

import numpy as np
from sklearn.utils import check_array

#: The label head: the network of ImageToSpectrum's default regressor (chosen on the dev split
#: of ``python -m benchmarks.search.image_to_spectrum``), with its epochs rule
#: (``image_to_spectrum.default_epochs``); chosen there, not tuned again for labels.
LABEL_HEAD_LAYERS = (256, 256, 256)
#: What fit_label_head sets on the VAE, with ``n_labels_``.
LABEL_ATTRIBUTES = (
    "n_labels_",
    "label_regressor_",
    "label_latent_mean_",
    "label_latent_scale_",
    "training_labels_",
    "label_scale_",
    "latent_residuals_",
)
#: ``sample(y=labels)`` draws the scatter of one of this many training stars nearest in labels
#: (or of all of them, if there are fewer).
SCATTER_NEIGHBORS = 20


def check_labels(labels, *, n_samples=None, n_labels=None, name="y"):
    """Labels as a float64 array of shape (n, n_labels); a 1-D array is one label.

    Raises a ValueError naming the problem: missing labels, NaN or infinite values, a number
    of rows other than ``n_samples`` or of columns other than ``n_labels``.
    """
    if labels is None:
        raise ValueError(
            f"conditional=True needs labels: call fit(X, {name}=labels) with {name} of shape "
            "(n_samples, n_labels), e.g. Teff, logg and [Fe/H] per spectrum; or set "
            "conditional=False."
        )
    labels = check_array(labels, dtype=np.float64, ensure_2d=False, input_name=name)
    if labels.ndim == 1:
        labels = labels[:, None]
    if labels.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_labels), got shape {labels.shape}.")
    if n_samples is not None and len(labels) != n_samples:
        raise ValueError(
            f"{name} has {len(labels)} rows but X has {n_samples} spectra; give one row of "
            "labels per spectrum."
        )
    if n_labels is not None and labels.shape[1] != n_labels:
        raise ValueError(
            f"{name} has {labels.shape[1]} labels per row, but the model was fitted with "
            f"{n_labels}; give them in the order used in fit."
        )
    return labels


def fit_label_head(vae, labels, X, weight, seed):
    """Train the label head of a fitted ``vae``; return its fitted attributes.

    Parameters
    ----------
    vae : SpectralVAE
        Fitted (network, standardisation and latent calibration).
    labels : ndarray of shape (n_samples, n_labels)
    X : ndarray of shape (n_samples, n_wavelengths)
        Flux; may be NaN or infinite where ``weight == 0``.
    weight : ndarray of shape (n_samples, n_wavelengths)
        Inverse variance of ``X`` (0 = masked), the χ² weights.
    seed : int
        Seeds the head's initialisation and shuffling.

    Returns
    -------
    dict
        ``label_regressor_`` (labels → standardised latents), ``label_latent_mean_``,
        ``label_latent_scale_`` (the latents' standardisation), ``training_labels_``,
        ``label_scale_`` (the spread of each label, the units of label distances) and
        ``latent_residuals_`` (each training star's latents less the head's prediction for
        its labels, in latent units).
    """
    from ..images._spectrum_loss import torch_decoder
    from ..images.image_to_spectrum import default_epochs
    from ..images.regressor import ImageRegressor

    Z = vae._encode(X, weight)[0]
    mean = Z.mean(axis=0)
    std = Z.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    decoder = torch_decoder(vae, mean, scale)
    if decoder is None:  # the decoder is the VAE's own module, so this is a bug, not bad input
        raise RuntimeError("SpectralVAE's decoder could not be copied for the label head.")
    head = ImageRegressor(
        LABEL_HEAD_LAYERS,
        max_epochs=default_epochs(len(X)),
        device=vae.device,
        verbose=vae.verbose,
        random_state=seed,
    )
    flux = np.where(weight > 0, X, 0.0)
    head._fit_through_decoder(labels, (Z - mean) / scale, flux, weight, decoder)
    residual = Z - (np.asarray(head.predict(labels)).reshape(Z.shape) * scale + mean)
    label_std = labels.std(axis=0)
    return {
        "label_regressor_": head,
        "label_latent_mean_": mean,
        "label_latent_scale_": scale,
        "training_labels_": labels,
        "label_scale_": np.where(label_std > 0, label_std, 1.0),
        "latent_residuals_": residual,
    }


def sample_latents(vae, labels, n_samples, rng):
    """``n_samples`` latent draws per row of ``labels``, row-major: the head's latents plus the
    residual of a training star drawn from the ``SCATTER_NEIGHBORS`` nearest in labels."""
    from sklearn.neighbors import NearestNeighbors

    n_neighbors = min(SCATTER_NEIGHBORS, len(vae.training_labels_))
    index = NearestNeighbors(n_neighbors=n_neighbors).fit(vae.training_labels_ / vae.label_scale_)
    near = index.kneighbors(labels / vae.label_scale_, return_distance=False)
    pick = rng.randint(n_neighbors, size=(len(labels), n_samples))
    stars = np.take_along_axis(near, pick, axis=1).ravel()
    return np.repeat(predict_latents(vae, labels), n_samples, axis=0) + vae.latent_residuals_[stars]


def predict_latents(vae, labels):
    """The head's latents for ``labels`` (shape (n, n_labels)), in the VAE's latent units."""
    Zs = np.asarray(vae.label_regressor_.predict(labels), dtype=np.float64)
    return Zs.reshape(len(labels), -1) * vae.label_latent_scale_ + vae.label_latent_mean_
