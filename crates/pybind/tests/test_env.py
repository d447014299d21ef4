"""STRIDEWISE_NUM_THREADS and STRIDEWISE_SIMD, read when the package starts."""

import os
import subprocess
import sys

import pytest
import stridewise as sw


def _run(code: str, **env: str) -> str:
    full = {**os.environ, **env}
    out = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.mark.parametrize("n", ["1", "3"])
def test_num_threads_from_environment(n: str) -> None:
    code = "import stridewise as sw; print(sw.get_num_threads())"
    assert _run(code, STRIDEWISE_NUM_THREADS=n) == n


@pytest.mark.parametrize("level", sw.available_simd_levels())
def test_simd_level_from_environment(level: str) -> None:
    code = (
        "import numpy as np, stridewise as sw; a = np.arange(1000.0);"
        "print(sw.simd_level(), sw.explain(sw.sum, a)['simd'], repr(sw.sum(a)))"
    )
    out = _run(code, STRIDEWISE_SIMD=level).split(" ", 2)
    assert out[:2] == [level, level]
    assert out[2] == "np.float64(499500.0)"
