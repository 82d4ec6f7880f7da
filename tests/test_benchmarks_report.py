"""``python -m benchmarks report [--check]``: tables generated from results files, and checked.

Fast: these tests read and write small JSON and text files only (no benchmark is run).
"""

import json
from types import SimpleNamespace

import pytest

from benchmarks import bench_main_job, check_interface
from benchmarks._report import check, render_block, update

TREE = "0123456789abcdef0123456789abcdef01234567"


def _results(tree=TREE, mode="full", wall=31.25, dirty=False):
    """A results file of the main_job benchmark, as the runner writes it."""
    return {
        "name": "main_job",
        "mode": mode,
        "command": "python -m benchmarks run main_job",
        "started": "2026-12-04T17:00:00+00:00",
        "wall_s": 100.0,
        "threads": 2,
        "machine": {},
        "versions": {},
        "skspectra_tree": tree,
        "skspectra_dirty": dirty,
        "result": {
            "seeds": [0, 1, 2],
            "summary": {
                "wall_s": {"mean": wall, "sd": 0.5, "n": 3},
                "top30_overlap": {"mean": 0.9, "sd": 0.05, "n": 3},
                "top30_overlap_0_1": 0.9,
            },
        },
    }


@pytest.fixture
def repo(tmp_path):
    """A repository-like folder: README.md, benchmarks/README.md, docs/guide.rst, results/."""
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "# Title\n\nProse.\n\n<!-- bench:main_job/summary -->\nstale\n"
        "<!-- /bench:main_job/summary -->\n\nMore prose.\n"
    )
    (tmp_path / "benchmarks" / "README.md").write_text("No tables here.\n")
    (tmp_path / "docs" / "guide.rst").write_text(
        "Guide\n=====\n\n.. bench:main_job/summary\n\nstale\n\n.. /bench:main_job/summary\n\nEnd.\n"
    )
    results = tmp_path / "results"
    results.mkdir()
    (results / "main_job.json").write_text(json.dumps(_results()))
    assert update(tmp_path, results) == []
    return tmp_path, results


def test_update_writes_tables_from_results(repo):
    root, results = repo
    readme = (root / "README.md").read_text()
    assert "stale" not in readme
    assert "| wall time of `skspectra anomalies` (s) | 31.2 ± 0.5 |" in readme
    assert readme.startswith("# Title\n\nProse.\n") and readme.endswith("\nMore prose.\n")
    rst = (root / "docs" / "guide.rst").read_text()
    assert ".. list-table:: " in rst and "     - 31.2 ± 0.5" in rst
    assert "stale" not in rst and rst.endswith(".. /bench:main_job/summary\n\nEnd.\n")
    # the caption states the mode, the seeds and the date of the results file
    assert "Full run" in readme and "seeds 0, 1, 2" in readme and "2026-12-04" in readme


def test_check_passes_when_up_to_date(repo):
    root, results = repo
    assert check(root, results, tree=TREE, dirty=False) == []
    # and update is idempotent
    before = (root / "README.md").read_text()
    assert update(root, results) == []
    assert (root / "README.md").read_text() == before


@pytest.mark.parametrize("doc", ["README.md", "docs/guide.rst"])
def test_check_catches_a_changed_figure(repo, doc):
    root, results = repo
    path = root / doc
    path.write_text(path.read_text().replace("31.2 ± 0.5", "25.0 ± 0.5"))
    problems = check(root, results, tree=TREE, dirty=False)
    assert any(doc in p and "differs" in p for p in problems), problems


def test_check_catches_new_results(repo):
    root, results = repo
    (results / "main_job.json").write_text(json.dumps(_results(wall=40.0)))
    problems = check(root, results, tree=TREE, dirty=False)
    assert len(problems) == 2 and all("differs" in p for p in problems), problems


def test_check_catches_a_wrong_tree_hash(repo):
    root, results = repo
    problems = check(root, results, tree="f" * 40, dirty=False)
    assert any("main_job.json" in p and "current tree" in p for p in problems), problems


def test_check_catches_dirty_measurements_and_checkouts(repo):
    root, results = repo
    assert any("uncommitted" in p for p in check(root, results, tree=TREE, dirty=True))
    (results / "main_job.json").write_text(json.dumps(_results(dirty=True)))
    assert any("uncommitted" in p for p in check(root, results, tree=TREE, dirty=False))


def test_check_rejects_quick_results(repo):
    root, results = repo
    (results / "main_job.json").write_text(json.dumps(_results(mode="quick")))
    update(root, results)
    assert any("quick run" in p for p in check(root, results, tree=TREE, dirty=False))


def test_check_catches_a_missing_results_file(repo):
    root, results = repo
    (results / "main_job.json").unlink()
    problems = check(root, results, tree=TREE, dirty=False)
    assert any("no results file" in p and "main_job" in p for p in problems), problems


def test_check_catches_a_missing_table_and_an_unclosed_marker(repo):
    root, results = repo
    readme = root / "README.md"
    readme.write_text(
        readme.read_text()
        + "\n<!-- bench:main_job/nope -->\nx\n<!-- /bench:main_job/nope -->\n"
        + "\n<!-- bench:main_job/summary -->\nno end\n"
    )
    problems = check(root, results, tree=TREE, dirty=False)
    assert any("no table 'nope'" in p for p in problems), problems
    assert any("no matching closing marker" in p for p in problems), problems


def test_render_block_escapes_pipes_in_markdown():
    table = {"header": ["a|b", "c"], "rows": [["x|y", "1"]], "caption": "cap"}
    text = render_block(_results(), table, "md")
    assert "| a\\|b | c |" in text and "| x\\|y | 1 |" in text


def test_render_block_keeps_rst_cells_literal():
    """A fitted attribute's trailing underscore is not a hyperlink reference in reST (Sphinx
    -W fails on ``std_scale_`` as an unknown target), and a Markdown code span is a literal."""
    table = {"header": ["std_scale_", "`a_`"], "rows": [["", "x_1"]], "caption": "cap"}
    text = render_block(_results(), table, "rst")
    assert "   * - std_scale\\_\n     - ``a_``\n" in text
    assert "   * - \\\n     - x_1\n" in text


def test_repository_tables_match_committed_results():
    """The published tables are those of the committed results, none out of date: a change to
    a file under skspectra/ fails here until the benchmarks that reach it have been rerun."""
    from benchmarks.__main__ import main

    assert main(["report", "--check"]) == 0


def test_bench_main_job_tables_shape():
    tables = bench_main_job.tables(_results())
    assert set(tables) == {"summary"}
    assert all(len(row) == 2 for row in tables["summary"]["rows"])


def _bench(**changes):
    attrs = dict(NAME="x", THREADS=2, DEV_SEEDS=[9], REPORT_SEEDS=[0, 1, 2], run=None, tables=None)
    return SimpleNamespace(**{**attrs, **changes})


def test_check_interface_accepts_a_benchmark():
    check_interface(_bench())
    check_interface(bench_main_job)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"REPORT_SEEDS": [0, 1]}, "at least 3"),
        ({"DEV_SEEDS": [2, 9]}, "both DEV_SEEDS and REPORT_SEEDS"),
        ({"THREADS": 4}, "THREADS must be 1 or 2"),
    ],
)
def test_check_interface_rejects_untrustworthy_seeds_and_threads(changes, message):
    with pytest.raises(ValueError, match=message):
        check_interface(_bench(**changes))
