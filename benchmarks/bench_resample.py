"""Time flux-conserving resampling: specutils' FluxConservingResampler vs skspectra's.

Run::

    python benchmarks/bench_resample.py                      # defaults below
    python benchmarks/bench_resample.py --n-specutils 50 --n-spectra 10000 --n-pixels 4000

Spectra are synthetic, on an SDSS-like log10 grid (dloglam = 1e-4), resampled with ivar onto a
coarser log grid inside their range. specutils is run one spectrum at a time (as its 2-D path
does internally) on fewer spectra, because it is slow; every timing is also extrapolated to
10^5 spectra (from wall time). "cpu seconds" is this process's CPU time, a fairer figure when
other jobs share the cores (numpy here runs on one thread). Prints a markdown table and writes
JSON to benchmarks/results/bench_resample.json.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from skspectra.preprocessing import log_wavelength_grid, resample_spectra

EXTRAPOLATE_TO = 100_000


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-specutils", type=int, default=20)
    parser.add_argument("--n-spectra", type=int, default=10_000)
    parser.add_argument("--n-pixels", type=int, default=4000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_resample.json"))
    args = parser.parse_args(argv)

    rows = []
    wave, flux, ivar, new_wave = make_spectra(args.n_specutils, args.n_pixels)
    rows.append(
        (
            "specutils FluxConservingResampler",
            args.n_specutils,
            time_specutils(wave, flux, ivar, new_wave),
        )
    )
    wave, flux, ivar, new_wave = make_spectra(args.n_spectra, args.n_pixels)
    z = np.random.default_rng(1).uniform(0.0, 0.001, args.n_spectra)
    rows.append(
        (
            "skspectra resample_spectra, shared grid",
            args.n_spectra,
            time_skspectra(wave, flux, ivar, new_wave),
        )
    )
    rows.append(
        (
            "skspectra resample_spectra, per-spectrum z",
            args.n_spectra,
            time_skspectra(wave, flux, ivar, new_wave, z=z),
        )
    )
    rows.append(
        (
            "skspectra resample_spectra, ragged lists + z",
            args.n_spectra,
            time_skspectra(wave, flux, ivar, new_wave, z=z, ragged=True),
        )
    )

    print(
        f"{args.n_pixels} input pixels -> {new_wave.size} output pixels, with ivar; "
        f"{platform.processor() or platform.machine()}\n"
    )
    print(
        f"| method | n_spectra | seconds | cpu seconds | spectra/s | "
        f"est. seconds for {EXTRAPOLATE_TO:,} |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    results = []
    for method, n, (seconds, cpu_seconds) in rows:
        rate = n / seconds
        print(
            f"| {method} | {n} | {seconds:.3f} | {cpu_seconds:.3f} | {rate:,.0f} | "
            f"{EXTRAPOLATE_TO / rate:,.1f} |"
        )
        results.append(
            {
                "method": method,
                "n_spectra": n,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "spectra_per_s": rate,
                "n_pixels": args.n_pixels,
                "n_new_pixels": int(new_wave.size),
            }
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
