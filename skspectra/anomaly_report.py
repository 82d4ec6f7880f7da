"""Find anomalous spectra with SpectralCAE and write a report a person can read.

This is the job behind ``skspectra anomalies``; it only uses the public API.
"""

import importlib
import inspect
import json
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .io._errors import InputError
from .spectra import SpectralCAE, anomalous_regions
from .utils import unique_path

__all__ = ["find_anomalies", "write_anomaly_report"]

#: |residual| in σ above which a pixel is shaded in the report's figures.
REGION_THRESHOLD = 5.0

_VERSIONED = ("skspectra", "numpy", "scikit-learn", "skorch", "torch", "astropy", "matplotlib")


def _versions():
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def ranked_table(data, scores, offset):
    """Rank samples from most to least anomalous.

    Parameters
    ----------
    data : Bunch
        ``ids`` (n_samples,) and optional ``labels`` (DataFrame, one row per sample).
    scores : ndarray of shape (n_samples,)
        ``score_samples``: the lower, the more anomalous.
    offset : float
        The model's ``offset_``: samples scoring below it are anomalies.

    Returns
    -------
    order : ndarray of shape (n_samples,)
        Sample indices, most anomalous first.
    is_anomaly : ndarray of bool of shape (n_samples,)
        In the samples' own order.
    table : DataFrame
        ``rank``, ``id``, ``score``, ``is_anomaly`` and the labels, in ranked order.
    """
    order = np.argsort(scores, kind="stable")
    is_anomaly = scores < offset
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "id": np.asarray(data.ids)[order],
            "score": scores[order],
            "is_anomaly": is_anomaly[order],
        }
    )
    labels = data.get("labels")
    if labels is not None:
        table = pd.concat([table, labels.iloc[order].reset_index(drop=True)], axis=1)
    return order, is_anomaly, table


def find_anomalies(
    flux,
    ivar,
    *,
    contamination=0.01,
    max_epochs=None,
    noise="auto",
    random_state=0,
    verbose=1,
    callbacks=None,
    device="cpu",
    amp=False,
):
    """Train a SpectralCAE on the spectra and score every one of them.

    The model is :class:`~skspectra.SpectralCAE` with its defaults (tuned for
    this job: fit and rank the same spectra), and float32 inference, which is
    faster than float64 and precise enough for a ranking. Spectra shorter than
    the default ``n_components`` get one latent number per pixel instead.

    Parameters
    ----------
    flux : ndarray of shape (n_samples, n_wavelengths)
        Flux on one wavelength grid, normalised per spectrum.
    ivar : ndarray of shape (n_samples, n_wavelengths)
        Inverse variance (0 = masked).
    contamination : float, default=0.01
        Expected fraction of anomalies; sets the threshold.
    max_epochs : int, default=None
        Training epochs; None keeps SpectralCAE's default.
    noise : {"auto", "estimate"}, default="auto"
        "estimate" uses ``ivar`` only as a mask and estimates the noise from
        the residuals (for spectra that come without inverse variances).
    random_state : int, default=0
        Seed of the model.
    verbose : int, default=1
        1 shows a progress bar over epochs with the loss as a reduced χ² and a
        validation line.
    callbacks : list of skorch callbacks, default=None
        Passed to the model (a checkpoint, say).
    device : str, default="cpu"
        PyTorch device to train and score on, e.g. "cuda".
    amp : bool, default=False
        Automatic mixed precision in training.

    Returns
    -------
    model : SpectralCAE
        The fitted model.
    scores : ndarray of shape (n_samples,)
        ``score_samples``: the lower, the more anomalous.
    timings : dict
        Seconds spent fitting and scoring.
    """
    model = _anomaly_model(
        np.shape(flux)[1],
        contamination=contamination,
        max_epochs=max_epochs,
        noise=noise,
        random_state=random_state,
        verbose=verbose,
        callbacks=callbacks,
        device=device,
        amp=amp,
    )
    t0 = time.perf_counter()
    model.fit(flux, ivar=ivar)
    t1 = time.perf_counter()
    scores = model.score_samples(flux, ivar=ivar)
    t2 = time.perf_counter()
    return model, scores, {"fit_s": t1 - t0, "score_s": t2 - t1}


def _anomaly_model(n_pixels, *, max_epochs=None, **params):
    """The unfitted SpectralCAE of :func:`find_anomalies` for spectra of ``n_pixels``.

    Its defaults, float32 inference, ``max_epochs`` when not None, and one latent
    number per pixel for spectra shorter than the default ``n_components``; ``params``
    (``contamination``, ``noise``, ``random_state``, ...) are passed on.
    """
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    if n_pixels < SpectralCAE().n_components:  # a latent no longer than a spectrum
        params["n_components"] = n_pixels
    return SpectralCAE(inference_dtype="float32", **params)


def write_anomaly_report(
    out_dir, data, model, scores, *, top=20, extra=None, cutouts=None, exist_ok=False
):
    """Write ``anomalies.csv``, one PNG per top anomaly, and ``run.json``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Directory to create. If it exists, the first free ``out_dir-N`` is
        used instead: nothing is overwritten.
    data : Bunch
        ``flux``, ``ivar``, ``wavelength`` (Å), ``ids`` (n_samples,) and
        optional ``labels`` (DataFrame, one row per spectrum), ``source`` and
        ``wavelength_unit`` (default 'Å').
    model : SpectralCAE
        The fitted model.
    scores : ndarray of shape (n_samples,)
        Its ``score_samples`` on ``data.flux``.
    top : int, default=20
        Number of most anomalous spectra to plot.
    extra : dict, default=None
        More entries for ``run.json`` (parameters, timings...).
    cutouts : dict, default=None
        Spectrum id (str) → :class:`skspectra.io.cutouts.Cutout`, as from
        :func:`skspectra.io.cutouts.cutouts_for_spectra`; each plotted anomaly with one
        shows its image beside the spectrum.
    exist_ok : bool, default=False
        Write into ``out_dir`` even if it exists (a resumed run's directory,
        which holds only its checkpoint); the report's files must not exist.

    Returns
    -------
    out_dir : pathlib.Path
        The directory written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import ReconstructionDisplay
    from .plotting.cutouts import plot_cutout, spectrum_and_cutout_axes

    out_dir = Path(out_dir) if exist_ok else unique_path(out_dir)
    if exist_ok and (out_dir / "run.json").exists():
        raise InputError(f"{out_dir} already holds a report (run.json); choose another directory.")
    out_dir.mkdir(parents=True, exist_ok=exist_ok)
    t0 = time.perf_counter()
    order, is_anomaly, table = ranked_table(data, scores, model.offset_)

    figures = []
    n_plot = min(top, len(order))
    anomaly_maps = model.anomaly_map(data.flux[order[:n_plot]], ivar=data.ivar[order[:n_plot]])
    regions = []
    for rank, (i, z) in enumerate(zip(order[:n_plot], anomaly_maps, strict=True), start=1):
        found = anomalous_regions(z, data.wavelength, threshold=REGION_THRESHOLD)
        regions.append(
            "; ".join(f"{r['wavelength_min']:.1f}-{r['wavelength_max']:.1f}" for r in found)
        )
        title = f"#{rank}  {data.ids[i]}   score = {scores[i]:.3g}"
        cutout, ax = (cutouts or {}).get(str(data.ids[i])), None
        if cutout is not None:
            ax, image_ax = spectrum_and_cutout_axes()
            plot_cutout(cutout, image_ax)
        display = ReconstructionDisplay(
            data.wavelength,
            data.flux[i],
            model.reconstruct(data.flux[i : i + 1], ivar=data.ivar[i : i + 1])[0],
            z,
            threshold=REGION_THRESHOLD,
            title=title,
            wavelength_unit=data.get("wavelength_unit", "Å"),
        ).plot(ax=ax, flux_label="normalised flux")
        name = f"rank{rank:03d}_{_safe(data.ids[i])}.png"
        display.figure_.savefig(out_dir / name, dpi=110, bbox_inches="tight")
        plt.close(display.figure_)
        figures.append(name)
    table.insert(4, "anomalous_regions", regions + [""] * (len(table) - n_plot))
    table.to_csv(out_dir / "anomalies.csv", index=False)

    run = {
        "command": "skspectra anomalies",
        "model": {k: _jsonable(v) for k, v in model.get_params().items()},
        "threshold": {"offset_": model.offset_, "contamination": model.contamination},
        "n_anomalies": int(is_anomaly.sum()),
        "data": {
            "source": data.get("source", "unknown"),
            "n_spectra": int(data.flux.shape[0]),
            "n_wavelengths": int(data.flux.shape[1]),
            "wavelength_min": float(np.min(data.wavelength)),
            "wavelength_max": float(np.max(data.wavelength)),
            "wavelength_unit": data.get("wavelength_unit", "Å"),
        },
        "figures": figures,
        "versions": _versions(),
        **(extra or {}),
    }
    run.setdefault("timings_s", {})["report_s"] = time.perf_counter() - t0
    (out_dir / "run.json").write_text(json.dumps(run, indent=2, default=_jsonable) + "\n")
    return out_dir


def _safe(name):
    """A file-name-safe version of a spectrum id."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))[:60]


def _jsonable(value):
    """``value`` for run.json: as it is when JSON holds it, else a readable description that
    rebuilds it (never a repr with a memory address)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool | type(None) | list | dict):
        return value
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type) or inspect.isroutine(value):
        return _public_name(value)
    params = _init_params(value)
    if params is not None:
        return {"class": _public_name(type(value)), "params": params}
    return repr(value)


def _init_params(obj):
    """The arguments of ``type(obj).__init__`` that ``obj`` stores under their own names (the
    scikit-learn and skorch convention), or None when it does not store them all."""
    try:
        signature = inspect.signature(type(obj).__init__)
    except (TypeError, ValueError):
        return None
    names = [
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not all(hasattr(obj, name) for name in names):
        return None
    return {name: _jsonable(getattr(obj, name)) for name in names}


def _public_name(obj):
    """``module.QualName``, by the shortest module path that exports ``obj``."""
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", type(obj).__qualname__)
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        try:
            candidate = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        if getattr(candidate, qualname, None) is obj:
            return f"{'.'.join(parts[:i])}.{qualname}"
    return f"{module}.{qualname}"
