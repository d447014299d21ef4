"""median, nanmedian, quantile, nanquantile, percentile and nanpercentile against numpy: the
same type, dtype, shape and values (bit for bit: the order statistics are exact and numpy's
own interpolation runs on them), the same warnings and errors, over dtypes x layouts x axes
x keepdims x every method x q forms x NaN patterns, at one and two threads; the input is
never modified."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import is_fp_warning, make_data
from test_against_numpy import LAYOUTS, _layout

FUNCS = ("median", "nanmedian", "quantile", "nanquantile", "percentile", "nanpercentile")
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
)


def _q(func: str, q: Any) -> Any:
    """A quantile argument for `func` (percentiles are scaled by 100, keeping the form)."""
    if not func.endswith("percentile"):
        return q
    if isinstance(q, np.ndarray):
        return q * q.dtype.type(100)
    if isinstance(q, list):
        return [x * 100 for x in q]
    return q * 100


def _run(mod: Any, func: str, a: Any, args: tuple, kwargs: dict) -> tuple[Any, Any, list]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            res, exc = getattr(mod, func)(a, *args, **kwargs), None
        except Exception as e:  # the comparison is the point
            res, exc = None, e
    return res, exc, [(w.category, str(w.message)) for w in rec]


def check(func: str, a: Any, *args: Any, **kwargs: Any) -> Any:
    """numpy and stridewise agree on everything; returns stridewise's result."""
    snap = np.array(a, copy=True) if isinstance(a, np.ndarray) else None
    ctx = f"{func}(dtype={getattr(a, 'dtype', None)}, shape={np.shape(a)}, "
    ctx += f"strides={getattr(a, 'strides', None)}, {args!r}, {kwargs!r})"
    r_np, e_np, w_np = _run(np, func, a, args, kwargs)
    r_sw, e_sw, w_sw = _run(sw, func, a, args, kwargs)
    if snap is not None:
        np.testing.assert_array_equal(a, snap, err_msg=f"{ctx}: input modified", strict=True)
    if e_np is not None:
        assert type(e_sw) is type(e_np) and str(e_sw) == str(e_np), f"{ctx}: {e_np!r} {e_sw!r}"
        return None
    assert e_sw is None, f"{ctx}: stridewise raised {e_sw!r}"
    # Reduction warnings alike (numpy's count: one per all-NaN slice); floating-point ones
    # ("invalid value encountered in subtract") only of kinds numpy emits too: numpy emits
    # them per slice, stridewise once per vectorised step.
    assert [w for w in w_sw if not is_fp_warning(w)] == [w for w in w_np if not is_fp_warning(w)], (
        f"{ctx}: warnings {w_sw} != numpy's {w_np}"
    )
    assert {w for w in w_sw if is_fp_warning(w)} <= set(w_np), f"{ctx}: {w_sw} {w_np}"
    assert type(r_sw) is type(r_np), f"{ctx}: type {type(r_sw)} != {type(r_np)}"
    x, y = np.asarray(r_sw), np.asarray(r_np)
    assert x.dtype == y.dtype and x.shape == y.shape, (
        f"{ctx}: {x.dtype}{x.shape} {y.dtype}{y.shape}"
    )
    np.testing.assert_array_equal(x, y, err_msg=ctx, strict=True)
    return r_sw


def _path(func: str, a: Any, **kwargs: Any) -> str:
    return sw.explain(func, a, **kwargs)["path"]


def _call_args(func: str) -> tuple:
    return () if func.endswith("median") else (_q(func, [0.1, 0.5, 0.93]),)


LAYOUT_DTYPES = (
    np.bool_,
    np.int8,
    np.uint16,
    np.int64,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", LAYOUT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_layouts(func: str, layout: str, dtype: Any) -> None:
    a = _layout(layout, dtype)
    kernel = (np.dtype(dtype).kind in "iuf" and np.dtype(dtype).itemsize > 2) or np.dtype(
        dtype
    ) in (np.dtype(np.int8), np.dtype(np.uint16))
    for axis in (None, 0, 1, -1, (0, 1)):
        if axis == (0, 1) and a.ndim == 3:
            axis = (0, 2)
        for keepdims in (False, True):
            check(func, a, *_call_args(func), axis=axis, keepdims=keepdims)
    path = _path(func, a, axis=0)
    assert (path != "numpy") == kernel, f"{layout} {np.dtype(dtype)}: {path}"


@pytest.mark.parametrize("func", ["quantile", "nanquantile", "percentile", "nanpercentile"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "dtype", [np.int32, np.float32, np.float64], ids=lambda d: np.dtype(d).name
)
def test_methods_q_forms_and_nan_patterns(func: str, method: str, dtype: Any) -> None:
    a = make_data(dtype, (9, 12), seed=3)
    if np.dtype(dtype).kind == "f":
        a[2, 3] = np.nan  # some
        a[4, :] = np.nan  # a whole row
        a[:, 7] = np.nan  # a whole column
    qs = [0.0, 1.0, 0, 1, 0.5, 0.37, [0.0, 0.2, 0.5, 1.0], np.array([0.01, 0.99], np.float32)]
    qs += [np.array(0.75), np.linspace(0, 1, 11)]
    for q in qs:
        for axis in (None, 0, 1):
            check(func, a, _q(func, q), axis=axis, method=method)
    check(func, a, _q(func, 0.3), axis=1, method=method, keepdims=True)


@pytest.mark.parametrize("func", ["median", "nanmedian"])
@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint64, np.float32, np.float64], ids=lambda d: np.dtype(d).name
)
@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (8,), (5, 1), (1, 6), (4, 5), (3, 4, 5)])
def test_median_shapes(func: str, dtype: Any, shape: tuple) -> None:
    a = make_data(dtype, shape, seed=sum(shape))
    for axis in [None, *range(a.ndim), *range(-a.ndim, 0)]:
        for keepdims in (False, True):
            check(func, a, axis=axis, keepdims=keepdims)
    if a.ndim == 3:
        check(func, a, axis=(0, 2))
        check(func, a, axis=(2, 0, 1), keepdims=True)


def test_special_values_ties_and_extremes() -> None:
    f = np.array([0.0, -0.0, np.inf, -np.inf, 1.0, 1.0, 1.0, -2.5, np.inf, 5e-324, -1e308, 1e308])
    for func in FUNCS:
        args = _call_args(func)
        check(func, f, *args)
        check(func, f.reshape(3, 4), *args, axis=0)
        check(func, f.reshape(3, 4), *args, axis=1)
    for dt in (np.int8, np.int64, np.uint64):
        info = np.iinfo(dt)
        x = np.array([info.min, info.max, info.max, 0, 1, info.min], dtype=dt)
        for func in FUNCS:
            check(func, x, *_call_args(func))
            check(func, x.reshape(2, 3), *_call_args(func), axis=1)
    ties = np.repeat(np.arange(5.0), 40)[::-1].copy()
    for func in FUNCS:
        check(func, ties, *_call_args(func))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint64, np.int16])
def test_whole_array_calls_are_numpys(dtype: Any) -> None:
    # median(a), nanmedian(a) and quantile(a, q) of a whole array, q a float or up to 16 of
    # them, take a short path (numpy's arithmetic on Python floats); values, types, shapes
    # and warnings as numpy's, overflow included.
    rng = np.random.default_rng(11)
    if np.dtype(dtype).kind == "f":
        big = np.finfo(dtype).max
        pools = [
            [0.0, -0.0, 1.0, -1.0],
            [np.inf, -np.inf, 1.0],
            [big, big * 0.9, -big],
            [5e-324, 1e-310, 0.0, -5e-324],
            [np.nan, 1.0, 2.0],
        ]
    else:
        info = np.iinfo(dtype)
        pools = [[info.min, info.max, 0, 1], [info.max, info.max - 1]]
    calls = [
        ("median", ()),
        ("nanmedian", ()),
        ("quantile", (0.37,)),
        ("quantile", (1.0,)),
        ("percentile", (0.0,)),
        ("percentile", (62.5,)),
        ("nanquantile", (0.5,)),
        ("nanpercentile", (99.9,)),
        ("quantile", ([0.0, 0.37, 1.0],)),
        ("percentile", (np.array([5.0, 50.0, 100.0]),)),
        ("nanquantile", ((0.5, 0.9),)),
        ("nanpercentile", ([12.5],)),
        ("quantile", (np.linspace(0, 1, 16),)),
        ("quantile", ([0, 1],)),  # integer q: numpy takes the elements (the general path)
    ]
    for n in (1, 2, 3, 4, 5, 1000, 1001):
        for pool in pools:
            a = rng.choice(np.array(pool, dtype=dtype), n)
            for func, args in calls:
                check(func, a, *args)
                check(func, a[::-1], *args)
    # NaN with infinities or near-overflow values: numpy's mean and _lerp still run on the
    # elements at the ranks, so errstate decides (FloatingPointError under "raise").
    if np.dtype(dtype).kind == "f":
        big = np.finfo(dtype).max
        for pool in ([np.inf, -np.inf, np.nan], [big, big, np.nan, 1.0]):
            for n in (3, 4, 1000):
                a = rng.choice(np.array(pool, dtype=dtype), n)
                a[0] = np.nan
                with np.errstate(all="raise"):
                    for func, args in calls:
                        check(func, a, *args)
    # One answer for the sign of a zero: numpy's sums start from +0.0 (median of -0.0 is
    # 0.0), its lerp keeps -0.0 (quantile(-0.0, 0.37) is -0.0).
    for n in (1, 2, 3, 4):
        z = np.full(n, -0.0, dtype=np.float64)
        for func, args in calls:
            want, got = getattr(np, func)(z, *args), getattr(sw, func)(z, *args)
            assert np.array_equal(np.signbit(got), np.signbit(want)), (func, n, got, want)


@pytest.mark.parametrize("func", ["quantile", "nanquantile", "percentile", "nanpercentile"])
def test_errors_in_numpys_order(func: str) -> None:
    # A complex input's TypeError comes before the q range's ValueError, whatever the input.
    bad = _q(func, -0.1)
    for a in (np.complex128(1), [1 + 1j], np.array([1 + 1j])):
        check(func, a, bad)
    check(func, [1.0, 2.0], bad)
    check(func, [1.0, 2.0], bad, axis=5)
    # A method that is not a str (numpy looks it up in a dict: TypeError when unhashable).
    for method in (np.array(["linear", "lower"]), np.array(["linear"]), ["linear"]):
        check(func, np.arange(5.0), _q(func, 0.3), method=method)


@pytest.mark.parametrize("func", ["quantile", "nanquantile", "percentile", "nanpercentile"])
def test_no_q_with_nan(func: str) -> None:
    """An empty q on data with NaN: an empty result of numpy's shape (the nan-functions'
    per-count table had one rank an output, and raised)."""
    a = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, np.nan]])
    for axis in (None, 0, 1):
        check(func, a, [], axis=axis)
        check(func, a[:2], np.zeros((0, 2)), axis=axis)


@pytest.mark.parametrize("method", ["lower", "higher", "nearest", "inverted_cdf", "linear"])
@pytest.mark.parametrize("func", ["quantile", "nanquantile", "percentile", "nanpercentile"])
def test_byte_swapped_elements_keep_their_byte_order(func: str, method: str) -> None:
    """Where numpy takes the elements themselves (discrete methods, or linear at whole
    indexes), its result is an array in the input's byte order (the nan-functions: for a q
    array); stridewise returned native order."""
    scale = 100 if "percent" in func else 1
    data = np.array([[3.0, 1.0, 2.0, 7.0], [4.0, 6.0, 5.0, 0.0], [9.0, 8.0, np.nan, 1.0]])
    for a in (data[:2].astype(">f4"), data[:2].astype(">i8"), data.astype(">f8")):
        for q in (0.5, [0.25, 0.75], np.array([0, 1])):
            for axis in (None, 0, 1):
                check(func, a, np.multiply(q, scale), axis=axis, method=method)


@pytest.mark.parametrize("method", ["linear", "weibull", "midpoint", "nearest"])
@pytest.mark.parametrize("func", ["nanquantile", "nanpercentile"])
def test_byte_swapped_first_output_all_nan(func: str, method: str) -> None:
    """numpy's nan-functions with a q array gather outputs with apply_along_axis, whose
    buffer takes the first output's dtype: np.full(q.shape, nan, the input's dtype) where
    that output is all NaN, so the whole result is in the input's byte order."""
    scale = 100 if "percent" in func else 1
    data = np.arange(24.0).reshape(2, 3, 4)
    data[:, 0, 0] = np.nan
    data[0, :, 0] = np.nan
    for a in (data.astype(">f8"), data.astype(">f4"), np.full((3, 2), np.nan, ">f8")):
        for axis in (None, 0, 1, -1, (0, 1), (1, 2)):
            if isinstance(axis, tuple) and a.ndim < 3:
                continue
            for q in ([0.3, 0.5], [0.5], 0.5):
                check(func, a, np.multiply(q, scale), axis=axis, method=method)
                check(func, a, np.multiply(q, scale), axis=axis, method=method, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nanmedian_odd_counts_as_numpy_computes_them(dtype: Any) -> None:
    """numpy's nanmedian of an odd count: `0 + x` on its 1-d road (-0.0 becomes 0.0),
    `(x + x) / 2` on its masked road for reduced lengths under 600 (inf for the largest
    values, with its overflow warning); stridewise once returned `x` itself."""
    big = np.finfo(dtype).max
    for n in (3, 5, 599, 600, 601):
        a = np.full((n, 3), -0.0, dtype)
        a[: n // 2, 1] = big
        a[n // 2 :, 1] = big
        a[:2, 2] = np.nan
        a[0, 0] = np.nan
        for axis in (None, 0, 1):
            check("nanmedian", a, axis=axis)
        check("nanmedian", a[:, 1], axis=0)
    check("nanmedian", np.array([-0.0, np.nan, -1.0, 1.0], dtype))


@pytest.mark.parametrize("func", FUNCS)
def test_nan_everywhere(func: str) -> None:
    """NaN at every position of a row, a whole NaN row and column, and all NaN."""
    base = np.arange(30.0).reshape(5, 6)
    for i in range(base.size):
        a = base.copy()
        a.flat[i] = np.nan
        for axis in (None, 0, 1):
            check(func, a, *_call_args(func), axis=axis)
    a = base.copy()
    a[1] = np.nan
    a[:, 4] = np.nan
    for axis in (None, 0, 1, (0, 1)):
        check(func, a, *_call_args(func), axis=axis)
        check(func, np.full((3, 4), np.nan, np.float32), *_call_args(func), axis=axis)


@pytest.mark.parametrize("func", FUNCS)
def test_out_and_errors(func: str) -> None:
    a = make_data(np.float64, (5, 8), seed=1)
    args = _call_args(func)
    shape = np.shape(getattr(np, func)(a, *args, axis=1))
    out = np.full(shape, -7.0)
    r = check(func, a, *args, axis=1, out=out.copy())
    assert r is not None
    res = getattr(sw, func)(a, *args, axis=1, out=out)
    assert res is out
    np.testing.assert_array_equal(out, getattr(np, func)(a, *args, axis=1))
    kept = np.full(np.shape(getattr(np, func)(a, *args, axis=1, keepdims=True)), 3.0)
    assert getattr(sw, func)(a, *args, axis=1, out=kept, keepdims=True) is kept
    # An out of another dtype: numpy's own casting rules.
    check(func, a, *args, axis=1, out=np.zeros(shape, np.float32))
    check(func, a, *args, axis=2)
    check(func, a, *args, axis=(1, 1))
    if not func.endswith("median"):
        check(func, a, _q(func, 1.5))
        check(func, a, _q(func, [-0.1, 0.5]))
        check(func, a, _q(func, 0.5), method="no-such-method")
        check(func, a, _q(func, [[0.1, 0.2], [0.3, 0.4]]), axis=0)
        # numpy checks q before the axis: its ValueError, not the AxisError.
        check(func, a, _q(func, 1.5), axis=5)
        check(func, a, _q(func, [0.5, 2.0]), axis=(0, 0))
        check(func, a, _q(func, 0.5), weights=np.ones_like(a), method="inverted_cdf")
    for empty in (np.zeros((0, 3)), np.zeros((3, 0))):
        for axis in (None, 0, 1):
            check(func, empty, *args, axis=axis)
    check(func, np.float64(3.0), *args)
    check(func, [1, 5, 2], *args)
    check(func, np.array([1 + 2j, 3j]), *args)


def test_overwrite_input_never_writes() -> None:
    a = make_data(np.float64, (20, 30), seed=2)
    a[3, 4] = np.nan
    snap = a.copy()
    for func in FUNCS:
        getattr(sw, func)(a, *_call_args(func), axis=0, overwrite_input=True)
        getattr(sw, func)(a, *_call_args(func), overwrite_input=True)
        np.testing.assert_array_equal(a, snap, strict=True)
    # A read-only input: numpy would partition it in place, and raises ValueError.
    ro = snap.copy()
    ro.flags.writeable = False
    for func in FUNCS:
        check(func, ro, *_call_args(func), axis=0, overwrite_input=True)
        check(func, ro, *_call_args(func), overwrite_input=True)
        check(func, ro, *_call_args(func), overwrite_input=False)


@pytest.mark.parametrize("threads", [1, 2])
def test_large_and_vertical_at_thread_counts(threads: int) -> None:
    """Outputs spread over threads; a cube over its leading axis (the vertical walk), tall
    columns, a long whole array; NaN in some slices."""
    rng = np.random.default_rng(7)
    cube = rng.standard_normal((61, 23, 47)).astype(np.float32)
    cube[rng.random(cube.shape) < 0.05] = np.nan
    cube[:, 3, 5] = np.nan
    big = rng.standard_normal(300_001)
    holed = big.copy()  # the sampled path with NaNs: ranks placed from an estimated count
    holed[rng.random(big.size) < 0.2] = np.nan
    tall = rng.integers(-1000, 1000, size=(5000, 40), dtype=np.int32)
    with sw.threads(threads):
        for func in FUNCS:
            args = _call_args(func)
            check(func, cube, *args, axis=0)
            check(func, cube, *args, axis=(1, 2))
            check(func, cube.transpose(2, 0, 1), *args, axis=1)
            check(func, big, *args)
            check(func, big[::-3], *args)
            check(func, holed, *args)
            check(func, tall, *args, axis=0)
            check(func, tall, *args, axis=1)


def test_many_q_at_once() -> None:
    a = make_data(np.float64, (40, 500), seed=4)
    q = np.linspace(0, 100, 101)
    for method in ("linear", "nearest", "inverted_cdf"):
        check("percentile", a, q, axis=1, method=method)
        check("nanpercentile", a, q, axis=0, method=method)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int16, np.uint8])
def test_many_q_in_long_outputs(dtype: Any) -> None:
    """Outputs of 512 to 65536 elements with 24 or more ranks are cut into buckets by value
    (kernels/select.rs, select_buckets): normal data, a heavy tail, outliers, ties, NaN."""
    rng = np.random.default_rng(21)
    q = np.linspace(0, 100, 100)
    base = rng.standard_normal((6, 3000)) * 1000
    base[1] = np.exp(base[1] / 300)  # a heavy tail
    base[2, 7] = 1e30  # one outlier
    base[3] = np.round(base[3] / 500)  # a few values, many ties
    base[4, ::5] = -1e30
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        a = np.clip(base, info.min, info.max).astype(dtype)
    else:
        a = base.astype(dtype)
    for method in ("linear", "nearest", "median_unbiased"):
        check("percentile", a, q, axis=1, method=method)
        check("percentile", a.T, q, axis=0, method=method)
    if np.issubdtype(dtype, np.floating):
        a[rng.random(a.shape) < 0.1] = np.nan
        a[5] = np.nan
        a[5, :700] = 1.5
        check("nanpercentile", a, q, axis=1)
        check("nanquantile", a[:, :600], q / 100, axis=1)


def test_explain() -> None:
    a = make_data(np.float64, (4, 5))
    info = sw.explain(sw.nanmedian, a, axis=0)
    assert info["path"] == "kernel" and info["kernel_dtype"] == "float64"
    assert sw.explain("median", a.astype(">f8"))["path"] == "kernel+copy"
    assert sw.explain("quantile", a.astype(np.float16), q=0.5)["path"] == "numpy"
    assert sw.explain("percentile", a.astype(object), q=5)["path"] == "numpy"


def _crate(a: np.ndarray, q: np.ndarray, axis: Any, method: str, skip_nan: bool) -> np.ndarray:
    """The crate's own quantiles (``stridewise::quantile_axes``) in numpy's result shape."""
    axes = None if axis is None else [axis] if isinstance(axis, int) else list(axis)
    norm = None if axes is None else sorted(d % a.ndim for d in axes)
    got = sw._native.quantiles(a, norm, q, method, skip_nan)
    assert got is not None, "an array the kernels read in place"
    kept = () if norm is None else tuple(n for d, n in enumerate(a.shape) if d not in norm)
    return got.reshape(q.shape + kept)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("skip_nan", [False, True], ids=["quantile", "nanquantile"])
@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.int64, np.int8, np.uint16], ids=lambda d: np.dtype(d).name
)
def test_crate_quantiles_are_numpys(method: str, skip_nan: bool, dtype: Any) -> None:
    """The Rust API's quantiles (numpy's formulas in f64, one pass for the nan-variant) equal
    numpy's on the same values as float64, bit for bit, over layouts, axes, ties, NaN in some
    slices and all of one, and q at the ends."""
    q = np.array([0.0, 0.01, 0.25, 0.3, 0.5, 0.875, 0.99, 1.0])
    fn = np.nanquantile if skip_nan else np.quantile
    for layout in ("C", "F", "reversed", "step3", "transposed3d", "broadcast"):
        a = _layout(layout, dtype)
        if np.dtype(dtype).kind == "f":
            a = a.copy()
            a.flat[::5] = np.nan
            a[(0,) * (a.ndim - 1)] = np.nan  # one output along the last axis is all NaN
            a.flat[1::7] = a.flat[2]  # ties
        for axis in [None, 0, -1, (0, a.ndim - 1)]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = fn(a.astype(np.float64), q, axis=axis, method=method)
            got = _crate(a, q, axis, method, skip_nan)
            np.testing.assert_array_equal(got, want, strict=True, err_msg=f"{layout} {axis}")


@pytest.mark.parametrize("threads", [1, 2])
def test_crate_quantiles_of_large_outputs(threads: int) -> None:
    """The sampled path (an output of 2^18 elements or more), with NaNs: ranks from the
    count the sample suggests, checked against the true count."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(400_000)
    x[rng.random(x.size) < 0.3] = np.nan
    q = np.array([0.0, 0.1, 0.5, 0.999, 1.0])
    with sw.threads(threads):
        for method in ("linear", "hazen", "inverted_cdf", "nearest"):
            want = np.nanquantile(x, q, method=method)
            np.testing.assert_array_equal(_crate(x, q, None, method, True), want, strict=True)
            np.testing.assert_array_equal(
                _crate(x[::-2], q, None, method, True),
                np.nanquantile(x[::-2], q, method=method),
                strict=True,
            )


def test_crate_quantile_errors() -> None:
    a = np.arange(6.0)
    with pytest.raises(ValueError, match="range"):
        sw._native.quantiles(a, None, np.array([1.5]), "linear", False)
    with pytest.raises(ValueError, match="not a valid method"):
        sw._native.quantiles(a, None, np.array([0.5]), "cubic", False)
    assert sw._native.quantiles(a.astype(bool), None, np.array([0.5]), "linear", False) is None
