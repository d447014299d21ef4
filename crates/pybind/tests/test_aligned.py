"""Rust-owned aligned arrays: sw.empty / zeros / full / aligned and the AlignedBuffer owner
(buffer protocol, lifetimes, writes both ways)."""

from __future__ import annotations

import gc
import math
import weakref
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import FUNCS, VAR_FUNCS, check_against_numpy, explain_path, make_data

SHAPES = [(), (0,), (1,), (7,), (3, 5), (4, 1), (1, 9), (2, 3, 17), (0, 4), (4, 0), (2, 0, 3)]
DTYPES = [
    np.bool_,
    np.int8,
    np.uint16,
    np.int32,
    np.int64,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex128,
]


def _ids(v: Any) -> str:
    if isinstance(v, tuple):
        return "x".join(map(str, v)) if v else "0d"
    return np.dtype(v).name


def assert_aligned_layout(arr: np.ndarray, shape: tuple[int, ...], dtype: Any, align: int) -> None:
    """Shape, dtype, owner, row starts on `align`, padded strides."""
    dt = np.dtype(dtype)
    assert type(arr) is np.ndarray
    assert arr.shape == shape and arr.dtype == dt
    owner = arr.base
    assert isinstance(owner, sw.AlignedBuffer)
    assert owner.shape == shape
    assert owner.strides == arr.strides
    assert owner.dtype == dt
    assert owner.align >= align and owner.align % align == 0
    assert owner.address == arr.ctypes.data
    assert arr.ctypes.data % align == 0
    if arr.ndim >= 1:
        assert arr.strides[-1] == dt.itemsize
    if arr.ndim >= 2:
        row = arr.strides[-2]
        assert row >= shape[-1] * dt.itemsize
        assert row % align == 0
        # Outer axes step over whole padded planes, C order.
        for d in range(arr.ndim - 2):
            assert arr.strides[d] == arr.strides[d + 1] * shape[d + 1]
    # Every row (last axis) starts on an `align` boundary.
    if arr.size:
        for idx in np.ndindex(*shape[:-1]):
            start = arr.ctypes.data + sum(i * s for i, s in zip(idx, arr.strides, strict=False))
            assert start % align == 0, idx
    # The allocation covers every element.
    if arr.size:
        last = sum((n - 1) * s for n, s in zip(shape, arr.strides, strict=True))
        assert owner.nbytes_allocated >= last + dt.itemsize
    assert arr.flags.writeable and arr.flags.aligned


def assert_buffer_matches(arr: np.ndarray) -> None:
    owner = arr.base
    m = memoryview(owner)
    assert m.shape == arr.shape
    assert m.strides == arr.strides
    assert m.format == memoryview(arr).format
    assert m.itemsize == arr.itemsize
    assert m.ndim == arr.ndim
    assert m.nbytes == arr.size * arr.itemsize
    assert not m.readonly
    v = np.asarray(owner)
    assert v.shape == arr.shape and v.strides == arr.strides and v.dtype == arr.dtype
    assert v.ctypes.data == arr.ctypes.data
    if arr.size:
        assert np.shares_memory(v, arr)
    np.testing.assert_array_equal(v, arr)
    np.testing.assert_array_equal(np.asarray(m), arr)
    np.testing.assert_array_equal(np.asarray(memoryview(owner)), arr)


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_constructors(shape: tuple[int, ...], dtype: Any) -> None:
    for arr in (sw.empty(shape, dtype), sw.zeros(shape, dtype)):
        assert_aligned_layout(arr, shape, dtype, 64)
        assert_buffer_matches(arr)
    z = sw.zeros(shape, dtype)
    np.testing.assert_array_equal(z, np.zeros(shape, dtype), strict=True)
    fill = 3 if np.dtype(dtype).kind != "b" else True
    f = sw.full(shape, fill, dtype)
    assert_aligned_layout(f, shape, dtype, 64)
    np.testing.assert_array_equal(f, np.full(shape, fill, dtype), strict=True)
    src = make_data(dtype, shape, seed=1) if np.dtype(dtype).kind != "c" else np.ones(shape, dtype)
    g = sw.aligned(src)
    assert_aligned_layout(g, shape, dtype, 64)
    assert_buffer_matches(g)
    np.testing.assert_array_equal(g, src, strict=True)
    if src.size:
        assert not np.shares_memory(g, src)


@pytest.mark.parametrize("align", [1, 2, 8, 16, 32, 64, 128, 256, 4096])
@pytest.mark.parametrize("dtype", [np.int8, np.float32, np.float64, np.complex128], ids=_ids)
def test_align_values(align: int, dtype: Any) -> None:
    for shape in [(5, 3), (3, 1, 7), (9,), ()]:
        for arr in (
            sw.empty(shape, dtype, align=align),
            sw.zeros(shape, dtype, align=align),
            sw.full(shape, 1, dtype, align=align),
            sw.aligned(np.ones(shape, dtype), align=align),
        ):
            assert_aligned_layout(arr, shape, dtype, align)
            assert_buffer_matches(arr)
            assert arr.base.align >= max(align, np.dtype(dtype).alignment)


def test_default_align_and_padding_example() -> None:
    assert sw.DEFAULT_ALIGN == 64
    a = sw.zeros((480, 641), np.float32)
    assert a.strides == (656 * 4, 4)
    assert a.base.align == 64
    b = sw.zeros((3, 5), np.float64, align=128)
    assert b.strides == (128, 8)


@pytest.mark.parametrize("align", [0, 3, 6, 48, 100, 65, -64, -1])
def test_bad_align(align: int) -> None:
    for make in (
        lambda: sw.empty((2, 3), align=align),
        lambda: sw.zeros((2, 3), align=align),
        lambda: sw.full((2, 3), 1.0, align=align),
        lambda: sw.aligned(np.ones((2, 3)), align=align),
    ):
        with pytest.raises(ValueError):
            make()


@pytest.mark.parametrize("shape", [-1, (-1,), (2, -3), (0, -1)])
def test_negative_dims(shape: Any) -> None:
    with pytest.raises(ValueError):
        np.zeros(shape)
    for make in (sw.empty, sw.zeros):
        with pytest.raises(ValueError):
            make(shape)
    with pytest.raises(ValueError):
        sw.full(shape, 1.0)


@pytest.mark.parametrize("shape", [5, [2, 3], (np.int64(2), 3), np.int64(4), np.uint8(3)], ids=repr)
def test_shape_forms_as_numpy(shape: Any) -> None:
    """The shape argument accepts what numpy.empty accepts: ints, sequences, numpy ints."""
    want = np.zeros(shape).shape
    assert sw.zeros(shape).shape == want
    assert sw.empty(shape).shape == want
    assert sw.full(shape, 2.0).shape == want


def test_full_dtype_and_cast() -> None:
    np.testing.assert_array_equal(sw.full((2, 3), 7), np.full((2, 3), 7), strict=True)
    np.testing.assert_array_equal(sw.full((2, 3), 2.5), np.full((2, 3), 2.5), strict=True)
    np.testing.assert_array_equal(sw.full(4, True), np.full(4, True), strict=True)
    np.testing.assert_array_equal(
        sw.full((2, 3), 2.7, dtype=np.int8), np.full((2, 3), 2.7, dtype=np.int8), strict=True
    )
    np.testing.assert_array_equal(
        sw.full((2, 3), [1, 2, 3], dtype=np.float32),
        np.full((2, 3), [1, 2, 3], dtype=np.float32),
        strict=True,
    )
    np.testing.assert_array_equal(sw.full((2, 2), np.nan), np.full((2, 2), np.nan), strict=True)


def test_aligned_of_views_and_lists() -> None:
    base = make_data(np.float64, (6, 10), seed=2)
    for src in (base.T, base[::-2, 1::3], np.asfortranarray(base), base.astype(">f8")):
        g = sw.aligned(src)
        np.testing.assert_array_equal(g, src)
        assert g.dtype == src.dtype
        assert_aligned_layout(g, src.shape, src.dtype, 64)
    g = sw.aligned([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(g, np.array([[1, 2, 3], [4, 5, 6]]), strict=True)
    g = sw.aligned(2.5)
    assert g.shape == () and g.dtype == np.float64 and g[()] == 2.5


def test_unsupported_dtypes() -> None:
    with pytest.raises(TypeError):
        sw.zeros((2, 2), object)


# --------------------------------------------------------------------------------------------
# Lifetimes and shared memory


def test_owner_dropped_while_array_lives() -> None:
    arr = sw.full((4, 5), 1.5)
    owner_ref = weakref.ref(arr.base) if _weakrefable(arr.base) else None
    v = arr[1:, ::2]
    del arr
    gc.collect()
    np.testing.assert_array_equal(v, np.full((3, 3), 1.5))
    v[...] = 4.0
    np.testing.assert_array_equal(v, np.full((3, 3), 4.0))
    if owner_ref is not None:
        assert owner_ref() is not None
    del v
    gc.collect()
    if owner_ref is not None:
        assert owner_ref() is None


def _weakrefable(x: Any) -> bool:
    try:
        weakref.ref(x)
    except TypeError:
        return False
    return True


def test_array_dropped_while_owner_lives() -> None:
    arr = sw.aligned(np.arange(12.0).reshape(3, 4))
    owner = arr.base
    del arr
    gc.collect()
    m = memoryview(owner)
    np.testing.assert_array_equal(np.asarray(m), np.arange(12.0).reshape(3, 4))
    v = np.asarray(owner)
    v[2, 3] = -1.0
    assert m[2, 3] == -1.0
    assert m.tolist()[2] == [8.0, 9.0, 10.0, -1.0]


def test_memoryview_outlives_array_and_owner_reference() -> None:
    arr = sw.aligned(np.arange(20, dtype=np.int32).reshape(4, 5), align=128)
    m = memoryview(arr.base)
    del arr
    gc.collect()
    for _ in range(3):
        junk = [np.ones(1000) for _ in range(50)]  # churn the allocator
        del junk
    assert m.tolist() == np.arange(20, dtype=np.int32).reshape(4, 5).tolist()
    m[3, 4] = 77
    assert np.asarray(m)[3, 4] == 77
    m.release()


def test_writes_both_ways() -> None:
    arr = sw.zeros((3, 7), np.float32)
    owner = arr.base
    m = memoryview(owner)
    v = np.asarray(owner)
    arr[1, 2] = 5.0
    assert m[1, 2] == 5.0 and v[1, 2] == 5.0
    m[2, 6] = -3.0
    assert arr[2, 6] == -3.0 and v[2, 6] == -3.0
    v[0, :] = 9.0
    np.testing.assert_array_equal(arr[0], np.full(7, 9.0, np.float32))
    assert m.tolist()[0] == [9.0] * 7
    # Padding is never part of the logical array.
    assert m.nbytes == 3 * 7 * 4
    assert arr.sum() == 63.0 + 5.0 - 3.0


def test_zero_d_and_empty_buffers() -> None:
    z = sw.full((), 3.5)
    m = memoryview(z.base)
    assert m.shape == () and m.strides == () and m.ndim == 0
    assert np.asarray(z.base)[()] == 3.5
    z[()] = 1.0
    assert m.tolist() == 1.0
    for shape in [(0,), (0, 3), (3, 0), (2, 0, 3)]:
        e = sw.zeros(shape, np.int16)
        m = memoryview(e.base)
        assert m.shape == shape and m.nbytes == 0
        assert np.asarray(e.base).shape == shape


def test_contiguous_request_refused_when_padded() -> None:
    arr = sw.zeros((3, 5), np.float64)  # rows padded from 40 to 64 bytes
    assert not arr.flags.c_contiguous
    m = memoryview(arr.base)
    assert not m.c_contiguous
    with pytest.raises(BufferError):
        np.frombuffer(arr.base)  # asks for a simple (contiguous) buffer
    # A strided consumer copies the logical bytes, without the padding.
    assert bytes(memoryview(arr.base)) == arr.tobytes()
    assert len(bytearray(arr.base)) == 3 * 5 * 8
    # Unpadded: one row of 8 float64 is exactly 64 bytes.
    full = sw.aligned(np.arange(24.0).reshape(3, 8))
    assert full.flags.c_contiguous and memoryview(full.base).c_contiguous
    flat = np.frombuffer(full.base)
    np.testing.assert_array_equal(flat, np.arange(24.0))
    assert np.shares_memory(flat, full)


def test_many_arrays_freed() -> None:
    """Allocating and dropping many aligned arrays does not leak owners."""
    refs = []
    for i in range(200):
        a = sw.zeros((16, 33), np.float64, align=256)
        a[0, 0] = i
        if _weakrefable(a.base):
            refs.append(weakref.ref(a.base))
        del a
    gc.collect()
    assert all(r() is None for r in refs)


# --------------------------------------------------------------------------------------------
# Reductions on aligned arrays


@pytest.mark.parametrize("func", FUNCS)
def test_reductions_take_kernel_path(func: str) -> None:
    src = make_data(np.float64, (9, 13), seed=4)
    for align in (64, 256):
        arr = sw.aligned(src, align=align)
        views = (arr, arr.T, arr[::2, ::-3], arr[1:, :-1], np.asarray(arr.base))
        for v in views:
            for axis in (None, 0, 1, -1):
                assert explain_path(func, v, {"axis": axis}) == "kernel"
                check_against_numpy(func, v, axis=axis)
        for dt in (np.float32, np.int16, np.uint8, np.bool_):
            a2 = sw.aligned(make_data(dt, (5, 11), seed=1), align=align)
            bool_ptp = func == "ptp" and dt == np.bool_  # numpy's TypeError
            assert explain_path(func, a2, {"axis": 1}) == ("numpy" if bool_ptp else "kernel")
            check_against_numpy(func, a2, axis=1)
    # The unpadded copy: sums (compensated per output), means and min/max give the same
    # bits. Variances may differ in the last place: the unpadded rows of 13 outputs are read
    # as wide rows of 9 x 13 (the interleaved path), so each column's (n, mean, M2) is built
    # in another order than along the padded rows.
    r_aligned = getattr(sw, func)(sw.aligned(src), axis=0)
    r_plain = getattr(sw, func)(np.ascontiguousarray(src), axis=0)
    if func in VAR_FUNCS:
        np.testing.assert_allclose(r_aligned, r_plain, rtol=4 * np.finfo(np.float64).eps)
    else:
        assert np.asarray(r_aligned).tobytes() == np.asarray(r_plain).tobytes()


def test_padding_is_not_read() -> None:
    """NaN written into the padding bytes (through a raw view of the whole allocation) does
    not change any result: the strides skip the padding."""
    values = np.arange(15.0).reshape(3, 5)
    arr = sw.aligned(values)
    row_items = arr.strides[0] // arr.itemsize
    assert row_items == 8
    raw_type = np.ctypeslib.ctypes.c_double * (3 * row_items)
    full = np.ctypeslib.as_array(raw_type.from_address(arr.ctypes.data)).reshape(3, row_items)
    assert np.shares_memory(full, arr)
    full[:, 5:] = np.nan
    assert math.isnan(full[0, 5])
    for func in FUNCS:
        for axis in (None, 0, 1):
            got = getattr(sw, func)(arr, axis=axis)
            want = getattr(sw, func)(values, axis=axis)
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), (func, axis)
            np.testing.assert_allclose(got, getattr(np, func)(values, axis=axis), rtol=1e-14)
    del full
