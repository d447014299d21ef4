"""``average`` against numpy and against the exact weighted average.

numpy is the specification for everything but accuracy: result type (numpy scalar or
ndarray), dtype, shape, keepdims, ``returned``, errors and warnings must be numpy's. Values
are checked against the exact average (``Fraction``s of the elements): never further from it
than numpy's own result, or within half an ulp of the result dtype. Layouts and dtypes are
those of test_against_numpy.py, for the data and, independently, the weights.
"""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import dtype_id, make_data
from test_against_numpy import LAYOUT_DTYPES, LAYOUTS, _layout

WEIGHT_DTYPES = (np.float64, np.float32, np.float16, np.int32, np.uint8, np.bool_)


def _weights(dtype: Any, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Non-negative weights (so sums are rarely zero), some zero."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(rng.random(shape) < 0.8)
    if dt.kind in "iu":
        return rng.integers(0, 5, size=shape).astype(dt)
    return (rng.random(shape) * 4.0).astype(dt)


def _exact(a: np.ndarray, w: np.ndarray, axis: Any) -> np.ndarray:
    """The exact weighted averages of the values cast to float (object array of Fractions),
    with weights of ``a``'s shape; shaped as numpy's result without keepdims."""
    ax = tuple(range(a.ndim)) if axis is None else axis
    kept = [k for k in range(a.ndim) if k not in ax]
    moved = np.moveaxis(a, kept, range(len(kept)))
    wm = np.moveaxis(np.broadcast_to(w, a.shape), kept, range(len(kept)))
    out_shape = moved.shape[: len(kept)]
    rows = moved.reshape(*out_shape, -1) if kept else moved.reshape(1, -1)
    wrows = wm.reshape(*out_shape, -1) if kept else wm.reshape(1, -1)
    res = np.empty(rows.shape[:-1], dtype=object)
    for idx in np.ndindex(*rows.shape[:-1]):
        # numpy casts to the result type first (``np.multiply(a, w, dtype=...)``): int64
        # beyond 2^53 is rounded there, by both; the exact average is of those values.
        xs = [Fraction(float(x)) for x in rows[idx]]
        ws = [Fraction(float(x)) for x in wrows[idx]]
        res[idx] = sum((x * y for x, y in zip(xs, ws, strict=True)), Fraction(0)) / sum(
            ws, Fraction(0)
        )
    return res.reshape(out_shape) if kept else res.reshape(())


def _ulp(x: Fraction, dt: np.dtype) -> Fraction:
    return Fraction(float(np.spacing(np.abs(dt.type(float(x))))))


def _assert_accurate(got: Any, ref: Any, exact: np.ndarray, dt: np.dtype) -> None:
    got, ref = np.asarray(got), np.asarray(ref)
    for idx in np.ndindex(*exact.shape):
        e = exact[idx]
        g, r = Fraction(float(got[idx])), Fraction(float(ref[idx]))
        err_sw, err_np = abs(g - e), abs(r - e)
        assert err_sw <= max(err_np, _ulp(e, dt) / 2), (idx, float(g), float(r), float(e))


def _full_weights(layout: str, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Weights of the data's shape, laid out unlike the data (transposed, reversed)."""
    w = _weights(dtype, shape[::-1], seed=3).T
    return w[::-1] if layout in ("C", "F") else w


@pytest.mark.parametrize("wdt", WEIGHT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("adt", LAYOUT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_and_dtypes(layout: str, adt: Any, wdt: Any) -> None:
    a = _layout(layout, adt)
    full = _full_weights(layout, wdt, a.shape)
    cases: list[tuple[Any, np.ndarray]] = [(None, full), (0, full), (-1, full)]
    cases += [(0, _weights(wdt, (a.shape[0],), 4)), (1, _weights(wdt, (a.shape[1],), 5))]
    if a.ndim == 3:
        cases.append(((2, 0), _weights(wdt, (a.shape[2], a.shape[0]), 6)))
    else:
        cases.append(((1, 0), _weights(wdt, (a.shape[1], a.shape[0]), 6)))
    for axis, w in cases:
        try:
            want = np.average(a, axis=axis, weights=w)
        except ZeroDivisionError:
            with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
                sw.average(a, axis=axis, weights=w)
            continue
        got = sw.average(a, axis=axis, weights=w)
        assert type(got) is type(want), (axis, type(got), type(want))
        assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
        path = sw.explain(sw.average, a, axis=axis, weights=w)["path"]
        assert path in ("kernel", "kernel+copy"), path
        norm = None if axis is None else tuple(int(k) % a.ndim for k in np.atleast_1d(axis))
        wfull = w
        if w.shape != a.shape:
            assert norm is not None
            wfull = w.transpose(np.argsort(norm)).reshape(
                tuple(s if k in norm else 1 for k, s in enumerate(a.shape))
            )
        _assert_accurate(got, want, _exact(a, wfull, norm), want.dtype)


@pytest.mark.parametrize("keepdims", [np._NoValue, False, True])
@pytest.mark.parametrize("returned", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
def test_keepdims_and_returned(axis: Any, returned: bool, keepdims: Any) -> None:
    a = make_data(np.float32, (5, 6), seed=2)
    for w in (None, _weights(np.float32, (5, 6), 1), _weights(np.int64, (6,), 2)):
        if w is not None and w.ndim == 1 and axis not in (1, -1):
            continue
        want = np.average(a, axis=axis, weights=w, returned=returned, keepdims=keepdims)
        got = sw.average(a, axis=axis, weights=w, returned=returned, keepdims=keepdims)
        # Values against numpy in float64 (numpy's float32 sums lose digits here).
        a64 = a.astype(np.float64)
        exact = np.average(a64, axis=axis, weights=w, returned=returned, keepdims=keepdims)
        pairs = zip(got, want, exact, strict=True) if returned else [(got, want, exact)]
        for g, n, e in pairs:
            assert type(g) is type(n) and g.dtype == n.dtype and np.shape(g) == np.shape(n)
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)


def test_errors_are_numpys() -> None:
    a = np.arange(12.0).reshape(3, 4)
    for kwargs, err in [
        ({"weights": np.ones(4)}, TypeError),
        ({"axis": 0, "weights": np.ones(4)}, ValueError),
        ({"axis": (0, 1), "weights": np.ones(4)}, ValueError),
        ({"axis": 2, "weights": np.ones(4)}, np.exceptions.AxisError),
        ({"axis": 2}, np.exceptions.AxisError),
        ({"axis": (0, 0), "weights": np.ones((3, 3))}, ValueError),
        ({"axis": 1, "weights": np.array([1.0, -1.0, 2.0, -2.0])}, ZeroDivisionError),
        ({"weights": np.zeros((3, 4))}, ZeroDivisionError),
    ]:
        with pytest.raises(err) as want:
            np.average(a, **kwargs)
        with pytest.raises(err) as got:
            sw.average(a, **kwargs)
        assert str(got.value) == str(want.value), kwargs
    # No outputs: nothing to divide, numpy returns an empty array.
    e = np.zeros((0, 3))
    want = np.average(e, axis=1, weights=np.ones(3))
    got = sw.average(e, axis=1, weights=np.ones(3))
    assert got.shape == want.shape == (0,) and got.dtype == want.dtype


def test_cancellation_is_exact_where_numpy_loses_every_digit() -> None:
    a = np.array([1e16, 1.0, -1e16, 2.0])
    w = np.array([3.0, 1.0, 3.0, 1.0])
    assert sw.average(a, weights=w) == 3.0 / 8.0
    assert np.average(a, weights=w) != 3.0 / 8.0  # numpy's products and sums round
    x = np.full(1000, 1.0 + 2.0**-30)
    y = np.full(1000, 1.0 - 2.0**-30)
    assert sw.average(x, weights=y) == 1.0 + 2.0**-30


def test_sums_past_the_largest_float_stay_finite_where_the_exact_one_is() -> None:
    """Weights near the largest float whose lanes' running sums overflow (9e307 twice in a
    lane: inf, then inf - inf = NaN) while the exact sums are small: the overflowing outputs
    are summed again exactly. Found by a differential fuzz: stridewise said NaN, numpy 1.0."""
    w = np.broadcast_to([9e307, -9e307, 3.0], (2, 3))
    assert sw.average(np.ones((2, 3)), weights=w) == np.average(np.ones((2, 3)), weights=w)
    a = np.array([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
    for axis, want in ((None, 0.75), (1, [1.0, 0.5])):
        got = sw.average(a, axis=axis, weights=np.broadcast_to([9e307, -9e307, 3.0], (2, 3)))
        assert np.array_equal(got, want), (axis, got)
    big = np.array([9e307, 9e307, -9e307, -9e307, 1.0])
    for a in (np.ones(5), np.ones((3, 5)), np.ones((5, 3)).T, np.ones((5, 700)).T):
        wb = np.broadcast_to(big, a.shape)
        got = sw.average(a, axis=-1, weights=wb)
        assert np.all(got == 1.0), got
    # An infinite weight, or a product past the largest float, is numpy's inf or NaN.
    for w in ([np.inf, 1.0], [1e308, 1e308], [-np.inf, 2.0]):
        for a in ([1.0, 1.0], [4.0, 1.0]):
            with np.errstate(all="ignore"):
                want = np.average(np.array(a), weights=np.array(w))
                got = sw.average(np.array(a), weights=np.array(w))
            assert np.array_equal(got, want, equal_nan=True), (a, w, got, want)


def test_keepdims_that_is_not_an_int_is_numpys() -> None:
    """numpy reads average's keepdims as an index: numpy.True_ and None raise its TypeError."""
    a = np.ones((2, 3))
    for keepdims in (np.True_, np.False_, None, 1, 0, np.int64(1)):
        for w in (None, np.ones((2, 3))):
            try:
                want: Any = np.average(a, weights=w, keepdims=keepdims)
            except TypeError as e:
                with pytest.raises(TypeError, match=str(e)):
                    sw.average(a, weights=w, keepdims=keepdims)
                continue
            got = sw.average(a, weights=w, keepdims=keepdims)
            assert np.shape(got) == np.shape(want) and np.array_equal(got, want), keepdims


def test_special_values_and_warnings_are_numpys() -> None:
    a = np.array([[1.0, np.inf, 2.0], [np.nan, 1.0, 2.0], [1.0, 2.0, 3.0]])
    for w in (np.array([1.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0])):
        with warnings.catch_warnings(record=True) as wn:
            warnings.simplefilter("always")
            want = np.average(a, axis=1, weights=w)
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            got = sw.average(a, axis=1, weights=w)
        np.testing.assert_array_equal(got, want)
        assert [(x.category, str(x.message)) for x in ws] == [
            (x.category, str(x.message)) for x in wn
        ]


def test_other_types_go_to_numpy() -> None:
    c = np.array([1 + 2j, 3 - 1j])
    assert sw.explain(sw.average, c, weights=[1, 2])["path"] == "numpy"
    assert sw.average(c, weights=[1, 2]) == np.average(c, weights=[1, 2])
    m = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    assert sw.explain(sw.average, m, weights=[1, 1, 2])["path"] == "numpy"
    assert sw.average(m, weights=[1, 1, 2]) == np.average(m, weights=[1, 1, 2])
    ld = np.array([1, 2, 3], dtype=np.longdouble)
    assert sw.explain(sw.average, ld, weights=[1, 1, 2])["path"] == "numpy"
    got = sw.average(ld, weights=[1, 1, 2])
    assert got.dtype == np.longdouble and got == np.average(ld, weights=[1, 1, 2])


def test_unweighted_other_types_are_numpys() -> None:
    # numpy's average makes the count a scalar of the mean's type: timedelta64 refuses a
    # float (ValueError) even where the mean exists; datetime64 has no mean (TypeError).
    td = np.array([1, 2, 3], dtype="m8[s]")
    dt = np.array(["2020-01-01", "2021-01-01"], dtype="M8[D]")
    for x in (td, dt):
        for axis in (None, 0):
            with pytest.raises((ValueError, TypeError)) as want:
                np.average(x, axis=axis)
            with pytest.raises(want.type, match=re.escape(str(want.value))):
                sw.average(x, axis=axis)
    c = np.array([1 + 2j, 3 - 1j])
    for returned in (False, True):
        got, want = sw.average(c, returned=returned), np.average(c, returned=returned)
        assert np.array_equal(got, want) and np.asarray(got).dtype == np.asarray(want).dtype


def test_unweighted_empty_is_numpys() -> None:
    # numpy divides a.size by the result's size for the count: ZeroDivisionError where the
    # result is empty, nan and "Mean of empty slice" where only the reduced axes are.
    z = np.zeros((0, 3))
    for axis in (None, 0, 1, (0, 1)):
        for returned in (False, True):
            with warnings.catch_warnings(record=True) as w_np:
                warnings.simplefilter("always")
                try:
                    want, e_np = np.average(z, axis=axis, returned=returned), None
                except ZeroDivisionError as e:
                    want, e_np = None, e
            with warnings.catch_warnings(record=True) as w_sw:
                warnings.simplefilter("always")
                if e_np is not None:
                    with pytest.raises(ZeroDivisionError):
                        sw.average(z, axis=axis, returned=returned)
                    continue
                got = sw.average(z, axis=axis, returned=returned)
            assert [str(w.message) for w in w_sw] == [str(w.message) for w in w_np]
            for g, n in zip(got if returned else [got], want if returned else [want], strict=True):
                assert type(g) is type(n)
                np.testing.assert_array_equal(g, n, strict=True)


def test_unweighted_is_mean() -> None:
    a = make_data(np.int16, (7, 9), seed=8)
    for axis in (None, 0, 1, [0], (0, 1)):
        e = sw.explain(sw.average, a, axis=axis)
        assert e["path"] == "kernel" and "mean" in e["reason"]
        want = np.average(a, axis=axis, returned=True)
        got = sw.average(a, axis=axis, returned=True)
        for g, n in zip(got, want, strict=True):
            assert type(g) is type(n) and g.dtype == n.dtype
            np.testing.assert_allclose(g, n, rtol=1e-12)


def test_explain_names_the_copies() -> None:
    a = make_data(np.float64, (6, 7), seed=1)
    w = _weights(np.float64, (7,), 2)
    assert sw.explain(sw.average, a, axis=1, weights=w)["path"] == "kernel"
    e = sw.explain(sw.average, a.astype(">f8"), axis=1, weights=w)
    assert e["path"] == "kernel+copy" and "byte-swapped" in e["reason"]
    e = sw.explain(sw.average, a.astype(np.float16), axis=1, weights=w)
    assert e["path"] == "kernel+copy" and "float16" in e["reason"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
        sw.explain(sw.average, a, out=None)
