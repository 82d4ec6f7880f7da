"""The two promises skspectra makes about equal results, and the assertion that checks each.

Every test that compares two computations of the same result says which promise it checks by
calling one of these.

**Same machine** (:func:`assert_same_bits`). The same computation, on the same inputs, with the
same batch layout and the same thread count, repeated on one machine gives the same bits: in
another process, after a save/load round trip, after a resume from a checkpoint. It holds on
every machine, because both sides run the same kernels there.

**Any machine** (:func:`assert_equal_to_rounding`). Two ways of computing a result that group the
samples differently into batches (chunked scoring, Dask blocks, a different ``batch_size``) agree
to float64 rounding, ``rtol=1e-12``, on every CPU. They are not bit-identical everywhere: MKL and
oneDNN choose their kernels by problem size and instruction set, so a last chunk of 2 rows can
be summed in another order than the same rows inside a batch of 64 (seen at 5.6e-16 on one CPU,
never on another).
"""

import numpy as np

__all__ = ["RTOL", "assert_equal_to_rounding", "assert_same_bits"]

#: Relative tolerance of the "any machine" promise for float64 inference.
RTOL = 1e-12


def assert_same_bits(actual, expected):
    """Same machine: the same computation repeated gives the same bits."""
    np.testing.assert_array_equal(actual, expected)


def assert_equal_to_rounding(actual, expected, rtol=RTOL):
    """Any machine: float64 results of differently batched computations agree to ``rtol``.

    The absolute tolerance is ``rtol`` times the largest magnitude in ``expected``, so that
    values near zero are held to the same rounding as the rest, not to their own tiny scale.
    """
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)
