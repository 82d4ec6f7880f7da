"""The ``skspectra`` command line.

``skspectra anomalies [PATHS...]`` trains a SpectralCAE on spectra and writes a
report of the most anomalous ones. Without paths it runs on the Gaia XP sample
that ships with the package; with ``--chunk-size N`` it reads, trains on and scores
the files N spectra at a time, for more spectra than memory holds. ``skspectra
images [PATHS...]`` does the same for FITS images with an ImageAutoencoder, or for
the Hubble Deep Field stamps. Bad
input (an :class:`~skspectra.io.InputError`, or a file the system cannot open) ends
with one line on stderr and exit status 1; ``--debug`` shows its traceback. Any other
error is a bug in skspectra and always shows its traceback.
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

from ._cli_score import add_score_parser, score
from ._training_cli import add_training_options, interrupted, saved_threads, start_run
from .io._errors import InputError

__all__ = ["main"]

#: Default training epochs of ``skspectra images``: under 2 minutes on 2 CPU cores for the
#: shipped stamps.
IMAGE_EPOCHS = 30


_SKIP_BAD_HELP = (
    "go on past files that cannot be read and list them, with the reason, in run.json "
    "(default: stop at the first, with exit status 1)"
)
_SKIP_BAD_SPECTRA_HELP = (
    "go on past files that cannot be read and spectra that cannot be used (NaN flux at "
    "unmasked pixels, no usable pixel), and list each, with the reason, in run.json "
    "(skipped_files, skipped_spectra; default: stop at the first, with exit status 1)"
)


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
            "Train a SpectralCAE on the spectra, rank every spectrum by its anomaly score "
            "(SpectralCAE's default, anomaly_score='combined': the worse of the chi-square of "
            "its worst-fitted pixels and the distance of its latent vector to those of the "
            "training spectra, each in robust sigma of the training spectra), and write "
            "anomalies.csv, one figure per top anomaly and run.json into a new directory. "
            "Without PATHS it uses the Gaia XP sample shipped with skspectra (3,000 real "
            "stars)."
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
        "--images",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of image cutouts (FITS with optional WCS, PNG, JPEG) to show beside each "
        "plotted anomaly; matched by file name (= spectrum id), else by WCS centre vs the "
        "spectrum's RA/Dec within 3 arcsec",
    )
    anomalies.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="for more spectra than memory holds: read PATHS N spectra at a time (.npy "
        "memory-mapped, HDF5 sliced, .npz streamed, FITS N files at a time), train with "
        "partial_fit one chunk per call for --epochs passes over the files, score chunk by "
        "chunk and set the threshold from all the scores; memory grows with N, not with "
        "the number of spectra (default: load everything into memory)",
    )
    _add_run_options(anomalies, "anomalies", _SKIP_BAD_SPECTRA_HELP)
    _add_images_parser(sub)
    score_parser = add_score_parser(sub, _positive_int)
    for command in (anomalies, sub.choices["images"], score_parser):
        _add_common_options(command)
    return parser


def _add_common_options(command):
    """``--threads`` and ``--debug``, which every command takes."""
    from .utils import MAX_DEFAULT_THREADS

    command.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="CPU threads for torch and the BLAS/OpenMP libraries (default: the cores this "
        "process may use that other work does not keep busy, measured at the start, at most "
        f"{MAX_DEFAULT_THREADS}; run.json records the number used)",
    )
    command.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of an error in the input, not one line",
    )


def _add_images_parser(sub):
    images = sub.add_parser(
        "images",
        help="find anomalous images with a convolutional autoencoder and write a report",
        description=(
            "Train an ImageAutoencoder on the images, rank every image by its reconstruction "
            "error, and write anomalies.csv, reconstruction panels of the top anomalies, a "
            "latent map and run.json into a new directory. Without PATHS it uses the Hubble "
            "Deep Field stamps shipped with scikit-image (an 8-bit colour rendering)."
        ),
    )
    images.add_argument(
        "paths",
        nargs="*",
        metavar="PATHS",
        help="FITS images (2-D, cubes, compressed), or directories of them",
    )
    images.add_argument(
        "--size",
        type=_positive_int,
        default=32,
        help="side in pixels that every image is resized to (default: 32)",
    )
    images.add_argument(
        "--hdu", default=None, help="HDU index or EXTNAME to read (default: the first image HDU)"
    )
    images.add_argument(
        "--plane",
        type=int,
        default=None,
        help="plane of 3-D cubes to read (default: all planes, as channels)",
    )
    images.add_argument(
        "--stretch",
        choices=("linear", "asinh", "log"),
        default="asinh",
        help="stretch of each FITS image after scaling it to [0, 1] (default: asinh)",
    )
    images.add_argument(
        "--contamination",
        type=_fraction,
        default=0.01,
        help="expected fraction of anomalies; sets the threshold (default: 0.01)",
    )
    images.add_argument(
        "--top", type=_positive_int, default=10, help="images to draw (default: 10)"
    )
    images.add_argument(
        "--epochs",
        type=_positive_int,
        default=IMAGE_EPOCHS,
        help=f"training epochs (default: {IMAGE_EPOCHS})",
    )
    images.add_argument(
        "--n-components", type=_positive_int, default=8, help="latent dimensions (default: 8)"
    )
    images.add_argument(
        "--skip-connections",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="U-Net skip connections in the autoencoder (default: on; off reconstructs "
        "through the latents alone)",
    )
    _add_run_options(images, "images", _SKIP_BAD_HELP)


def _add_run_options(command, kind, skip_bad_help):
    """The options every training command shares: output, model file, seed, display,
    checkpoints and resuming, bad files."""
    command.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory; a free name is chosen if it exists "
        f"(default: skspectra-{kind}-DATE-TIME)",
    )
    command.add_argument(
        "--save-model",
        type=Path,
        default=None,
        metavar="FILE",
        help="also save the trained model as a skspectra model file (a zip of JSON, arrays and "
        "safetensors weights that loads without running code; never overwrites a file)",
    )
    command.add_argument(
        "--random-state", type=int, default=0, help="seed of the model (default: 0)"
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    add_training_options(command)
    command.add_argument("--skip-bad", action="store_true", help=skip_bad_help)


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


def _anomalies(args):
    args, run = start_run(args, "anomalies")
    if args.chunk_size is not None:
        from ._cli_chunked import anomalies_in_chunks

        data, model, scores, timings = anomalies_in_chunks(args, run)
        cutouts, images = _spectrum_cutouts(args, data)
        t_load = timings.pop("check_s")
    else:
        data, cutouts, images, t_load = _load_spectra(args)
        run.begin()
        model, scores, timings = _find_anomalies(args, run, data)
    return _write_report(args, run, data, model, scores, timings, t_load, cutouts, images)


def _load_spectra(args):
    from .io import check_training_spectra, load_gaia_xp_sample, load_spectra

    t0 = time.perf_counter()
    data = load_spectra(args.paths, skip_bad=args.skip_bad) if args.paths else load_gaia_xp_sample()
    check_training_spectra(data)
    cutouts, images = _spectrum_cutouts(args, data)  # before training: bad images fail fast
    t_load = time.perf_counter() - t0
    print(
        f"skspectra: {data.flux.shape[0]} spectra x {data.flux.shape[1]} pixels "
        f"({data.wavelength.min():.0f}-{data.wavelength.max():.0f} {data.wavelength_unit}) "
        f"from {data.source}",
        file=sys.stderr,
    )
    return data, cutouts, images, t_load


def _spectrum_cutouts(args, data):
    if args.images is None:
        return None, None
    from .io.cutouts import cutouts_for_spectra

    cutouts, images = cutouts_for_spectra(args.images, data.ids, data.get("labels"))
    print(
        f"skspectra: {images['n_cutouts']} image cutouts, {images['matched_by_id']} "
        f"matched by id and {images['matched_by_position']} by position",
        file=sys.stderr,
    )
    return cutouts, images


def _find_anomalies(args, run, data):
    from .anomaly_report import find_anomalies

    return find_anomalies(
        data.flux,
        data.ivar,
        contamination=args.contamination,
        max_epochs=args.epochs,
        noise="estimate" if args.ignore_ivar or not data.has_ivar else "auto",
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
        callbacks=run.callbacks(),
        device=args.device,
        amp=args.amp,
    )


def _write_report(args, run, data, model, scores, timings, t_load, cutouts, images):
    from .anomaly_report import write_anomaly_report
    from .io.loading import report_skipped

    out = run.out_dir
    extra = {
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "seed": args.random_state,
        "timings_s": {"load_s": t_load, **timings},
        "checkpoint": run.record(),
    }
    report_skipped(data, extra)
    if args.save_model is not None:
        grid = {"wavelength": data.wavelength, "wavelength_unit": data.wavelength_unit}
        extra["model_file"] = str(_save_model(model, args.save_model, **grid, normalize="median"))
    if images is not None:
        extra["images"] = images
    out_dir = write_anomaly_report(
        out, data, model, scores, top=args.top, extra=extra, cutouts=cutouts, exist_ok=True
    )
    n_anomalies = int(np.sum(scores < model.offset_))
    print(
        f"skspectra: {n_anomalies} anomalies (contamination={args.contamination}); "
        f"report in {out_dir}/",
        file=sys.stderr,
    )
    return 0


def _images(args):
    from .image_report import find_image_anomalies, write_image_report
    from .io import check_training_images, load_hubble_sample, load_images
    from .io.loading import report_skipped

    args, run = start_run(args, "images")
    t0 = time.perf_counter()
    hdu = int(args.hdu) if args.hdu is not None and args.hdu.lstrip("-").isdigit() else args.hdu
    if args.paths:
        data = load_images(
            args.paths,
            size=args.size,
            hdu=hdu,
            plane=args.plane,
            stretch=args.stretch,
            skip_bad=args.skip_bad,
        )
    else:
        data = load_hubble_sample(size=args.size)
    check_training_images(data)
    t_load = time.perf_counter() - t0
    n, c, h, w = data.images.shape
    print(f"skspectra: {n} images of {c}x{h}x{w} from {data.source}", file=sys.stderr)
    run.begin()
    model, scores, timings = find_image_anomalies(
        data.images,
        contamination=args.contamination,
        n_components=args.n_components,
        # a run saved for --resume before the option existed was trained without skips
        skip_connections=getattr(args, "skip_connections", False),
        max_epochs=args.epochs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
        callbacks=run.callbacks(),
        device=args.device,
        amp=args.amp,
    )
    out = run.out_dir
    extra = {
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "seed": args.random_state,
        "timings_s": {"load_s": t_load, **timings},
        "checkpoint": run.record(),
    }
    report_skipped(data, extra)
    if args.save_model is not None:
        extra["model_file"] = str(_save_model(model, args.save_model))
    out_dir = write_image_report(out, data, model, scores, top=args.top, extra=extra, exist_ok=True)
    n_anomalies = int(np.sum(scores < model.offset_))
    print(
        f"skspectra: {n_anomalies} anomalous images (contamination={args.contamination}); "
        f"report in {out_dir}/",
        file=sys.stderr,
    )
    return 0


def _save_model(model, path, **metadata):
    import copy

    from .io import save_model
    from .utils import unique_path

    # The run's checkpoint callback served training only; the saved model leaves it out.
    model = copy.copy(model)
    model.callbacks = None
    return save_model(model, unique_path(path), metadata=metadata)


@contextlib.contextmanager
def _threads(n):
    """Compute with ``n`` threads in torch and in the BLAS/OpenMP pools, then restore them."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


def _one_line(exc):
    """The message of an input error, in one line."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"  # not Python's "[Errno 2] ..." prefix
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _is_input_error(exc):
    """Errors in what the user gave, not bugs: ours, the file system's, a missing extra, and a
    training that diverged on the data (its message names the likely cause and the fix)."""
    from .training import TrainingDivergedError

    if isinstance(exc, InputError | OSError | TrainingDivergedError):
        return True
    if isinstance(exc, ImportError):  # an optional package, not a module of skspectra
        return not (exc.name or "skspectra").startswith("skspectra")
    return False


def main(argv=None):
    """Run the ``skspectra`` command; return the exit status.

    Input errors (:class:`~skspectra.io.InputError`, a file the system cannot open, a missing
    optional package, a training that diverged on the data) are reported in one line, with
    exit status 1, or with their traceback under ``--debug``. Any other exception is a bug and
    propagates with its traceback.
    """
    import warnings

    from astropy.utils.exceptions import AstropyWarning

    from .training import TrainingDivergedError, TrainingInterrupted
    from .utils import default_n_threads

    args = _build_parser().parse_args(argv)
    if args.threads is None and getattr(args, "resume", None) is not None:
        args.threads = saved_threads(args.resume)  # the interrupted run's: the same bits
    args.threads = args.threads or default_n_threads()  # run.json records the number used
    try:
        with warnings.catch_warnings(), _threads(args.threads):
            # a damaged file is reported in one line below, not as astropy's warnings too
            warnings.simplefilter("ignore", AstropyWarning)
            if args.command == "score":
                return score(args)
            return _images(args) if args.command == "images" else _anomalies(args)
    except (InputError, OSError, ImportError, TrainingDivergedError) as exc:
        if args.debug or not _is_input_error(exc):
            raise
        print(f"skspectra: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except TrainingInterrupted as exc:
        return interrupted(exc, args.command)
    except KeyboardInterrupt:
        print("skspectra: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
