"""Tuning with Optuna: OptunaSearchCV over Pipelines, pruning through ``callbacks=``, and a
study on SQLite shared by two processes that resumes after one of them is killed."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState
from optuna_integration import OptunaSearchCV, SkorchPruningCallback
from sklearn.metrics import make_scorer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skspectra
from skspectra import GaussianLineFitter, SpectralCAE
from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import component_f1_score
from skspectra.preprocessing import SpectrumNormalizer

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _tiny_cae(**params):
    params = {"max_epochs": 4, **params}
    return SpectralCAE(
        n_components=2, n_filters=2, depth=1, batch_size=16, random_state=0, **params
    )


def subtract_median(X):
    """Continuum subtraction for spectra of sparse lines: each row minus its median."""
    return X - np.median(X, axis=1, keepdims=True)


# -- pruning through callbacks= ---------------------------------------------------------------
def test_pruning_callback_reports_to_the_live_study(toy_spectra):
    """The estimator deep-copies its callbacks, but not the Optuna trial inside one: every
    epoch's valid_loss reaches the study the user holds (with a copied trial it went to a
    detached copy of the in-memory storage, and the study saw nothing)."""
    X, _ = toy_spectra
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    fitted = []

    def objective(trial):
        cae = _tiny_cae(callbacks=[SkorchPruningCallback(trial, "valid_loss")])
        fitted.append(cae.fit(X))
        return cae.history_[-1, "valid_loss"]

    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    expected = fitted[0].history_[:, "valid_loss"]
    assert len(expected) == 4
    assert trial.intermediate_values == pytest.approx(dict(enumerate(expected)))


@pytest.mark.parametrize("make_estimator", ["cae", "lines"])
def test_pruned_trials_stop_after_the_first_epoch(make_estimator, toy_spectra):
    """A pruner that rejects every value stops training after one epoch of the ten."""
    X, _ = toy_spectra
    if make_estimator == "lines":
        X, y, _ = make_gaussian_spectra(60, 32, n_components=(0, 1), return_params=True)

    def objective(trial):
        callbacks = [SkorchPruningCallback(trial, "valid_loss")]
        if make_estimator == "cae":
            _tiny_cae(callbacks=callbacks, max_epochs=10).fit(X)
        else:
            GaussianLineFitter(
                1, kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=8, max_epochs=10,
                callbacks=callbacks, random_state=0,
            ).fit(X, y)  # fmt: skip
        return 0.0

    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=-1.0))
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert [len(t.intermediate_values) for t in study.trials] == [1, 1]


def test_callbacks_without_optuna_are_still_copied(toy_spectra):
    """The user's callback objects are not the ones skorch mutates."""
    from skorch.callbacks import EarlyStopping

    X, _ = toy_spectra
    stopper = EarlyStopping(patience=100)
    cae = _tiny_cae(callbacks=[stopper]).fit(X)
    assert not hasattr(stopper, "best_score_")
    assert any(cb is not stopper and isinstance(cb, EarlyStopping) for _, cb in cae.net_.callbacks_)


# -- OptunaSearchCV over Pipelines ------------------------------------------------------------
def test_optuna_search_cv_over_a_spectral_cae_pipeline(toy_spectra):
    X, _ = toy_spectra
    search = OptunaSearchCV(
        make_pipeline(SpectrumNormalizer(), _tiny_cae()),
        {
            "spectralcae__n_components": IntDistribution(1, 3),
            "spectralcae__lr": FloatDistribution(1e-3, 3e-2, log=True),
        },
        cv=2,
        n_trials=3,
        random_state=0,
    ).fit(X)
    trials = search.study_.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    best = max(trials, key=lambda t: t.value)
    assert search.best_params_ == best.params
    cae = search.best_estimator_[-1]
    assert cae.n_components == best.params["spectralcae__n_components"]
    assert cae.transform(search.best_estimator_[0].transform(X)).shape == (len(X), cae.n_components)
    # the scores are the CAE's own score (minus the mean squared residual of the held-out fold)
    assert all(np.isfinite(t.value) and t.value < 0 for t in trials)


def test_optuna_search_cv_over_a_line_fitter_pipeline():
    X, y, _ = make_gaussian_spectra(80, 32, n_components=(0, 1), return_params=True, random_state=0)
    X = X + np.linspace(0.5, 2.0, len(X))[:, None]  # a flat continuum of its own per spectrum
    search = OptunaSearchCV(
        make_pipeline(
            FunctionTransformer(subtract_median),
            GaussianLineFitter(
                1,
                kernel_sizes=(3,),
                n_filters=2,
                n_blocks=1,
                hidden_size=8,
                max_epochs=3,
                random_state=0,
            ),
        ),  # fmt: skip
        {"gaussianlinefitter__lr": FloatDistribution(1e-3, 1e-2, log=True)},
        cv=2,
        n_trials=2,
        scoring=make_scorer(component_f1_score),
        random_state=0,
    ).fit(X, y)
    assert [t.state for t in search.study_.trials] == [TrialState.COMPLETE] * 2
    assert all(0 <= t.value <= 1 for t in search.study_.trials)
    assert search.predict(X).shape == (len(X), 3)


# -- SQLite storage shared by two processes, resumed after a SIGKILL ---------------------------
WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, name, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    marker = Path(sys.argv[5])
    storage = RDBStorage(
        url, heartbeat_interval=1, grace_period=2,
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
    )
    study = optuna.load_study(study_name=name, storage=storage)
    done = []

    def objective(trial):
        trial.set_user_attr("pid", os.getpid())
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        if mode == "hang" and len(done) == 1:
            marker.write_text(str(trial.number))
            time.sleep(600)  # killed here
        time.sleep(0.3)  # a training run stands here (skspectra would slow the test down)
        done.append(trial.number)
        return (lr - 0.01) ** 2

    if mode == "resume":  # run until the study holds n complete trials
        while len(study.get_trials(states=(TrialState.COMPLETE,))) < n:
            study.optimize(objective, n_trials=1)
    else:
        study.optimize(objective, n_trials=n)
    """
)


@pytest.mark.slow  # 3 subprocesses
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sqlite_study_shared_by_two_processes_resumes_after_a_kill(tmp_path):
    db = tmp_path / "study.db"
    url = f"sqlite:///{db}"
    name = "shared"
    optuna.create_study(storage=url, study_name=name, direction="minimize")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    marker = tmp_path / "hanging"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(skspectra.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }

    def start(mode, n):
        return subprocess.Popen(
            [sys.executable, str(script), url, name, mode, str(n), str(marker)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )

    doomed, other = start("hang", 2), start("run", 4)  # at once, on one SQLite file
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # the doomed one has finished a trial and hangs in the next
            assert doomed.poll() is None, doomed.stderr.read()
            assert time.monotonic() < deadline, "the hanging worker never reached its 2nd trial"
            time.sleep(0.1)
        time.sleep(0.5)  # let a heartbeat reach the database
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        assert other.wait(timeout=120) == 0, other.stderr.read()
    finally:
        for p in (doomed, other):
            if p.poll() is None:
                p.kill()
    killed = int(marker.read_text())
    study = optuna.load_study(study_name=name, storage=url)
    pids = {t.user_attrs["pid"] for t in study.trials}
    assert pids == {doomed.pid, other.pid}  # both wrote to the study at once
    assert study.trials[killed].user_attrs["pid"] == doomed.pid

    time.sleep(3)  # past the grace period: the killed trial's heartbeat is stale
    resumed = start("resume", 8)
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read()

    study = optuna.load_study(study_name=name, storage=url)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == 8
    assert states.count(TrialState.FAIL) == 1
    assert study.trials[killed].state == TrialState.FAIL
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1
    assert retries[0].state == TrialState.COMPLETE
    assert retries[0].params == study.trials[killed].params
    assert len(study.trials) == 9
