"""Sphinx configuration for the skspectra documentation.

Build with ``pip install sphinx numpydoc sphinx-gallery`` and ``make -C docs html``
(or ``sphinx-build docs docs/_build/html``).
"""

project = "skspectra"
author = "skspectra developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "astropy": ("https://docs.astropy.org/en/stable", None),
}
exclude_patterns = ["_build"]
html_theme = "alabaster"
