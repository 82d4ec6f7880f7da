"""
==========================================================
Tune a GaussianLineFitter with Optuna, resumably (SQLite)
==========================================================

An Optuna study tunes the learning rate, the kernel sizes and the three loss weights
(sparsity, existence, reconstruction) of :class:`~skspectra.lines.GaussianLineFitter` on
synthetic spectra from :func:`~skspectra.datasets.make_gaussian_spectra`. Each trial
trains on 2,400 spectra and scores the F1 of the line detection
(:func:`~skspectra.lines.component_f1_score`, Lindner et al. 2015 matching) on 600
held-out ones.

The study lives in an SQLite file, so it survives the process: run the script again
and it continues the same study (same name, ``load_if_exists=True``), adding
``--n-trials`` more trials and reporting the best of all of them. The default file is
``skspectra_runs/optuna_gaussian_lines.db`` (git-ignored).

With the defaults (6 trials of 8 epochs, small network, 64 channels) a run takes about a minute on
two CPU cores::

    python examples/optuna_gaussian_lines.py                 # 6 trials
    python examples/optuna_gaussian_lines.py --n-trials 4    # 4 more, in the same study
    python examples/optuna_gaussian_lines.py --storage sqlite:///my.db --study-name s2
"""

import argparse
import time
from pathlib import Path

import optuna
import torch

from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import GaussianLineFitter, component_f1_score

#: Kernel-size sets to choose from, as strings (Optuna's categorical choices must be
#: plain values to be stored).
KERNEL_CHOICES = ("3,9,27", "3,7,15", "5,11,21", "3,5,9,17")

#: The data: up to 3 lines, some blended, peak S/N 2 to 80.
DATA = dict(
    n_components=(0, 3),
    amplitude_range=(0.5, 4.0),
    sigma_range=(1.0, 6.0),
    noise_range=(0.05, 0.25),
)


def make_objective(X_train, y_train, X_valid, y_valid, max_epochs, seed):
    def objective(trial):
        kernel_sizes = tuple(
            int(k) for k in trial.suggest_categorical("kernel_sizes", KERNEL_CHOICES).split(",")
        )
        fitter = GaussianLineFitter(
            max_components=3,
            head="slots",  # the three loss weights tuned here are the slot head's
            kernel_sizes=kernel_sizes,
            n_filters=4,
            hidden_size=64,
            lr=trial.suggest_float("lr", 3e-4, 1e-2, log=True),
            sparsity_weight=trial.suggest_float("sparsity_weight", 1e-3, 1.0, log=True),
            existence_weight=trial.suggest_float("existence_weight", 0.1, 10.0, log=True),
            reconstruction_weight=trial.suggest_float("reconstruction_weight", 0.1, 10.0, log=True),
            max_epochs=max_epochs,
            batch_size=128,
            validation_fraction=None,  # the study has its own validation set
            random_state=seed,
        )
        fitter.fit(X_train, y_train)
        return component_f1_score(y_valid, fitter.predict(X_valid))

    return objective


def main(argv=None):
    parser = argparse.ArgumentParser(description="Tune GaussianLineFitter with Optuna.")
    parser.add_argument("--n-trials", type=int, default=6, help="trials to add (default 6)")
    parser.add_argument(
        "--storage",
        default="sqlite:///skspectra_runs/optuna_gaussian_lines.db",
        help="Optuna storage URL (default: %(default)s)",
    )
    parser.add_argument("--study-name", default="gaussian-lines-f1")
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--n-channels", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small networks: one thread is fastest on a shared machine

    if args.storage.startswith("sqlite:///"):
        Path(args.storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        storage=args.storage,
        study_name=args.study_name,
        direction="maximize",
        load_if_exists=True,
    )
    n_before = len(study.trials)
    # A sampler seeded by the number of trials so far: reproducible, and a resumed study
    # does not replay the random start-up points of the previous run.
    study.sampler = optuna.samplers.TPESampler(seed=args.seed + n_before, n_startup_trials=4)
    print(f"study {args.study_name!r} in {args.storage}: {n_before} trials so far")

    X, y, _ = make_gaussian_spectra(
        3000, args.n_channels, return_params=True, random_state=args.seed, **DATA
    )
    objective = make_objective(X[:2400], y[:2400], X[2400:], y[2400:], args.max_epochs, args.seed)
    start = time.perf_counter()
    study.optimize(objective, n_trials=args.n_trials)
    print(f"{args.n_trials} trials in {time.perf_counter() - start:.0f} s")

    print(f"\n{len(study.trials)} trials in the study; F1 by trial:")
    for t in study.trials:
        value = "–" if t.value is None else f"{t.value:.3f}"
        print(f"  #{t.number:<3d} {value}  {t.state.name.lower()}")
    best = study.best_trial
    print(f"\nbest: trial #{best.number}, F1 = {best.value:.3f}")
    for name, value in best.params.items():
        print(f"  {name} = {value:.4g}" if isinstance(value, float) else f"  {name} = {value}")


if __name__ == "__main__":
    main()
