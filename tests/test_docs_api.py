"""The API reference (docs/api.rst) lists every public name of skspectra, and the docs' own
checks work: these tests read the .rst sources, they do not build the site."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API_RST = ROOT / "docs" / "api.rst"

#: Modules whose ``__all__`` is public API: the package, its subpackages and its public
#: top-level modules (the command line is documented by ``skspectra --help``).
PUBLIC_MODULES = [
    "skspectra",
    "skspectra.datasets",
    "skspectra.images",
    "skspectra.io",
    "skspectra.lines",
    "skspectra.nn",
    "skspectra.plotting",
    "skspectra.preprocessing",
    "skspectra.spectra",
    "skspectra.base",
    "skspectra.utils",
    "skspectra.anomaly_report",
    "skspectra.image_report",
    "skspectra.scoring",
    "skspectra.parallel",
    "skspectra.pipeline",
    "skspectra.training",
]


def documented_names(text):
    """Fully qualified names in ``autosummary`` lists and ``data::`` directives of api.rst."""
    names, module, in_autosummary = set(), None, False
    for line in text.splitlines():
        if m := re.match(r"\.\. (?:current)?module:: (\S+)", line):
            module, in_autosummary = m.group(1), False
        elif line.startswith(".. autosummary::"):
            in_autosummary = True
        elif m := re.match(r"\.\. data:: (\S+)", line):
            names.add(f"{module}.{m.group(1)}")
            in_autosummary = False
        elif in_autosummary and (m := re.match(r"^   ([A-Za-z_][\w.]*)\s*$", line)):
            names.add(f"{module}.{m.group(1)}")
        elif line and not line.startswith(" "):
            in_autosummary = False
    return names


def resolve(qualified):
    """The object a fully qualified documented name points to."""
    parts = qualified.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(qualified)


@pytest.fixture(scope="module")
def documented():
    names = documented_names(API_RST.read_text(encoding="utf-8"))
    return {name: resolve(name) for name in names}


def test_api_parser_reads_entries():
    text = (
        ".. currentmodule:: skspectra.lines\n\n.. autosummary::\n   :toctree: generated/\n\n"
        "   gaussian_sum\n   as_components\n\nProse\n\n   not_a_name\n\n"
        ".. data:: LINE_WINDOWS\n"
    )
    assert documented_names(text) == {
        "skspectra.lines.gaussian_sum",
        "skspectra.lines.as_components",
        "skspectra.lines.LINE_WINDOWS",
    }


def test_every_documented_name_exists(documented):
    # The fixture resolves every entry, so a stale one fails here with its name.
    assert len(documented) > 50


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_api_reference(module_name, documented):
    module = importlib.import_module(module_name)
    documented_ids = {id(obj) for obj in documented.values()}
    missing = [
        name
        for name in module.__all__
        if not name.startswith("__")
        and f"{module_name}.{name}" not in documented
        and id(getattr(module, name)) not in documented_ids
    ]
    assert not missing, (
        f"{module_name}.__all__ names missing from docs/api.rst: {missing}. Add each to an "
        "autosummary list there (or a '.. data::' entry for a constant)."
    )


def test_each_object_is_documented_once(documented):
    # Two autosummary entries for one object make Sphinx warn about duplicate descriptions.
    by_id = {}
    for name, obj in documented.items():
        if callable(obj):
            by_id.setdefault(id(obj), []).append(name)
    duplicates = [names for names in by_id.values() if len(names) > 1]
    assert not duplicates, f"listed more than once in docs/api.rst: {duplicates}"


def test_user_guide_has_a_page_per_model():
    guide = ROOT / "docs" / "user_guide"
    pages = {
        "spectral_cae": ["SpectralCAE"],
        "spectral_vae": ["SpectralVAE"],
        "gaussian_line_fitter": ["GaussianLineFitter"],
        "image_autoencoder": ["ImageAutoencoder"],
        "image_to_spectrum": ["ImageToSpectrum", "ImageRegressor"],
    }
    index = (guide / "index.rst").read_text(encoding="utf-8")
    for page, classes in pages.items():
        text = (guide / f"{page}.rst").read_text(encoding="utf-8")
        assert all(cls in text for cls in classes) and f"   {page}\n" in index


def test_data_page_includes_every_descr():
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from _datasets_page import descr_page_text
    finally:
        sys.path.remove(str(ROOT / "docs"))
    text = descr_page_text()
    for path in (ROOT / "skspectra" / "datasets" / "descr").glob("*.rst"):
        assert f"skspectra/datasets/descr/{path.name}" in text
    assert "MILES stellar library" in text
