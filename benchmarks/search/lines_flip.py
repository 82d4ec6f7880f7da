"""GaussianLineFitter, network alone: test-time averaging over the reversed spectrum (issue 21).

``python -m benchmarks.search.lines_flip`` trains one ``GaussianLineFitter`` on
``bench_lines``' training set (``preset='wide'``, seed 0, ``bench_lines.FITTER``) with
``--n-train`` spectra (default 40,000; ``bench_lines`` uses 80,000) for 15 epochs, then scores
the network alone on fresh ``preset='heldout'`` spectra of the dev seeds :data:`DEV_SEEDS`
(never the report seeds), in two ways:

- ``plain``: the estimator as it is;
- ``flip``: the dense head's outputs on the spectrum and on the spectrum reversed in channel
  order (mapped back: cell ``m`` ↔ ``M - 1 - m``, centre fraction ``f`` ↔ ``1 - f``) averaged
  before decoding; heatmap and regression outputs as logits and z-scores, the count head as
  log-probabilities. A line profile is symmetric and the training continua have slopes of
  either sign, so the reversed spectrum is another draw from the training distribution:
  the average is CenterNet's flip test-time augmentation.

Each way is scored at existence thresholds 0.5, 0.6 and 0.7 (the default), so that the
average's softer probabilities are not judged at a threshold chosen for the plain network,
with ``bench_lines.score`` (F1, count accuracy, blend count accuracy and amplitude R²) and
timed (spectra per second, float32, batches of 1024, best of 3).

It writes ``benchmarks/results/search/lines_flip.json``; ``--quick`` trains on 2,000 spectra
for 2 epochs.
"""

import argparse
import time

import numpy as np
from scipy.special import log_softmax

from benchmarks.search import write_results
from skspectra.lines import GaussianLineFitter
from skspectra.lines._dense import _decode_peaks
from skspectra.lines._fitter import _LOG_SIGMA_BOUNDS, _spectrum_scale

DEV_SEEDS = [12345, 12346, 12347]
THRESHOLDS = [0.5, 0.6, 0.7]
N_TEST = {"full": 400, "quick": 60}


def _flip_dense(dense):
    """Dense outputs of a reversed spectrum, mapped back onto the original's cells."""
    back = dense[:, :, ::-1].copy()
    back[:, 1] = -back[:, 1]  # centre fraction logit: f -> 1 - f
    return back


class FlipAveragedFitter(GaussianLineFitter):
    """GaussianLineFitter whose dense head averages the spectrum and its reverse."""

    def _network_lines(self, X):
        if self.head != "dense" or X.shape[1] % 2:
            raise ValueError("the flip average needs head='dense' and an even channel count")
        scale = _spectrum_scale(X)
        forward = self._infer(lambda m, x: m(x), X / scale[:, None])
        reverse = self._infer(lambda m, x: m(x), X[:, ::-1] / scale[:, None])
        dense = 0.5 * (forward[0] + _flip_dense(reverse[0]))
        count = 0.5 * (log_softmax(forward[1], axis=1) + log_softmax(reverse[1], axis=1))
        z, probability = _decode_peaks((dense, count), self.max_components, X.shape[1])
        return data_units(self, z, scale), probability


def data_units(fitter, z, scale):
    """Lines (n, K, 3) in data units from the dense head's decoded peaks ``z`` (as
    ``GaussianLineFitter._network_lines`` does)."""
    p = z * fitter.target_scale_ + fitter.target_loc_
    return np.stack(
        [
            p[:, :, 0] * scale[:, None],
            z[:, :, 1],
            np.exp(np.clip(p[:, :, 2], *_LOG_SIGMA_BOUNDS)),
        ],
        axis=2,
    )


def _speed(fitter, X):
    fitter.set_params(inference_dtype="float32", batch_size=1024)
    X_speed = np.tile(X, (max(1, 2000 // len(X)), 1))
    fitter.predict(X[:10])
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        fitter.predict(X_speed)
        walls.append(time.perf_counter() - start)
    fitter.set_params(inference_dtype="float64")
    return len(X_speed) / min(walls)


def main(argv=None):
    import torch

    from benchmarks.bench_lines import FITTER, blended, make_data, score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n-train", type=int, default=40_000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    mode = "quick" if args.quick else "full"
    n_train, epochs = (2_000, 2) if args.quick else (args.n_train, 15)
    X, y, _ = make_data("wide", n_train, seed=0)
    start = time.perf_counter()
    plain = GaussianLineFitter(max_epochs=epochs, **FITTER).fit(X, y)
    train_s = time.perf_counter() - start
    flip = FlipAveragedFitter(max_epochs=epochs, **FITTER)
    flip.__dict__.update({k: v for k, v in plain.__dict__.items() if k.endswith("_")})
    rows = []
    for seed in DEV_SEEDS:
        X_te, y_te, _ = make_data("heldout", N_TEST[mode], seed)
        is_blend = blended(y_te)
        for name, model in (("plain", plain), ("flip", flip)):
            speed = _speed(model, X_te)
            for threshold in THRESHOLDS:
                model.set_params(threshold=threshold)
                row = dict(seed=seed, way=name, threshold=threshold, spectra_per_s=speed)
                row.update(score(y_te, model.predict(X_te), is_blend))
                rows.append(row)
                print(
                    f"seed {seed} {name:5s} t={threshold}: F1 {row['f1']:.3f} count "
                    f"{row['count_accuracy']:.3f} blends {row['blend_count_accuracy']:.3f} "
                    f"R² {row['blend_r2_amplitude']:.3f}; {speed:.0f}/s",
                    flush=True,
                )
            model.set_params(threshold=0.7)
    out = {
        "command": "python -m benchmarks.search.lines_flip"
        + (f" --n-train {args.n_train}" if args.n_train != 40_000 else ""),
        "dev_seeds": DEV_SEEDS,
        "n_train": n_train,
        "max_epochs": epochs,
        "train_s": train_s,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("lines_flip", out, quick=args.quick)


if __name__ == "__main__":
    main()
