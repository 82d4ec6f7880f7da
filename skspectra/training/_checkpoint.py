"""Checkpoints every N epochs that resume exactly, and a clean stop on SIGINT/SIGTERM."""

import copy
import os
import shutil
import signal
import threading
from pathlib import Path

import torch
from skorch.callbacks import Checkpoint, LRScheduler

__all__ = ["TrainingCheckpoint", "TrainingInterrupted"]

#: The file, beside skorch's, that holds what skorch's Checkpoint does not save.
STATE_FILE = "train_state.pt"
_FORMAT = 1


class TrainingInterrupted(Exception):  # noqa: N818 (not an error: the user asked for it)
    """Training stopped on a signal after saving a checkpoint.

    Not a ``KeyboardInterrupt``: skorch catches those and carries on as if
    training had ended normally.

    Attributes
    ----------
    signum : int
        The signal (``signal.SIGINT`` or ``signal.SIGTERM``).
    epoch : int
        Epochs done in the saved checkpoint (0: nothing was saved).
    dirname : str or None
        The checkpoint directory, or None when nothing could be saved.
    """

    def __init__(self, signum, epoch, dirname):
        self.signum = signum
        self.epoch = epoch
        self.dirname = dirname
        name = signal.Signals(signum).name
        where = (
            f"the state after epoch {epoch} is saved in {dirname}"
            if dirname
            else "no epoch had completed, nothing was saved"
        )
        super().__init__(f"training interrupted by {name}; {where}")

    @property
    def exit_status(self):
        """The shell's status for a process ended by this signal: 128 + signal number."""
        return 128 + int(self.signum)


def _cpu_copy(state):
    """A deep copy of a state dict with every tensor on the CPU."""
    return copy.deepcopy(
        {k: (v.detach().cpu() if torch.is_tensor(v) else v) for k, v in state.items()}
    )


def _schedulers(net):
    return [
        (name, cb)
        for name, cb in getattr(net, "callbacks_", [])
        if isinstance(cb, LRScheduler) and getattr(cb, "lr_scheduler_", None) is not None
    ]


class TrainingCheckpoint(Checkpoint):
    """skorch's :class:`~skorch.callbacks.Checkpoint` every ``every`` epochs, made to resume.

    Into ``dirname`` it writes skorch's files (``params.pt``,
    ``optimizer.pt``, ``criterion.pt``, ``history.json``) and
    ``train_state.pt``: the learning-rate schedulers' state, the batch
    counters and PyTorch's random state, which skorch does not save, and
    without which a resumed run diverges from an uninterrupted one. A
    checkpoint is written into a fresh directory and then swapped in, so a
    kill during the write leaves the previous one whole.

    With ``handle_signals``, SIGINT and SIGTERM received during training stop
    it at the end of the current batch: the state at the end of the last
    completed epoch (kept in memory) is saved and
    :class:`TrainingInterrupted` is raised.

    An estimator given this callback with ``resume=True`` loads the
    checkpoint, if ``dirname`` holds one, and trains only the epochs left
    up to ``max_epochs``; the result is then the same, bit for bit on the
    same machine, as a run that was never interrupted.

    Parameters
    ----------
    dirname : str or pathlib.Path
        Directory of the checkpoint.
    every : int, default=1
        Write a checkpoint every ``every`` epochs.
    resume : bool, default=False
        Continue from the checkpoint in ``dirname``, if there is one.
    handle_signals : bool, default=True
        Catch SIGINT and SIGTERM during training (main thread only).
    """

    def __init__(self, dirname, every=1, resume=False, handle_signals=True):
        super().__init__(monitor=None, dirname=str(dirname), event_name="event_cp")
        self.every = every
        self.resume = resume
        self.handle_signals = handle_signals

    def initialize(self):
        super().initialize()
        self.snapshot_ = None
        self.signal_ = None
        self.pending_state_ = None
        self.saved_epoch_ = 0
        self.fingerprint_ = {}
        self._previous_handlers = {}
        return self

    @staticmethod
    def _fingerprint(net, X):
        """What a checkpoint must match to be resumed: the module and the training data's shape."""
        shape = getattr(X, "shape", None)
        return {
            "module": type(net.module_).__name__,
            "shape": [int(n) for n in shape] if shape is not None else [],
        }

    # -- what skorch does not save -------------------------------------------
    def _extra_state(self, net):
        state = {
            "format": _FORMAT,
            "epoch": len(net.history),
            "lr_schedulers": {n: cb.lr_scheduler_.state_dict() for n, cb in _schedulers(net)},
            "batch_idx": {n: cb.batch_idx_ for n, cb in _schedulers(net)},
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "data": self.fingerprint_,
        }
        scaler = getattr(net, "grad_scaler_", None)
        if scaler is not None:
            state["grad_scaler"] = scaler.state_dict()
        return state

    def _take_snapshot(self, net):
        """Everything needed to save the state of the epoch that just ended, later."""
        self.snapshot_ = {
            "module": _cpu_copy(net.module_.state_dict()),
            "optimizer": copy.deepcopy(net.optimizer_.state_dict()),
            "n_epochs": len(net.history),
            "extra": self._extra_state(net),
        }

    # -- writing -------------------------------------------------------------
    def exists(self):
        """Whether ``dirname`` (or the previous copy a killed swap left) holds a checkpoint."""
        return self._readable_dir() is not None

    def _readable_dir(self):
        for d in (Path(self.dirname), Path(f"{self.dirname}.old")):
            if (d / STATE_FILE).is_file():
                return d
        return None

    def save_model(self, net, extra=None):
        """Write skorch's files and ``train_state.pt`` into a new directory, then swap it in."""
        final = Path(self.dirname)
        tmp, old = Path(f"{final}.tmp"), Path(f"{final}.old")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self.dirname = str(tmp)
        try:
            super().save_model(net)  # skorch reports a failed save only through its sink
        finally:
            self.dirname = str(final)
        missing = [f for f in (self.f_params, self.f_optimizer, self.f_history) if f]
        missing = [f for f in missing if not (tmp / f).is_file()]
        if missing:
            raise OSError(f"could not write the checkpoint files {missing} into {tmp}")
        torch.save(extra if extra is not None else self._extra_state(net), tmp / STATE_FILE)
        for path in sorted(final.glob("*")) if final.is_dir() else []:
            if path.name not in os.listdir(tmp):  # keep files others put there
                shutil.copy2(path, tmp / path.name)
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        self.saved_epoch_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        do_save = epoch % self.every == 0
        net.history.record(self.event_name, bool(do_save))
        if do_save:
            self.save_model(net)
        elif self.handle_signals:
            self._take_snapshot(net)  # what a signal before the next save will save
        self._raise_if_signalled(net)

    def save_interrupted(self, net):
        """Roll ``net`` back to the last completed epoch, save it; return the epochs saved."""
        snap = self.snapshot_
        if snap is None:
            return self.saved_epoch_
        if snap["n_epochs"] > self.saved_epoch_:
            net.module_.load_state_dict(snap["module"])
            net.optimizer_.load_state_dict(snap["optimizer"])
            del net.history[snap["n_epochs"] :]
            self.save_model(net, extra=snap["extra"])
        return self.saved_epoch_

    # -- resuming ------------------------------------------------------------
    def load(self, net):
        """Load the checkpoint into an initialized ``net``; return the epochs it holds.

        The schedulers' and random state is applied at ``on_train_begin``, after
        skorch's ``LRScheduler`` has built its scheduler.
        """
        directory = self._readable_dir()
        state = torch.load(directory / STATE_FILE, weights_only=True)
        if state.get("format") != _FORMAT:
            raise ValueError(f"{directory / STATE_FILE} has an unknown format; retrain.")
        net.load_params(
            f_params=directory / self.f_params,
            f_optimizer=directory / self.f_optimizer,
            f_history=directory / self.f_history,
        )
        if len(net.history) != state["epoch"]:
            raise ValueError(
                f"the checkpoint in {directory} is inconsistent (history of "
                f"{len(net.history)} epochs, state of {state['epoch']}); delete it and retrain."
            )
        state["optimizer"] = copy.deepcopy(net.optimizer_.state_dict())
        self.pending_state_ = state
        self.saved_epoch_ = state["epoch"]
        return state["epoch"]

    def _apply_pending_state(self, net):
        state, self.pending_state_ = self.pending_state_, None
        # skorch's LRScheduler rebuilt its scheduler from the epoch count, which is wrong for
        # one stepped per batch, and set the lr accordingly: restore both
        net.optimizer_.load_state_dict(state["optimizer"])
        for name, cb in _schedulers(net):
            if name in state["lr_schedulers"]:
                cb.lr_scheduler_.load_state_dict(state["lr_schedulers"][name])
                cb.batch_idx_ = state["batch_idx"][name]
        if "grad_scaler" in state and getattr(net, "_scaler", None) is not None:
            scaler = net._scaler()
            if scaler is not None:
                scaler.load_state_dict(state["grad_scaler"])
        torch.set_rng_state(state["rng_cpu"])
        if state["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])

    # -- signals -------------------------------------------------------------
    def _on_signal(self, signum, frame):
        self.signal_ = signum

    def _install_handlers(self):
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def restore_handlers(self):
        """Put back the signal handlers that were there before training."""
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}

    def _raise_if_signalled(self, net):
        if self.signal_ is None:
            return
        signum, self.signal_ = self.signal_, None
        epoch = self.save_interrupted(net)
        self.restore_handlers()
        raise TrainingInterrupted(signum, epoch, self.dirname if epoch else None)

    def on_train_begin(self, net, X=None, **kwargs):
        self.fingerprint_ = self._fingerprint(net, X)
        if self.pending_state_ is not None:
            saved = self.pending_state_.get("data") or self.fingerprint_
            if saved != self.fingerprint_:
                self.pending_state_ = None
                raise ValueError(
                    f"the checkpoint in {self.dirname} was written training a {saved['module']} "
                    f"on data of shape {tuple(saved['shape'])}, but this fit trains a "
                    f"{self.fingerprint_['module']} on {tuple(self.fingerprint_['shape'])}; "
                    "resume with the same data and model, or use another directory."
                )
            self._apply_pending_state(net)
        self._install_handlers()

    def on_batch_end(self, net, **kwargs):
        self._raise_if_signalled(net)

    def on_train_end(self, net, **kwargs):
        self.close()

    def close(self):
        """Put back the signal handlers and free the in-memory snapshot (also after an error)."""
        self.restore_handlers()
        self.snapshot_ = None
