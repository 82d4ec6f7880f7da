"""Strategies and the rule every fuzz target must obey.

The rule: a call either returns a correct result (finite where it should be) or raises a
``ValueError`` / ``TypeError`` whose message names the problem. Never another exception, an
error raised from inside torch or skorch, a NaN passed off as a result, or a hang.
"""

import contextlib
import os
import signal
import traceback
import warnings

import numpy as np
import pandas as pd
from hypothesis import settings
from hypothesis import strategies as st

PROFILE = os.environ.get("SKSPECTRA_FUZZ_PROFILE", "ci")
#: Decorator applying the selected profile (registered in conftest.py) to a fuzz test.
fuzz = settings.get_profile(f"skspectra-{PROFILE}")

#: One call longer than this is a hang (the slowest call takes well under a second; the margin
#: covers a machine shared by many jobs).
TIMEOUT_S = 60

#: Where an error may not come from: raised there, it is a crash deep in the network code.
_DEEP = (f"{os.sep}torch{os.sep}", f"{os.sep}skorch{os.sep}")

REJECTED = object()


class Hang(Exception):
    """A fuzzed call ran longer than TIMEOUT_S."""


def _on_alarm(signum, frame):
    raise Hang(f"the call ran longer than {TIMEOUT_S} s")


@contextlib.contextmanager
def _alarm(seconds):
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_error(exc, must_mention=None):
    """Assert that ``exc`` is a clear error: a message, not raised inside torch or skorch."""
    message = str(exc)
    assert message.strip(), f"{type(exc).__name__} without a message"
    origin = traceback.extract_tb(exc.__traceback__)[-1].filename
    assert not any(part in origin for part in _DEEP), (
        f"{type(exc).__name__} raised deep inside {origin}: {message}"
    )
    if must_mention is not None:
        assert str(must_mention) in message, f"the message does not name {must_mention}: {message}"


def call(fn, *args, must_mention=None, **kwargs):
    """``fn(*args, **kwargs)``, or ``REJECTED`` when it raised a clear ValueError/TypeError.

    Any other exception, or a call longer than ``TIMEOUT_S``, fails the test.
    """
    with _alarm(TIMEOUT_S), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            check_error(exc, must_mention)
            return REJECTED


def assert_finite(out, what):
    """Every number in ``out`` (array, tuple of arrays, DataFrame, float) is finite."""
    if isinstance(out, tuple | list):
        for part in out:
            assert_finite(part, what)
        return
    if isinstance(out, pd.DataFrame):
        out = out.select_dtypes("number").to_numpy(dtype=float)
    arr = np.asarray(out)
    if arr.dtype.kind in "fc":
        assert np.all(np.isfinite(arr)), f"{what} returned non-finite values: {arr}"


# -- strategies -----------------------------------------------------------------------------

#: dtypes the fuzzed arrays come in.
DTYPES = ("float64", "float32", "float16", "int64", "int8", "uint8", "bool", "object")
#: per-row scale factors: tiny and huge values, zeros, negatives.
SCALES = (1.0, 0.0, 1e-30, 1e30, -1.0, -1e30, 1e-300, 1e300)


_SEEDS = st.integers(0, 2**32 - 1)
_ODD_OBJECTS = st.sampled_from(["1.5", "abc", None, b"x", [1.0]])
_N_DEFECTS = st.sampled_from((0, 0, 1, 1, 2, 3))
_KINDS = st.sampled_from(("nan", "inf", "-inf", "scale", "const"))
_SCALE_VALUES = st.sampled_from(SCALES)


@st.composite
def defects(draw, shape):
    """A list of (kind, value, seed) damage to an array of ``shape``: each hits a random block.

    Hypothesis draws the kinds and values (so it can shrink them); a seed places the block.
    """
    if len(shape) < 2 or 0 in shape:
        return []
    return [
        (kind, draw(_SCALE_VALUES) if kind in ("scale", "const") else None, draw(_SEEDS))
        for kind in (draw(_KINDS) for _ in range(draw(_N_DEFECTS)))
    ]


def apply_defects(x, damage):
    """Apply ``defects`` to a float64 array (rows along axis 0, the rest flattened)."""
    if not damage:
        return x
    flat = x.reshape(x.shape[0], -1)
    n, m = flat.shape
    with np.errstate(all="ignore"):
        for kind, value, seed in damage:
            rng = np.random.default_rng(seed)
            r0, c0 = rng.integers(n), rng.integers(m)
            block = (slice(r0, rng.integers(r0 + 1, n + 1)), slice(c0, rng.integers(c0 + 1, m + 1)))
            if kind == "nan":
                flat[block] = np.nan
            elif kind == "inf":
                flat[block] = np.inf
            elif kind == "-inf":
                flat[block] = -np.inf
            elif kind == "scale":
                flat[block] *= value
            else:
                flat[block] = value
    return flat.reshape(x.shape)


def cast(x, dtype, draw):
    """``x`` in ``dtype``; object arrays sometimes hold a string or None, as bad tables do."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype == "object":
            out = x.astype(object)
            if out.size and draw(st.booleans()):
                out.flat[draw(st.integers(0, out.size - 1))] = draw(
                    st.sampled_from(["1.5", "abc", None, b"x", [1.0]])
                )
            return out
        if dtype[0] in "iu" or dtype == "bool":
            return np.nan_to_num(x, nan=0, posinf=1, neginf=-1).clip(-100, 200).astype(dtype)
        return x.astype(dtype)


_DTYPE_STRATEGIES = {}


def _dtypes(dtypes):
    if dtypes not in _DTYPE_STRATEGIES:
        _DTYPE_STRATEGIES[dtypes] = st.sampled_from(dtypes)
    return _DTYPE_STRATEGIES[dtypes]


@st.composite
def arrays(draw, shape, *, dtypes=DTYPES, positive=False, loc=1.0):
    """A fuzzed array of ``shape``: random values, damaged blocks, any dtype."""
    rng = np.random.default_rng(draw(_SEEDS))
    x = np.asarray(loc + 0.3 * rng.standard_normal(shape))
    if positive:
        x = np.asarray(np.abs(x))
    x = apply_defects(x, draw(defects(shape)))
    return cast(x, draw(_dtypes(tuple(dtypes))), draw)


_IVAR_KINDS = st.sampled_from(("none", "good", "good", "damaged", "wrong_shape"))
_OFF_BY_ONE = st.sampled_from((-1, 1))
_BAD_IVAR = st.sampled_from((0.0, -1.0, np.nan, np.inf, 1e-300, 1e300))


@st.composite
def ivars(draw, shape):
    """An inverse-variance array for flux of ``shape``: None, good, zero rows, negative, NaN,
    or of the wrong shape."""
    kind = draw(_IVAR_KINDS)
    if kind == "none":
        return None
    if kind == "wrong_shape":
        shape = tuple(max(s + draw(_OFF_BY_ONE), 0) for s in shape)
    x = np.abs(draw(arrays(shape, dtypes=("float64", "float32"), positive=True)))
    if kind == "damaged" and len(shape) >= 2 and 0 not in shape:
        x = x.astype(np.float64)
        flat = x.reshape(shape[0], -1)
        flat[draw(_SEEDS) % shape[0]] = draw(_BAD_IVAR)
    return x


def matrices(max_samples=6, max_features=12, **kwargs):
    """Fuzzed 2-D arrays with a drawn shape."""
    shapes = st.tuples(st.integers(0, max_samples), st.integers(0, max_features))
    return shapes.flatmap(lambda shape: arrays(shape, **kwargs))


_ONE_IN_TEN = st.integers(0, 9)


def maybe_list(draw, x):
    """``x`` as given, or as nested lists (what users pass too)."""
    if draw(_ONE_IN_TEN) == 0 and isinstance(x, np.ndarray) and x.dtype != object:
        return x.tolist()
    return x
