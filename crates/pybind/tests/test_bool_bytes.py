"""numpy bool arrays may hold bytes other than 0 and 1 (``uint8`` data viewed as bool, or
memory written by C code). numpy treats every nonzero byte as True; so must the kernels,
which read bool as bytes (a Rust ``bool`` must be 0 or 1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import FUNCS, axis_choices, check_against_numpy, explain_path

BYTES = np.array([0, 2, 255, 1, 3, 128, 0, 7], np.uint8)


def _odd_bools(shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.choice(BYTES, size=shape).astype(np.uint8)
    return raw.view(np.bool_)


@pytest.mark.parametrize("func", FUNCS)
def test_issue_example(func: str) -> None:
    a = np.array([0, 2, 255, 1, 3] * 1000, np.uint8).view(np.bool_)
    assert explain_path(func, a, {}) == ("numpy" if func == "ptp" else "kernel")
    check_against_numpy(func, a)
    if func == "sum":
        assert sw.sum(a) == 4000
    if func == "mean":
        assert sw.mean(a) == 0.8


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("shape", [(1,), (37,), (5000,), (9, 70), (3, 4, 33)])
def test_every_axis(func: str, shape: tuple[int, ...]) -> None:
    a = _odd_bools(shape, seed=len(shape) * 100 + shape[-1])
    for axis in axis_choices(a.ndim):
        check_against_numpy(func, a, axis=axis)
    # A strided, transposed view of the same bytes.
    v = a.T[::2] if a.ndim > 1 else a[::-3]
    for axis in axis_choices(v.ndim):
        check_against_numpy(func, v, axis=axis)


@pytest.mark.parametrize("func", ("min", "max", "nanmin", "nanmax"))
@pytest.mark.parametrize("fill", [2, 255])
def test_extremes_are_true_or_false(func: str, fill: int) -> None:
    # All bytes nonzero but none equal to 1: min must be True, and stored as numpy stores it.
    a = np.full(1000, fill, np.uint8).view(np.bool_)
    got: Any = getattr(sw, func)(a)
    want: Any = getattr(np, func)(a)
    assert got == want
    assert np.asarray(got).view(np.uint8) == np.asarray(want).view(np.uint8)
