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
