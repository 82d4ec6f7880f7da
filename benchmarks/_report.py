"""Write the benchmark tables into the docs between marker comments, or check them.

Markers (``NAME`` a benchmark, ``TABLE`` a key of its ``tables(result)``):

- Markdown (README.md, benchmarks/README.md): a line ``<!-- bench:NAME/TABLE -->``, the
  generated table and its italic caption, then ``<!-- /bench:NAME/TABLE -->``.
- reST (docs/**/*.rst): a line ``.. bench:NAME/TABLE``, a blank line, the generated
  ``.. list-table::`` (the caption is its title), then ``.. /bench:NAME/TABLE``.

Only files are read (and ``git`` asked for the ``skspectra/`` trees), so a check is fast.
"""

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

from benchmarks._common import RESULTS_DIR, ROOT, git_tree

__all__ = ["check", "doc_files", "render_block", "update"]

_MD = re.compile(
    r"^(?P<open><!-- bench:(?P<key>[\w-]+/[\w-]+) -->)\n(?P<body>.*?)"
    r"^(?P<close><!-- /bench:(?P=key) -->)$",
    re.S | re.M,
)
_RST = re.compile(
    r"^(?P<indent>[ \t]*)(?P<open>\.\. bench:(?P<key>[\w-]+/[\w-]+))\n(?P<body>.*?)"
    r"^(?P=indent)(?P<close>\.\. /bench:(?P=key))$",
    re.S | re.M,
)
_ANY_OPEN = re.compile(r"^\s*(?:<!-- |\.\. )bench:([\w-]+/[\w-]+)", re.M)


def doc_files(root=ROOT):
    """README.md, benchmarks/README.md and every docs/**/*.rst that exists under ``root``."""
    root = Path(root)
    files = [root / "README.md", root / "benchmarks" / "README.md"]
    files += sorted(p for p in (root / "docs").rglob("*.rst") if "_build" not in p.parts)
    return [f for f in files if f.is_file()]


def caption(results, table):
    """The table's caption plus the mode, seeds and date of the results file."""
    res = results["result"]
    seeds = res.get("seeds")
    seeds_text = f"seeds {', '.join(str(s) for s in seeds)}" if seeds else "no seeds"
    date = str(results.get("started", ""))[:10]
    return (
        f"{table.get('caption', '').rstrip('.')}. {results['mode'].capitalize()} run "
        f"(`{results['command']}`), {seeds_text}, {date}, "
        f"skspectra tree {str(results.get('skspectra_tree', ''))[:10]}."
    )


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rst_cell(text):
    """A table cell or title as reST: a back-quoted Markdown code span becomes a literal,
    and a word's trailing underscore (``std_scale_``) is escaped, not read as a reference."""
    parts = str(text).replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):  # outside the back-quotes
        parts[i] = re.sub(r"(?<=\w)_(?!\w)", r"\\_", parts[i])
    return "``".join(parts) or "\\"


def render_block(results, table, fmt):
    """The generated text between the markers, for ``fmt`` ``"md"`` or ``"rst"``."""
    header, rows = table["header"], table["rows"]
    title = caption(results, table)
    if fmt == "md":
        lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |"]
        lines.append("|---" + "|---:" * (len(header) - 1) + "|")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        escaped = title.replace("*", "\\*")
        return "\n".join(lines) + f"\n\n*{escaped}*\n"
    title = _rst_cell(title)
    lines = ["", f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        cells = [_rst_cell(c) for c in row]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    return "\n".join(lines) + "\n\n"


class _Tables:
    """Results files and their tables, loaded once per benchmark."""

    def __init__(self, results_dir):
        self.results_dir = Path(results_dir)
        self._cache = {}

    def get(self, key):
        """``(results, table)`` for ``"NAME/TABLE"``; raises LookupError with the reason."""
        name, table = key.split("/")
        if name not in self._cache:
            path = self.results_dir / f"{name}.json"
            if not path.is_file():
                raise LookupError(f"no results file {path} (run: python -m benchmarks run {name})")
            results = json.loads(path.read_text())
            from benchmarks import load

            self._cache[name] = (results, load(name).tables(results))
        results, tables = self._cache[name]
        if table not in tables:
            raise LookupError(
                f"benchmark {name!r} has no table {table!r} (it has: {', '.join(tables)})"
            )
        return results, tables[table]


def _rewrite(text, fmt, tables, problems, where):
    pattern = _MD if fmt == "md" else _RST
    seen = Counter()

    def replace(m):
        key = m.group("key")
        seen[key] += 1
        try:
            results, table = tables.get(key)
        except LookupError as err:
            problems.append(f"{where}: {key}: {err}")
            return m.group(0)
        body = render_block(results, table, fmt)
        if fmt == "rst":
            indent = m.group("indent")
            body = "".join(
                indent + line if line.strip() else line for line in body.splitlines(True)
            )
            return f"{indent}{m.group('open')}\n{body}{indent}{m.group('close')}"
        return f"{m.group('open')}\n{body}{m.group('close')}"

    new = pattern.sub(replace, text)
    for key, n_open in Counter(_ANY_OPEN.findall(text)).items():
        if n_open > seen[key]:
            problems.append(f"{where}: a marker bench:{key} has no matching closing marker")
    return new


def _walk(root, results_dir):
    """Yield ``(path, old_text, new_text, problems)`` for every doc file."""
    tables = _Tables(results_dir)
    for path in doc_files(root):
        problems = []
        old = path.read_text()
        fmt = "rst" if path.suffix == ".rst" else "md"
        new = _rewrite(old, fmt, tables, problems, path.relative_to(root))
        yield path, old, new, problems


def update(root=ROOT, results_dir=RESULTS_DIR):
    """Rewrite the generated blocks in place; return the list of problems (empty if none)."""
    all_problems = []
    for path, old, new, problems in _walk(Path(root), results_dir):
        all_problems += problems
        if new != old:
            path.write_text(new)
            print(f"benchmarks: updated {path.relative_to(root)}")
    return all_problems


def check(root=ROOT, results_dir=RESULTS_DIR, tree=None, dirty=None, strict=False):
    """Reasons the docs or results are out of date (an empty list when all is well).

    A results file measured on another ``skspectra/`` tree is out of date if any file that
    its benchmark can reach (:func:`benchmarks._sources.benchmark_sources`) differs between
    that tree and the current one, or if git cannot tell (the tree is unknown here).

    Parameters
    ----------
    root : path-like
        Repository root holding README.md, benchmarks/README.md and docs/.
    results_dir : path-like
        Folder of the ``NAME.json`` results files.
    tree, dirty : str and bool, default=None
        The current ``git rev-parse HEAD:skspectra`` and whether ``skspectra/`` has
        uncommitted changes; asked from git in ``root`` when None.
    strict : bool, default=False
        Require every results file to be measured on the current tree itself.
    """
    root, results_dir = Path(root), Path(results_dir)
    problems = []
    if tree is None or dirty is None:
        git_tree_now, git_dirty = git_tree(root)
        tree = git_tree_now if tree is None else tree
        dirty = git_dirty if dirty is None else dirty
    if dirty:
        problems.append(
            "skspectra/ has uncommitted changes: commit them, then rerun the benchmarks"
        )
    for path in sorted(results_dir.glob("*.json")):
        results = json.loads(path.read_text())
        measured = results.get("skspectra_tree")
        if measured != tree:
            changed = None if strict else _changed_sources(root, measured, tree, path.stem)
            if changed is None:
                problems.append(
                    f"{path.name}: measured skspectra tree {measured}, but the current tree "
                    f"is {tree}: rerun python -m benchmarks run {path.stem}"
                )
            elif changed:
                problems.append(
                    f"{path.name}: measured on skspectra tree {str(measured)[:10]}; since "
                    f"then {', '.join(changed)} changed, which it can reach: rerun python -m "
                    f"benchmarks run {path.stem}"
                )
        if results.get("skspectra_dirty"):
            problems.append(f"{path.name}: measured on an uncommitted skspectra/: rerun it")
        if results.get("mode") != "full":
            problems.append(f"{path.name}: a {results.get('mode')} run; publish full runs only")
    for path, old, new, file_problems in _walk(root, results_dir):
        problems += file_problems
        if new != old:
            problems.append(
                f"{path.relative_to(root)}: a generated table differs from the results "
                "(run: python -m benchmarks report)"
            )
    return problems


def _changed_sources(root, measured, tree, name):
    """Files that ``benchmarks/bench_<name>.py`` can reach and that differ between the
    skspectra trees ``measured`` and ``tree`` (sorted), or None if git cannot compare them."""
    from benchmarks._sources import benchmark_sources

    if not measured or not (root / "benchmarks" / f"bench_{name}.py").is_file():
        return None
    proc = subprocess.run(
        ["git", "diff", "--name-only", str(measured), str(tree)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return None
    changed = {f"skspectra/{line}" for line in proc.stdout.split()}
    return sorted(changed & benchmark_sources(name, root))
