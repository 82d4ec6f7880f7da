"""Helpers shared by the dataset loaders: where packaged files live and how to read them."""

from importlib import resources

_PACKAGE = "skspectra.datasets"


def _data_resource(file_name):
    """Return a readable handle (``Traversable``) on ``skspectra/datasets/data/<file_name>``."""
    return resources.files(_PACKAGE).joinpath("data", file_name)


def _load_descr(descr_file_name):
    """Return the text of ``skspectra/datasets/descr/<descr_file_name>``."""
    return resources.files(_PACKAGE).joinpath("descr", descr_file_name).read_text(encoding="utf-8")
