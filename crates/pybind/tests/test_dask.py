"""stridewise's reductions of Dask arrays (``stridewise/_dask.py``).

* Float sum/nansum/mean/nanmean are computed from exact partial sums: the same bits for every
  chunking and scheduler (a real two-process ``distributed`` cluster, the threaded and the
  synchronous scheduler), the bits stridewise gives for the computed array, and for sums the
  correctly rounded exact sum; on data built to defeat float sums (cancellation, a huge
  dynamic range, exact sums that are ties between two floats), where Dask's own ``sum`` gives
  a different answer for different chunkings.
* Every other reduction against numpy (dtype, shape, values) on float (with NaN), int32 and
  bool arrays, over axes, keepdims and chunkings; first-occurrence ties of argmin/argmax
  across chunks; nanargmin/nanargmax with NaN-only chunks; ``dtype=``, float16, ``ddof``,
  ``out=``.
* Results are lazy; ``explain`` says "dask"; importing stridewise does not import Dask.
* What the kernels do not cover goes to Dask's own implementation (numpy's protocol): complex
  input, ``where=``/``initial=``; numpy's AxisError at call time.
* median/quantile/percentile (and nan-variants) with ``axis=``; xarray's ``reduce``;
  var/std deterministic for a chunking.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import stridewise as sw

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

SHAPE = (60, 24)
AXES: tuple[Any, ...] = (None, 0, 1, (0, 1))
# One chunk; regular chunks with uneven last ones; uneven chunks (one of a single row); one
# row per chunk (60 chunks along axis 0: Dask combines them in a tree three levels deep).
CHUNKINGS: tuple[Any, ...] = (
    ((60,), (24,)),
    (7, 5),
    ((13, 1, 30, 16), (3, 21)),
    (1, 24),
)
EXACT_FUNCS = ("sum", "nansum", "mean", "nanmean")
KINDS = ("cancel", "wide_range", "tie")
FLOATS = (np.float64, np.float32)
ALL_REDUCTIONS = (
    *EXACT_FUNCS,
    *("var", "nanvar", "std", "nanstd", "prod", "nanprod"),
    *("min", "nanmin", "max", "nanmax", "ptp", "any", "all", "count_nonzero"),
    *("argmin", "argmax", "nanargmin", "nanargmax"),
)
QUANTILE_FUNCS = ("median", "nanmedian", "quantile", "nanquantile", "percentile", "nanpercentile")


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real cluster: two worker processes of one thread each (they import stridewise from
    the same PYTHONPATH) and a client that is not made Dask's default scheduler: every compute
    here names its scheduler."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


@pytest.fixture(params=["distributed", "threads", "sync"])
def scheduler(request: pytest.FixtureRequest) -> Any:
    """Each of Dask's schedulers: the cluster's client, the thread pool, synchronous."""
    if request.param == "distributed":
        return request.getfixturevalue("client")
    return request.param


def _compute(scheduler: Any, *lazy: Any) -> list[np.ndarray]:
    """The lazy arrays computed together on ``scheduler``, as ndarrays."""
    for r in lazy:
        assert isinstance(r, da.Array), type(r)
    return [np.asarray(r) for r in dask.compute(*lazy, scheduler=scheduler)]


def _assert_bitwise(got: Any, want: Any, ctx: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{ctx}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{ctx}: shape {got.shape} != {want.shape}"
    assert got.tobytes() == want.tobytes(), f"{ctx}: {got!r} != {want!r}"


def _quiet(func: Any, *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` with numpy's RuntimeWarnings (empty slices) silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def _correctly_rounded(values: np.ndarray, dtype: Any) -> Any:
    """The exact sum of ``values`` rounded to nearest, ties to even, in ``dtype``."""
    exact = sum((Fraction(float(v)) for v in values.ravel()), Fraction(0))
    t = np.dtype(dtype).type
    lo = t(float(exact))  # within an ulp (double rounding for float32): settle it below
    while Fraction(float(lo)) > exact:
        lo = np.nextafter(lo, t(-np.inf))
    while Fraction(float(np.nextafter(lo, t(np.inf)))) <= exact:
        lo = np.nextafter(lo, t(np.inf))
    hi = np.nextafter(lo, t(np.inf))
    below, above = exact - Fraction(float(lo)), Fraction(float(hi)) - exact
    if below != above:
        return lo if below < above else hi
    bits = np.dtype(f"u{np.dtype(dtype).itemsize}")
    return lo if int(np.array(lo).view(bits)) % 2 == 0 else hi


def _is_tie(values: np.ndarray, dtype: Any) -> bool:
    """Whether the exact sum of ``values`` lies halfway between two adjacent floats."""
    exact = sum((Fraction(float(v)) for v in values.ravel()), Fraction(0))
    r = _correctly_rounded(values, dtype)
    t = np.dtype(dtype).type
    other = np.nextafter(r, t(np.inf) if Fraction(float(r)) < exact else t(-np.inf))
    return abs(exact - Fraction(float(r))) == abs(Fraction(float(other)) - exact)


# --- adversarial data -----------------------------------------------------------------------


def _cancel(dtype: Any) -> np.ndarray:
    """1e16, 1, -1e16, 1/3, 2/3 repeated (1e8 for float32): the big terms cancel, and the
    small ones are lost unless the sum is exact (its exact total is 576)."""
    big = 1e16 if dtype == np.float64 else 1e8
    return np.resize(np.array([big, 1.0, -big, 1 / 3, 2 / 3], dtype=dtype), SHAPE)


def _wide_range(dtype: Any) -> np.ndarray:
    """Magnitudes from 2**-1000 to 2**1000 (float32: from subnormal 2**-140 to 2**100), random
    signs; a third of the values are the negatives of another third, so the largest cancel."""
    rng = np.random.default_rng(7)
    n = SHAPE[0] * SHAPE[1]
    lo, hi = (-1000, 1000) if dtype == np.float64 else (-140, 100)
    v = np.ldexp(rng.uniform(1, 2, n), rng.integers(lo, hi, n)) * rng.choice([-1.0, 1.0], n)
    v = v.astype(dtype)
    idx = rng.permutation(n)
    k = n // 3
    v[idx[:k]] = -v[idx[k : 2 * k]]
    return v.reshape(SHAPE)


def _tie(dtype: Any, nans: int = 0) -> np.ndarray:
    """Each column: ``1`` (even columns) or ``1 + eps`` (odd ones), ``eps/2``, pairs ``v, -v``
    of random magnitudes up to 2**40 (float32: 2**20), and ``nans`` NaN, shuffled. Each
    column's exact sum (1 + eps/2, 1 + 3 eps/2) and the total (24 + 24 eps, 1.5 ulps of 24)
    lie halfway between two floats: rounding to even decides them."""
    rng = np.random.default_rng(3)
    eps = float(np.finfo(dtype).eps)
    top = 40 if dtype == np.float64 else 20
    rows, cols = SHAPE
    pairs = (rows - 2 - nans) // 2
    out = np.empty(SHAPE, dtype=dtype)
    for j in range(cols):
        v = np.ldexp(rng.uniform(1, 2, pairs), rng.integers(-5, top, pairs)).astype(dtype)
        nan_fill = [np.nan] * (rows - 2 - 2 * pairs)
        col = np.array([1.0 + (j % 2) * eps, eps / 2, *v, *(-v), *nan_fill], dtype=dtype)
        out[:, j] = rng.permutation(col)
    return out


def _adversarial(kind: str, dtype: Any, nan: bool) -> np.ndarray:
    """The data of ``kind``; with NaN (about 10%, never a whole row or column) for the
    nan-functions."""
    if kind == "tie":
        return _tie(dtype, nans=6 if nan else 0)
    a = _cancel(dtype) if kind == "cancel" else _wide_range(dtype)
    if nan:
        a = a.copy()
        a[np.random.default_rng(5).random(SHAPE) < 0.1] = np.nan
        assert not np.isnan(a).all(axis=0).any() and not np.isnan(a).all(axis=1).any()
    return a


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
def test_tie_data_sums_are_ties(dtype: Any) -> None:
    """The "tie" data is what it claims: the total and every column's exact sum are ties, also
    with the NaN the nan-functions get (which leave the non-NaN values' sums as they are)."""
    for nan in (False, True):
        a = _adversarial("tie", dtype, nan)
        assert _is_tie(a[~np.isnan(a)], dtype)
        for j in range(SHAPE[1]):
            col = a[:, j]
            assert _is_tie(col[~np.isnan(col)], dtype), j


# --- exact sums and means: the same bits for every chunking and scheduler -------------------


def _reference_sum(a: np.ndarray, axis: Any, dtype: Any) -> np.ndarray:
    """The correctly rounded exact sums of the non-NaN values along ``axis``."""
    if axis is None or axis == (0, 1):
        return np.array(_correctly_rounded(a[~np.isnan(a)], dtype))
    lines = a.T if axis == 0 else a
    return np.array([_correctly_rounded(x[~np.isnan(x)], dtype) for x in lines], dtype=dtype)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("func", EXACT_FUNCS)
def test_exact_sums_bitwise_for_every_chunking(func: str, dtype: Any, kind: str) -> None:
    """Every chunking and axis: stridewise's bits for the ndarray; for sums, the correctly
    rounded exact sums (the distributed cluster: test_exact_sums_on_every_scheduler)."""
    a = _adversarial(kind, dtype, nan=func.startswith("nan"))
    f = getattr(sw, func)
    want = {ax: f(a, axis=ax) for ax in AXES}
    if func in ("sum", "nansum"):
        exact = {ax: _reference_sum(a, ax, dtype) for ax in AXES}
        for ax in AXES:
            _assert_bitwise(want[ax], exact[ax], f"{func}(ndarray, axis={ax}) vs the exact sum")
    cases = list(itertools.product(CHUNKINGS, AXES))
    got = _compute("sync", *(f(da.from_array(a, chunks=c), axis=ax) for c, ax in cases))
    for (chunks, axis), g in zip(cases, got, strict=True):
        ctx = f"{func}({kind}, {np.dtype(dtype).name}, axis={axis}, chunks={chunks})"
        _assert_bitwise(g, want[axis], ctx)
    if dtype == np.float64 and func in ("sum", "nansum"):
        total = got[cases.index((CHUNKINGS[1], None))]
        assert total == math.fsum(a[~np.isnan(a)].tolist())


def test_dasks_own_sum_depends_on_the_chunking() -> None:
    """Why the exact path matters: Dask's own float sum of the same array differs between
    chunkings, where stridewise's is the exact 576 for each."""
    a = _cancel(np.float64)
    own = {float(da.from_array(a, chunks=c).sum().compute(scheduler="sync")) for c in CHUNKINGS}
    assert len(own) >= 2, own
    ours = {float(sw.sum(da.from_array(a, chunks=c)).compute(scheduler="sync")) for c in CHUNKINGS}
    assert ours == {576.0} == {math.fsum(a.ravel().tolist())}


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
def test_exact_sums_on_every_scheduler(scheduler: Any, dtype: Any) -> None:
    """The same bits on the cluster, the thread pool and the synchronous scheduler."""
    cases = [
        (func, kind, chunks, axis)
        for func in EXACT_FUNCS
        for kind in ("cancel", "tie")
        for chunks, axes in ((CHUNKINGS[2], (None, 0, 1)), (CHUNKINGS[1], (None,)))
        for axis in axes
    ]
    arrays = {(k, n): _adversarial(k, dtype, n) for k in ("cancel", "tie") for n in (False, True)}
    lazy = []
    for func, kind, chunks, axis in cases:
        a = arrays[kind, func.startswith("nan")]
        lazy.append(getattr(sw, func)(da.from_array(a, chunks=chunks), axis=axis))
    for (func, kind, chunks, axis), g in zip(cases, _compute(scheduler, *lazy), strict=True):
        want = getattr(sw, func)(arrays[kind, func.startswith("nan")], axis=axis)
        _assert_bitwise(g, want, f"{func}({kind}, axis={axis}, chunks={chunks})")


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda t: np.dtype(t).name)
def test_nanmean_of_an_all_nan_column(client: Any, dtype: Any) -> None:
    a = _adversarial("tie", dtype, nan=True)
    a[:, 5] = np.nan
    lazy = [sw.nanmean(da.from_array(a, chunks=c), axis=0) for c in CHUNKINGS]
    lazy += [sw.nansum(da.from_array(a, chunks=c), axis=0) for c in CHUNKINGS]
    got = _compute(client, *lazy)
    want_mean = _quiet(sw.nanmean, a, axis=0)
    for g in got[: len(CHUNKINGS)]:
        assert g.dtype == dtype and g.shape == (SHAPE[1],)
        assert np.isnan(g[5])
        _assert_bitwise(np.delete(g, 5), np.delete(want_mean, 5), "nanmean")
    for g in got[len(CHUNKINGS) :]:
        assert g[5] == 0
        _assert_bitwise(g, sw.nansum(a, axis=0), "nansum")


# --- every reduction against numpy ----------------------------------------------------------


def _mixed(dtype: str) -> np.ndarray:
    """(23, 17): floats with about 10% NaN (never a whole row or column; the last column has
    NaN, so one-column chunks of it are NaN-only in places), int32, or bool."""
    rng = np.random.default_rng(11)
    shape = (23, 17)
    if dtype == "float64":
        a = rng.standard_normal(shape)
        a[rng.random(shape) < 0.1] = np.nan
        a[[2, 9], -1] = np.nan
        assert not np.isnan(a).all(axis=0).any() and not np.isnan(a).all(axis=1).any()
        return a
    if dtype == "int32":
        return rng.integers(-1000, 1000, shape).astype(np.int32)
    return rng.random(shape) < 0.4


# Chunkings of the (23, 17) arrays: regular with uneven last chunks (Dask combines the 4 x 4
# blocks in two levels for axis=None), one with a single-column chunk, one of rows only.
MIXED_CHUNKINGS: tuple[Any, ...] = ((7, 5), ((23,), (8, 8, 1)), ((5, 5, 5, 8), (17,)))


def _check_like_numpy(func: str, got: Any, a: np.ndarray, kw: dict[str, Any]) -> None:
    want = np.asarray(_quiet(getattr(np, func), a, **kw))
    got = np.asarray(got)
    ctx = f"{func}({a.dtype}, {kw})"
    assert got.dtype == want.dtype, f"{ctx}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{ctx}: shape {got.shape} != {want.shape}"
    if want.dtype.kind == "f" and func in EXACT_FUNCS:
        # The exact sums: stridewise's bits, within rounding of numpy's.
        _assert_bitwise(got, _quiet(getattr(sw, func), a, **kw), ctx)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14, err_msg=ctx)
    elif want.dtype.kind == "f" and func.removeprefix("nan") in ("var", "std", "prod"):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, err_msg=ctx)
    else:
        assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), f"{ctx}: {got}"


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
@pytest.mark.parametrize("func", ALL_REDUCTIONS)
def test_every_reduction_against_numpy(func: str, dtype: str) -> None:
    a = _mixed(dtype)
    f = getattr(sw, func)
    cases = [
        (chunks, {"axis": axis, "keepdims": keepdims})
        for chunks in MIXED_CHUNKINGS
        for axis in (None, 0, 1)
        for keepdims in (False, True)
    ]
    lazy, ok = [], []
    for chunks, kw in cases:
        try:
            _quiet(getattr(np, func), a, **kw)
        except TypeError as e:  # numpy refuses the dtype (ptp of bool): so does stridewise
            with pytest.raises(type(e)):
                f(da.from_array(a, chunks=chunks), **kw).compute(scheduler="sync")
            continue
        ok.append(kw)
        lazy.append(f(da.from_array(a, chunks=chunks), **kw))
    for kw, got in zip(ok, _quiet(_compute, "sync", *lazy), strict=True):
        _check_like_numpy(func, got, a, kw)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
@pytest.mark.parametrize("func", ["argmin", "argmax", "nanargmin", "nanargmax"])
def test_arg_ties_across_chunks_first_wins(func: str, dtype: Any) -> None:
    """The extreme value (and 0, in lines without it) appears in several chunks of each line:
    the first occurrence wins, whatever the chunking."""
    rng = np.random.default_rng(2)
    a = np.zeros((12, 10), dtype=dtype)
    extreme = -7 if "min" in func else 7
    for j in range(10):
        a[rng.choice(12, 3, replace=False), j] = extreme
    a[5, [1, 4, 8]] = extreme  # a row with ties in three column chunks
    if dtype == np.float64 and func.startswith("nan"):
        a[[0, 3, 7], [2, 2, 9]] = np.nan
    cases = [
        (chunks, axis, keepdims)
        for chunks in ((5, 4), (1, 1), ((3, 9), (7, 3)), ((4, 4, 4), (10,)), (1, 10))
        for axis in (None, 0, 1)
        for keepdims in (False, True)
    ]
    f = getattr(sw, func)
    lazy = [f(da.from_array(a, chunks=c), axis=ax, keepdims=kd) for c, ax, kd in cases]
    for (_, axis, keepdims), got in zip(cases, _compute("sync", *lazy), strict=True):
        _check_like_numpy(func, got, a, {"axis": axis, "keepdims": keepdims})


@pytest.mark.parametrize("func", ["argmin", "argmax", "nanargmin", "nanargmax"])
def test_arg_ties_axis_none_across_column_blocks(func: str) -> None:
    """(4, 4) in 2 x 2 blocks: equal extremes at [1, 0] (flat 4, block (0, 0)) and [0, 2]
    (flat 2, block (0, 1)); numpy says 2."""
    a = np.zeros((4, 4))
    a[1, 0] = a[0, 2] = -5 if "min" in func else 5
    got = getattr(sw, func)(da.from_array(a, chunks=2)).compute(scheduler="sync")
    _check_like_numpy(func, got, a, {"axis": None, "keepdims": False})


@pytest.mark.parametrize("func", ["argmin", "argmax"])
def test_arg_first_nan_axis_none_across_column_blocks(func: str) -> None:
    a = np.zeros((4, 4))
    a[1, 0] = a[0, 2] = np.nan
    got = getattr(sw, func)(da.from_array(a, chunks=2)).compute(scheduler="sync")
    _check_like_numpy(func, got, a, {"axis": None, "keepdims": False})


def _nan_head() -> np.ndarray:
    """(12, 3): column 1 is NaN in its first 8 rows, numbers after (its maximum 5 at row 9,
    its minimum -5 at row 10); the other columns have no NaN."""
    a = np.arange(36, dtype=np.float64).reshape(12, 3) % 7 - 3
    a[:8, 1] = np.nan
    a[9, 1], a[10, 1] = 5, -5
    return a


@pytest.mark.parametrize("func", ["nanargmin", "nanargmax"])
@pytest.mark.parametrize("chunks", [(4, 3), (6, 2), ((8, 4), (3,)), ((5, 5, 2), 1)])
def test_nanarg_with_nan_only_chunks(client: Any, func: str, chunks: Any) -> None:
    """A column NaN-only in some chunks, with numbers in another: numpy's index."""
    a = _nan_head()
    f = getattr(sw, func)
    lazy = [f(da.from_array(a, chunks=chunks), axis=axis) for axis in (None, 0)]
    for axis, got in zip((None, 0), _compute(client, *lazy), strict=True):
        _check_like_numpy(func, got, a, {"axis": axis, "keepdims": False})


@pytest.mark.parametrize("func", ["nanargmin", "nanargmax"])
@pytest.mark.parametrize(
    ("ndim", "chunks", "axis"),
    [(2, (1, 3), 0), (1, 1, None), (1, 2, 0)],
    ids=["2d-rows-axis0", "1d-axisNone", "1d-axis0"],
)
def test_nanarg_with_a_nan_only_combine_group(func: str, ndim: int, chunks: Any, axis: Any):
    """More chunks along the axis than Dask combines at once (4), the first groups of them
    NaN-only in a slice that has numbers later (column 1 of _nan_head): numpy's index."""
    a = _nan_head() if ndim == 2 else _nan_head()[:, 1].copy()
    got = getattr(sw, func)(da.from_array(a, chunks=chunks), axis=axis).compute(scheduler="sync")
    _check_like_numpy(func, got, a, {"axis": axis, "keepdims": False})


@pytest.mark.parametrize("func", ["nanargmin", "nanargmax"])
def test_nanarg_of_an_all_nan_slice_raises_at_compute(client: Any, func: str) -> None:
    a = _nan_head()
    a[:, 2] = np.nan
    with pytest.raises(ValueError):
        getattr(np, func)(a, axis=0)
    for scheduler in (client, "sync"):
        lazy = getattr(sw, func)(da.from_array(a, chunks=(4, 3)), axis=0)  # no error yet
        with pytest.raises(ValueError, match="All-NaN slice"):
            lazy.compute(scheduler=scheduler)


# --- dtype=, float16, ddof, out= ------------------------------------------------------------


def test_sum_with_a_narrow_dtype_wraps_as_numpy() -> None:
    a = np.full((40, 6), 100, dtype=np.int8)
    x = da.from_array(a, chunks=(7, 4))
    for axis in (None, 0, 1):
        got = sw.sum(x, axis=axis, dtype=np.int8).compute(scheduler="sync")
        want = np.sum(a, axis=axis, dtype=np.int8)
        _assert_bitwise(got, want, f"sum(int8, dtype=int8, axis={axis})")
        exact = sw.sum(x, axis=axis).compute(scheduler="sync")
        assert exact.dtype == np.sum(a).dtype and (exact == np.sum(a, axis=axis)).all()
        assert not (np.asarray(got) == exact).any()  # it did wrap
    assert int(sw.sum(x, dtype=np.int8).compute(scheduler="sync")) == 24000 - 94 * 256


def test_float32_with_a_float64_dtype() -> None:
    a = _wide_range(np.float32)
    x = da.from_array(a, chunks=(7, 5))
    for func in EXACT_FUNCS:
        for axis in (None, 0, 1):
            got = getattr(sw, func)(x, axis=axis, dtype=np.float64).compute(scheduler="sync")
            want = getattr(sw, func)(a, axis=axis, dtype=np.float64)
            _assert_bitwise(got, want, f"{func}(float32, dtype=float64, axis={axis})")
            assert got.dtype == np.float64
    # mean in float64 of float32 values: the float64 mean of the (exactly widened) values
    got = sw.mean(x, axis=0, dtype=np.float64).compute(scheduler="sync")
    _assert_bitwise(got, sw.mean(a.astype(np.float64), axis=0), "mean(dtype=float64)")


@pytest.mark.parametrize(
    "func", ["sum", "nansum", "mean", "nanmean", "var", "std", "min", "nanmax", "prod", "ptp"]
)
def test_float16(func: str) -> None:
    """numpy's float16 result dtype; stridewise's values for the computed array (bitwise)."""
    rng = np.random.default_rng(9)
    a = rng.uniform(0.5, 1.5, (20, 12)).astype(np.float16)
    if func.startswith("nan"):
        a[3, 4] = np.nan
    f = getattr(sw, func)
    cases = [(c, ax) for c in ((7, 5), (20, 12)) for ax in (None, 0, 1)]
    got = _compute("sync", *(f(da.from_array(a, chunks=c), axis=ax) for c, ax in cases))
    for (chunks, axis), g in zip(cases, got, strict=True):
        ctx = f"{func}(float16, axis={axis}, chunks={chunks})"
        assert g.dtype == np.asarray(getattr(np, func)(a, axis=axis)).dtype == np.float16
        _assert_bitwise(g, f(a, axis=axis), ctx)
        np.testing.assert_allclose(g, getattr(np, func)(a, axis=axis), rtol=1e-2, err_msg=ctx)


def test_float16_sums_round_once() -> None:
    """float16 sums and means: the exact sum rounded once to float16, for any chunking
    (through float32, 1 + 2^-11 + 2^-24 rounded to the float16 tie 1 + 2^-11, then to 1)."""
    a = np.zeros((6, 4), dtype=np.float16)
    a[0], a[2], a[5] = 1.0, 2.0**-11, 2.0**-24
    cases = [
        (func, chunks, axis)
        for func in ("sum", "nansum", "mean", "nanmean")
        for chunks in ((1, 4), (3, 2), (6, 4))
        for axis in (None, 0)
    ]
    got = _compute(
        "sync",
        *(getattr(sw, f)(da.from_array(a, chunks=c), axis=ax) for f, c, ax in cases),
    )
    for (func, chunks, axis), g in zip(cases, got, strict=True):
        _assert_bitwise(g, getattr(sw, func)(a, axis=axis), f"{func}, {chunks}, {axis}")
        if func.endswith("sum"):
            want = np.float16(4 + 2.0**-8) if axis is None else np.float16(1 + 2.0**-10)
            assert np.all(g == want), (func, chunks, axis, g)


@pytest.mark.parametrize(
    "a",
    [
        np.full(3, 1 + 2**-11 - 2**-16, dtype=np.float32),  # numpy 3.0, Dask path 3.002
        np.array([2049, 1, 1], dtype=np.int32),  # numpy 2048, Dask path 2052
    ],
    ids=["float32", "int32"],
)
def test_sum_with_a_float16_dtype(a: np.ndarray) -> None:
    got = sw.sum(da.from_array(a, chunks=1), dtype=np.float16).compute(scheduler="sync")
    _assert_bitwise(got, np.sum(a, dtype=np.float16), "sum(dtype=float16)")


@pytest.mark.parametrize("func", ["var", "std", "nanvar", "nanstd"])
def test_ddof(func: str) -> None:
    a = _mixed("float64") if func.startswith("nan") else np.nan_to_num(_mixed("float64"))
    f = getattr(sw, func)
    cases = [
        (c, ax, kw)
        for c in MIXED_CHUNKINGS
        for ax in (None, 0, 1)
        for kw in ({"ddof": 1}, {"correction": 1}, {"ddof": 2.5})
    ]
    lazy = [f(da.from_array(a, chunks=c), axis=ax, **kw) for c, ax, kw in cases]
    for (_, axis, kw), got in zip(cases, _compute("sync", *lazy), strict=True):
        want = getattr(np, func)(a, axis=axis, **kw)
        assert got.dtype == want.dtype and got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=f"{func}({axis}, {kw})")


def test_out_is_a_dask_array() -> None:
    a = _cancel(np.float64)
    out = da.zeros(SHAPE[1], chunks=5)
    r = sw.sum(da.from_array(a, chunks=(7, 5)), axis=0, out=out)
    assert r is out
    _assert_bitwise(out.compute(scheduler="sync"), sw.sum(a, axis=0), "sum(out=)")


# --- laziness, explain, import --------------------------------------------------------------


def test_results_are_lazy() -> None:
    """No chunk is computed by the calls (a counting source), only by compute()."""
    computed: list[int] = []

    def source(block: np.ndarray) -> np.ndarray:
        computed.append(1)
        return block

    base = np.random.default_rng(1).standard_normal((20, 12))
    x = da.from_array(base, chunks=(7, 5)).map_blocks(source, dtype=base.dtype, meta=base[:0, :0])
    results = [getattr(sw, f)(x, axis=0) for f in ALL_REDUCTIONS]
    results += [getattr(sw, f)(x) for f in ALL_REDUCTIONS]
    results += [sw.median(x, axis=0), sw.nanquantile(x, [0.1, 0.9], axis=1)]
    results += [sw.percentile(x, 50, axis=(0, 1)), sw.average(x, axis=0), sw.var(x, ddof=1)]
    for r in results:
        assert isinstance(r, da.Array), type(r)
    assert computed == []
    _compute("sync", *results)
    assert computed


def test_results_have_numpys_dtype_and_shape_before_compute() -> None:
    a = _mixed("int32")
    x = da.from_array(a, chunks=(7, 5))
    for func in ALL_REDUCTIONS:
        for axis, keepdims in itertools.product((None, 0, 1), (False, True)):
            r = getattr(sw, func)(x, axis=axis, keepdims=keepdims)
            want = np.asarray(getattr(np, func)(a, axis=axis, keepdims=keepdims))
            assert (r.dtype, r.shape) == (want.dtype, want.shape), (func, axis, keepdims)


@pytest.mark.parametrize(
    ("func", "kw"),
    [
        (sw.mean, {}),
        (sw.sum, {"axis": 0}),
        (sw.var, {"ddof": 1}),
        (sw.nanargmax, {"axis": 1}),
        (sw.count_nonzero, {}),
        (sw.median, {"axis": 0}),
        (sw.quantile, {"q": 0.5, "axis": 0}),
    ],
)
def test_explain_says_dask(func: Any, kw: dict[str, Any]) -> None:
    x = da.from_array(np.ones((6, 8)), chunks=3)
    assert sw.explain(func, x, **kw)["path"] == "dask"
    assert sw.explain(func, np.ones((6, 8)), **kw)["path"] != "dask"


def test_importing_stridewise_does_not_import_dask() -> None:
    env = dict(os.environ)
    mine = Path(sw.__file__).resolve()
    here = str(mine.parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    code = (
        "import stridewise, sys\n"
        "from pathlib import Path\n"
        "assert str(Path(stridewise.__file__).resolve()) == sys.argv[1], stridewise.__file__\n"
        "loaded = [m for m in sys.modules if m == 'dask' or m.startswith('dask.')]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(mine)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_workers_import_this_stridewise(client: Any) -> None:
    """The cluster's worker processes run this stridewise (not another installed one)."""
    files = client.run(getattr, sw, "__file__")
    assert len(files) == 2
    assert {Path(f).resolve() for f in files.values()} == {Path(sw.__file__).resolve()}


# --- Dask's own implementation for what the kernels do not cover -----------------------------


@pytest.mark.parametrize("func", ["sum", "nansum", "mean", "prod", "var", "std", "max"])
def test_complex_input_is_dasks_own(func: str) -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((20, 12)) + 1j * rng.standard_normal((20, 12))
    x = da.from_array(a, chunks=(7, 5))
    for axis in (None, 0, 1):
        r = getattr(sw, func)(x, axis=axis)
        own = getattr(np, func)(x, axis=axis)  # numpy's protocol: Dask's own
        got, own_v = _compute("sync", r, own)
        _assert_bitwise(got, own_v, f"{func}(complex, axis={axis})")
        want = getattr(np, func)(a, axis=axis)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    ("func", "kw"),
    [("sum", "where"), ("mean", "where"), ("max", "where"), ("sum", "initial"), ("var", "mean")],
)
def test_keywords_dask_lacks_go_to_dask(func: str, kw: str) -> None:
    """where=, initial= and mean= go to Dask's own functions, which do not take them: the same
    error as numpy's function of the Dask array."""
    a = np.random.default_rng(4).standard_normal((20, 12))
    x = da.from_array(a, chunks=(7, 5))
    value = {"where": a > 0, "initial": 1.0, "mean": np.mean(a, axis=0, keepdims=True)}[kw]
    with pytest.raises(TypeError) as own:
        getattr(np, func)(x, axis=0, **{kw: value})
    with pytest.raises(TypeError) as ours:
        getattr(sw, func)(x, axis=0, **{kw: value})
    assert str(ours.value) == str(own.value)


@pytest.mark.parametrize("axis", [2, -3, (0, 2)])
@pytest.mark.parametrize("func", [*ALL_REDUCTIONS, "median", "quantile"])
def test_bad_axis_raises_numpys_axis_error_at_call(func: str, axis: Any) -> None:
    x = da.from_array(np.ones((6, 8)), chunks=3)
    args = (0.5,) if func == "quantile" else ()
    if func.startswith(("arg", "nanarg")) and isinstance(axis, tuple):
        with pytest.raises(TypeError):  # as numpy: one axis or None
            getattr(sw, func)(x, *args, axis=axis)
        return
    with pytest.raises(np.exceptions.AxisError):
        getattr(sw, func)(x, *args, axis=axis)


# --- median, quantile, percentile -----------------------------------------------------------


QUANTILE_CASES = [
    ("median", (), {}),
    ("nanmedian", (), {}),
    ("quantile", ([0.1, 0.5, 0.9],), {}),
    ("quantile", (0.3,), {"method": "nearest"}),
    ("nanquantile", ([0.25, 0.75],), {"method": "nearest"}),
    ("nanquantile", (np.array([0.4]),), {}),
    ("percentile", ([10, 90],), {}),
    ("percentile", (25,), {"method": "nearest"}),
    ("nanpercentile", (50,), {"method": "lower"}),
]


@pytest.mark.parametrize("dtype", ["float64", "int32"])
@pytest.mark.parametrize(("func", "args", "kw"), QUANTILE_CASES)
def test_quantiles_against_numpy(func: str, args: tuple, kw: dict, dtype: str) -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((21, 9)) if dtype == "float64" else rng.integers(0, 9, (21, 9))
    if dtype == "float64":
        a[rng.random(a.shape) < 0.15] = np.nan
        a[:, 3] = np.nan
    x = da.from_array(a, chunks=(5, 4))
    for axis, keepdims in itertools.product((0, 1, (0, 1), -1), (False, True)):
        lazy = getattr(sw, func)(x, *args, axis=axis, keepdims=keepdims, **kw)
        (got,) = _quiet(_compute, "threads", lazy)
        want = np.asarray(_quiet(getattr(np, func), a, *args, axis=axis, keepdims=keepdims, **kw))
        ctx = f"{func}({dtype}, {args}, {kw}, axis={axis}, keepdims={keepdims})"
        assert (got.dtype, got.shape) == (want.dtype, want.shape), ctx
        assert np.array_equal(got, want, equal_nan=True), f"{ctx}: {got} != {want}"


@pytest.mark.parametrize("func", QUANTILE_FUNCS)
def test_quantiles_computed_together(func: str) -> None:
    a = np.arange(12.0).reshape(3, 4)
    b = a * 10
    args = (50,) if "percentile" in func else (0.5,) if "quantile" in func else ()
    f = getattr(sw, func)
    x, y = da.from_array(a, chunks=2), da.from_array(b, chunks=2)
    lazy = [f(x, *args, axis=0), f(y, *args, axis=0), f(x, *args, axis=1)]
    got = _compute("sync", *lazy)
    wants = [getattr(np, func)(a, *args, axis=0), getattr(np, func)(b, *args, axis=0)]
    wants.append(getattr(np, func)(a, *args, axis=1))
    for g, want in zip(got, wants, strict=True):
        _assert_bitwise(g, want, func)


@pytest.mark.parametrize("func", QUANTILE_FUNCS)
def test_quantiles_need_an_axis(func: str) -> None:
    x = da.from_array(np.ones((6, 8)), chunks=3)
    args = (50,) if "percentile" in func else (0.5,) if "quantile" in func else ()
    with pytest.raises(ValueError, match="axis="):
        getattr(sw, func)(x, *args)
    with pytest.raises(ValueError, match="axis="):
        getattr(sw, func)(x, *args, axis=None)


@pytest.mark.parametrize("func", QUANTILE_FUNCS)
def test_quantiles_with_an_ndarray_out_go_to_numpy_as_numpy_does(func: str) -> None:
    """``out=`` an ndarray: numpy's call with the caller's keywords, so Dask's answer (its
    NotImplementedError), as ``np.median(x, out=...)`` gives; passed on in numpy's positional
    order, Dask's ``median(a, axis, keepdims, out)`` raised a TypeError about its arguments."""
    x = da.from_array(np.arange(48.0).reshape(6, 8), chunks=3)
    args = (50,) if "percentile" in func else (0.5,) if "quantile" in func else ()
    outcomes = []
    for mod in (np, sw):
        with pytest.raises(Exception) as info:  # numpy's exception, whichever
            getattr(mod, func)(x, *args, axis=0, out=np.empty(8))
        outcomes.append((info.type, str(info.value)))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0] is NotImplementedError  # (Dask's, today)
    # Keywords at numpy's defaults are not passed on, others are: Dask's median takes
    # keepdims.
    got = sw.median(x, axis=0, keepdims=True, overwrite_input=False)
    _assert_bitwise(got.compute(scheduler="sync"), np.median(np.asarray(x), 0, keepdims=True), func)


# --- average --------------------------------------------------------------------------------


def test_average_without_weights_is_the_exact_mean() -> None:
    a = _cancel(np.float64)
    x = da.from_array(a, chunks=(7, 5))
    for axis, keepdims in itertools.product((None, 0, 1), (False, True)):
        r = sw.average(x, axis=axis, keepdims=keepdims)
        assert isinstance(r, da.Array)
        got = r.compute(scheduler="sync")
        _assert_bitwise(got, sw.mean(a, axis=axis, keepdims=keepdims), f"average({axis})")
        assert got.shape == np.average(a, axis=axis, keepdims=keepdims).shape


@pytest.mark.parametrize("how", ["weights", "dask-weights", "returned"])
def test_average_with_weights_or_returned(how: str) -> None:
    rng = np.random.default_rng(8)
    a, w = rng.standard_normal((21, 9)), rng.uniform(0.5, 1.5, 21)
    x = da.from_array(a, chunks=(5, 4))
    if how == "returned":
        avg, scl = sw.average(x, axis=0, returned=True)
        want_avg, want_scl = np.average(a, axis=0, returned=True)
        got_avg, got_scl = _compute("sync", avg, scl)
        np.testing.assert_allclose(got_scl, want_scl)
    else:
        weights = da.from_array(w, chunks=5) if how == "dask-weights" else w
        avg = sw.average(x, axis=0, weights=weights)
        want_avg = np.average(a, axis=0, weights=w)
        assert avg.shape == want_avg.shape
        (got_avg,) = _compute("sync", avg)
    assert got_avg.shape == want_avg.shape
    np.testing.assert_allclose(got_avg, want_avg, rtol=1e-13)


# --- xarray ---------------------------------------------------------------------------------


def test_xarray_reduce_is_lazy_and_exact() -> None:
    xr = pytest.importorskip("xarray")
    a = _mixed("float64")
    arr = xr.DataArray(da.from_array(a, chunks=(5, 4)), dims=("time", "x"))
    r = arr.reduce(sw.nanmean, dim="time")
    assert r.dims == ("x",)
    assert isinstance(r.data, da.Array)
    _assert_bitwise(r.data.compute(scheduler="sync"), sw.nanmean(a, axis=0), "xarray nanmean")
    m = arr.reduce(sw.nanmedian, dim="time")
    assert isinstance(m.data, da.Array)
    _assert_bitwise(m.data.compute(scheduler="sync"), np.nanmedian(a, axis=0), "nanmedian")


# --- var and std: deterministic for a chunking ----------------------------------------------


def test_var_is_deterministic_for_a_chunking(client: Any) -> None:
    noise = np.random.default_rng(12).standard_normal((SHAPE[0], 12))
    a = _cancel(np.float64)[:, :12] + noise
    nan_a = _adversarial("cancel", np.float64, nan=True)[:, :12]
    cases = [
        (func, chunks, axis)
        for func in ("var", "std", "nanvar", "nanstd")
        for chunks in ((7, 5), ((13, 1, 30, 16), (3, 9)))
        for axis in (None, 0, 1)
    ]

    def lazy() -> list[Any]:
        out = []
        for func, chunks, axis in cases:
            src = nan_a if func.startswith("nan") else a
            out.append(getattr(sw, func)(da.from_array(src, chunks=chunks), axis=axis, ddof=1))
        return out

    runs = [_compute(s, *lazy()) for s in ("sync", "sync", "threads", client, client)]
    for i, case in enumerate(cases):
        first = runs[0][i]
        for run in runs[1:]:
            _assert_bitwise(run[i], first, f"{case}")
        func, _, axis = case
        src = nan_a if func.startswith("nan") else a
        want = np.asarray(getattr(sw, func)(src, axis=axis, ddof=1))
        # Within 1 ulp of the ndarray's correctly rounded variance (measured: 0 for most
        # outputs, 1 ulp for a few of nanstd's over axis 1).
        gap = np.abs(np.asarray(first) - want) / np.spacing(np.abs(want))
        assert first.shape == want.shape and np.all(gap <= 1.0), (case, gap.max())


def test_var_of_chunks_at_the_ends_of_the_range() -> None:
    """Chunks whose variance the kernels sum again scaled (subnormal variances, M2 past the
    largest float: var::Rescaled) travel with their scale and merge with chunks that did not
    need it (zeros, ordinary values): the whole array's values, within the accuracy promise
    (a few of the subnormals' spacing; std finite where numpy's is inf)."""
    rng = np.random.default_rng(13)
    tiny = rng.standard_normal((24, 6)) * 1e-160
    tiny[:8] = 0.0  # chunks of zeros the kernels leave at scale 0
    huge = rng.standard_normal((24, 6)) * 1e300
    huge[5:11] = rng.standard_normal((6, 6))  # ordinary values beside them
    for a in (tiny, huge):
        for chunks in ((8, 3), (5, 6), ((1, 7, 16), (4, 2))):
            for func in ("var", "std", "nanvar", "nanstd"):
                for axis in (None, 0, 1):
                    x = da.from_array(a, chunks=chunks)
                    got = getattr(sw, func)(x, axis=axis, ddof=1).compute(scheduler="sync")
                    want = getattr(sw, func)(a, axis=axis, ddof=1)
                    case = (func, chunks, axis, float(np.max(np.abs(a))))
                    if func.endswith("std"):
                        assert np.all(np.isfinite(got)), case
                    np.testing.assert_allclose(
                        got, want, rtol=8 * np.finfo(np.float64).eps, atol=4e-323, err_msg=str(case)
                    )


@pytest.mark.parametrize("func", ["nanargmin", "nanargmax"])
def test_nanarg_does_not_let_a_nan_tie_with_an_infinite_best(func: str) -> None:
    """A chunk with an all-NaN slice is blanked only in that slice: elsewhere in the chunk a
    NaN before an infinite best must not win (numpy skips it)."""
    inf = np.inf if "min" in func else -np.inf
    a = np.full((8, 2), inf)
    a[:4, 0] = np.nan
    a[4:, 0] = [3.0, 1.0, 2.0, 0.5]
    a[0, 1] = np.nan
    x = da.from_array(a, chunks=(4, 2))
    for axis in (0, None):
        got = getattr(sw, func)(x, axis=axis).compute(scheduler="sync")
        _check_like_numpy(func, got, a, {"axis": axis, "keepdims": False})


@pytest.mark.parametrize("keepdims", [np.True_, 1])
@pytest.mark.parametrize("func", ["mean", "sum", "var", "argmax", "max"])
def test_keepdims_not_a_bool_is_numpys_business(func: str, keepdims: Any) -> None:
    """keepdims=np.True_ or 1: whatever numpy's function does with the Dask array (numpy's
    mean refuses np.True_, its max takes it), stridewise does too."""
    a = np.arange(24.0).reshape(4, 6)
    x = da.from_array(a, chunks=(2, 3))

    def outcome(f: Any) -> Any:
        try:
            return np.asarray(f(x, axis=0, keepdims=keepdims).compute(scheduler="sync"))
        except Exception as e:  # whatever Dask raises (TypeError, IndexError)
            return type(e)

    want = outcome(getattr(np, func))
    got = outcome(getattr(sw, func))
    if isinstance(want, type):
        assert got is want
    else:
        assert got.shape == want.shape and np.array_equal(got, want)


def test_median_keepdims_as_numpy_takes_its_truth() -> None:
    a = np.arange(24.0).reshape(4, 6)
    got = sw.median(da.from_array(a, chunks=(2, 3)), axis=0, keepdims=np.True_)
    assert got.shape == (1, 6)
    assert np.array_equal(got.compute(scheduler="sync"), np.median(a, axis=0, keepdims=True))
