"""Time flux-conserving resampling: specutils' FluxConservingResampler vs skspectra's.

Run through the runner: ``python -m benchmarks run resample [--quick]``.

Spectra are synthetic (drawn with each seed), on an SDSS-like log10 grid (dloglam = 1e-4) of
``N_PIXELS`` pixels, resampled with ivar onto a coarser log grid (dloglam = 1.5e-4) inside their
range. specutils is run one spectrum at a time (as its 2-D path does internally) on fewer
spectra, because it is slow. Figures: spectra per second of wall time and of process CPU time
(numpy on one thread), per seed.
"""

import time

import numpy as np

from benchmarks._common import fmt_mean_std
from benchmarks._stats import mean_sd
from skspectra.preprocessing import log_wavelength_grid, resample_spectra

NAME = "resample"
THREADS = 1
DEV_SEEDS = [0]
REPORT_SEEDS = [1, 2, 3]

N_PIXELS = 4000
N_SPECTRA = {"full": 10_000, "quick": 2_000}
N_SPECUTILS = {"full": 20, "quick": 5}
METHODS = (
    "specutils FluxConservingResampler",
    "skspectra resample_spectra, shared grid",
    "skspectra resample_spectra, per-spectrum z",
    "skspectra resample_spectra, ragged lists + z",
)


def make_spectra(n_spectra, n_pixels, seed=0):
    rng = np.random.default_rng(seed)
    wave = 10.0 ** (np.log10(3800.0) + 1e-4 * np.arange(n_pixels))
    flux = rng.normal(10.0, 2.0, (n_spectra, n_pixels))
    ivar = rng.uniform(0.5, 2.0, (n_spectra, n_pixels))
    new_wave = log_wavelength_grid(wave[5] * 1.001, wave[-5] / 1.001, dloglam=1.5e-4)
    return wave, flux, ivar, new_wave


def time_specutils(wave, flux, ivar, new_wave):
    import astropy.units as u
    from astropy.nddata import InverseVariance
    from specutils import Spectrum
    from specutils.manipulation import FluxConservingResampler

    resampler = FluxConservingResampler()
    grid = new_wave * u.AA
    t0, c0 = time.perf_counter(), time.process_time()
    for f, iv in zip(flux, ivar, strict=True):
        spec = Spectrum(flux=f * u.Jy, spectral_axis=wave * u.AA, uncertainty=InverseVariance(iv))
        resampler(spec, grid)
    return time.perf_counter() - t0, time.process_time() - c0


def time_skspectra(wave, flux, ivar, new_wave, z=None, ragged=False):
    if ragged:
        wave = [wave] * len(flux)
        flux, ivar = list(flux), list(ivar)
    t0, c0 = time.perf_counter(), time.process_time()
    resample_spectra(wave, flux, ivar, new_wavelength=new_wave, z=z)
    return time.perf_counter() - t0, time.process_time() - c0


def run_seed(seed, mode):
    out = {}
    wave, flux, ivar, new_wave = make_spectra(N_SPECUTILS[mode], N_PIXELS, seed)
    timings = {METHODS[0]: (N_SPECUTILS[mode], time_specutils(wave, flux, ivar, new_wave))}
    n = N_SPECTRA[mode]
    wave, flux, ivar, new_wave = make_spectra(n, N_PIXELS, seed)
    z = np.random.default_rng(seed + 1000).uniform(0.0, 0.001, n)
    timings[METHODS[1]] = (n, time_skspectra(wave, flux, ivar, new_wave))
    timings[METHODS[2]] = (n, time_skspectra(wave, flux, ivar, new_wave, z=z))
    timings[METHODS[3]] = (n, time_skspectra(wave, flux, ivar, new_wave, z=z, ragged=True))
    for method, (count, (wall, cpu)) in timings.items():
        out[method] = {
            "n_spectra": count,
            "spectra_per_s": count / wall,
            "cpu_spectra_per_s": count / cpu,
        }
    out["n_new_pixels"] = int(new_wave.size)
    return out


def run(quick: bool) -> dict:
    mode = "quick" if quick else "full"
    per_seed = {seed: run_seed(seed, mode) for seed in REPORT_SEEDS}
    runs = list(per_seed.values())
    summary = {}
    for m in METHODS:
        for q in ("spectra_per_s", "cpu_spectra_per_s"):
            summary[f"{q}/{m}"] = mean_sd([r[m][q] for r in runs])
    return {
        "protocol": (
            f"Flux-conserving resampling with ivar of {N_PIXELS}-pixel spectra on a log grid "
            f"(dloglam 1e-4) onto dloglam 1.5e-4; specutils one spectrum at a time on "
            f"{N_SPECUTILS[mode]} spectra, skspectra on {N_SPECTRA[mode]}; wall and CPU time."
        ),
        "data": f"synthetic: flux N(10, 2), ivar U(0.5, 2), {N_PIXELS} pixels, drawn per seed",
        "seeds": REPORT_SEEDS,
        "per_seed": per_seed,
        "summary": summary,
        "n_new_pixels": runs[0]["n_new_pixels"],
    }


def tables(result: dict) -> dict:
    res = result["result"]
    runs = list(res["per_seed"].values())
    rows = [
        [
            m,
            str(runs[0][m]["n_spectra"]),
            fmt_mean_std([r[m]["spectra_per_s"] for r in runs], 0),
            fmt_mean_std([r[m]["cpu_spectra_per_s"] for r in runs], 0),
        ]
        for m in METHODS
    ]
    return {
        "speed": {
            "header": ["method", "spectra", "spectra/s (wall)", "spectra/s (CPU)"],
            "rows": rows,
            "caption": (
                f"{result.get('mode', '?')} run of {result.get('started', '?')[:10]}, seeds "
                f"{res['seeds']} (mean ± sd); {N_PIXELS} → {res['n_new_pixels']} pixels, with ivar."
            ),
        }
    }
