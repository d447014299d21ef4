"""Property tests (hypothesis): random shapes, slicings, transposes, layouts, axes, dtypes
and arguments, each compared with numpy by conftest.check_against_numpy.

Derandomized (a fixed sequence of examples) and without an example database, so every run
tests the same cases and writes nothing to the work tree."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import stridewise as sw
from conftest import (
    ALL_KERNEL_DTYPES,
    ARG_FUNCS,
    FUNCS,
    MEAN_FUNCS,
    OUT_FUNCS,
    SUM_FUNCS,
    VAR_FUNCS,
    check_against_numpy,
    make_data,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

LAYOUT_TRANSFORMS = ["none", "fortran", "byteswap", "misaligned", "readonly", "aligned"]


ANY_KERNEL_DTYPE = st.sampled_from(ALL_KERNEL_DTYPES)


@st.composite
def strided_arrays(draw: st.DrawFn, dtypes: Any = ANY_KERNEL_DTYPE) -> Any:
    """A random view: base of rank 0-4 and dims 0-6, sliced per axis (random start, stop
    and step, negative steps included), optionally transposed, in a random layout."""
    dtype = np.dtype(draw(dtypes))
    rank = draw(st.integers(0, 4))
    base_shape = tuple(draw(st.lists(st.integers(0, 6), min_size=rank, max_size=rank)))
    seed = draw(st.integers(0, 2**32 - 1))
    nan = draw(st.sampled_from([0.0, 0.0, 0.25, 1.0])) if dtype.kind == "f" else 0.0
    transform = draw(st.sampled_from(LAYOUT_TRANSFORMS))
    base = make_data(dtype, base_shape, seed=seed, nan=nan)
    if transform == "fortran":
        base = np.asfortranarray(base)
    elif transform == "aligned":
        base = sw.aligned(base, align=draw(st.sampled_from([64, 128, 256])))
    index = []
    for n in base_shape:
        step = draw(st.sampled_from([1, 1, 2, 3, -1, -2, -3]))
        start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
        stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
        index.append(slice(start, stop, step))
    view = base[tuple(index)] if index else base[...]  # base[()] of 0-d is a scalar
    assert isinstance(view, np.ndarray)
    if rank >= 2 and draw(st.booleans()):
        view = view.transpose(draw(st.permutations(range(rank))))
    if transform == "byteswap":
        view = view.astype(view.dtype.newbyteorder("S"))
    elif transform == "misaligned":
        buf = np.zeros(view.nbytes + 1, np.uint8)
        m = np.ndarray(view.shape, view.dtype, buffer=buf.data, offset=1)
        m[...] = view
        view = m
    elif transform == "readonly":
        view = view.view()
        view.flags.writeable = False
    return view


@st.composite
def axes_for(draw: st.DrawFn, ndim: int) -> Any:
    """None, an int (maybe negative), or a tuple of distinct axes in random order/forms."""
    if ndim == 0:
        return draw(st.sampled_from([None, None, ()]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(d - ndim if draw(st.booleans()) else d for d in chosen)


@settings(max_examples=600, **SETTINGS)
@given(data=st.data(), func=st.sampled_from(FUNCS), keepdims=st.booleans())
def test_random_views(data: st.DataObject, func: str, keepdims: bool) -> None:
    a = data.draw(strided_arrays(), label="a")
    axis = data.draw(axes_for(a.ndim), label="axis")
    check_against_numpy(func, a, axis=axis, keepdims=keepdims)


@settings(max_examples=200, **SETTINGS)
@given(
    data=st.data(),
    func=st.sampled_from(VAR_FUNCS),
    ddof=st.sampled_from([0, 1, 2, 0.5, 3]),
)
def test_random_ddof(data: st.DataObject, func: str, ddof: Any) -> None:
    a = data.draw(strided_arrays(), label="a")
    axis = data.draw(axes_for(a.ndim), label="axis")
    check_against_numpy(func, a, axis=axis, ddof=ddof)


@settings(max_examples=200, **SETTINGS)
@given(
    data=st.data(),
    func=st.sampled_from(SUM_FUNCS + MEAN_FUNCS + VAR_FUNCS),
    dtype=st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.uint8, np.float16]),
)
def test_random_dtype_kw(data: st.DataObject, func: str, dtype: Any) -> None:
    a = data.draw(strided_arrays(), label="a")
    if a.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
        return  # float -> int casts of NaN are undefined behaviour in numpy itself
    if func not in SUM_FUNCS and np.dtype(dtype).kind in "iu":
        return  # an integer mean/var dtype is numpy-only territory, tested elsewhere
    axis = data.draw(axes_for(a.ndim), label="axis")
    check_against_numpy(func, a, axis=axis, dtype=dtype)


@settings(max_examples=150, **SETTINGS)
@given(data=st.data(), func=st.sampled_from(OUT_FUNCS))
def test_random_out(data: st.DataObject, func: str) -> None:
    """out= of the exact result shape and dtype, written in place and returned."""
    a = data.draw(strided_arrays(st.sampled_from([np.float64, np.int16, np.float32])), label="a")
    axis = data.draw(axes_for(a.ndim), label="axis")
    if func in ARG_FUNCS and isinstance(axis, tuple):
        return  # one axis only: numpy's TypeError, compared in test_errors_warnings
    keepdims = data.draw(st.booleans(), label="keepdims")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tmpl = np.asarray(getattr(np, func)(a, axis=axis, keepdims=keepdims))
    except ValueError:
        return  # min/max of empty: covered by the exception tests
    out = np.full(tmpl.shape, 7, tmpl.dtype)
    check_against_numpy(func, a, axis=axis, keepdims=keepdims, out=out)


@settings(max_examples=150, **SETTINGS)
@given(
    a=strided_arrays(st.sampled_from([np.float64, np.float32])),
    func=st.sampled_from(FUNCS),
)
def test_threads_do_not_change_bits(a: np.ndarray, func: str) -> None:
    """Any thread count, any SIMD level: the same bits (small inputs)."""
    f = getattr(sw, func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            with sw.threads(1):
                ref = np.asarray(f(a)).tobytes()
        except ValueError:
            return  # min/max of empty
        with sw.threads(3):
            assert np.asarray(f(a)).tobytes() == ref
        for lvl in sw.available_simd_levels():
            sw.set_simd_level(lvl)
            try:
                assert np.asarray(f(a)).tobytes() == ref, lvl
            finally:
                sw.set_simd_level(None)
