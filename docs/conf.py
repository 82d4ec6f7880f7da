"""Sphinx configuration for the skspectra documentation.

Build with ``make docs`` (into ``docs/_build/html``), or by hand::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The gallery runs every ``examples/plot_*.py``; other ``examples/*.py`` files are shown but
not run. Nothing here reaches the network: there is no intersphinx.
"""

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the skspectra of this checkout, whatever else is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))
# Examples call torch.set_num_threads(1); BLAS and OpenMP follow suit.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from _datasets_page import write_descr_page  # noqa: E402
from _nitpick import NITPICK_IGNORE_REGEX, resolve_reexport  # noqa: E402

import skspectra  # noqa: E402

project = "skspectra"
author = "skspectra developers"
copyright = "2026, skspectra developers"
version = release = skspectra.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Every cross-reference must resolve (with -W, a broken one fails the build). References to
# other projects cannot (no intersphinx: the build is offline) and are listed in _nitpick.py.
nitpicky = True
nitpick_ignore_regex = NITPICK_IGNORE_REGEX

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "literal"

# -- autodoc / autosummary / numpydoc ---------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# "array-like of shape (n, m)" and the like are prose, not cross-references.
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Every plot_*.py runs; any other example is rendered without running.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|/_[^/]*)\.py$",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skspectra",),
    "backreferences_dir": "_generated/backreferences",
    # Figures one per row at full width (see _gallery.py); reset_argv passes per-example
    # options for the docs build.
    "image_scrapers": ("_gallery.single_image_scraper",),
    "reset_argv": "_gallery.example_argv",
    "remove_config_comments": True,
    "show_memory": False,
    # Two examples at a time (joblib processes; `make docs` gives each one torch thread).
    "parallel": 2,
    "download_all_examples": False,
    "plot_gallery": "True",
    # The examples write their files under examples/skspectra_runs (git-ignored).
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skspectra {release}"
html_static_path = ["_static"]
html_css_files = ["skspectra.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # Gallery pages give their width to the figures (their download links are at the end).
    "secondary_sidebar_items": {
        page: ["page-toc"] for page in ("index", "data", "api", "user_guide/*", "generated/*")
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "data": []}
html_show_sourcelink = False
html_copy_source = False


def _skip_sklearn_generated(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods that scikit-learn generates on every estimator.

    Their docstrings belong to scikit-learn (and point into its glossary); the user guide's
    "ivar in a Pipeline" section says how metadata routing applies here.
    """
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    """Write the data page's DESCR include before Sphinx reads the sources."""
    write_descr_page(DOCS / "_generated" / "datasets_descr.inc")
    app.connect("autodoc-skip-member", _skip_sklearn_generated)
    app.connect("missing-reference", resolve_reexport)
