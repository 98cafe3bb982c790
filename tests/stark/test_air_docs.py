"""The ten-line example in docs/stark.md runs and proves what it says."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "stark.md"


def test_docs_example_proves_and_verifies(capsys):
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    scope = {}
    exec(compile(block, str(DOC), "exec"), scope)
    assert scope["report"].log_heights == [4]
    assert scope["xs"][-1] == pow(3, 2 ** 15, 2013265921)  # x_15 = 3^(2^15), computed independently
    assert "bits conjectured" in capsys.readouterr().out
