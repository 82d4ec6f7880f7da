"""The error skspectra raises for input that the user can fix."""

__all__ = ["InputError"]


class InputError(ValueError):
    """Input that the user can fix: a file that cannot be read, or data a model cannot use.

    A subclass of :class:`ValueError`, so ``except ValueError`` still catches it. The
    ``skspectra`` command prints it as one line (``skspectra: error: ...``) and exits with
    status 1; any other exception is a bug and shows its traceback. The message names the
    file or spectrum and says how to fix the input.

    Examples
    --------
    >>> from skspectra.io import InputError, read_spectra
    >>> try:
    ...     read_spectra([])
    ... except InputError as exc:
    ...     print(exc)
    no paths given.
    """
