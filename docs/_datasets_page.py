"""Write the part of the data page that shows every dataset's DESCR.

Each ``skspectra/datasets/descr/*.rst`` is included as it is, so a new description file
shows up without editing the docs. DESCR texts that live in code (MILES, the
image-spectrum pairs) are taken from the modules that return them.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESCR_DIR = ROOT / "skspectra" / "datasets" / "descr"


def _indent(text, prefix="   "):
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def descr_page_text():
    """reStructuredText that includes each dataset's DESCR, in file-name order."""
    from skspectra.datasets import _image_pairs, _miles

    parts = [".. This file is written by docs/_datasets_page.py at each build; do not edit.\n"]
    for path in sorted(DESCR_DIR.glob("*.rst")):
        rel = path.relative_to(ROOT).as_posix()
        # A leading "/" is the Sphinx source directory (docs/).
        parts.append(f".. include:: /../{rel}\n")
    parts.append(_miles._DESCR)
    template = _image_pairs._DESCR
    title, underline, body = template.split("\n", 2)
    parts.append(
        f"{title}\n{underline}\n\n"
        "``make_image_spectrum_pairs`` fills in this template with the settings of each call "
        "(the names in braces):\n\n::\n\n" + _indent(body) + "\n"
    )
    return "\n\n".join(parts)


def write_descr_page(path):
    """Write :func:`descr_page_text` to ``path`` (only when it changed, to keep builds fast)."""
    path = Path(path)
    text = descr_page_text()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
