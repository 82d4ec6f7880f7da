"""Checkpoint, resume, device and mixed-precision options of the training commands.

``skspectra anomalies`` and ``skspectra images`` write a checkpoint into
``OUT/checkpoint`` every ``--checkpoint-every`` epochs, with the command's
arguments in ``OUT/checkpoint/command.json``. On SIGINT or SIGTERM they save
the last completed epoch and exit with status 130 or 143, saying how to
resume; ``--resume OUT`` reruns the command with its saved arguments and
continues training where it stopped.
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .io._errors import InputError

__all__ = ["TrainingRun", "add_training_options", "interrupted", "saved_threads", "start_run"]

CHECKPOINT = "checkpoint"
COMMAND_FILE = "command.json"


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_training_options(parser):
    """Add ``--checkpoint-every``, ``--resume``, ``--device`` and ``--amp`` to a subcommand."""
    parser.add_argument(
        "--checkpoint-every",
        type=_positive_int,
        default=1,
        metavar="N",
        help="save a checkpoint into OUT/checkpoint every N epochs (default: 1); on SIGINT or "
        "SIGTERM the last completed epoch is saved and the command exits (status 130/143)",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="OUT",
        help="continue an interrupted run from OUT/checkpoint, with that run's arguments (other "
        "options but --quiet are ignored), and write its report into OUT",
    )
    parser.add_argument(
        "--device", default="cpu", help="PyTorch device to train on, e.g. cuda (default: cpu)"
    )
    parser.add_argument(
        "--amp",
        action="store_true",
        help="automatic mixed precision in training (float16 on CUDA, bfloat16 on CPU)",
    )


@dataclass
class TrainingRun:
    """Where a training command writes, and the checkpoint callback it trains with."""

    out_dir: Path
    every: int
    resume: bool
    arguments: dict = field(default_factory=dict)
    resumed_epoch: int = 0

    @property
    def checkpoint_dir(self):
        return self.out_dir / CHECKPOINT

    def callbacks(self):
        """A fresh list with the :class:`~skspectra.training.TrainingCheckpoint`."""
        from .training import TrainingCheckpoint

        return [
            (
                "checkpoint",
                TrainingCheckpoint(self.checkpoint_dir, every=self.every, resume=self.resume),
            )
        ]

    def begin(self):
        """Create the output directory and save the command's arguments for ``--resume``."""
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        command = self.checkpoint_dir / COMMAND_FILE
        if not command.exists():
            command.write_text(json.dumps(self.arguments, indent=2) + "\n")

    def record(self):
        """What ``run.json`` says about checkpoints."""
        return {
            "dir": str(self.checkpoint_dir),
            "every_epochs": self.every,
            "resumed_after_epoch": self.resumed_epoch if self.resume else None,
        }


def _jsonable_args(args):
    out, paths = {}, []
    for key, value in vars(args).items():
        if isinstance(value, Path):
            paths.append(key)
            value = str(value)
        out[key] = value
    return {"args": out, "path_args": paths}


def start_run(args, command):
    """Resolve ``--resume`` and the output directory of a training command.

    Returns
    -------
    args : argparse.Namespace
        The arguments to run with: the saved ones when resuming.
    run : TrainingRun
    """
    from .utils import unique_path

    if args.resume is None:
        out = args.out or Path(f"skspectra-{command}-{datetime.now():%Y%m%d-%H%M%S}")
        run = TrainingRun(unique_path(out), args.checkpoint_every, False, _jsonable_args(args))
        return args, run
    out = args.resume
    saved = out / CHECKPOINT / COMMAND_FILE
    if (out / "run.json").exists():
        raise InputError(f"{out} holds a finished run (run.json); there is nothing to resume.")
    if not saved.is_file():
        raise InputError(
            f"{saved} not found: --resume takes the output directory of an interrupted "
            f"'skspectra {command}' run."
        )
    stored = json.loads(saved.read_text())
    values = dict(stored["args"])
    for key in stored.get("path_args", []):
        if values.get(key) is not None:
            values[key] = Path(values[key])
    if values.get("command") != command:
        raise InputError(f"{out} holds a 'skspectra {values.get('command')}' run, not {command}.")
    # threads: as main() resolved them (the saved run's count unless --threads was given)
    values.update(quiet=args.quiet, resume=out, out=out, threads=args.threads)
    resumed = argparse.Namespace(**values)
    run = TrainingRun(out, resumed.checkpoint_every, True, stored, _epochs_saved(out / CHECKPOINT))
    print(
        f"skspectra: resuming {out} after epoch {run.resumed_epoch}, with its saved arguments",
        file=sys.stderr,
    )
    return resumed, run


def saved_threads(out):
    """The thread count of the interrupted run saved in ``out``, or None if none is readable.

    A resumed run computes with it by default, so that it gives the bits of an uninterrupted
    run (the default thread count follows the machine's load).
    """
    try:
        stored = json.loads((Path(out) / CHECKPOINT / COMMAND_FILE).read_text())
        threads = stored["args"].get("threads")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return threads if isinstance(threads, int) and threads > 0 else None


def _epochs_saved(directory):
    import torch

    from .training._checkpoint import STATE_FILE

    for d in (directory, Path(f"{directory}.old")):
        if (d / STATE_FILE).is_file():
            return int(torch.load(d / STATE_FILE, weights_only=True)["epoch"])
    return 0


def interrupted(exc, command):
    """Report a :class:`~skspectra.training.TrainingInterrupted`; return the exit status."""
    if exc.dirname:
        out = Path(exc.dirname).parent
        print(
            f"skspectra: {exc}. Resume with: skspectra {command} --resume {out}",
            file=sys.stderr,
        )
    else:
        print(f"skspectra: {exc}; run the command again to start over.", file=sys.stderr)
    return exc.exit_status
