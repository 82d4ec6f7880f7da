"""OptunaSearchCV(enable_pruning=True): one partial_fit epoch per step, pruned trials stop."""

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState
from optuna_integration import OptunaSearchCV

from skspectra import SpectralCAE

optuna.logging.set_verbosity(optuna.logging.WARNING)


class PruneOddTrials(optuna.pruners.BasePruner):
    """Prunes every odd-numbered trial after its second step: a pruner whose choices are
    known in advance, so that the test does not depend on which lr trains better."""

    def prune(self, study, trial):
        return trial.number % 2 == 1 and trial.last_step is not None and trial.last_step >= 1


def test_pruning_search_steps_partial_fit_and_stops_pruned_trials(toy_spectra):
    X, _ = toy_spectra
    cae = SpectralCAE(n_components=2, n_filters=2, depth=1, batch_size=16, max_epochs=4)
    search = OptunaSearchCV(
        cae,
        {"lr": FloatDistribution(1e-4, 1e-2, log=True)},
        enable_pruning=True,
        max_iter=4,  # = max_epochs: the lr schedule of partial_fit spans the 4 steps
        n_trials=4,
        cv=2,
        random_state=0,
        error_score="raise",
        study=optuna.create_study(direction="maximize", pruner=PruneOddTrials()),
    )
    search.fit(X)
    trials = search.study_.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED] * 2
    for trial in trials:
        steps = trial.intermediate_values
        assert sorted(steps) == ([0, 1, 2, 3] if trial.state == TrialState.COMPLETE else [0, 1])
        values = np.array(list(steps.values()))
        assert np.all(np.isfinite(values))
        assert len(np.unique(values)) == len(values)  # each step trained the model further
    # the refit best model is an ordinary fitted estimator
    assert search.best_estimator_.transform(X).shape == (len(X), 2)
