"""Values across float64's range, against exact arithmetic (hypothesis, derandomized, no
example database): the other property tests draw moderate normals; a differential fuzz with
values of every magnitude found outputs there that were less accurate than numpy's (var near
1e±150, var near 1e153, weighted sums near the largest float). Each output here is checked
against `math.fsum` or `Fraction`s, and never further from the exact value than numpy's.

Elements are normals times 10^e, e drawn around a centre with a spread (so rows mix
magnitudes), with zeros, NaN for the nan-functions, in C, F, reversed or transposed order."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import stridewise as sw
from conftest import reduced_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_var_accuracy import check_outputs

SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@st.composite
def wide(draw: st.DrawFn, lo: int, hi: int, nan: bool = False) -> np.ndarray:
    """A float64 array of rank 1-3 (lengths 1-9) with exponents in [lo, hi]."""
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Half near the ends of the range, where the bugs were.
    centre = draw(st.one_of(st.integers(lo, hi), st.integers(hi - 8, hi), st.integers(lo, lo + 8)))
    spread = draw(st.sampled_from([0, 1, 5, 20, 80]))
    exps = np.clip(centre + rng.integers(-spread, spread + 1, shape), lo, hi)
    a = rng.standard_normal(shape) * np.power(10.0, exps)
    a[rng.random(shape) < draw(st.sampled_from([0.0, 0.3]))] = 0.0
    if nan:
        a[rng.random(shape) < draw(st.sampled_from([0.0, 0.2]))] = np.nan
    order = draw(st.sampled_from(["C", "F", "reversed", "transposed"]))
    if order == "F":
        a = np.asfortranarray(a)
    elif order == "reversed":
        a = a[tuple(slice(None, None, -1) for _ in shape)]
    elif order == "transposed":
        a = np.ascontiguousarray(a.T).T
    return a


def axes(draw: st.DrawFn, ndim: int) -> Any:
    return draw(st.sampled_from([None, *range(ndim), tuple(range(ndim))[-2:]]))


def quiet(f: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return f(*args, **kw)


@settings(max_examples=300, **SETTINGS)
@given(data=st.data(), func=st.sampled_from(["sum", "nansum", "mean", "nanmean"]))
def test_sums_and_means_are_correctly_rounded(data: st.DataObject, func: str) -> None:
    """`math.fsum` of each output (the exact sum rounded once); means that sum divided by
    the count in f64."""
    a = data.draw(wide(-320, 300, nan=func.startswith("nan")), label="a")
    axis = axes(data.draw, a.ndim)
    got = np.asarray(quiet(getattr(sw, func), a, axis=axis)).ravel()
    for i, row in enumerate(reduced_rows(a, axis)):
        vals = [float(x) for x in row if not (func.startswith("nan") and x != x)]
        if any(v != v for v in vals):
            assert math.isnan(got[i]), (func, axis, i)
            continue
        want = math.fsum(vals)
        if "mean" in func:
            want = want / len(vals) if vals else math.nan
        assert got[i] == want or (math.isnan(want) and math.isnan(got[i])), (
            func,
            axis,
            i,
            got[i],
            want,
        )


@settings(max_examples=250, **SETTINGS)
@given(data=st.data(), func=st.sampled_from(["var", "std", "nanvar", "nanstd"]))
def test_variances_are_correctly_rounded(data: st.DataObject, func: str) -> None:
    """Exponents -140..150: variances normal (not subnormal) and M2 finite. Each output
    correctly rounded and no further from the exact variance than numpy's."""
    a = data.draw(wide(-140, 150, nan=func.startswith("nan")), label="a")
    axis = axes(data.draw, a.ndim)
    ddof = data.draw(st.sampled_from([0, 1]))
    counts = (~np.isnan(reduced_rows(a, axis))).sum(axis=1)
    if counts.min() <= ddof:
        return  # no degrees of freedom: NaN or inf and numpy's warning, tested elsewhere
    check_outputs(func, a, axis, ddof=ddof)


@settings(max_examples=250, **SETTINGS)
@given(data=st.data(), func=st.sampled_from(["var", "std", "nanvar", "nanstd"]))
def test_variances_at_the_ends_of_the_range(data: st.DataObject, func: str) -> None:
    """Exponents -323..307: subnormal values and variances, M2 past the largest float (std
    finite where numpy's is inf or NaN; var inf as numpy's). Each output correctly rounded
    (inf where the exact variance rounds to it) and no further from it than numpy's."""
    a = data.draw(wide(-323, 307, nan=func.startswith("nan")), label="a")
    axis = axes(data.draw, a.ndim)
    ddof = data.draw(st.sampled_from([0, 1]))
    counts = (~np.isnan(reduced_rows(a, axis))).sum(axis=1)
    if counts.min() <= ddof:
        return
    check_outputs(func, a, axis, ddof=ddof)


@settings(max_examples=200, **SETTINGS)
@given(data=st.data())
def test_weighted_averages_are_no_further_than_numpys(data: st.DataObject) -> None:
    """Data and weights of its shape, both of wide range (products within float64): every
    output no further from the exact weighted average than numpy's, or within half an ulp."""
    a = data.draw(wide(-150, 150), label="a")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    w = rng.standard_normal(a.shape) * np.power(10.0, rng.integers(-150, 150, a.shape))
    axis = axes(data.draw, a.ndim)
    try:
        want = quiet(np.average, a, axis=axis, weights=w)
    except ZeroDivisionError:
        return  # a zero weight sum: numpy's error, tested in test_average
    got = np.asarray(quiet(sw.average, a, axis=axis, weights=w)).ravel()
    want = np.asarray(want).ravel()
    rows, wrows = reduced_rows(a, axis), reduced_rows(np.broadcast_to(w, a.shape), axis)
    for i, (r, wr) in enumerate(zip(rows, wrows, strict=True)):
        den = sum((Fraction(float(y)) for y in wr), Fraction(0))
        if den == 0:
            continue  # numpy's rounded sum was not zero: its quotient is noise
        pairs = zip(r.tolist(), wr.tolist(), strict=True)
        exact = sum((Fraction(x) * Fraction(y) for x, y in pairs), Fraction(0)) / den
        g = Fraction(float(got[i]))
        n = Fraction(float(want[i])) if np.isfinite(want[i]) else None
        half_ulp = Fraction(float(np.spacing(abs(float(exact))))) / 2
        assert abs(g - exact) <= half_ulp or (n is not None and abs(g - exact) <= abs(n - exact)), (
            axis,
            i,
            float(g),
            want[i],
            float(exact),
        )
