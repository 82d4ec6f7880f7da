"""The GPU check behind ``make gpu-check``: CUDA tests, GPU training and GPU scoring, as JSON.

On a machine with a CUDA GPU it runs, and writes the figures of, three things:

1. the CUDA tests (``pytest -k cuda`` over the files that hold them), which skip on a CPU;
2. SpectralCAE trained on all 40,226 Gaia XP stars (``fetch_gaia_xp``; 10 % held out) with
   ``device='cuda'`` in float32 and with ``amp=True`` (float16 autocast): the training time
   against the same training on the CPU (``--cpu-epochs`` epochs of it, compared per epoch),
   the held-out reduced χ² of the amp model against the float32 one, and the GPU memory peak;
3. ``score_samples`` of ``--n-score`` spectra (10⁶; the Gaia XP stars drawn with replacement)
   on the GPU, in spectra per second, with float32 and float64 inference.

``--dry-run`` runs the same path on the CPU with tiny sizes (200 stars of the sample that ships
with skspectra, a small network, one epoch, 1,000 spectra scored) and only collects the CUDA
tests, so that the script is tested without a GPU; its figures mean nothing.

Usage::

    python scripts/gpu_check.py [--output gpu_check.json] [--epochs 20] [--dry-run]
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
#: The test files that hold CUDA tests; ``-k cuda`` picks them out.
CUDA_TEST_FILES = [
    "tests/test_training.py",
    "tests/test_models_io.py",
    "tests/spectra/test_cae.py",
    "tests/test_accelerate.py",
]
VALID_FRACTION = 0.1
SEED = 0


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_cuda_tests(collect_only=False):
    """Run (or only collect) the CUDA tests in a fresh interpreter; return the exit status
    and pytest's summary."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-k", "cuda"]
    cmd += ["--collect-only"] if collect_only else []
    start = time.perf_counter()
    out = subprocess.run(cmd + CUDA_TEST_FILES, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return {
        "command": " ".join(cmd[1:] + CUDA_TEST_FILES),
        "returncode": out.returncode,
        "summary": lines[-1] if lines else out.stderr.strip()[-500:],
        "seconds": time.perf_counter() - start,
    }


def load_data(dry_run):
    """Flux and ivar of the Gaia XP stars, split into training and held-out rows."""
    from skspectra.datasets import fetch_gaia_xp, load_gaia_xp

    data = load_gaia_xp() if dry_run else fetch_gaia_xp()
    flux, ivar = np.asarray(data.flux), np.asarray(data.ivar)
    if dry_run:
        flux, ivar = flux[:200], ivar[:200]
    order = np.random.default_rng(SEED).permutation(len(flux))
    n_valid = int(np.ceil(VALID_FRACTION * len(flux)))
    valid, train = order[:n_valid], order[n_valid:]
    return flux[train], ivar[train], flux[valid], ivar[valid]


def reduced_chi2(model, flux, ivar):
    """Σ ivar (x − x̂)² per unmasked pixel of the held-out stars (≈ 1 at the noise level)."""
    residual = model.reconstruct(flux, ivar=ivar) - flux
    return float(np.sum(ivar * residual**2) / np.count_nonzero(ivar))


def train(flux, ivar, valid, *, device, amp, epochs, batch_size, params):
    """Train one SpectralCAE; return it and its figures."""
    from skspectra import SpectralCAE

    model = SpectralCAE(
        max_epochs=epochs,
        batch_size=batch_size,
        device=device,
        amp=amp,
        random_state=SEED,
        **params,
    )
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    _sync(device)
    start = time.perf_counter()
    model.fit(flux, ivar=ivar)
    _sync(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
    return model, {
        "device": device,
        "amp": amp,
        "epochs": epochs,
        "seconds": seconds,
        "seconds_per_epoch": seconds / epochs,
        "valid_chi2": reduced_chi2(model, *valid),
        "gpu_memory_peak_mib": peak,
    }


def score_speed(model, flux, n_score, chunk_size, dtype):
    """Spectra per second of ``score_samples`` over ``n_score`` spectra, in chunks."""
    model.set_params(inference_dtype=dtype)
    rng = np.random.default_rng(SEED)
    device = model.device
    seconds = 0.0
    for start in range(0, n_score, chunk_size):
        rows = rng.integers(0, len(flux), min(chunk_size, n_score - start))
        chunk = flux[rows]
        _sync(device)
        t0 = time.perf_counter()
        scores = model.score_samples(chunk)
        _sync(device)
        seconds += time.perf_counter() - t0
        if not np.all(np.isfinite(scores)):
            raise RuntimeError(f"score_samples gave non-finite scores with {dtype} inference")
    return {
        "inference_dtype": dtype,
        "n_spectra": n_score,
        "seconds": seconds,
        "spectra_per_s": n_score / seconds,
    }


def environment(device):
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device_name": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "machine": platform.machine(),
    }
    git = ["git", "-C", str(ROOT), "rev-parse", "HEAD:skspectra"]
    tree = subprocess.run(git, capture_output=True, text=True)
    info["skspectra_tree"] = tree.stdout.strip() if tree.returncode == 0 else None
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--epochs", type=int, default=20, help="GPU training epochs")
    parser.add_argument(
        "--cpu-epochs", type=int, default=1, help="CPU reference epochs (compared per epoch)"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-score", type=int, default=1_000_000)
    parser.add_argument("--score-chunk", type=int, default=100_000)
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--skip-tests", action="store_true", help="do not run the CUDA tests")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="the same path on the CPU with tiny sizes (figures mean nothing)",
    )
    args = parser.parse_args(argv)
    device = args.device
    if args.dry_run:
        device = "cpu"
        args.epochs, args.cpu_epochs = 1, 1
        args.n_score, args.score_chunk = 1_000, 500
    elif not torch.cuda.is_available():
        parser.error("PyTorch sees no CUDA GPU here; run with --dry-run to test the script")

    report = {"dry_run": args.dry_run, "environment": environment(device)}
    if not args.skip_tests:
        report["cuda_tests"] = run_cuda_tests(collect_only=args.dry_run)
        print("CUDA tests:", report["cuda_tests"]["summary"], flush=True)

    flux, ivar, vflux, vivar = load_data(args.dry_run)
    report["data"] = {"n_train": len(flux), "n_valid": len(vflux), "n_pixels": flux.shape[1]}
    fit_data = (flux, ivar, (vflux, vivar))
    # SpectralCAE's defaults; a tiny network for the dry run
    params = {"n_components": 4, "n_filters": 4, "depth": 2} if args.dry_run else {}
    report["model"] = {"class": "SpectralCAE", "batch_size": args.batch_size, **params}
    common = {"batch_size": args.batch_size, "params": params}
    # not timed: CUDA context, kernel selection and first-call costs
    train(flux[:256], ivar[:256], (vflux, vivar), device=device, amp=False, epochs=1, **common)
    runs = {}
    _, runs["cpu_float32"] = train(
        *fit_data, device="cpu", amp=False, epochs=args.cpu_epochs, **common
    )
    model, runs["gpu_float32"] = train(
        *fit_data, device=device, amp=False, epochs=args.epochs, **common
    )
    _, runs["gpu_amp"] = train(*fit_data, device=device, amp=True, epochs=args.epochs, **common)
    for name, run in runs.items():
        print(f"{name}: {run['seconds']:.1f} s, valid χ²/pix {run['valid_chi2']:.3f}", flush=True)
    cpu_per_epoch = runs["cpu_float32"]["seconds_per_epoch"]
    report["training"] = runs
    report["speedup_vs_cpu"] = {
        name: cpu_per_epoch / runs[name]["seconds_per_epoch"] for name in ("gpu_float32", "gpu_amp")
    }
    report["amp_chi2_over_float32"] = (
        runs["gpu_amp"]["valid_chi2"] / runs["gpu_float32"]["valid_chi2"]
    )
    report["scoring"] = [
        score_speed(model, np.concatenate([flux, vflux]), args.n_score, args.score_chunk, dtype)
        for dtype in ("float32", "float64")
    ]
    for run in report["scoring"]:
        print(f"scoring ({run['inference_dtype']}): {run['spectra_per_s']:,.0f} spectra/s")
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    failed = report.get("cuda_tests", {}).get("returncode", 0) not in (0, 5)  # 5: none collected
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
