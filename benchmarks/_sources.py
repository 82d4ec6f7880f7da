"""The ``skspectra`` source files that a benchmark's code can reach, found statically.

``report --check`` uses them to decide whether a results file measured on an older
``skspectra/`` tree still holds: it does when no file in this set changed since (see
:func:`benchmarks._report.check`). So a change to the VAE reruns the VAE's benchmarks, not
the line fitter's.

The set is an import closure over the source, resolved by name:

- ``import a.b`` and ``from a.b import *`` reach all of ``a.b``: its file, and everything its
  own import statements (at any depth of the file, functions included) reach;
- ``from a import name`` reaches the submodule ``a.name`` if there is one; else the module
  that defines ``name``, following re-exports (``from .cae import SpectralCAE`` in a package's
  ``__init__.py``) to the file that binds it; every file passed through is kept, but not what
  its *other* imports reach: ``from skspectra import GaussianLineFitter`` does not reach the
  VAE, although ``skspectra/__init__.py`` imports it;
- the ``__init__.py`` of every enclosing package is kept too (it runs on import);
- a string constant naming a module, such as ``"skspectra.cli"`` in
  ``[sys.executable, "-m", "skspectra.cli", ...]``, counts as an import of it (docstrings
  excepted), so benchmarks that run the CLI in a subprocess reach the CLI.

Assumed, and true of ``skspectra`` today: no module changes another's behaviour by import
side effects alone, and modules imported by a computed name are reached anyway
(``skspectra.io.load_model`` imports the class of a model that the benchmark built and saved
itself; the anomaly report's ``_public_name`` only looks names up).
"""

import ast
import re
from pathlib import Path

from benchmarks._common import ROOT

__all__ = ["benchmark_sources", "module_closure"]

PACKAGES = ("skspectra", "benchmarks")
_MODULE_NAME = re.compile(r"(?<![\w.])skspectra(?:\.\w+)+")


class _Index:
    """Modules of ``packages`` under ``root``: dotted name -> file, and their parsed imports."""

    def __init__(self, root, packages=PACKAGES):
        self.root = Path(root)
        self.files = {}
        for package in packages:
            for path in sorted((self.root / package).rglob("*.py")):
                parts = path.relative_to(self.root).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                self.files[".".join(parts)] = path
        self._trees = {}

    def tree(self, module):
        if module not in self._trees:
            path = self.files[module]
            self._trees[module] = ast.parse(path.read_text(), filename=str(path))
        return self._trees[module]

    def _package(self, module):
        is_package = self.files[module].name == "__init__.py"
        return module if is_package else module.rpartition(".")[0]

    def _absolute(self, module, node):
        if node.level == 0:
            return node.module
        package = self._package(module)
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{node.module}" if node.module else package

    def imports(self, module):
        """``(target, names)`` of every import in ``module`` (``names`` None: the whole
        module), and modules named in its string constants (docstrings excepted)."""
        tree = self.tree(module)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        out = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out += [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                out.append((self._absolute(module, node), [a.name for a in node.names]))
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                out += [(name, None) for name in _MODULE_NAME.findall(node.value)]
        return out

    def binding(self, module, name):
        """Where ``module`` gets ``name`` at top level: ``(source module, source name)`` for a
        top-level import of it, None when the module binds it itself (or not at all)."""
        for node in self.tree(module).body:
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == name and alias.name != "*":
                        return self._absolute(module, node), alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname == name:
                        return alias.name, None
        return None

    def literal(self, module, name):
        """Whether ``module`` binds ``name`` at top level to a literal (``__version__ = "1.0"``),
        which needs nothing else from the module."""
        found = False
        for node in self.tree(module).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    return False
                found = True
            elif _binds(node, name):
                return False
        return found


def _binds(node, name):
    """Whether a top-level statement other than an assignment binds ``name``."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any((a.asname or a.name.split(".")[0]) == name for a in node.names)
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return False
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _known(index, name):
    """The longest prefix of a dotted ``name`` that is a module of the index, or None."""
    while name and name not in index.files:
        name = name.rpartition(".")[0]
    return name or None


def _closure(index, entries):
    files, seen = set(), set()
    queue = list(entries)
    while queue:
        target, names = queue.pop()
        module = _known(index, target)
        if module is None:
            continue  # not ours: numpy, torch, ...
        if module != target or (names is not None and "*" in names):
            names = None  # "skspectra.a.B" in a string (B is not a module), or a star import
        key = (module, None if names is None else tuple(names))
        if key in seen:
            continue
        seen.add(key)
        parts = module.split(".")
        files.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        if names is None:
            queue += index.imports(module)
            continue
        for name in names:
            if f"{module}.{name}" in index.files:
                queue.append((f"{module}.{name}", None))
                continue
            source = index.binding(module, name)
            if source is None and index.literal(module, name):
                continue  # a literal: this file (kept above) and nothing else
            if source is None:  # bound here: all of this module
                queue.append((module, None))
            else:
                queue.append((source[0], None if source[1] is None else [source[1]]))
    return files & index.files.keys()


def module_closure(modules, root=ROOT):
    """Repository-relative paths of the ``skspectra`` files that ``modules`` reach.

    Parameters
    ----------
    modules : iterable of str
        Dotted module names, e.g. ``["benchmarks.bench_lines"]``.
    root : path-like, default=the repository root
        Holds ``skspectra/`` and ``benchmarks/``.

    Returns
    -------
    set of str
        Paths such as ``"skspectra/lines/_fitter.py"``.
    """
    index = _Index(root)
    reached = _closure(index, [(m, None) for m in modules])
    return {
        index.files[m].relative_to(index.root).as_posix()
        for m in reached
        if m.split(".")[0] == "skspectra"
    }


def benchmark_sources(name, root=ROOT):
    """The ``skspectra`` files that ``benchmarks/bench_<name>.py`` can reach."""
    return module_closure([f"benchmarks.bench_{name}"], root)
