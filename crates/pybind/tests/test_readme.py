"""The README's Python example runs, and says what it shows."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_python_block_runs() -> None:
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python block"
    env: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), env)
    b = env["b"]
    assert isinstance(b, np.ndarray)
    assert b.strides == (2624, 4)
    explained = env["sw"].explain(env["sw"].mean, env["a"].astype(">f8"))  # type: ignore[attr-defined]
    assert explained["path"] == "kernel+copy"
    assert explained["reason"].startswith("byte-swapped")
