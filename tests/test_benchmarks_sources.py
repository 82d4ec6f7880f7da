"""Which skspectra files a benchmark reaches, and ``report --check`` on results of older trees.

Fast: small files and a throwaway git repository; no benchmark is run.
"""

import json
import subprocess

import pytest

from benchmarks._report import check
from benchmarks._sources import benchmark_sources, module_closure

FILES = {
    "skspectra/__init__.py": 'from .a import A\nfrom .b import B\n__version__ = "1.0"\n',
    "skspectra/a.py": "from ._helper import scale\n\n\nclass A:\n    k = scale(2)\n",
    "skspectra/_helper.py": "def scale(x):\n    return 2 * x\n",
    "skspectra/b.py": '"""Not skspectra.cli."""\n\n\nclass B:\n    pass\n',
    "skspectra/cli.py": "from .b import B\n",
    "benchmarks/__init__.py": "",
    "benchmarks/bench_x.py": "from benchmarks._common import run\nfrom skspectra import A\n",
    "benchmarks/_common.py": "def run(cmd):\n    return cmd\n",
    "benchmarks/bench_version.py": "from skspectra import __version__\n",
    "benchmarks/bench_cli.py": 'CMD = ["python", "-m", "skspectra.cli"]\n',
}


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def project(tmp_path):
    _write(tmp_path, FILES)
    return tmp_path


def test_a_name_reaches_the_file_that_binds_it_not_the_package(project):
    # skspectra/__init__.py imports B too, but bench_x only asks for A
    assert benchmark_sources("x", project) == {
        "skspectra/__init__.py",
        "skspectra/a.py",
        "skspectra/_helper.py",
    }
    assert benchmark_sources("version", project) == {"skspectra/__init__.py"}


def test_a_module_named_in_a_string_is_reached_but_not_in_a_docstring(project):
    assert benchmark_sources("cli", project) == {
        "skspectra/__init__.py",
        "skspectra/cli.py",
        "skspectra/b.py",
    }
    assert "skspectra/cli.py" not in module_closure(["skspectra.b"], project)


def test_a_whole_module_import_reaches_everything_it_imports(project):
    assert module_closure(["skspectra"], project) == {
        "skspectra/__init__.py",
        "skspectra/a.py",
        "skspectra/_helper.py",
        "skspectra/b.py",
    }


def test_the_repository_benchmarks_reach_what_they_use():
    lines = benchmark_sources("lines")
    assert "skspectra/lines/_fitter.py" in lines and "skspectra/nn/lines.py" in lines
    assert "skspectra/spectra/vae.py" not in lines
    assert "skspectra/spectra/vae.py" in benchmark_sources("latent")
    assert "skspectra/cli.py" in benchmark_sources("main_job")  # run in a subprocess


def _git(root, *args):
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _commit(root):
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    return _git(root, "rev-parse", "HEAD:skspectra")


def test_check_keeps_results_whose_reachable_files_did_not_change(project):
    _git(project, "init", "-q")
    measured = _commit(project)
    results = project / "results"
    results.mkdir()
    body = {"name": "x", "mode": "full", "skspectra_tree": measured, "result": {}}
    (results / "x.json").write_text(json.dumps(body))
    assert check(project, results, tree=measured, dirty=False) == []

    (project / "skspectra" / "b.py").write_text("class B:\n    k = 3\n")
    tree = _commit(project)
    assert check(project, results, tree=tree, dirty=False) == []
    assert any("current tree" in p for p in check(project, results, tree, False, strict=True))

    (project / "skspectra" / "_helper.py").write_text("def scale(x):\n    return 3 * x\n")
    tree = _commit(project)
    problems = check(project, results, tree=tree, dirty=False)
    assert len(problems) == 1 and "skspectra/_helper.py changed" in problems[0], problems
    assert "rerun python -m benchmarks run x" in problems[0]


def _files_called(work):
    """Repository-relative paths of the skspectra files whose functions ``work()`` calls."""
    import sys
    from pathlib import Path

    import skspectra

    package = Path(skspectra.__file__).resolve().parent
    called = set()

    def profile(frame, event, arg):
        if event == "call":
            called.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    paths = {Path(name).resolve() for name in called if name.endswith(".py")}
    return {p.relative_to(package.parent).as_posix() for p in paths if package in p.parents}


@pytest.mark.parametrize(
    "module",
    ["skspectra.lines._fitter", "skspectra.spectra.vae", "skspectra.spectra.cae"],
)
def test_the_static_closure_holds_every_file_that_training_runs(module, toy_spectra):
    """What a tiny fit, predict and score call at run time is inside the module's closure."""
    from skspectra.datasets import make_gaussian_spectra
    from skspectra.lines import GaussianLineFitter
    from skspectra.spectra import SpectralCAE, SpectralVAE

    flux, ivar = toy_spectra
    tiny = dict(max_epochs=2, random_state=0, batch_size=32)
    X, y, _ = make_gaussian_spectra(64, 64, return_params=True, random_state=0)

    def work():
        if module.startswith("skspectra.lines"):
            fitter = GaussianLineFitter(n_filters=2, **tiny).fit(X, y)
            fitter.set_params(refine=True).predict(X[:4], return_std=True)
        elif module.endswith("vae"):
            vae = SpectralVAE(n_components=2, n_filters=2, **tiny).fit(flux, ivar=ivar)
            vae.score_samples(flux, ivar), vae.sample(4, random_state=0)
        else:
            cae = SpectralCAE(n_components=2, n_filters=2, **tiny).fit(flux, ivar=ivar)
            cae.score_samples(flux, ivar)

    called = _files_called(work)
    reached = module_closure([module])
    assert module.replace(".", "/") + ".py" in called
    assert called <= reached, sorted(called - reached)
