"""The code examples of the user guide (docs/user_guide/*.rst) run as written.

Each ``.. code-block:: python`` is executed in a fresh namespace; the examples use tiny
settings (a few epochs), about 25 s for all of them on one thread.
"""

import re
from pathlib import Path

import pytest

# slow: runs every user-guide example (minutes)
pytestmark = pytest.mark.slow

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "user_guide"
BLOCK = re.compile(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)")


def code_blocks():
    blocks = []
    for page in sorted(GUIDE.glob("*.rst")):
        for i, match in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8"))):
            code = "\n".join(line[3:] for line in match.group(1).splitlines())
            blocks.append(pytest.param(code, id=f"{page.stem}-{i}"))
    return blocks


def test_every_model_page_has_an_example():
    pages = {param.id.rsplit("-", 1)[0] for param in code_blocks()}
    expected = {
        "spectral_cae",
        "spectral_vae",
        "gaussian_line_fitter",
        "image_autoencoder",
        "image_to_spectrum",
    }
    assert expected <= pages


@pytest.mark.parametrize("code", code_blocks())
def test_user_guide_example_runs(code):
    exec(compile(code, "<user guide>", "exec"), {"__name__": "user_guide_example"})
