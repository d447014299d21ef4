"""Native memory in without a copy (issue 17): objects that are not ndarrays but export their
memory through the buffer protocol, ``__array_interface__`` / ``__array_struct__`` or DLPack
take the kernel path in place, with numpy's result types.

Each input is checked three ways: the path and the protocol ``sw.explain`` reports, the result
against numpy's (numpy reads the buffer protocol and ``__array_interface__`` itself; for
DLPack, numpy's function of ``numpy.from_dlpack``), and that no copy was made (the reduction's
ndarray shares the exporter's memory; tracemalloc sees nothing the size of the input).
"""

from __future__ import annotations

import array
import ctypes
import gc
import tracemalloc
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import FUNCS, check_against_numpy

MB = 1 << 20


class Interface:
    """Memory described by ``__array_interface__`` only (no buffer protocol), as a C library's
    wrapper shows its own heap array to numpy: a pointer, a shape and byte strides."""

    def __init__(
        self,
        owner: Any,
        pointer: int,
        shape: tuple[int, ...],
        typestr: str,
        strides: tuple[int, ...] | None,
        readonly: bool = False,
    ) -> None:
        self.owner = owner  # keeps the memory alive
        self.__array_interface__ = {
            "version": 3,
            "shape": shape,
            "typestr": typestr,
            "data": (pointer, readonly),
            "strides": strides,
        }


def interface_of(a: np.ndarray) -> Interface:
    i = a.__array_interface__
    return Interface(a, i["data"][0], i["shape"], i["typestr"], i["strides"])


class Struct:
    """An ``__array_struct__`` exporter (numpy's own capsule)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a
        self.__array_struct__ = a.__array_struct__


class DLPack:
    """A DLPack producer and nothing else: no buffer protocol, no ``__array_interface__``.
    The tensor is numpy's own export (``ndarray.__dlpack__``); ``device`` is what
    ``__dlpack_device__`` reports; ``exports`` counts the calls of ``__dlpack__``."""

    def __init__(self, a: np.ndarray, device: tuple[int, int] = (1, 0)) -> None:
        self.a, self.device, self.exports = a, device, 0

    def __dlpack__(self, **kwargs: Any) -> Any:
        self.exports += 1
        return self.a.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.device


class WithArrayFunction:
    """An object that overrides numpy's functions (as Dask and CuPy arrays do)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return ("overridden", func.__name__)

    @property
    def __array_interface__(self) -> dict[str, Any]:
        return self.a.__array_interface__


def _data() -> np.ndarray:
    rng = np.random.default_rng(17)
    return rng.standard_normal((37, 41)) * 3 + 1


def _base_ndarray(x: Any) -> np.ndarray:
    """The ndarray a view ends at (numpy's views chain through `.base`)."""
    while isinstance(x, np.ndarray) and isinstance(x.base, np.ndarray):
        x = x.base
    return x


def _shares(obj: Any, original: np.ndarray) -> bool:
    arr, _ = sw._native.adapt(obj)
    return arr is not None and np.shares_memory(arr, original)


# --------------------------------------------------------------------------------------------
# The buffer protocol


def _buffers() -> dict[str, tuple[Any, np.ndarray]]:
    """name -> (exporter, the memory it exports, as an ndarray that owns it)."""
    a = _data()
    out: dict[str, tuple[Any, np.ndarray]] = {
        "memoryview": (memoryview(a), a),
        "memoryview strided": (memoryview(a[::2, 1::3]), a),
        "memoryview reversed": (memoryview(a[::-1]), a),
        "memoryview transposed": (memoryview(a.T), a),
    }
    i32 = (a * 1000).astype(np.int32)
    out["memoryview int32"] = (memoryview(i32), i32)
    frozen = a.astype(np.float32).tobytes()
    out["memoryview float32 read-only"] = (
        memoryview(frozen).cast("f"),
        np.frombuffer(frozen, dtype=np.float32),
    )
    arr = array.array("d", a.ravel().tolist())
    out["array.array d"] = (arr, np.frombuffer(arr, dtype=np.float64))
    arr_i = array.array("h", range(-500, 500, 3))
    out["array.array h"] = (arr_i, np.frombuffer(arr_i, dtype=np.int16))
    ba = bytearray(range(256))
    out["bytearray"] = (ba, np.frombuffer(ba, dtype=np.uint8))
    c = (ctypes.c_double * 300)(*[x * 0.5 - 70 for x in range(300)])
    out["ctypes array"] = (c, np.ctypeslib.as_array(c))
    al = sw.aligned(a, align=64)
    out["AlignedBuffer"] = (al.base, al)
    return out


BUFFERS = _buffers()


@pytest.mark.parametrize("name", sorted(BUFFERS))
def test_buffer_exporters_read_in_place(name: str) -> None:
    obj, original = BUFFERS[name]
    info = sw.explain(sw.mean, obj)
    assert info["path"] == "kernel", info
    assert info["input"] == "buffer protocol", info
    assert "buffer protocol" in info["reason"], info
    assert _shares(obj, original), f"{name}: the kernels' array is not the exporter's memory"
    arr, how = sw._native.adapt(obj)
    assert how == "buffer protocol" and not arr.flags.owndata


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("name", sorted(BUFFERS))
def test_buffer_exporters_against_numpy(name: str, func: str) -> None:
    """numpy reads the same exports itself: every reduction, whole and along an axis."""
    obj, _ = BUFFERS[name]
    check_against_numpy(func, obj)
    check_against_numpy(func, obj, axis=-1)
    if np.ndim(np.asarray(obj)) > 1:
        check_against_numpy(func, obj, axis=0, keepdims=True)


def test_misaligned_buffer_is_copied_as_numpy_arrays_are() -> None:
    raw = bytearray(8 * 1001)
    view = memoryview(raw)[1:].cast("B")[: 8 * 1000].cast("d")
    np.frombuffer(raw, dtype=np.uint8)[1 : 1 + 8000].view(np.float64)[:] = np.linspace(-3, 7, 1000)
    info = sw.explain(sw.sum, view)
    assert info["path"] == "kernel+copy" and info["input"] == "buffer protocol", info
    check_against_numpy("sum", view)
    check_against_numpy("max", view)


def test_other_formats_take_numpy_s_roads() -> None:
    """float16 through a buffer is widened first (kernel+copy), as a float16 ndarray is;
    complex has no kernel: numpy's function, on numpy's own reading of the buffer."""
    half = memoryview(np.linspace(-2, 2, 301).astype(np.float16))
    info = sw.explain(sw.mean, half)
    assert info["path"] == "kernel+copy" and info["input"] == "buffer protocol", info
    cplx = memoryview(np.linspace(-2, 2, 301) * (1 + 2j))
    assert sw.explain(sw.mean, cplx)["path"] == "numpy"
    for func in ("sum", "mean", "max", "std"):
        check_against_numpy(func, half)
        check_against_numpy(func, cplx)


def test_bytes_are_numpy_s_string_scalar() -> None:
    """numpy reads `bytes` as one string, not its buffer: numpy's path and numpy's error."""
    assert sw.explain(sw.mean, b"abcd")["path"] == "numpy"
    check_against_numpy("mean", b"abcd")
    check_against_numpy("sum", b"abcd")


def test_buffer_input_allocates_nothing_its_size() -> None:
    """64 MB behind a memoryview: the reductions allocate nothing near it (a copy would)."""
    big = np.arange(8 * MB, dtype=np.float64).reshape(2048, 4096) * 1e-3
    views = {"whole": memoryview(big), "strided": memoryview(big[:, ::2]), "T": memoryview(big.T)}
    for name, mv in views.items():
        sw.mean(mv)  # warm up
        tracemalloc.start()
        try:
            for f in (sw.sum, sw.mean, sw.var, sw.max, sw.argmax, sw.median):
                f(mv)
                f(mv, axis=0)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # median's scratch is per output (a column of 2048 f64 per thread), never the input.
        assert peak < 2 * MB, f"{name}: {peak / MB:.1f} MB traced reducing a 64 MB buffer"


# --------------------------------------------------------------------------------------------
# __array_interface__ and __array_struct__


def test_padded_column_major_matrix_by_pointer_and_strides() -> None:
    """A 100x30 float64 matrix in column-major order with a leading dimension of 104 (Eigen's
    OuterStride, LAPACK's lda), in a ctypes heap buffer: shown to numpy by pointer and byte
    strides, reduced along both axes in place, the padding never read."""
    rows, cols, ld = 100, 30, 104
    buf = (ctypes.c_double * (ld * cols))()
    full = np.ctypeslib.as_array(buf).reshape(cols, ld)
    full[:] = np.nan  # the padding: any read of it would show
    full[:, :rows] = np.arange(rows * cols, dtype=np.float64).reshape(cols, rows) * 0.25 - 300
    m = Interface(buf, ctypes.addressof(buf), (rows, cols), "<f8", (8, 8 * ld))
    info = sw.explain(sw.mean, m, axis=0)
    assert info["path"] == "kernel" and info["input"] == "__array_interface__", info
    assert _shares(m, full)
    want = full[:, :rows].T
    for axis in (None, 0, 1):
        for func in ("sum", "mean", "std", "min", "argmax"):
            got = getattr(sw, func)(m, axis=axis)
            np.testing.assert_array_equal(got, getattr(sw, func)(want, axis=axis), strict=True)
            check_against_numpy(func, m, axis=axis)
    assert not np.isnan(sw.sum(m)), "the padding was read"


@pytest.mark.parametrize("func", FUNCS)
def test_interface_and_struct_against_numpy(func: str) -> None:
    a = _data()[:, ::-3]
    for obj, via in ((interface_of(a), "__array_interface__"), (Struct(a), "__array_interface__")):
        info = sw.explain(getattr(sw, func), obj)
        assert info["path"] == "kernel" and info["input"] == via, info
        assert _shares(obj, a)
        check_against_numpy(func, obj)
        check_against_numpy(func, obj, axis=1)


def test_read_only_interface() -> None:
    a = np.linspace(0, 1, 999)
    a.flags.writeable = False
    i = a.__array_interface__
    obj = Interface(a, i["data"][0], i["shape"], i["typestr"], None, readonly=True)
    assert sw.explain(sw.sum, obj)["path"] == "kernel"
    check_against_numpy("sum", obj)
    check_against_numpy("nanmax", obj)


class OwnMethods(array.array):
    """A buffer exporter with its own `mean`, `sum` and `argmax`: numpy's functions call them."""

    def mean(self, *args: Any, **kwargs: Any) -> str:
        return "own mean"

    def sum(self, *args: Any, **kwargs: Any) -> str:
        return "own sum"

    def argmax(self, *args: Any, **kwargs: Any) -> str:
        return "own argmax"


class RaisingInterface:
    """`__array_interface__` a property that raises, beside its own `mean`."""

    @property
    def __array_interface__(self) -> dict[str, Any]:
        raise RuntimeError("no interface today")

    def mean(self, *args: Any, **kwargs: Any) -> str:
        return "own mean"


def test_own_methods_are_called_as_numpy_calls_them() -> None:
    x = OwnMethods("d", [1.0, 2.0, 4.0])
    for func in ("mean", "sum", "argmax"):
        assert sw.explain(getattr(sw, func), x)["path"] == "numpy"
        assert getattr(sw, func)(x) == getattr(np, func)(x) == f"own {func}"
    # The functions numpy does not send to a method read the buffer in place.
    for func in ("nanmean", "max", "std", "count_nonzero", "ptp"):
        info = sw.explain(getattr(sw, func), x)
        assert info["path"] == "kernel" and info["input"] == "buffer protocol", (func, info)
        check_against_numpy(func, x)
    r = RaisingInterface()
    assert sw.mean(r) == np.mean(r) == "own mean"


class RefusingDLPack(DLPack):
    """A producer whose export fails (torch refuses a tensor that requires grad) but that
    numpy reads through `__array__`."""

    def __dlpack__(self, **kwargs: Any) -> Any:
        raise RuntimeError("Can't export tensors that require gradient")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.a


class OddDevice(DLPack):
    def __dlpack_device__(self) -> Any:
        return ("cpu", 0)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.a


class JaxLike(OwnMethods):
    """As JAX arrays are: a buffer, DLPack, and methods of their own (`mean`...)."""

    device = (1, 0)

    def __dlpack__(self, **kwargs: Any) -> Any:
        return np.frombuffer(self, dtype=np.float64).__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.device


class GpuLike(JaxLike):
    """A producer on a GPU whose type still has buffer slots (the export would fail) and
    whose `__array__` would copy to the host."""

    device = (2, 1)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise AssertionError("copied to the host")


def test_dlpack_producers_are_read_in_place_despite_own_methods() -> None:
    x = JaxLike("d", [1.0, 2.0, 4.0, 8.0])
    assert np.mean(x) == "own mean"  # numpy calls the method
    info = sw.explain(sw.mean, x)
    assert info["path"] == "kernel" and info["input"] == "buffer protocol", info
    assert sw.mean(x) == np.float64(3.75) and sw.argmax(x) == np.intp(3)
    with pytest.raises(BufferError, match="cuda:1"):
        sw.mean(GpuLike("d", [1.0, 2.0]))


def test_dlpack_that_fails_is_left_to_numpy() -> None:
    a = _data()
    for obj in (RefusingDLPack(a), OddDevice(a)):
        assert sw.explain(sw.nanmean, obj)["path"] == "numpy"
        np.testing.assert_array_equal(sw.nanmean(obj, axis=0), np.nanmean(obj, axis=0))


def test_array_function_overrides_are_respected() -> None:
    """An object that overrides numpy's functions gets its own implementation, as from numpy,
    even when it also describes its memory."""
    obj = WithArrayFunction(_data())
    assert sw.explain(sw.mean, obj)["path"] == "numpy"
    assert sw.mean(obj) == np.mean(obj) == ("overridden", "mean")


# --------------------------------------------------------------------------------------------
# DLPack


@pytest.mark.parametrize("func", FUNCS)
def test_dlpack_producer_read_in_place(func: str) -> None:
    a = _data()[::-1, 2::2]
    obj = DLPack(a)
    f = getattr(sw, func)
    info = sw.explain(f, obj, axis=0)
    assert info["path"] == "kernel" and info["input"] == "dlpack", info
    assert _shares(obj, a)
    for kwargs in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}):
        got = f(obj, **kwargs)
        want = f(a, **kwargs)  # the same view as an ndarray (checked against numpy elsewhere)
        np.testing.assert_array_equal(got, want, strict=True)
        check_against_numpy(func, np.from_dlpack(obj), **kwargs)


@pytest.mark.parametrize(
    ("device", "name"), [((2, 0), "cuda:0"), ((10, 3), "rocm:3"), ((8, 0), "metal:0")]
)
def test_dlpack_on_another_device_is_a_clear_error(device: tuple[int, int], name: str) -> None:
    obj = DLPack(_data(), device)
    for f in (sw.mean, sw.argmax, sw.median, sw.quantile):
        args = (0.5,) if f is sw.quantile else ()
        with pytest.raises(BufferError, match=name):
            f(obj, *args)
    assert obj.exports == 0, "the tensor was exported (a copy to the host could follow)"


def test_dlpack_median_quantile_average() -> None:
    a = _data()[:, ::2]
    obj = DLPack(a)
    np.testing.assert_array_equal(sw.median(obj, axis=0), np.median(a, axis=0), strict=True)
    np.testing.assert_array_equal(
        sw.quantile(obj, [0.1, 0.9], axis=1), np.quantile(a, [0.1, 0.9], axis=1), strict=True
    )
    w = np.linspace(1, 2, a.shape[1])
    np.testing.assert_array_equal(
        sw.average(obj, axis=1, weights=w), sw.average(a, axis=1, weights=w), strict=True
    )
    mv = memoryview(a)
    np.testing.assert_array_equal(sw.median(mv), np.median(a), strict=True)


def test_torch_cpu_tensor_if_installed() -> None:
    torch = pytest.importorskip("torch")
    t = torch.arange(12000, dtype=torch.float64).reshape(120, 100)[:, ::3] * 0.1
    assert sw.explain(sw.mean, t)["input"] == "dlpack"
    a = t.numpy()
    np.testing.assert_array_equal(sw.mean(t, axis=0), sw.mean(a, axis=0), strict=True)
    assert np.shares_memory(sw._native.adapt(t)[0], a)


# --------------------------------------------------------------------------------------------
# Rust-owned arrays out through DLPack


def test_aligned_arrays_export_dlpack_sharing_memory() -> None:
    """sw.zeros/empty/full/aligned give ndarrays, which export DLPack: consumers share the
    aligned memory, and it outlives the array it came from."""
    a = sw.full((64, 100), 2.5, align=64)
    address = a.__array_interface__["data"][0]
    d = np.from_dlpack(a)
    assert d.__array_interface__["data"][0] == address and np.shares_memory(a, d)
    a[3, 4] = 7.0
    assert d[3, 4] == 7.0
    del a
    gc.collect()
    assert d.sum() == 2.5 * 6399 + 7.0  # the buffer is alive as long as the consumer
    assert sw.sum(DLPack(d)) == d.sum()


def test_aligned_buffer_itself_exports_dlpack() -> None:
    """The owner object (`.base` of sw.zeros...) is a DLPack producer too: the padded rows'
    strides go through, the memory is shared and outlives both the array and the owner."""
    a = sw.full((64, 100), 2.5, np.float32, align=64)
    owner = a.base
    assert owner.__dlpack_device__() == (1, 0)
    d = np.from_dlpack(owner)
    assert d.strides == a.strides == (448, 4)  # 100 float32 padded to 448 bytes
    assert d.__array_interface__["data"][0] == owner.address
    a[1, 2] = 9.0
    assert d[1, 2] == 9.0
    del a, owner
    gc.collect()
    assert d.sum() == np.float32(2.5 * 6399 + 9.0) == sw.sum(d)
