"""Training features shared by every skspectra estimator, as skorch callbacks.

- :class:`TrainingProgress`: one progress bar over epochs, with ETA, the loss
  in readable units (:class:`LossTerm`) and a validation summary; what
  ``verbose=1`` shows.
- :class:`StopOnNonFiniteLoss`: training that diverges stops with a
  :class:`TrainingDivergedError` (a ``ValueError``) naming the likely cause.
- :class:`TrainingCheckpoint`: a skorch ``Checkpoint`` every ``every`` epochs
  that also saves the learning-rate schedule and the random state, saves and
  stops on SIGINT/SIGTERM (:class:`TrainingInterrupted`), and resumes.
- :class:`TrainingNet`: the skorch ``NeuralNet`` the estimators train, with
  optional automatic mixed precision.
- :class:`StreamLRSchedule`: the learning-rate schedule of ``partial_fit``,
  planned over a stream of calls.
- :func:`fit_in_chunks`: out-of-core training from a memmap, HDF5 dataset
  or Dask array, one ``partial_fit`` call per chunk.
"""

from ._checkpoint import TrainingCheckpoint, TrainingInterrupted
from ._chunks import fit_in_chunks
from ._guard import StopOnNonFiniteLoss, TrainingDivergedError
from ._net import TrainingNet
from ._progress import LossTerm, TrainingProgress, squared_error_terms
from ._stream import StreamLRSchedule, stream_lr_factor

__all__ = [
    "LossTerm",
    "StopOnNonFiniteLoss",
    "StreamLRSchedule",
    "TrainingCheckpoint",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "TrainingNet",
    "TrainingProgress",
    "fit_in_chunks",
    "squared_error_terms",
    "stream_lr_factor",
]
