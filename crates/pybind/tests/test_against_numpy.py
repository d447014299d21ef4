"""Every reduction against numpy: dtypes, shapes, axes, keepdims, dtype=, out=, ddof,
where=, initial=, layouts, delegated dtypes and inputs. See conftest.check_against_numpy."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import (
    ALL_KERNEL_DTYPES,
    ARG_FUNCS,
    FLOAT_DTYPES,
    FUNCS,
    KEYWORDS,
    MEAN_FUNCS,
    MINMAX_FUNCS,
    NAN_FUNCS,
    OUT_FUNCS,
    PTP_FUNCS,
    SUM_FUNCS,
    VAR_FUNCS,
    WHERE_FUNCS,
    axis_choices,
    check_against_numpy,
    dtype_id,
    explain_path,
    make_data,
)

SHAPES = [
    (),
    (0,),
    (1,),
    (13,),
    (0, 3),
    (3, 0),
    (1, 1),
    (4, 5),
    (2, 3, 4),
    (2, 1, 3, 2),
    (2, 1, 3, 2, 2),
]


def _shape_id(s: tuple[int, ...]) -> str:
    return "x".join(map(str, s)) if s else "0d"


# --------------------------------------------------------------------------------------------
# dtypes x shapes x axes x keepdims


@pytest.mark.parametrize("keepdims", [False, True], ids=["", "keepdims"])
@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("dtype", ALL_KERNEL_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("func", FUNCS)
def test_dtype_shape_axes(func: str, dtype: Any, shape: tuple[int, ...], keepdims: bool) -> None:
    a = make_data(dtype, shape, seed=len(shape) * 7 + sum(shape))
    for axis in axis_choices(len(shape)):
        check_against_numpy(func, a, axis=axis, keepdims=keepdims)
    if not keepdims:
        check_against_numpy(func, a)  # keepdims left at its default


def test_kernel_path_is_taken_for_kernel_dtypes() -> None:
    """The comparisons above mostly exercise the kernels, not numpy's fallback."""
    for func in FUNCS:
        for dt in ALL_KERNEL_DTYPES:
            a = make_data(dt, (4, 5))
            want = "kernel+copy" if dt == np.float16 else "kernel"
            want = _bool_ptp(func, a) or want
            for axis in (None, 0, 1, (0, 1), -1):
                # argmin/argmax take one axis: numpy raises for a tuple.
                tuple_to_numpy = func in ARG_FUNCS and isinstance(axis, tuple)
                expect = "numpy" if tuple_to_numpy else want
                assert explain_path(func, a, {"axis": axis}) == expect, (func, dt, axis)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("shape", [(17,), (5, 6), (3, 4, 5)], ids=_shape_id)
def test_nan_data(func: str, dtype: Any, shape: tuple[int, ...]) -> None:
    """NaN anywhere: propagated by the plain functions, skipped by the nan-functions; an
    all-NaN slice gives NaN with numpy's RuntimeWarning."""
    a = make_data(dtype, shape, seed=3, nan=0.3)
    if len(shape) >= 2:
        a[0] = np.nan  # an all-NaN slice for axis reductions
        a[(slice(None),) * (len(shape) - 1) + (1,)] = np.nan
    for axis in axis_choices(len(shape)):
        for keepdims in (False, True):
            check_against_numpy(func, a, axis=axis, keepdims=keepdims)
    check_against_numpy(func, np.full(shape, np.nan, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("func", FUNCS)
def test_special_values(func: str, dtype: Any) -> None:
    """inf, -inf, NaN, signed zeros, subnormals and extremes in every position."""
    fi = np.finfo(dtype)
    vals = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -2.5, fi.tiny, fi.smallest_subnormal]
    cases = [
        [1.0, np.inf, 2.0],
        [-np.inf, 1.0, -3.0],
        [np.nan, 1.0, np.inf],
        [1.0, 2.0, np.nan],
        [fi.max, -fi.max, 1.0],
        [fi.tiny, fi.smallest_subnormal, -fi.tiny],
        [0.0, -0.0, 0.0],
        vals,
        vals[::-1],
    ]
    for c in cases:
        check_against_numpy(func, np.array(c, dtype=dtype))
    # Along an axis, with the special value in different lanes.
    m = np.arange(40, dtype=dtype).reshape(5, 8)
    m[1, 3] = np.inf
    m[2, 5] = np.nan
    m[4, :] = -np.inf
    for axis in (None, 0, 1):
        check_against_numpy(func, m, axis=axis)


# --------------------------------------------------------------------------------------------
# Layouts


def _misaligned(x: np.ndarray) -> np.ndarray:
    buf = np.zeros(x.nbytes + 1, dtype=np.uint8)
    y = np.ndarray(x.shape, dtype=x.dtype, buffer=buf.data, offset=1)
    y[...] = x
    assert y.ctypes.data % max(x.dtype.alignment, 1) != 0 or x.dtype.alignment == 1
    return y


def _byteswapped(x: np.ndarray) -> np.ndarray:
    y = x.astype(x.dtype.newbyteorder("S"))
    np.testing.assert_array_equal(y, x)
    return y


def _readonly(x: np.ndarray) -> np.ndarray:
    y = x.copy()
    y.flags.writeable = False
    return y


def _record_field(x: np.ndarray, first: bool) -> np.ndarray:
    """A field of a packed structured array: stride itemsize+4 (12 for float64)."""
    if first:
        rec = np.zeros(x.shape, dtype=[("a", x.dtype), ("b", "i4")])
        rec["a"] = x
        return rec["a"]
    rec = np.zeros(x.shape, dtype=[("c", "i1"), ("a", x.dtype)])
    rec["a"] = x
    return rec["a"]


SHAPE2 = (6, 7)


def _layout(name: str, dtype: Any) -> np.ndarray:
    """A (6, 7) (or 3-d) array of `dtype` laid out as `name`."""
    base = make_data(dtype, SHAPE2, seed=11)
    if name == "C":
        return base
    if name == "F":
        return np.asfortranarray(base)
    if name == "reversed":
        return base[::-1, ::-1]
    if name == "step2":
        return make_data(dtype, (12, 14), seed=5)[::2, ::2]
    if name == "step3":
        return make_data(dtype, (6, 21), seed=5)[:, ::3]
    if name == "neg_step":
        return make_data(dtype, (12, 21), seed=5)[::-2, 1::3]
    if name == "padded":
        return make_data(dtype, (6, 8), seed=5)[:, :-1]
    if name == "transposed3d":
        return make_data(dtype, (3, 4, 5), seed=5).transpose(2, 0, 1)
    if name == "broadcast":
        return np.broadcast_to(make_data(dtype, (7,), seed=5), SHAPE2)
    if name == "broadcast_col":
        return np.broadcast_to(make_data(dtype, (6, 1), seed=5), SHAPE2)
    if name == "misaligned":
        return _misaligned(base)
    if name == "byteswapped":
        return _byteswapped(base)
    if name == "readonly":
        return _readonly(base)
    if name == "record_first":
        return _record_field(base, True)
    if name == "record_offset1":
        return _record_field(base, False)
    raise ValueError(name)


LAYOUTS = [
    "C",
    "F",
    "reversed",
    "step2",
    "step3",
    "neg_step",
    "padded",
    "transposed3d",
    "broadcast",
    "broadcast_col",
    "misaligned",
    "byteswapped",
    "readonly",
    "record_first",
    "record_offset1",
]
LAYOUT_DTYPES = (
    np.bool_,
    np.int8,
    np.uint16,
    np.int32,
    np.int64,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
)


def _expected_path(layout: str, a: np.ndarray) -> str:
    if a.dtype == np.float16:
        return "kernel+copy"
    size = a.dtype.itemsize
    if layout == "byteswapped" and size > 1:
        return "kernel+copy"
    in_place = a.ctypes.data % size == 0 and all(s % size == 0 for s in a.strides)
    return "kernel" if in_place else "kernel+copy"


def _bool_ptp(func: str, a: np.ndarray) -> str:
    """ "numpy" for ptp of bool (numpy refuses to subtract booleans: its TypeError)."""
    return "numpy" if func in PTP_FUNCS and a.dtype == np.bool_ else ""


@pytest.mark.parametrize("dtype", LAYOUT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("func", FUNCS)
def test_layouts(func: str, layout: str, dtype: Any) -> None:
    a = _layout(layout, dtype)
    want = _expected_path(layout, a)
    if layout in ("misaligned", "record_offset1", "byteswapped") and a.dtype.itemsize > 1:
        assert want == "kernel+copy"
    if layout in ("C", "F", "reversed", "step2", "padded", "broadcast", "readonly"):
        assert want == "kernel" or dtype == np.float16
    want = _bool_ptp(func, a) or want
    for axis in [*axis_choices(a.ndim, full=False), tuple(range(a.ndim)), (0, -1)]:
        # argmin/argmax take one axis: a tuple is numpy's TypeError (compared, not a path).
        if not (func in ARG_FUNCS and isinstance(axis, tuple)):
            assert explain_path(func, a, {"axis": axis}) == want, (layout, axis)
        check_against_numpy(func, a, axis=axis)
    check_against_numpy(func, a, axis=-1, keepdims=True)


def test_record_field_stride_12_is_copied() -> None:
    """The issue's example: dtype [('a','f8'),('b','i4')] packed, field 'a' has stride 12."""
    rec = np.zeros(10, dtype=[("a", "f8"), ("b", "i4")])
    rec["a"] = np.arange(10) * 1.5
    a = rec["a"]
    assert a.strides == (12,)
    e = sw.explain(sw.sum, a)
    assert e["path"] == "kernel+copy"
    for func in FUNCS:
        check_against_numpy(func, a)


# --------------------------------------------------------------------------------------------
# dtype=


SUM_DTYPE_TARGETS = [
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex128,
    np.bool_,
]
FLOAT_TARGETS = [np.float16, np.float32, np.float64, np.complex128, np.int64, np.longdouble]


@pytest.mark.parametrize("target", SUM_DTYPE_TARGETS, ids=dtype_id)
@pytest.mark.parametrize("src", ALL_KERNEL_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("func", SUM_FUNCS)
def test_sum_dtype(func: str, src: Any, target: Any) -> None:
    a = make_data(src, (5, 9), seed=2)
    if np.dtype(src).kind == "f":
        a = (a * 0.25).astype(src)  # keep float16 sums away from overflow to inf
    for axis in (None, 0, 1):
        check_against_numpy(func, a, axis=axis, dtype=target)
    check_against_numpy(func, a, axis=1, dtype=target, keepdims=True)


@pytest.mark.parametrize("target", FLOAT_TARGETS, ids=dtype_id)
@pytest.mark.parametrize("src", ALL_KERNEL_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("func", MEAN_FUNCS + VAR_FUNCS)
def test_float_dtype(func: str, src: Any, target: Any) -> None:
    a = make_data(src, (5, 9), seed=4)
    for axis in (None, 0, 1):
        check_against_numpy(func, a, axis=axis, dtype=target)


@pytest.mark.parametrize("func", VAR_FUNCS)
def test_var_dtype_narrower_than_the_deviations(func: str) -> None:
    """numpy's var takes the mean in `dtype` but the deviations in the type the input and
    `dtype` promote to: float32 of int64 or float64 input is numpy's own path (cast first,
    [16777217, 16777216] gave 0 where numpy says 0.5); where `dtype` is that type, the kernel."""
    for a in (np.array([16777217, 16777216]), np.array([1.0, 1.0 + 2.0**-30])):
        assert explain_path(func, a, {"dtype": np.float32}) == "numpy"
        want = getattr(np, func)(a, dtype=np.float32)
        got = getattr(sw, func)(a, dtype=np.float32)
        assert type(got) is type(want) and got.tobytes() == want.tobytes(), (a, got, want)
    assert explain_path(func, np.arange(4, dtype=np.int8), {"dtype": np.float32}) != "numpy"
    assert explain_path(func, np.arange(4, dtype=np.float32), {"dtype": np.float64}) != "numpy"


def test_dtype_string_and_wider_float_take_copy_path() -> None:
    a = np.arange(10, dtype=np.float32)
    assert explain_path("sum", a, {"dtype": "float64"}) == "kernel+copy"
    assert explain_path("mean", a, {"dtype": np.float64}) == "kernel+copy"
    assert explain_path("sum", a, {"dtype": np.float32}) == "kernel"
    check_against_numpy("sum", a, dtype="float64")
    check_against_numpy("mean", a, dtype="f8")
    check_against_numpy("var", a, dtype="d")


# --------------------------------------------------------------------------------------------
# out=


def _result_template(func: str, a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.asarray(getattr(np, func)(a, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.float16, np.float32, np.float64])
@pytest.mark.parametrize("func", OUT_FUNCS)
def test_out_good(func: str, dtype: Any) -> None:
    """An out= of the exact result shape and dtype: the kernel writes it and returns it."""
    a = make_data(dtype, (4, 6), seed=9)
    for axis, keepdims in [(0, False), (1, False), (1, True), (None, False), (None, True)]:
        tmpl = _result_template(func, a, axis, keepdims)
        out = np.full(tmpl.shape, 99, dtype=tmpl.dtype)
        o = check_against_numpy(func, a, axis=axis, keepdims=keepdims, out=out)
        assert isinstance(o.result, np.ndarray)
        if dtype != np.float16:
            assert explain_path(func, a, {"axis": axis, "keepdims": keepdims, "out": out}) == (
                "kernel"
            )
        # A strided out (a view) of the right shape and dtype.
        if tmpl.ndim == 1:
            big = np.full((tmpl.shape[0], 3), 7, dtype=tmpl.dtype)
            check_against_numpy(func, a, axis=axis, keepdims=keepdims, out=big[:, 1])


@pytest.mark.parametrize("func", OUT_FUNCS)
def test_out_written_in_place(func: str) -> None:
    """The returned object is out itself and holds the values."""
    a = make_data(np.float64, (4, 6), seed=1)
    expected = getattr(np, func)(a, axis=0)
    out = np.empty(6, expected.dtype)
    r = getattr(sw, func)(a, axis=0, out=out)
    assert r is out
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def _bad_outs(tmpl: np.ndarray) -> dict[str, Any]:
    """out= values numpy rejects or casts into (the outcome must match numpy's)."""
    n = max(tmpl.size, 1)
    ro = np.zeros(tmpl.shape, tmpl.dtype)
    ro.flags.writeable = False
    other = np.float32 if tmpl.dtype != np.float32 else np.float64
    return {
        "too_long": np.full(n + 1, 5, tmpl.dtype),
        "extra_dim": np.full((1, *tmpl.shape), 5, tmpl.dtype),
        "missing_dim": np.full(tmpl.shape[1:], 5, tmpl.dtype) if tmpl.ndim else None,
        "readonly": ro,
        "list": [0] * n,
        "int_for_float": np.full(tmpl.shape, 5, np.int8),
        "other_float": np.full(tmpl.shape, 5, other),
        "bool": np.zeros(tmpl.shape, bool),
        "byteswapped": np.zeros(tmpl.shape, tmpl.dtype.newbyteorder("S")),
        "masked_out": np.ma.zeros(tmpl.shape, tmpl.dtype),
    }


@pytest.mark.parametrize(
    "bad",
    [
        "too_long",
        "extra_dim",
        "missing_dim",
        "readonly",
        "list",
        "int_for_float",
        "other_float",
        "bool",
        "byteswapped",
        "masked_out",
    ],
)
@pytest.mark.parametrize("func", OUT_FUNCS)
def test_out_bad(func: str, bad: str) -> None:
    """An out= that is not an exact match: numpy's exception (same type and message) with out
    unchanged, or numpy's cast; never a silently different result."""
    for dtype in (np.float64, np.int16):
        a = make_data(dtype, (4, 6), seed=2)
        for axis in (0, None):
            tmpl = _result_template(func, a, axis, False)
            out = _bad_outs(tmpl)[bad]
            if out is None:
                continue
            if (bad == "bool" and tmpl.dtype == np.bool_) or (
                bad == "byteswapped" and tmpl.dtype.itemsize == 1
            ):
                continue  # any/all: the exact result dtype, not a bad out
            if isinstance(out, np.ndarray):
                assert explain_path(func, a, {"axis": axis, "out": out}) == "numpy"
            check_against_numpy(func, a, axis=axis, out=out)


# --------------------------------------------------------------------------------------------
# ddof / correction


@pytest.mark.parametrize("dtype", [np.int16, np.uint64, np.float16, np.float32, np.float64])
@pytest.mark.parametrize("func", VAR_FUNCS)
def test_ddof_correction(func: str, dtype: Any) -> None:
    a = make_data(dtype, (4, 7), seed=6)
    if dtype in FLOAT_DTYPES:
        a[1, 2] = np.nan
    for axis in (None, 0, 1, (0, 1)):
        for kw in (
            {"ddof": 0},
            {"ddof": 1},
            {"ddof": 2},
            {"ddof": 3},
            {"ddof": 0.5},
            {"ddof": -1},
            {"ddof": np.int64(1)},
            {"ddof": np.float32(1.5)},
            {"correction": 1},
            {"correction": 2.5},
            {"ddof": 0, "correction": 1},
            {"ddof": 1, "correction": 1},
            {"ddof": True},
            {"ddof": 1, "keepdims": True},
        ):
            check_against_numpy(func, a, axis=axis, **kw)


@pytest.mark.parametrize("func", VAR_FUNCS)
def test_empty_slice_with_negative_ddof(func: str) -> None:
    """n - ddof > 0 but nothing to average: numpy's answer and warnings, not a kernel's 0."""
    for shape, axis in (((0,), None), ((0, 3), 0), ((3, 0), 1)):
        a = np.empty(shape)
        check_against_numpy(func, a, axis=axis, ddof=-1)
        check_against_numpy(func, a, axis=axis, ddof=-2.5)
        # numpy's own floating-point warning for its 0/0 mean, too.
        seen = []
        for lib in (np, sw):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                getattr(lib, func)(a, axis=axis, ddof=-1)
            seen.append([str(x.message) for x in w])
        assert seen[0] == seen[1], seen


# --------------------------------------------------------------------------------------------
# Explicit values for the optional arguments (numpy's sentinel, None, non-bools)


def _explicit_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for func in FUNCS:
        for value in (np._NoValue, None, np.True_, 1, 0, "yes"):
            cases.append((func, "keepdims", value))
        for value in (np._NoValue, None):
            for kw in ("where", "axis", "out", "initial", "dtype", "ddof", "correction", "mean"):
                if kw in KEYWORDS[func]:
                    cases.append((func, kw, value))
    return cases


EXPLICIT_CASES = _explicit_cases()


@pytest.mark.parametrize(
    ("func", "param", "value"),
    EXPLICIT_CASES,
    ids=[f"{f}-{p}={v!r}" for f, p, v in EXPLICIT_CASES],
)
def test_explicit_argument_values(func: str, param: str, value: Any) -> None:
    """numpy's own default sentinel (numpy._NoValue, which numpy-style wrappers forward),
    an explicit None and non-bool keepdims: the outcome numpy gives (a result, or its
    exception)."""
    a = make_data(np.float64, (3, 4), seed=1)
    check_against_numpy(func, a, **{param: value})
    check_against_numpy(func, a, axis=0, **({param: value} if param != "axis" else {}))


# --------------------------------------------------------------------------------------------
# where= / initial= / mean= (all delegated to numpy)


@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.float64])
@pytest.mark.parametrize("func", WHERE_FUNCS)
def test_where(func: str, dtype: Any) -> None:
    a = make_data(dtype, (4, 6), seed=8)
    mask = make_data(np.bool_, (4, 6), seed=1)
    mask[:, 0] = True  # min/max need at least one element per slice
    minmax = func in MINMAX_FUNCS
    initial = {"initial": -1000 if func.endswith("max") else 1000} if minmax else {}
    for axis in (None, 0, 1):
        # where=True (Python's) masks nothing: the kernel takes it.
        assert explain_path(func, a, {"axis": axis, "where": True}) == "kernel"
        check_against_numpy(func, a, axis=axis, where=True)
        # Masks: numpy computes them (min/max need initial= with a mask).
        for w in (mask, mask[0], np.ones((4, 6), bool)):
            kw = {"axis": axis, "where": w, **initial}
            assert explain_path(func, a, kw) == "numpy"
            check_against_numpy(func, a, **kw)
            if minmax:
                check_against_numpy(func, a, axis=axis, where=w)  # numpy: ValueError


@pytest.mark.parametrize("func", WHERE_FUNCS)
def test_where_numpy_true(func: str) -> None:
    """where=numpy.True_ is not Python's True to numpy: a mask, so min/max without initial=
    raise ValueError (sum/mean/var give the unmasked answer)."""
    a = make_data(np.float64, (4, 6), seed=8)
    for axis in (None, 0, 1):
        check_against_numpy(func, a, axis=axis, where=np.True_)
        if func in MINMAX_FUNCS:
            initial = -1000 if func.endswith("max") else 1000
            check_against_numpy(func, a, axis=axis, where=np.True_, initial=initial)


@pytest.mark.parametrize("func", [f for f in FUNCS if f in SUM_FUNCS or f in MINMAX_FUNCS])
def test_initial(func: str) -> None:
    for dtype in (np.int8, np.uint32, np.float32, np.float64):
        a = make_data(dtype, (3, 5), seed=7)
        for initial in (0, 5, -3, 2.5, 10**3):
            for axis in (None, 0, 1):
                assert explain_path(func, a, {"axis": axis, "initial": initial}) == "numpy"
                check_against_numpy(func, a, axis=axis, initial=initial)
        empty = np.zeros((0, 3), dtype)
        check_against_numpy(func, empty, axis=0, initial=4)
        check_against_numpy(func, empty, initial=4)


@pytest.mark.parametrize("func", VAR_FUNCS)
def test_mean_kw(func: str) -> None:
    a = make_data(np.float64, (4, 6), seed=3)
    for axis in (0, 1):
        m = np.mean(a, axis=axis, keepdims=True)
        assert explain_path(func, a, {"axis": axis, "mean": m}) == "numpy"
        check_against_numpy(func, a, axis=axis, mean=m)


# --------------------------------------------------------------------------------------------
# Delegated dtypes, subclasses, other inputs


def _delegated(kind: str) -> np.ndarray:
    rng = np.random.default_rng(1)
    if kind == "complex128":
        return make_data(np.complex128, (3, 4))
    if kind == "complex64":
        return make_data(np.complex64, (3, 4))
    if kind == "object":
        return np.array(rng.integers(-50, 50, (3, 4)).tolist(), dtype=object)
    if kind == "object_float":
        return np.array(rng.standard_normal((3, 4)).tolist(), dtype=object)
    if kind == "datetime64":
        return rng.integers(0, 10**6, (3, 4)).astype("datetime64[s]")
    if kind == "timedelta64":
        return rng.integers(-(10**6), 10**6, (3, 4)).astype("timedelta64[ms]")
    if kind == "longdouble":
        return make_data(np.float64, (3, 4)).astype(np.longdouble)
    if kind == "str":
        return np.array([["b", "a", "cc", "d"], ["e", "f", "g", "h"], ["x", "y", "z", "w"]])
    if kind == "bytes":
        return np.array([[b"b", b"a"], [b"c", b"d"]])
    raise ValueError(kind)


DELEGATED = [
    "complex128",
    "complex64",
    "object",
    "object_float",
    "datetime64",
    "timedelta64",
    "longdouble",
    "str",
    "bytes",
]


@pytest.mark.parametrize("kind", DELEGATED)
@pytest.mark.parametrize("func", FUNCS)
def test_delegated_dtypes(func: str, kind: str) -> None:
    a = _delegated(kind)
    for axis in (None, 0, -1, (0, 1)):
        assert explain_path(func, a, {"axis": axis}) == "numpy"
        check_against_numpy(func, a, axis=axis)
    check_against_numpy(func, a, axis=1, keepdims=True)


@pytest.mark.parametrize("func", FUNCS)
def test_masked_array(func: str) -> None:
    data = make_data(np.float64, (3, 5), seed=4)
    mask = make_data(np.bool_, (3, 5), seed=6)
    m = np.ma.masked_array(data, mask=mask)
    assert explain_path(func, m, {}) == "numpy"
    for axis in (None, 0, 1):
        r_np, r_sw = getattr(np, func)(m, axis=axis), getattr(sw, func)(m, axis=axis)
        assert type(r_sw) is type(r_np)
        np.testing.assert_array_equal(np.ma.getmaskarray(r_sw), np.ma.getmaskarray(r_np))
        np.testing.assert_array_equal(np.ma.filled(r_sw, 0), np.ma.filled(r_np, 0))


@pytest.mark.parametrize("func", FUNCS)
def test_matrix(func: str) -> None:
    with pytest.warns(PendingDeprecationWarning):
        m = np.matrix(make_data(np.float64, (3, 4), seed=2))
    assert explain_path(func, m, {}) == "numpy"
    for axis in (None, 0, 1):
        check_against_numpy(func, m, axis=axis)


PY_INPUTS = [
    [1, 2, 3],
    (1.5, 2.5, -1.0),
    [[1, 2], [3, 4]],
    [True, False, True],
    3,
    2.5,
    True,
    [],
    [[1, 2], [3]],
    [1, "a"],
    [2**63, 1],
    [[1.0, float("nan")], [2.0, 3.0]],
]


@pytest.mark.parametrize("a", PY_INPUTS, ids=repr)
@pytest.mark.parametrize("func", FUNCS)
def test_python_inputs(func: str, a: Any) -> None:
    check_against_numpy(func, a)
    check_against_numpy(func, a, axis=0)


@pytest.mark.parametrize("func", FUNCS)
def test_numpy_scalars_and_0d(func: str) -> None:
    inputs = (np.float64(2.5), np.int8(-3), np.array(4.0), np.array(7, np.uint16), 1.5)
    for a in inputs:
        check_against_numpy(func, a)
        check_against_numpy(func, a, axis=0)
        check_against_numpy(func, a, axis=-1)
        check_against_numpy(func, a, axis=())
        check_against_numpy(func, a, axis=1)  # AxisError


@pytest.mark.parametrize(
    "a", [np.float64(2.5), np.array(4.0), np.array(7, np.uint16), 1.5], ids=repr
)
@pytest.mark.parametrize("func", FUNCS)
def test_0d_keepdims(func: str, a: Any) -> None:
    """numpy returns a numpy scalar when reducing a 0-d input, keepdims or not."""
    check_against_numpy(func, a, keepdims=True)
    check_against_numpy(func, a, axis=None, keepdims=True)


@pytest.mark.parametrize(
    "a", [np.float64(2.5), np.float32(1.5), np.int64(3), np.array(4.0)], ids=repr
)
@pytest.mark.parametrize("func", OUT_FUNCS)
def test_numpy_scalar_with_out(func: str, a: Any) -> None:
    """numpy reduces a numpy scalar with the scalar's own method, which writes out= but
    returns a numpy scalar, not out."""
    out = np.full((), 7.0)
    check_against_numpy(func, a, out=out)
    check_against_numpy(func, a, axis=None, out=out)


# --------------------------------------------------------------------------------------------
# Accuracy beyond the small cases


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("func", ["sum", "nansum", "mean", "nanmean"])
def test_ill_conditioned(func: str, dtype: Any) -> None:
    """Cancellation: numpy's pairwise sum loses digits; stridewise must not be worse."""
    big = 1e8 if dtype == np.float32 else 1e16
    rng = np.random.default_rng(12)
    x = np.tile(np.array([big, 1.0, -big, 0.5], dtype=dtype), 5000)
    y = (rng.standard_normal(20_000) * np.logspace(0, 12, 20_000)).astype(dtype)
    z = np.concatenate([y, -y[::-1], [np.asarray(3.25, dtype)]]).astype(dtype)
    for a in (x, y, z, x.reshape(100, 200), z[:-1].reshape(200, 200)):
        for axis in (None, 0, -1):
            check_against_numpy(func, a, axis=axis)


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.int32, np.uint8, np.float16, np.int64, np.uint64]
)
@pytest.mark.parametrize("func", ["sum", "mean", "var", "std", "min", "nanmax", "nanmean"])
def test_large(func: str, dtype: Any) -> None:
    """Above the parallel threshold and across many 32 Ki units (whole and per axis)."""
    n = sw.parallel_threshold() + 12_345
    a = make_data(dtype, (n,), seed=5)
    if dtype == np.float16:
        a = (a * 0.01).astype(dtype)
    check_against_numpy(func, a)
    m = make_data(dtype, (1000, 530), seed=6)
    if dtype == np.float16:
        m = (m * 0.01).astype(dtype)
    for axis in (None, 0, 1):
        check_against_numpy(func, m, axis=axis)
    check_against_numpy(func, m.T[::-1], axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("func", sorted(NAN_FUNCS))
def test_large_with_nan(func: str, dtype: Any) -> None:
    """NaN scattered through inputs above the parallel threshold, and all-NaN columns."""
    a = make_data(dtype, (1100, 600), seed=8, nan=0.1)
    a[:, 7] = np.nan
    for axis in (None, 0, 1):
        check_against_numpy(func, a, axis=axis)


@pytest.mark.parametrize("func", FUNCS)
def test_many_outputs(func: str) -> None:
    """More outputs than one tile (1024) on both the lane and the vertical paths."""
    for dtype in (np.float64, np.float32, np.int16):
        a = make_data(dtype, (7, 3001), seed=4)
        check_against_numpy(func, a, axis=0)
        check_against_numpy(func, a.T, axis=1)
        check_against_numpy(func, a.T, axis=0)
        check_against_numpy(func, a[:, ::-2], axis=0)
        check_against_numpy(func, a.reshape(7, 3001, 1), axis=(0, 2))


@pytest.mark.parametrize("func", OUT_FUNCS)
def test_out_aliasing_input(func: str) -> None:
    """out= a view of the input: numpy's result is computed from the input as it was.
    (argmin/argmax write int64: their input is int64 here, so that out= can alias it.)"""
    base = make_data(np.int64 if func in ARG_FUNCS else np.float64, (5, 6), seed=2)
    a_np, a_sw = base.copy(), base.copy()
    r_np = getattr(np, func)(a_np, axis=0, out=a_np[0])
    r_sw = getattr(sw, func)(a_sw, axis=0, out=a_sw[0])
    assert r_sw is not None and np.shares_memory(r_sw, a_sw)
    np.testing.assert_allclose(a_sw, a_np, rtol=1e-13)
    np.testing.assert_allclose(r_sw, r_np, rtol=1e-13)


@pytest.mark.parametrize("func", FUNCS)
def test_axis_forms(func: str) -> None:
    """numpy integers, 0-d integer arrays and mixed tuples are accepted as numpy accepts."""
    a = make_data(np.float32, (3, 4, 5), seed=1)
    for axis in (np.int64(1), np.uint8(0), np.array(2), (np.int32(0), -1), (np.int16(-2),)):
        check_against_numpy(func, a, axis=axis)


class _ArrayLike:
    """Not an ndarray: numpy converts it through __array__."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)


class _Sub(np.ndarray):
    pass


@pytest.mark.parametrize("func", FUNCS)
def test_array_likes_and_subclasses(func: str) -> None:
    data = make_data(np.float64, (3, 4), seed=5)
    like = _ArrayLike(data)
    assert explain_path(func, like, {}) == "numpy"
    sub = data.view(_Sub)
    assert explain_path(func, sub, {}) == "numpy"
    for axis in (None, 0, 1):
        check_against_numpy(func, like, axis=axis)
        check_against_numpy(func, sub, axis=axis)
        check_against_numpy(func, sub, axis=axis, keepdims=True)
    # A read-only input and an F-ordered input of a subclass.
    check_against_numpy(func, np.asfortranarray(data).view(_Sub), axis=0)


def test_var_ill_conditioned_mean() -> None:
    """A large mean and tiny spread: the two-pass (or compensated) variance stays accurate."""
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        offset = 1e4 if dtype == np.float32 else 1e9
        a = (offset + rng.standard_normal((300, 40))).astype(dtype)
        for func in VAR_FUNCS:
            for axis in (None, 0, 1):
                check_against_numpy(func, a, axis=axis)


def test_integer_extremes() -> None:
    """Integer sums wrap like numpy's; means and variances of huge integers stay exact-ish."""
    for dt in (np.int64, np.uint64, np.int32, np.uint32, np.int8, np.uint8):
        info = np.iinfo(dt)
        a = np.array([info.max, info.max, info.min, info.max, 1], dtype=dt)
        for func in FUNCS:
            check_against_numpy(func, a)
            check_against_numpy(func, np.tile(a, (3, 1)), axis=1)
    # longlong/ulonglong: int64/uint64 to the kernels, their own scalar types to numpy.
    for dt in (np.longlong, np.ulonglong, np.intc):
        a = np.arange(12, dtype=dt).reshape(3, 4)
        for func in FUNCS:
            for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}):
                check_against_numpy(func, a, **kw)
        for func in ("sum", "prod", "nansum"):
            for want in (np.longlong, np.int64, np.ulonglong, np.uint64):
                check_against_numpy(func, a, dtype=want)
                check_against_numpy(func, a, axis=0, dtype=want)
    huge = np.full(1000, 2**62 + 1, dtype=np.int64)
    for func in ("sum", "mean", "var", "std"):
        check_against_numpy(func, huge)


def test_platform_is_little_endian() -> None:
    """The byte-swapped layout cases assume a little-endian host (x86-64 / aarch64)."""
    assert sys.byteorder == "little"
    assert NAN_FUNCS


@pytest.mark.parametrize("dtype", ["f8", "f4", "i8", "i4", "i2", "u2", "u8", "u1", "i1", "?"])
def test_arg_lines_across_blocks(dtype: str) -> None:
    """argmin/argmax (and the nan-variants) of lines whose lengths straddle the kernel's
    blocks and chunks (31 to 2100), with ties, NaN, infinities, signed zeros and integer
    extremes at random places: the one-pass first chunk (each lane's best and its block)
    against numpy, at every SIMD level here, on one thread and two. Infinities of both
    signs, and finite values whose sum overflows, with no NaN: the first chunk's NaN probe
    (a sum per lane) is NaN there without a NaN element."""
    rng = np.random.default_rng(7)
    cases = []
    for n in (31, 32, 33, 40, 63, 65, 100, 129, 316, 1023, 1024, 1025, 2100):
        for kind in range(8):
            shape = (5, n)
            if dtype == "?":
                a = rng.integers(0, 2, shape).astype(bool)
            elif dtype[0] == "f":
                a = rng.integers(-3, 4, shape).astype(dtype)  # ties
                for k, v in enumerate((np.nan, np.inf, -np.inf)):
                    if kind > k:
                        a[rng.integers(0, 5, 4), rng.integers(0, n, 4)] = v
                if kind == 4:  # only zeros of both signs
                    a[:] = -0.0
                    a[rng.integers(0, 5, 3), rng.integers(0, n, 3)] = 0.0
                if kind == 5:  # NaN but for a few -inf
                    a[:] = np.nan
                    a[rng.integers(0, 5, 3), rng.integers(0, n, 3)] = -np.inf
                if kind >= 6:  # no NaN: infinities of both signs, or sums that overflow
                    big = np.inf if kind == 6 else np.finfo(dtype).max
                    a[np.isnan(a)] = 2.0
                    a[rng.integers(0, 5, 6), rng.integers(0, n, 6)] = big
                    a[rng.integers(0, 5, 6), rng.integers(0, n, 6)] = -big
            else:
                info = np.iinfo(dtype)
                a = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
                if kind >= 1:
                    a = rng.integers(-2, 3, shape).astype(dtype)
                if kind >= 2:
                    a[rng.integers(0, 5, 3), rng.integers(0, n, 3)] = info.max
                if kind >= 3:
                    a[rng.integers(0, 5, 3), rng.integers(0, n, 3)] = info.min
            cases += [a, a[:, ::-1]]
    funcs = ["argmax", "argmin"] + (["nanargmax", "nanargmin"] if dtype[0] == "f" else [])
    for level in sw.available_simd_levels():
        for threads in (1, 2):
            sw.set_simd_level(level)
            sw.set_num_threads(threads)
            for a in cases:
                for name in funcs:
                    for axis in (1, None):
                        try:
                            want: Any = getattr(np, name)(a, axis=axis)
                        except ValueError:
                            with pytest.raises(ValueError):
                                getattr(sw, name)(a, axis=axis)
                            continue
                        got = getattr(sw, name)(a, axis=axis)
                        assert np.array_equal(got, want), (name, level, threads, a.shape, axis)


@pytest.mark.parametrize("dtype", ["f8", "f4"])
def test_arg_nan_at_every_position(dtype: str) -> None:
    """argmin/argmax and the nan-variants with one NaN at every position in turn, then a whole
    NaN row and column, in C order, F order and reversed, over every axis and the whole
    array, at every SIMD level here: numpy's answer, or its error (an all-NaN slice) with its
    message, by the suite's oracle."""
    base = (np.arange(42.0, dtype=dtype).reshape(6, 7) * 7) % 11  # ties
    arrays = []
    for i in range(base.size):
        a = base.copy()
        a.flat[i] = np.nan
        arrays.append(a)
    a = base.copy()
    a[2] = np.nan
    a[:, 5] = np.nan
    arrays.append(a)
    for level in sw.available_simd_levels():
        sw.set_simd_level(level)
        for a in arrays:
            for view in (a, np.asfortranarray(a), a[::-1, ::-1]):
                for name in ("argmax", "argmin", "nanargmax", "nanargmin"):
                    for axis in (None, 0, 1):
                        check_against_numpy(name, view, axis=axis)
