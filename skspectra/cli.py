"""The ``skspectra`` command line.

``skspectra anomalies [PATHS...]`` trains a SpectralCAE on spectra and writes a
report of the most anomalous ones. Without paths it runs on the Gaia XP sample
that ships with the package. Bad input ends with one line on stderr and exit
status 1, never a traceback.
"""

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["main"]


class InputError(ValueError):
    """Bad input that the user can fix; reported as one line."""


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skspectra",
        description="Deep models for astronomical spectra, as scikit-learn estimators.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    anomalies = sub.add_parser(
        "anomalies",
        help="find anomalous spectra with a convolutional autoencoder and write a report",
        description=(
            "Train a SpectralCAE on the spectra, rank every spectrum by its reconstruction "
            "chi-square, and write anomalies.csv, one figure per top anomaly and run.json "
            "into a new directory. Without PATHS it uses the Gaia XP sample shipped with "
            "skspectra (3,000 real stars)."
        ),
    )
    anomalies.add_argument(
        "paths",
        nargs="*",
        metavar="PATHS",
        help="SDSS spec/spec-lite FITS files, FITS/npz tables with flux (and optional ivar, "
        "wavelength), or directories of them",
    )
    anomalies.add_argument(
        "--contamination",
        type=_fraction,
        default=0.01,
        help="expected fraction of anomalies; sets the threshold (default: 0.01)",
    )
    anomalies.add_argument(
        "--top", type=_positive_int, default=20, help="spectra to plot (default: 20)"
    )
    anomalies.add_argument(
        "--epochs",
        type=_positive_int,
        default=None,
        help="training epochs (default: SpectralCAE's default)",
    )
    anomalies.add_argument(
        "--ignore-ivar",
        action="store_true",
        help="use the files' inverse variances only as a mask and estimate the noise from "
        "the residuals (automatic when the files give no ivar)",
    )
    anomalies.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory; a free name is chosen if it exists "
        "(default: skspectra-anomalies-DATE-TIME)",
    )
    anomalies.add_argument(
        "--save-model",
        type=Path,
        default=None,
        metavar="FILE",
        help="also save the trained model with joblib (never overwrites an existing file)",
    )
    anomalies.add_argument(
        "--random-state", type=int, default=0, help="seed of the model (default: 0)"
    )
    anomalies.add_argument(
        "--images",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of image cutouts (FITS with optional WCS, PNG, JPEG) to show beside each "
        "plotted anomaly; matched by file name (= spectrum id), else by WCS centre vs the "
        "spectrum's RA/Dec within 3 arcsec",
    )
    anomalies.add_argument("--quiet", action="store_true", help="no epoch table or progress bar")
    return parser


def _fraction(text):
    value = float(text)
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be in (0, 0.5], got {text}")
    return value


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _load_default():
    from .datasets import load_gaia_xp

    data = load_gaia_xp()
    return Bunch(
        flux=data.flux,
        ivar=data.ivar,
        wavelength=data.wavelength,
        wavelength_unit="Å",
        ids=data.ids["apogee_id"].to_numpy(),
        has_ivar=True,
        labels=data.labels.join(data.photometry),
        source="load_gaia_xp(): Gaia DR3 XP sampled spectra with APOGEE DR17 labels",
    )


def _load_paths(paths):
    """Read files, put every spectrum on one wavelength grid and normalise it.

    SDSS spectra with a redshift go to the rest frame; each spectrum is then
    divided by its median flux (ivar scaled to match).
    """
    from .io import read_spectra
    from .preprocessing import common_wavelength_grid, normalize_spectra, resample_spectra

    spectra = read_spectra(paths, require_wavelength=False)
    meta = spectra.meta
    ids = np.array(
        [
            str(i) if i is not None and i == i else f"{Path(f).name}#{r}"
            for i, f, r in zip(meta["id"], meta["file"], meta["row"], strict=True)
        ],
        dtype=object,
    )
    _check_finite_flux(spectra, ids)
    if any(w is None for w in spectra.wavelength):
        flux, ivar, wavelength, frame = _stack_pixel_grid(spectra, ids)
    else:
        z = meta["z"].to_numpy(dtype=float)
        rest = bool(np.all(np.isfinite(z)))
        shift = 1 + z if rest else np.ones(len(z))
        grid = common_wavelength_grid(
            [w / s for w, s in zip(spectra.wavelength, shift, strict=True)]
        )
        flux, ivar = resample_spectra(
            spectra.wavelength,
            spectra.flux,
            spectra.ivar,
            mask=spectra.mask,
            new_wavelength=grid,
            z=z if rest else None,
        )
        wavelength, frame = grid, "rest frame" if rest else "observed frame"
    has_ivar = ivar is not None
    if ivar is None:
        ivar = np.ones_like(flux)
    ivar = np.where(np.isfinite(flux), ivar, 0.0)
    empty = np.flatnonzero(~np.any(ivar > 0, axis=1))
    if empty.size:
        raise InputError(
            f"spectrum {ids[empty[0]]} has no usable pixel on the common wavelength grid "
            f"({empty.size} spectra in all); drop it"
        )
    flux, ivar, _ = normalize_spectra(np.where(ivar > 0, flux, np.nan), ivar)
    labels = meta.drop(columns=["id"]).reset_index(drop=True)
    return Bunch(
        flux=np.nan_to_num(flux),
        ivar=ivar,
        wavelength=wavelength,
        wavelength_unit="pixel" if frame.startswith("pixel") else "Å",
        ids=ids,
        has_ivar=has_ivar,
        labels=labels,
        source=f"{len(set(meta['file']))} file(s), {frame}, normalised by the median flux",
    )


def _check_finite_flux(spectra, ids):
    """NaN flux is only acceptable where the file itself masks the pixel (ivar = 0)."""
    for i, flux in enumerate(spectra.flux):
        bad = ~np.isfinite(flux)
        if spectra.ivar is not None:
            bad &= spectra.ivar[i] > 0
        if bad.any():
            raise InputError(
                f"spectrum {ids[i]} has NaN or infinite flux at {bad.sum()} pixels that are not "
                "masked; set their ivar to 0, or drop the spectrum"
            )


def _stack_pixel_grid(spectra, ids):
    """Tables without wavelengths: spectra of one length share a pixel grid."""
    lengths = {f.size for f in spectra.flux}
    if len(lengths) > 1:
        raise InputError(
            f"spectra have different lengths ({', '.join(map(str, sorted(lengths)))} pixels) "
            "and some files give no wavelength array; add a 'wavelength' array so they can "
            "be resampled onto one grid"
        )
    if any(w is not None for w in spectra.wavelength):
        raise InputError(
            "some files give wavelengths and others do not; add a 'wavelength' array to every file"
        )
    flux = np.vstack(spectra.flux)
    ivar = None if spectra.ivar is None else np.vstack(spectra.ivar)
    if ivar is not None:
        ivar = np.where(np.vstack(spectra.mask), 0.0, ivar)
    return flux, ivar, np.arange(flux.shape[1], dtype=float), "pixel grid (no wavelengths)"


def _check_spectra(data):
    """Refuse what the model cannot use, naming the spectrum and the fix."""
    flux, ivar = data.flux, data.ivar
    bad = np.flatnonzero(~np.all(np.isfinite(flux) | (ivar == 0), axis=1))
    if bad.size:
        raise InputError(
            f"spectrum {data.ids[bad[0]]} has NaN or infinite flux at unmasked pixels "
            f"({bad.size} spectra in all); mask them with ivar = 0 or drop those spectra"
        )
    empty = np.flatnonzero(~np.any(ivar > 0, axis=1))
    if empty.size:
        raise InputError(
            f"spectrum {data.ids[empty[0]]} has every pixel masked (ivar = 0) "
            f"({empty.size} spectra in all); drop it"
        )
    if flux.shape[0] < 10:
        raise InputError(f"need at least 10 spectra to learn what is normal, got {flux.shape[0]}")
    data.flux = np.where(ivar > 0, flux, 0.0)


def _anomalies(args):
    from .anomaly_report import find_anomalies, write_anomaly_report

    t0 = time.perf_counter()
    data = _load_paths(args.paths) if args.paths else _load_default()
    _check_spectra(data)
    cutouts = images = None
    if args.images is not None:  # read before training, so that bad images fail fast
        from .io.cutouts import cutouts_for_spectra

        cutouts, images = cutouts_for_spectra(args.images, data.ids, data.get("labels"))
        print(
            f"skspectra: {images['n_cutouts']} image cutouts, {images['matched_by_id']} "
            f"matched by id and {images['matched_by_position']} by position",
            file=sys.stderr,
        )
    t_load = time.perf_counter() - t0
    print(
        f"skspectra: {data.flux.shape[0]} spectra x {data.flux.shape[1]} pixels "
        f"({data.wavelength.min():.0f}-{data.wavelength.max():.0f} {data.wavelength_unit}) "
        f"from {data.source}",
        file=sys.stderr,
    )
    model, scores, timings = find_anomalies(
        data.flux,
        data.ivar,
        contamination=args.contamination,
        max_epochs=args.epochs,
        noise="estimate" if args.ignore_ivar or not data.has_ivar else "auto",
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    out = args.out or Path(f"skspectra-anomalies-{datetime.now():%Y%m%d-%H%M%S}")
    extra = {
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "seed": args.random_state,
        "timings_s": {"load_s": t_load, **timings},
    }
    if args.save_model is not None:
        extra["model_file"] = str(_save_model(model, args.save_model))
    if images is not None:
        extra["images"] = images
    out_dir = write_anomaly_report(
        out, data, model, scores, top=args.top, extra=extra, cutouts=cutouts
    )
    n_anomalies = int(np.sum(scores < model.offset_))
    print(
        f"skspectra: {n_anomalies} anomalies (contamination={args.contamination}); "
        f"report in {out_dir}/",
        file=sys.stderr,
    )
    return 0


def _save_model(model, path):
    import joblib

    from .utils import unique_path

    path = unique_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return path


def main(argv=None):
    """Run the ``skspectra`` command; return the exit status."""
    import warnings

    from astropy.utils.exceptions import AstropyWarning

    args = _build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            # a damaged file is reported in one line below, not as astropy's warnings too
            warnings.simplefilter("ignore", AstropyWarning)
            return _anomalies(args)
    except (InputError, ValueError, OSError, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"skspectra: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skspectra: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
