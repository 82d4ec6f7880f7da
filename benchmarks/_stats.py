"""Summary statistics of per-seed figures, as the results files store them."""

import numpy as np


def mean_sd(values):
    """``{"mean", "sd", "n"}`` of the finite values (population sd; None when there are none)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "sd": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=0)), "n": int(v.size)}
