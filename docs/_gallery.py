"""sphinx-gallery hooks, referred to by name from conf.py (so the configuration pickles)."""

from sphinx_gallery.scrapers import matplotlib_scraper

#: Extra command-line arguments per example for the docs build, to keep the gallery fast
#: without changing an example's defaults, e.g. ``{"plot_foo.py": ["--epochs", "10"]}``.
EXAMPLE_ARGS = {"plot_vae_labels.py": ["--n-train", "600", "--epochs", "10"]}


def single_image_scraper(block, block_vars, gallery_conf, **kwargs):
    """matplotlib's scraper, with each figure at full width rather than as thumbnails.

    An example can still ask for thumbnails with ``# sphinx_gallery_multi_image = "multi"``.
    """
    if block_vars.get("multi_image") is None and block_vars["file_conf"].get("multi_image") is None:
        block_vars["multi_image"] = "single"
    return matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)


def example_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` for an example: its entry in :data:`EXAMPLE_ARGS`, if any."""
    from pathlib import Path

    return list(EXAMPLE_ARGS.get(Path(script_vars["src_file"]).name, []))
