"""Small helpers shared by the command line and the examples."""

from pathlib import Path

__all__ = ["unique_path"]


def unique_path(path):
    """Return ``path`` if nothing exists there, else the first free ``stem-N`` variant.

    Nothing the user made is ever overwritten: ``run`` becomes ``run-1``,
    ``run-2``...; ``model.joblib`` becomes ``model-1.joblib``.

    Parameters
    ----------
    path : str or pathlib.Path
        The wished-for file or directory name.

    Returns
    -------
    path : pathlib.Path
        A path where nothing exists yet.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "run").mkdir()
    >>> unique_path(d / "run").name
    'run-1'
    """
    path = Path(path)
    if not path.exists():
        return path
    suffix = "".join(path.suffixes) if path.suffix else ""
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    n = 1
    while True:
        candidate = path.with_name(f"{stem}-{n}{suffix}")
        if not candidate.exists():
            return candidate
        n += 1
