"""Local links and file names in README.md and docs/ point at files that exist.

Sphinx's ``linkcheck`` needs the internet, which the docs build does not have; this test
checks what it can offline: Markdown links, reStructuredText links with a relative target,
and file paths of this repository named in code spans (``examples/plot_x.py``).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    p
    for p in (ROOT / "docs").rglob("*.rst")
    if not {"_build", "auto_examples", "generated"} & set(p.parts)
)
FILES = [ROOT / "README.md", *DOCS]

_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_RST_LINK = re.compile(r"`[^`<]*<([^>`]+)>`__?")
_CODE_PATH = re.compile(
    r"``?((?:examples|benchmarks|docs|tests|skspectra|scripts)/[\w./-]+\.(?:py|rst|md|json|toml|txt))``?"
)


def _is_local(target):
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")


def local_links(path):
    """(target, resolved path) of each local link and repository path named in ``path``."""
    text = path.read_text(encoding="utf-8")
    found = []
    pattern = _MARKDOWN_LINK if path.suffix == ".md" else _RST_LINK
    for target in pattern.findall(text):
        target = target.split("#", 1)[0]
        if target and _is_local(target):
            found.append((target, path.parent / target))
    for target in _CODE_PATH.findall(text):
        found.append((target, ROOT / target))
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_local_links_resolve(path):
    missing = [target for target, resolved in local_links(path) if not resolved.exists()]
    assert not missing, f"{path.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_the_checker_finds_broken_links(tmp_path):
    """The check itself can fail: a page with a broken link of each kind."""
    page = tmp_path / "page.rst"
    page.write_text(
        "See `the guide <missing/guide.rst>`_, ``examples/no_such_example.py`` and "
        "`PyPI <https://pypi.org>`_.\n"
    )
    targets = [t for t, resolved in local_links(page) if not resolved.exists()]
    assert targets == ["missing/guide.rst", "examples/no_such_example.py"]
    readme = tmp_path / "README.md"
    readme.write_text("[tuning](docs/tuning.rst) and [web](https://example.org)\n")
    assert [t for t, r in local_links(readme) if not r.exists()] == ["docs/tuning.rst"]
