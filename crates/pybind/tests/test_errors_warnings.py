"""numpy's exceptions and RuntimeWarnings, compared call by call (type and message)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import (
    ARG_FUNCS,
    FAMILY,
    FUNCS,
    MEAN_FUNCS,
    MINMAX_FUNCS,
    VAR_FUNCS,
    call,
    check_against_numpy,
    make_data,
)

# --------------------------------------------------------------------------------------------
# Exceptions


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.float16])
@pytest.mark.parametrize("func", FUNCS)
def test_axis_error(func: str, dtype: Any) -> None:
    for shape in [(3, 4), (0, 2), (5,), ()]:
        a = make_data(dtype, shape, seed=1)
        nd = len(shape)
        for axis in (nd, -nd - 1, nd + 5, (0, nd), (nd,), (-nd - 1, 0)):
            if nd == 0 and axis == (0, nd):
                continue
            o = check_against_numpy(func, a, axis=axis)
            if nd == 0 and axis in (0, -1, (0,)):
                continue  # numpy accepts axis 0 / -1 of a 0-d array in some functions
            if func in ARG_FUNCS and isinstance(axis, tuple):
                # One axis only: numpy's own error (TypeError, or for the nan-variants
                # whatever their NaN mask's reduction raises first), compared above.
                assert o.exc is not None, (shape, axis, o)
                continue
            assert isinstance(o.exc, np.exceptions.AxisError), (shape, axis, o)
            # AxisError is also a ValueError and an IndexError, as numpy documents.
            assert isinstance(o.exc, ValueError) and isinstance(o.exc, IndexError)


@pytest.mark.parametrize("func", FUNCS)
def test_duplicate_axis(func: str) -> None:
    a = make_data(np.float64, (2, 3, 4), seed=2)
    for axis in ((0, 0), (1, -2), (0, 1, 0), (-1, 2), (2, 2, 2)):
        o = check_against_numpy(func, a, axis=axis)
        # argmin/argmax take one axis: numpy's TypeError for any tuple (the nan-variants
        # reduce their NaN mask first, which raises the ValueError).
        want = TypeError if func in ("argmin", "argmax") else ValueError
        assert type(o.exc) is want, (axis, o)


@pytest.mark.parametrize("func", FUNCS)
def test_bad_axis_type(func: str) -> None:
    a = make_data(np.float64, (2, 3), seed=2)
    for axis in (1.0, "0", [0, 1], True, np.float64(0), (0, 1.5), None):
        o = check_against_numpy(func, a, axis=axis)
        if axis is not None:
            assert isinstance(o.exc, TypeError), (axis, o)


@pytest.mark.parametrize("dtype", [np.float64, np.int8, np.bool_, np.float16, np.uint64])
@pytest.mark.parametrize("func", MINMAX_FUNCS)
def test_minmax_of_empty(func: str, dtype: Any) -> None:
    cases: list[tuple[tuple[int, ...], Any]] = [
        ((0,), None),
        ((0,), 0),
        ((0, 3), None),
        ((0, 3), 0),
        ((3, 0), 1),
        ((3, 0), (0, 1)),
        ((2, 0, 2), (1, 2)),
    ]
    for shape, axis in cases:
        o = check_against_numpy(func, np.zeros(shape, dtype), axis=axis)
        assert type(o.exc) is ValueError, (shape, axis)
    # Reducing a non-empty axis of an empty array is fine: an empty result.
    for shape, axis in [((0, 3), 1), ((3, 0), 0), ((2, 0, 2), (0, 2))]:
        o = check_against_numpy(func, np.zeros(shape, dtype), axis=axis)
        assert o.exc is None and o.result.size == 0


@pytest.mark.parametrize("func", VAR_FUNCS)
def test_ddof_and_correction_together(func: str) -> None:
    a = make_data(np.float64, (3, 4))
    o = check_against_numpy(func, a, ddof=1, correction=1)
    assert type(o.exc) is ValueError
    check_against_numpy(func, a, ddof=0, correction=1)


@pytest.mark.parametrize("func", FUNCS)
def test_unknown_keyword(func: str) -> None:
    a = make_data(np.float64, (3, 4))
    with pytest.raises(TypeError):
        getattr(sw, func)(a, bogus=1)
    with pytest.raises(TypeError):
        getattr(np, func)(a, bogus=1)


# --------------------------------------------------------------------------------------------
# RuntimeWarnings


def _warns(o: Any) -> list[str]:
    return [m for c, m in o.warns if c is RuntimeWarning]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.float16])
@pytest.mark.parametrize("func", MEAN_FUNCS + VAR_FUNCS)
def test_mean_var_of_empty_warns(func: str, dtype: Any) -> None:
    for shape, axis in [
        ((0,), None),
        ((0, 3), None),
        ((0, 3), 0),
        ((3, 0), 1),
        ((3, 0), None),
        ((2, 0, 4), (0, 1)),
    ]:
        o = check_against_numpy(func, np.zeros(shape, dtype), axis=axis)
        assert _warns(o), (func, shape, axis, "numpy warns here")
    # A non-empty reduction of an empty array: an empty result, no warning.
    o = check_against_numpy(func, np.zeros((0, 3), dtype), axis=1)
    assert o.result.shape == (0,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8])
@pytest.mark.parametrize("func", VAR_FUNCS)
def test_ddof_too_large_warns(func: str, dtype: Any) -> None:
    a = make_data(dtype, (3, 4), seed=5)
    for axis, n in [(None, 12), (0, 3), (1, 4), ((0, 1), 12)]:
        for ddof in (n, n + 1, n + 0.5):
            o = check_against_numpy(func, a, axis=axis, ddof=ddof)
            assert _warns(o), (axis, ddof)
        for ddof in (n - 1, n - 0.5):
            o = check_against_numpy(func, a, axis=axis, ddof=ddof)
            assert not _warns(o), (axis, ddof)
        check_against_numpy(func, a, axis=axis, correction=n)


@pytest.mark.parametrize("func", VAR_FUNCS)
def test_ddof_nan_infinite_or_beyond_int64(func: str) -> None:
    """numpy's `max(n - ddof, 0)`: NaN for a NaN ddof (the kernels' `max` took 0: inf), an
    OverflowError for a Python int beyond int64 (stridewise computed), infinities."""
    a = make_data(np.float64, (3, 4), seed=6)
    for ddof in (np.nan, -(10**30), 10**19, 2**63 - 1, np.inf, -np.inf, np.float32("nan")):
        for axis in (None, 1):
            o = check_against_numpy(func, a, axis=axis, ddof=ddof)
            if isinstance(ddof, int) and abs(ddof) >= 2**63:
                assert type(o.exc) is OverflowError, (ddof, o)
            elif ddof != ddof:
                assert np.isnan(o.result).all(), (ddof, o)
    check_against_numpy(func, a, correction=np.nan)


NAN_WARNING_FUNCS = ["nanmean", "nanvar", "nanstd", "nanmin", "nanmax", "nansum"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("func", NAN_WARNING_FUNCS)
def test_all_nan_slices_warn(func: str, dtype: Any) -> None:
    """nanmean/nanvar/nanstd/nanmin/nanmax of an all-NaN slice: NaN and numpy's warning
    (once per call, numpy's message); nansum: 0 and no warning."""
    full_nan = np.full((3, 4), np.nan, dtype)
    part = make_data(dtype, (3, 4), seed=2)
    part[1, :] = np.nan  # row 1 all NaN
    part[:, 2] = np.nan  # column 2 all NaN
    for a in (full_nan, part, part.T, full_nan[:, :1]):
        for axis in (None, 0, 1, -1, (0, 1)):
            for keepdims in (False, True):
                o = check_against_numpy(func, a, axis=axis, keepdims=keepdims)
                if func != "nansum" and (a is full_nan or axis in (0, 1, -1)):
                    assert _warns(o), (func, axis)
                if func == "nansum":
                    assert not _warns(o)


@pytest.mark.parametrize("func", ["nanvar", "nanstd"])
def test_nan_functions_ddof_vs_non_nan_count(func: str) -> None:
    """nanvar with ddof >= the number of non-NaN values in a slice (but < its length)."""
    a = np.array([[1.0, np.nan, np.nan, 4.0], [1.0, 2.0, 3.0, np.nan], [np.nan] * 4])
    for ddof in (0, 1, 2, 3):
        for axis in (None, 0, 1):
            check_against_numpy(func, a, axis=axis, ddof=ddof)


@pytest.mark.parametrize("func", FUNCS)
def test_no_warning_on_ordinary_data(func: str) -> None:
    # (The product of 30 such values overflows float16 for real: numpy warns too.)
    dtypes = [np.float64, np.int32] + ([] if FAMILY[func] == "prod" else [np.float16])
    for dtype in dtypes:
        a = make_data(dtype, (5, 6), seed=1)
        for axis in (None, 0, 1):
            o = call(sw, func, a, {"axis": axis})
            assert o.exc is None and o.warns == [], (dtype, axis, o.warns)


@pytest.mark.parametrize("func", ["nanmean", "nanvar", "nanstd", "nanmin", "nanmax"])
def test_warning_as_error(func: str) -> None:
    """With warnings turned into errors, stridewise raises numpy's RuntimeWarning."""
    a = np.full((2, 3), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning) as e_np:
            getattr(np, func)(a, axis=0)
        with pytest.raises(RuntimeWarning) as e_sw:
            getattr(sw, func)(a, axis=0)
    assert str(e_sw.value) == str(e_np.value)


@pytest.mark.parametrize("func", ["nanmean", "nanvar", "nanmin", "mean", "var"])
def test_warning_points_at_caller(func: str) -> None:
    """The warning is attributed to the calling file, as numpy's stacklevel does."""
    a = np.full((2, 3), np.nan) if func.startswith("nan") else np.zeros((0, 3))
    for mod in (np, sw):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            getattr(mod, func)(a, axis=0)
        files = {w.filename for w in rec if "encountered in" not in str(w.message)}
        if mod is np and func.startswith("nan"):
            assert files == {__file__}
        if mod is sw:
            want = {w.filename for w in _numpy_warnings(func, a)}
            assert files == want


def _numpy_warnings(func: str, a: np.ndarray) -> list[Any]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        getattr(np, func)(a, axis=0)
    return [w for w in rec if "encountered in" not in str(w.message)]


# --------------------------------------------------------------------------------------------
# numpy's floating-point error warnings (np.errstate): overflow, inf - inf


FP_CASES: list[tuple[str, np.ndarray, dict[str, Any]]] = [
    ("sum", np.array([np.inf, -np.inf, 1.0]), {}),
    ("sum", np.array([1e308, 1e308]), {}),
    ("sum", np.array([6e4, 6e4], dtype=np.float16), {}),
    ("nansum", np.array([np.inf, np.nan, -np.inf]), {}),
    ("mean", np.array([1e308, 1e308, 1e308]), {}),
    ("mean", np.array([np.inf, -np.inf]), {}),
    ("var", np.array([1e200, -1e200]), {}),
    ("std", np.array([1.7e308, -1.7e308, 1.7e308, -1.7e308]), {"ddof": 1}),
    ("nanvar", np.array([1e200, np.nan, -1e200]), {}),
    # Results (or inputs) cast to a narrower float by stridewise: the cast's own "overflow
    # encountered in cast" is not numpy's; numpy's accumulation in that type warns.
    ("sum", np.array([1e308, 1e308]), {"dtype": np.float32}),
    ("sum", np.array([1e5, 1e5]), {"dtype": np.float16}),
    ("mean", np.array([1e5, 1e5]), {"dtype": np.float16}),
    ("sum", np.array([2**62, 2**62]), {"dtype": np.float16}),
    ("prod", np.array([300.0, 300.0], dtype=np.float16), {}),
    ("var", np.array([6e4, -6e4], dtype=np.float16), {}),
    ("ptp", np.array([6e4, -6e4], dtype=np.float16), {}),
    ("sum", np.array([[6e4, 6e4], [1.0, 2.0]], dtype=np.float16), {"axis": 1}),
]


@pytest.mark.parametrize(
    ("func", "a", "kw"), FP_CASES, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(FP_CASES)]
)
def test_floating_point_warnings(func: str, a: np.ndarray, kw: dict[str, Any]) -> None:
    """numpy reports overflow and invalid operations (inf - inf) inside reductions as
    RuntimeWarnings ('overflow encountered in reduce', 'invalid value encountered in reduce');
    "same RuntimeWarnings" includes these, message for message."""
    o_np = call(np, func, a, kw)
    o_sw = call(sw, func, a, kw)
    assert o_np.warns, "numpy warns in every case here"
    np.testing.assert_array_equal(o_sw.result, o_np.result)
    assert o_sw.warns == o_np.warns


def test_std_is_finite_without_a_warning_where_only_numpys_squares_overflow() -> None:
    """std of values whose variance passes the largest float but whose std does not: numpy's
    squares overflow (inf, 'overflow encountered in square'); ours is the exact root, rounded
    (kernels/var.rs), and nothing overflowed, so nothing warns. var is inf, with numpy's
    warning."""
    a = np.array([1e200, -1e200, 0.0])
    o_np, o_sw = call(np, "std", a, {}), call(sw, "std", a, {})
    assert o_np.result == np.inf and o_np.warns
    assert o_sw.result == 1e200 * math.sqrt(2 / 3) and not o_sw.warns
    o_np, o_sw = call(np, "var", a, {}), call(sw, "var", a, {})
    assert o_sw.result == o_np.result == np.inf and o_sw.warns == o_np.warns


def _rows_with(rows: dict[int, list[float]], shape: tuple[int, int]) -> np.ndarray:
    a = np.arange(shape[0] * shape[1], dtype=np.float64).reshape(shape) / 7
    for r, vals in rows.items():
        a[r, : len(vals)] = vals
    return a


# A few non-finite outputs among many: numpy's function is replayed on those outputs'
# slices only (`exec.rs`, `replay_warnings`), which must warn exactly as numpy does on the
# whole array: NaN alone is quiet, inf - inf is "invalid", 1e308 + 1e308 "overflow".
SUBSET_CASES = [
    ("sum", _rows_with({3: [np.nan]}, (40, 6)), {"axis": 1}),
    ("sum", _rows_with({3: [np.inf, -np.inf]}, (40, 6)), {"axis": 1}),
    ("sum", _rows_with({5: [1e308, 1e308], 9: [np.nan]}, (40, 6)), {"axis": 1}),
    ("mean", _rows_with({0: [np.inf, 1.0, -np.inf], 39: [np.nan]}, (40, 6)), {"axis": 1}),
    ("sum", _rows_with({3: [np.inf, -np.inf]}, (40, 6)).T, {"axis": 0}),
    ("var", _rows_with({2: [1e200, -1e200], 7: [np.nan]}, (40, 6)), {"axis": 1, "ddof": 1}),
    ("sum", _rows_with({1: [np.inf, -np.inf]}, (40, 6)), {"axis": 1, "keepdims": True}),
    ("sum", _rows_with({1: [1e308, 1e308]}, (40, 6)), {"axis": 1, "dtype": np.float32}),
]


@pytest.mark.parametrize(
    ("func", "a", "kw"), SUBSET_CASES, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(SUBSET_CASES)]
)
def test_floating_point_warnings_of_a_few_outputs(
    func: str, a: np.ndarray, kw: dict[str, object]
) -> None:
    o_np = call(np, func, a, kw)
    o_sw = call(sw, func, a, kw)
    # (Finite outputs are correctly rounded, numpy's within a few ulps of the result type.)
    rtol = 1e-6 if kw.get("dtype") is np.float32 else 1e-14
    np.testing.assert_allclose(o_sw.result, o_np.result, rtol=rtol)
    # The kinds, once each: an overflow may also surface in stridewise's final cast.
    kinds_np = {(c.__name__, m.split(" encountered")[0]) for c, m in o_np.warns}
    kinds_sw = {(c.__name__, m.split(" encountered")[0]) for c, m in o_sw.warns}
    assert kinds_sw == kinds_np, (o_np.warns, o_sw.warns)


@pytest.mark.parametrize("axes", [(1,), (0, 2), (0,), (2,), (1, 2)])
def test_a_few_outputs_replayed_on_any_kept_axes(axes: tuple[int, ...]) -> None:
    """Outputs over kept axes that are not next to each other (axis=1 of a cube keeps 0 and
    2): the replay finds each non-finite output's slice, so an inf - inf in one of them warns
    and a NaN elsewhere does not make numpy's warning disappear or appear."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 6, 7))
    pos = [0, 0, 0]
    for d in range(3):
        pos[d] = 4 if d in axes else 3
    b = a.copy()
    idx_inf = tuple(pos)
    b[idx_inf] = np.inf
    other = list(pos)
    other[axes[0]] = 1
    b[tuple(other)] = -np.inf  # the same output as the +inf: inf - inf
    nan_pos = [2, 2, 2]
    b[tuple(nan_pos)] = np.nan
    o_np = call(np, "sum", b, {"axis": axes})
    o_sw = call(sw, "sum", b, {"axis": axes})
    # (Finite outputs are correctly rounded, numpy's within an ulp or so.)
    np.testing.assert_allclose(o_sw.result, o_np.result, rtol=1e-14)
    assert any("invalid value" in m for _, m in o_np.warns)
    kinds_np = sorted(m.split(" encountered")[0] for _, m in o_np.warns)
    kinds_sw = sorted(m.split(" encountered")[0] for _, m in o_sw.warns)
    assert kinds_sw == kinds_np, (o_np.warns, o_sw.warns)
