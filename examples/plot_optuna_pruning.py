"""
==========================================================
Stop bad Optuna trials early with SkorchPruningCallback
==========================================================

An Optuna study tunes the learning rate and the network size of a
:class:`~skspectra.lines.GaussianLineFitter` on synthetic spectra of up to three
Gaussian lines (:func:`~skspectra.datasets.make_gaussian_spectra`). Each trial
trains for up to 10 epochs and holds out 20 % of its spectra
(``validation_fraction=0.2``) to report ``valid_loss`` after every epoch.

optuna-integration's :class:`~optuna_integration.SkorchPruningCallback`, passed
through the estimator's ``callbacks=`` parameter, reports that loss to the
study; a :class:`~optuna.pruners.MedianPruner` stops a trial whose loss is worse
than the median of the earlier trials at the same epoch. The estimator
deep-copies its callbacks, as skorch mutates them, but leaves the Optuna trial
inside them uncopied, so the reports reach the live study.

The same study is run twice in the same process, with the same sampler seed (so
the same 12 hyper-parameter sets, in the same order): once with pruning, once
without. The time saved is measured on this run, as CPU time of this process (wall
time on a shared machine depends on what else runs there). The user guide's
Tuning page covers SQLite and PostgreSQL storage, resuming a study, and
optuna-dashboard.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import optuna
import torch
from optuna_integration import SkorchPruningCallback

from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import GaussianLineFitter

torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)

X, y, _ = make_gaussian_spectra(
    800, 64, n_components=(0, 3), sigma_range=(1.0, 6.0), return_params=True, random_state=0
)

# %%
# The objective: one trial trains one model and returns its last validation loss.
# The loss weights stay fixed, so that losses of different trials are comparable.


def objective(trial):
    fitter = GaussianLineFitter(
        max_components=3,
        kernel_sizes=(3, 9),
        n_blocks=trial.suggest_int("n_blocks", 2, 3),
        n_filters=trial.suggest_categorical("n_filters", [2, 4, 8]),
        hidden_size=64,
        lr=trial.suggest_float("lr", 1e-5, 1e-2, log=True),
        max_epochs=10,
        validation_fraction=0.2,
        callbacks=[SkorchPruningCallback(trial, monitor="valid_loss")],
        random_state=0,
    )
    fitter.fit(X, y)
    return fitter.history_[-1, "valid_loss"]


def run(pruner):
    """The study, and the wall-clock and CPU seconds it took."""
    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.RandomSampler(seed=1), pruner=pruner
    )
    wall, cpu = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=12)
    return study, time.perf_counter() - wall, time.process_time() - cpu


# One short fit first, so that neither study pays PyTorch's first-call costs.
GaussianLineFitter(3, kernel_sizes=(3, 9), max_epochs=1, random_state=0).fit(X[:100], y[:100])

# Prune a trial whose loss is not in the best 40 % of the earlier trials at that epoch
# (from the 2nd epoch of the 4th trial on).
pruner = optuna.pruners.PercentilePruner(40.0, n_startup_trials=3, n_warmup_steps=1)
pruned, wall_pruned, cpu_pruned = run(pruner)
full, wall_full, cpu_full = run(optuna.pruners.NopPruner())

# %%
# How many trials were pruned, and how much time it saved.

states = [t.state for t in pruned.trials]
n_pruned = states.count(optuna.trial.TrialState.PRUNED)
epochs_pruned = sum(len(t.intermediate_values) for t in pruned.trials)
epochs_full = sum(len(t.intermediate_values) for t in full.trials)
print(f"pruned {n_pruned} of {len(states)} trials")
print(f"epochs trained: {epochs_pruned} with pruning, {epochs_full} without")
print(f"wall time: {wall_pruned:.1f} s with pruning, {wall_full:.1f} s without")
print(f"CPU time: {cpu_pruned:.1f} s with pruning, {cpu_full:.1f} s without", end=" ")
print(f"({1 - cpu_pruned / cpu_full:.0%} saved)")
print(f"best valid_loss: {pruned.best_value:.3f} with pruning, {full.best_value:.3f} without")
print(f"best trial: #{pruned.best_trial.number} with pruning, #{full.best_trial.number} without")
print("best parameters:", pruned.best_params)

# %%
# Every trial's validation loss by epoch. The runs of the unpruned study are in
# grey; the pruned study's runs stop where the pruner stopped them (×).

fig, (ax, bar) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=(3, 1), layout="constrained")
for t in full.trials:
    epochs, losses = zip(*sorted(t.intermediate_values.items()), strict=True)
    ax.plot(np.array(epochs) + 1, losses, color="0.8", lw=3, zorder=1)
for t in pruned.trials:
    epochs, losses = zip(*sorted(t.intermediate_values.items()), strict=True)
    is_pruned = t.state == optuna.trial.TrialState.PRUNED
    (line,) = ax.plot(np.array(epochs) + 1, losses, lw=1.2, zorder=2)
    if is_pruned:
        ax.plot(epochs[-1] + 1, losses[-1], "x", color=line.get_color(), ms=8, mew=2)
ax.set(xlabel="epoch", ylabel="valid_loss", yscale="log", title="validation loss of each trial")
ax.plot([], [], color="0.8", lw=3, label="without pruning")
ax.plot([], [], "kx", label="pruned here")
ax.legend()
bar.bar(["with\npruning", "without"], [cpu_pruned, cpu_full], color=["C0", "0.6"])
bar.set(ylabel="CPU time of 12 trials (s)", title=f"{n_pruned} of 12 trials pruned")
plt.show()
