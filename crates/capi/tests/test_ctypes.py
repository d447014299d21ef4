"""The C API from Python through ctypes (`make capi-test`): the seed's `compute_mean`, which
used to call `np.ascontiguousarray` (a copy of every non-contiguous slice) before handing a
pointer to C, now hands the slice's own pointer, shape and byte strides.

The library is `STRIDEWISE_C_LIB` (default: target/release/libstridewise_c.so).
"""

from __future__ import annotations

import ctypes
import math
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
LIB_PATH = os.environ.get("STRIDEWISE_C_LIB", str(ROOT / "target/release/libstridewise_c.so"))

SW_OK, SW_WARNING = 0, 1
SW_OP_SUM, SW_OP_MEAN, SW_OP_ARGMAX = 0, 2, 17
SW_DTYPE = {np.dtype(np.float32): 9, np.dtype(np.float64): 10, np.dtype(np.int32): 3}


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    if not Path(LIB_PATH).exists():
        pytest.fail(f"{LIB_PATH} is missing: cargo build --release -p stridewise-capi")
    c = ctypes.CDLL(LIB_PATH)
    c.sw_reduce.restype = ctypes.c_int
    c.sw_reduce.argtypes = [
        ctypes.c_int32,  # op
        ctypes.c_int32,  # dtype
        ctypes.c_void_p,  # data
        ctypes.c_size_t,  # ndim
        ctypes.POINTER(ctypes.c_size_t),  # shape
        ctypes.POINTER(ctypes.c_ssize_t),  # byte strides
        ctypes.POINTER(ctypes.c_ssize_t),  # axes (NULL: all)
        ctypes.c_size_t,  # naxes
        ctypes.c_double,  # ddof
        ctypes.c_void_p,  # out
        ctypes.c_size_t,  # out_len
    ]
    c.sw_mean_f32.restype = ctypes.c_int
    c.sw_mean_f32.argtypes = [
        ctypes.POINTER(ctypes.c_float),
        ctypes.c_size_t,
        ctypes.c_ssize_t,
        ctypes.POINTER(ctypes.c_float),
    ]
    c.sw_last_message.restype = ctypes.c_char_p
    c.sw_result_dtype.restype = ctypes.c_int32
    return c


def compute_mean(lib: ctypes.CDLL, arr: np.ndarray, axis: int | None = None) -> np.ndarray:
    """The seed's helper without `np.ascontiguousarray`: the array's own memory, described by
    its pointer, shape and byte strides (any layout numpy can make)."""
    nd = arr.ndim
    shape = (ctypes.c_size_t * nd)(*arr.shape)
    strides = (ctypes.c_ssize_t * nd)(*arr.strides)
    axes = None if axis is None else (ctypes.c_ssize_t * 1)(axis)
    result = np.dtype(np.float64) if arr.dtype.kind in "iu" else arr.dtype
    kept = [n for d, n in enumerate(arr.shape) if axis is not None and d != axis % nd]
    out = np.empty(kept, dtype=result)
    status = lib.sw_reduce(
        SW_OP_MEAN,
        SW_DTYPE[arr.dtype],
        arr.ctypes.data,  # the slice's first element: no copy
        nd,
        shape,
        strides,
        axes,
        0 if axes is None else 1,
        0.0,
        out.ctypes.data,
        out.size,
    )
    assert status == SW_OK, lib.sw_last_message().decode()
    return out


def stridewise_mean(values: np.ndarray) -> float:
    """stridewise's mean, by its definition: the exact sum rounded once to f64 (math.fsum),
    over the count in f64 (then the result type's rounding)."""
    return math.fsum(values.ravel().tolist()) / values.size


VIEWS = {
    "[::2, 1::3]": lambda b: b[::2, 1::3],
    "[::-1]": lambda b: b[::-1],
    ".T": lambda b: b.T,
    "[:, ::-2]": lambda b: b[:, ::-2],
    "[3:-3, 5:-5]": lambda b: b[3:-3, 5:-5],
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_compute_mean_on_non_contiguous_slices(lib: ctypes.CDLL, view: str, dtype: type) -> None:
    rng = np.random.default_rng(5)
    a = VIEWS[view]((rng.standard_normal((200, 300)) * 1000).astype(dtype))
    assert not a.flags.c_contiguous or view == "[::-1]"
    got = compute_mean(lib, a)  # the slice's own pointer and strides: nothing to copy
    # The correctly rounded sum over the count, whatever the layout.
    want = stridewise_mean(a)
    assert got.item() == float(got.dtype.type(want)), (got, want)
    np.testing.assert_allclose(got, np.mean(a), rtol=1e-6 if dtype == np.float32 else 1e-13)
    for axis in (0, 1):
        np.testing.assert_allclose(
            compute_mean(lib, a, axis), np.mean(a, axis=axis, dtype=np.float64), rtol=1e-6
        )


def test_one_d_shortcut_with_byte_stride(lib: ctypes.CDLL) -> None:
    x = np.arange(3000, dtype=np.float32) * 0.5
    step = x[::3]
    out = ctypes.c_float()
    ptr = step.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    assert lib.sw_mean_f32(ptr, step.size, step.strides[0], ctypes.byref(out)) == SW_OK
    assert out.value == np.float32(math.fsum(step.tolist()) / step.size)


METHODS = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)  # SwQuantileMethod's order


@pytest.mark.parametrize("method", METHODS)
def test_quantiles_equal_numpy_s_bit_for_bit(lib: ctypes.CDLL, method: str) -> None:
    lib.sw_quantiles.restype = ctypes.c_int
    base = np.random.default_rng(9).standard_normal((61, 40))
    a = base[::2, ::-3]  # 31 x 14, strided and reversed
    q = np.array([0.0, 0.1, 0.37, 0.5, 0.9, 1.0])
    for axis in (None, 0, 1):
        kept = [] if axis is None else [a.shape[1 - axis]]
        out = np.empty([q.size, *kept])
        axes = None if axis is None else (ctypes.c_ssize_t * 1)(axis)
        status = lib.sw_quantiles(
            10,
            ctypes.c_void_p(a.ctypes.data),
            ctypes.c_size_t(2),
            (ctypes.c_size_t * 2)(*a.shape),
            (ctypes.c_ssize_t * 2)(*a.strides),
            axes,
            ctypes.c_size_t(0 if axes is None else 1),
            q.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            ctypes.c_size_t(q.size),
            ctypes.c_int32(METHODS.index(method)),
            ctypes.c_int32(0),
            ctypes.c_void_p(out.ctypes.data),
            ctypes.c_size_t(out.size),
        )
        assert status == SW_OK, lib.sw_last_message().decode()
        want = np.quantile(a, q, axis=axis, method=method)
        np.testing.assert_array_equal(out, want, err_msg=f"{method} axis={axis}", strict=True)


def test_average_against_numpy(lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((50, 80))[::-2, 1::3]  # 25 x 27
    full_w = rng.random(a.shape)[:, ::1]
    axis_w = rng.random(a.shape[1])[::-1]
    for w, axis in ((full_w, None), (full_w, 0), (axis_w, 1)):
        kept = [] if axis is None else [a.shape[1 - axis]]
        out, sums = np.empty(kept), np.empty(kept)
        axes = None if axis is None else (ctypes.c_ssize_t * 1)(axis)
        status = lib.sw_average(
            10,
            ctypes.c_void_p(a.ctypes.data),
            ctypes.c_size_t(2),
            (ctypes.c_size_t * 2)(*a.shape),
            (ctypes.c_ssize_t * 2)(*a.strides),
            10,
            ctypes.c_void_p(w.ctypes.data),
            ctypes.c_size_t(w.ndim),
            (ctypes.c_size_t * w.ndim)(*w.shape),
            (ctypes.c_ssize_t * w.ndim)(*w.strides),
            axes,
            ctypes.c_size_t(0 if axes is None else 1),
            ctypes.c_void_p(out.ctypes.data),
            ctypes.c_void_p(sums.ctypes.data),
            ctypes.c_size_t(out.size),
        )
        assert status == SW_OK, lib.sw_last_message().decode()
        want, want_sums = np.average(a, axis=axis, weights=w, returned=True)
        np.testing.assert_allclose(out, want, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(sums, want_sums, rtol=1e-15)


def test_errors_through_ctypes(lib: ctypes.CDLL) -> None:
    a = np.arange(12.0).reshape(3, 4)
    out = np.empty(2)
    shape = (ctypes.c_size_t * 2)(3, 4)
    strides = (ctypes.c_ssize_t * 2)(*a.strides)
    axes = (ctypes.c_ssize_t * 1)(0)
    s = lib.sw_reduce(
        SW_OP_SUM, 10, a.ctypes.data, 2, shape, strides, axes, 1, 0.0, out.ctypes.data, 2
    )
    assert s == -5 and lib.sw_last_message() == b"4 results, room for 2"
    assert lib.sw_result_dtype(SW_OP_ARGMAX, 10) == 4  # int64
