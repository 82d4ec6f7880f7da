"""Find anomalous images with ImageAutoencoder and write a report a person can read.

This is the job behind ``skspectra images``; it only uses the public API.
"""

import json
import time
from pathlib import Path

import numpy as np

from .anomaly_report import _jsonable, _versions, ranked_table
from .io._errors import InputError
from .utils import unique_path

__all__ = ["find_image_anomalies", "write_image_report"]

#: Rows of the "most typical" figure, shown for contrast with the anomalies.
N_TYPICAL = 4


def find_image_anomalies(
    images,
    *,
    ivar=None,
    contamination=0.01,
    n_components=8,
    skip_connections=True,
    n_filters=8,
    max_epochs=30,
    random_state=0,
    verbose=1,
    inference_dtype="float32",
    callbacks=None,
    device="cpu",
    amp=False,
):
    """Train an ImageAutoencoder on the images and score every one of them.

    Parameters
    ----------
    images : ndarray of shape (n_images, C, H, W)
        Images in [0, 1]; NaN = masked.
    ivar : ndarray of the shape of ``images``, default=None
        Inverse variance (0 = masked).
    contamination : float, default=0.01
        Expected fraction of anomalies; sets the threshold.
    n_components : int, default=8
        Size of the latent space.
    skip_connections : bool, default=True
        U-Net skip connections (seed 004), as ``ImageAutoencoder``'s parameter. On by
        default: on the Hubble Deep Field stamps they rank the bright star with
        diffraction spikes about 9th of 607 stamps instead of about 345th, with a higher
        ROC-AUC against injected defects (``python -m benchmarks run images``).
    n_filters : int, default=8
        Convolution filters of the first level, as ``ImageAutoencoder``'s parameter. The
        command keeps 8, narrower than the estimator's default, so that it answers in
        seconds; the ranks above were measured with 8.
    max_epochs : int, default=30
        Training epochs.
    random_state : int, default=0
        Seed of the model.
    verbose : int, default=1
        1 shows a progress bar over epochs with the loss and a validation line.
    inference_dtype : {'float32', 'float64'}, default='float32'
        Precision of scoring. float32 is about twice as fast; the scores then depend on
        how images are batched at the 1e-7 level, which does not change a ranking.
    callbacks : list of skorch callbacks, default=None
        Passed to the model (a checkpoint, say).
    device : str, default="cpu"
        PyTorch device to train and score on, e.g. "cuda".
    amp : bool, default=False
        Automatic mixed precision in training.

    Returns
    -------
    model : ImageAutoencoder
        The fitted model.
    scores : ndarray of shape (n_images,)
        ``score_samples``: the lower, the more anomalous.
    timings : dict
        Seconds spent fitting and scoring.
    """
    from .images import ImageAutoencoder

    model = ImageAutoencoder(
        n_components=n_components,
        skip_connections=skip_connections,
        n_filters=n_filters,
        contamination=contamination,
        max_epochs=max_epochs,
        random_state=random_state,
        verbose=verbose,
        inference_dtype=inference_dtype,
        callbacks=callbacks,
        device=device,
        amp=amp,
    )
    t0 = time.perf_counter()
    model.fit(images, ivar=ivar)
    t1 = time.perf_counter()
    scores = model.score_samples(images, ivar=ivar)
    t2 = time.perf_counter()
    return model, scores, {"fit_s": t1 - t0, "score_s": t2 - t1}


def write_image_report(out_dir, data, model, scores, *, top=10, extra=None, exist_ok=False):
    """Write ``anomalies.csv``, reconstruction panels, a latent map and ``run.json``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Directory to create. If it exists, the first free ``out_dir-N`` is used
        instead: nothing is overwritten.
    data : Bunch
        ``images`` (n_images, C, H, W), ``ids`` (n_images,), and optional ``ivar``,
        ``labels`` (DataFrame, one row per image), ``source`` and ``preprocessing``.
    model : ImageAutoencoder
        The fitted model.
    scores : ndarray of shape (n_images,)
        Its ``score_samples`` on ``data.images``.
    top : int, default=10
        Number of most anomalous images to draw in ``top_anomalies.png``.
    extra : dict, default=None
        More entries for ``run.json`` (arguments, timings...).
    exist_ok : bool, default=False
        Write into ``out_dir`` even if it exists (a resumed run's directory,
        which holds only its checkpoint); the report's files must not exist.

    Returns
    -------
    out_dir : pathlib.Path
        The directory written, holding ``anomalies.csv`` (every image, most anomalous
        first: rank, id, score, is_anomaly, then the labels), ``top_anomalies.png``,
        ``most_typical.png``, ``latent_map.png`` and ``run.json``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import ImageReconstructionDisplay, LatentDisplay

    out_dir = Path(out_dir) if exist_ok else unique_path(out_dir)
    if exist_ok and (out_dir / "run.json").exists():
        raise InputError(f"{out_dir} already holds a report (run.json); choose another directory.")
    out_dir.mkdir(parents=True, exist_ok=exist_ok)
    t0 = time.perf_counter()
    scores = np.asarray(scores, dtype=float)
    order, is_anomaly, table = ranked_table(data, scores, model.offset_)
    table.to_csv(out_dir / "anomalies.csv", index=False)

    ivar = data.get("ivar")
    figures = []
    for name, rows in (
        ("top_anomalies.png", order[: min(top, len(order))]),
        ("most_typical.png", order[::-1][: min(N_TYPICAL, len(order))]),
    ):
        display = ImageReconstructionDisplay.from_estimator(
            model, data.images, ivar=ivar, indices=rows, ids=_rank_ids(data.ids, order)
        )
        display.figure_.suptitle(
            "most anomalous (rank, id, score)" if name.startswith("top") else "most typical",
            fontsize="medium",
        )
        display.figure_.savefig(out_dir / name, dpi=100, bbox_inches="tight")
        plt.close(display.figure_)
        figures.append(name)

    latent = model.transform(data.images)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    display = LatentDisplay.from_latent(
        latent, labels=scores, label_name="score_samples (low = anomalous)", method="pca", ax=ax
    )
    worst = order[: min(top, len(order))]
    ax.scatter(*display.embedding[worst].T, s=60, facecolors="none", edgecolors="red", lw=1)
    for rank, i in enumerate(worst[:5], start=1):
        ax.annotate(
            str(rank),
            display.embedding[i],
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=9,
            color="red",
        )
    ax.set_title(f"latent space ({model.n_components} dimensions, PCA); red: top {len(worst)}")
    fig.savefig(out_dir / "latent_map.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    figures.append("latent_map.png")

    images = np.asarray(data.images)
    run = {
        "command": "skspectra images",
        "model": {k: _jsonable(v) for k, v in model.get_params().items()},
        "threshold": {"offset_": model.offset_, "contamination": model.contamination},
        "n_anomalies": int(is_anomaly.sum()),
        "data": {
            "source": data.get("source", "unknown"),
            "preprocessing": data.get("preprocessing", "none"),
            "n_images": int(images.shape[0]),
            "image_shape": list(images.shape[1:]),
        },
        "figures": figures,
        "versions": _versions(),
        **(extra or {}),
    }
    run["versions"]["scikit-image"] = _version("scikit-image")
    run.setdefault("timings_s", {})["report_s"] = time.perf_counter() - t0
    (out_dir / "run.json").write_text(json.dumps(run, indent=2, default=_jsonable) + "\n")
    return out_dir


def _rank_ids(ids, order):
    """Row labels ``#rank id`` for every image."""
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    return np.array([f"#{r} {i}" for r, i in zip(rank, ids, strict=True)], dtype=object)


def _version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
