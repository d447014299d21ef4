"""var/std are the exact variance (and its square root) of the values, correctly rounded.

The reference is exact rational arithmetic: each f64 is an integer times a power of two, so
with `X = x 2^K` integers, `M2 = (n ΣX² - (ΣX)²) / (n 4^K)` exactly. A result is correctly
rounded when the exact value lies between the midpoints to its two neighbours (for std,
compared as squares). That makes every output at least as close as numpy's; the tests
assert both, output by output, so a failure says which promise broke.

The kernel's error (module comment of kernels/var.rs) is far below a half ulp but not zero:
an exact value within about n² 2^-100 (relative) of a midpoint could round the other way. No
seed here comes near one; if one ever did, the test would say so on every run.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import exact_var, no_further, reduced_rows, rounds_correctly
from test_correct_rounding import layouts

VAR = ("var", "std", "nanvar", "nanstd")


def call(func: str, a: Any, **kw: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return getattr(sw, func)(a, **kw)


def check_outputs(func: str, a: np.ndarray, axis: Any, ddof: float = 0) -> int:
    """Every output of `sw.func(a, axis, ddof)` is correctly rounded and no further from
    the exact value than numpy's. Returns the number of outputs checked."""
    got = np.asarray(call(func, a, axis=axis, ddof=ddof))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = np.asarray(getattr(np, func)(a, axis=axis, ddof=ddof))
    assert got.dtype == want.dtype and got.shape == want.shape
    dt = want.dtype.type
    sqrt = func.endswith("std")
    rows = reduced_rows(a, axis)
    for i, (g, w) in enumerate(zip(got.ravel().tolist(), want.ravel().tolist(), strict=True)):
        vals = [float(x) for x in rows[i].astype(np.float64)]
        if func.startswith("nan"):
            vals = [x for x in vals if not math.isnan(x)]
        exact = exact_var(vals, ddof)
        where = f"{func} axis={axis} ddof={ddof} output {i}: stridewise {g!r} numpy {w!r}"
        assert rounds_correctly(g, exact, dt, sqrt), f"{where}: exact {float(exact)!r}"
        assert no_further(g, w, exact, sqrt), where
    return got.size


def matrices(seed: int, count: int, shape: tuple[int, int] = (64, 257)) -> list[np.ndarray]:
    """The issue's experiment: values 3 N(0, 1) + 1."""
    rng = np.random.default_rng(seed)
    return [3 * rng.standard_normal(shape) + 1 for _ in range(count)]


@pytest.mark.parametrize("func", VAR)
@pytest.mark.parametrize("ddof", [0, 1])
def test_random_matrices_every_output(func: str, ddof: int) -> None:
    """The issue's 64x257 experiment (fewer matrices): C order over axis 0 and 1, F order
    over axis 1, whole; before this change 39% of outputs over axis 0 were further from the
    exact variance than numpy's, up to 6 ulp."""
    for a in matrices(1, 3):
        for v, axis in ((a, 0), (a, 1), (np.asfortranarray(a.T), 1), (a, None)):
            check_outputs(func, v, axis, ddof)


@pytest.mark.parametrize(
    "dtype", [np.float32, np.int64, np.int32, np.int16, np.uint8, np.uint64, np.bool_]
)
@pytest.mark.parametrize("func", ["var", "std"])
def test_other_dtypes(dtype: Any, func: str) -> None:
    rng = np.random.default_rng(4)
    if dtype == np.float32:
        a = (3 * rng.standard_normal((40, 131)) + 1).astype(dtype)
    elif dtype == np.bool_:
        a = rng.random((40, 131)) < 0.3
    else:
        info = np.iinfo(dtype)
        lo, hi = max(info.min, -(2**40)), min(info.max, 2**40)
        a = rng.integers(lo, hi, (40, 131), dtype=dtype, endpoint=True)
    for axis in (None, 0, 1):
        check_outputs(func, a, axis)
        check_outputs(func, np.asfortranarray(a), axis, ddof=1)


@pytest.mark.parametrize(
    "kind", ["offset 1e8", "offset 1e15", "scales", "lognormal", "two values", "trend"]
)
@pytest.mark.parametrize("func", ["var", "std"])
def test_hard_data(kind: str, func: str) -> None:
    """Large means against small spreads (numpy's rounded mean matters there), values over
    sixteen decades, heavy tails, data with a trend along the axis."""
    rng = np.random.default_rng(5)
    shape = (50, 70)
    if kind == "offset 1e8":
        a = 1e8 + rng.standard_normal(shape)
    elif kind == "offset 1e15":
        a = 1e15 + rng.integers(-50, 50, shape) * 0.125
    elif kind == "scales":
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, shape)
    elif kind == "lognormal":
        a = rng.lognormal(0, 4, shape)
    elif kind == "two values":
        a = np.where(rng.random(shape) < 0.5, 0.1, 0.3)
    else:
        a = np.arange(shape[0] * shape[1], dtype=np.float64).reshape(shape) * 1e6
        a += rng.standard_normal(shape)
    for axis in (None, 0, 1):
        check_outputs(func, a, axis)


@pytest.mark.parametrize("func", ["nanvar", "nanstd"])
def test_nan_functions_skip_nan(func: str) -> None:
    a = matrices(6, 1, (33, 65))[0]
    a[::3, ::4] = np.nan
    a[5, :] = np.nan  # a whole row: the output over axis 1 is NaN, as numpy's
    got = call(func, a, axis=1)
    assert np.isnan(got[5]) and not np.isnan(np.delete(got, 5)).any()
    a[5, :] = 0.5
    for axis in (None, 0, 1):
        check_outputs(func, a, axis)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("func", VAR)
def test_same_bits_in_every_layout(func: str, threads: int) -> None:
    """Correctly rounded means layout-independent: every layout, thread count."""
    a = matrices(7, 1, (257, 61))[0]
    if func.startswith("nan"):
        a[::5, ::3] = np.nan
    sw.set_num_threads(threads)  # (conftest restores it)
    for axis in (None, 0, 1):
        want = np.asarray(call(func, np.ascontiguousarray(a), axis=axis))
        for name, v in layouts(a).items():
            got = np.asarray(call(func, v, axis=axis))
            assert got.tobytes() == want.tobytes(), (name, axis)


@pytest.mark.parametrize("level", sw.available_simd_levels())
def test_every_simd_level(level: str) -> None:
    """The same bits at every SIMD level (FMA or Dekker's product for the exact squares)."""
    a = matrices(8, 1, (9, 4099))[0]
    want = {(f, ax): np.asarray(call(f, a, axis=ax)) for f in VAR for ax in (None, 0, 1)}
    sw.set_simd_level(level)
    for (f, ax), w in want.items():
        assert np.asarray(call(f, a, axis=ax)).tobytes() == w.tobytes(), (level, f, ax)
    check_outputs("var", a, 1)


def test_broadcast_axis() -> None:
    """A stride-0 axis: repeated values (the partial is scaled, not re-read)."""
    row = matrices(9, 1, (1, 97))[0][0]
    a = np.broadcast_to(row, (300, 97))
    assert np.all(sw.var(a, axis=0) == 0)
    for axis in (None, 1):
        check_outputs("var", a, axis)
        check_outputs("std", a, axis, ddof=1)


def test_specials_as_numpy() -> None:
    """NaN or inf among the values: NaN, as numpy's x - mean makes it; a variance beyond the
    largest float: inf, as numpy's. Its square root is finite, correctly rounded, where
    numpy's squares overflow to inf (or its sum to NaN)."""
    rng = np.random.default_rng(10)
    for bad in (np.nan, np.inf, -np.inf):
        for n in (1, 2, 9, 5000):
            a = rng.standard_normal(n)
            a[n // 2] = bad
            for func in ("var", "std"):
                assert np.isnan(call(func, a)), (bad, n, func)
            if not np.isnan(bad) and n > 1:
                assert np.isnan(call("nanvar", a))
    wide = [1e308, 1e308, 0.0, 0.0, -1e308, -1e308, 0.0, 0.0]
    for a in ([1e200, -1e200], [1e300, 0.0, 1.0], [1.5e308, -1.5e308], wide):
        with np.errstate(all="ignore"):
            assert call("var", np.array(a)) == np.inf
            assert not np.isfinite(np.var(a)) and not np.isfinite(np.std(a))
        assert np.isfinite(call("std", np.array(a)))
        check_outputs("std", np.array(a), None)
        check_outputs("nanstd", np.array([[np.nan, *a]]), 1, ddof=1)
    assert call("std", np.array([1e200, -1e200])) == 1e200


def test_overflowing_mean_is_not_inf() -> None:
    """Where only numpy's mean overflows (its sum passes the largest float), the variance is
    representable and exact here: numpy says inf. The one documented difference."""
    a = np.full(4, 1.5e308)
    assert call("var", a) == 0.0
    with np.errstate(all="ignore"):
        assert np.var(a) == np.inf


@pytest.mark.parametrize(
    "e", [-320, -310, -300, -250, -200, -160, -155, -151, -148, -145, -140, 140, 145, 148, 151, 153]
)
@pytest.mark.parametrize("func", VAR)
def test_extreme_magnitudes(func: str, e: int) -> None:
    """Values near 1e±150: M2 beyond 2^±900, where the final division is scaled by a power
    of two (it was one rounding more: var([0, 0, 0, 0, 1.8722363096793313e148]) was an ulp
    below the exact variance, numpy's was right), and near 1e153, where squares of the
    deviations from the kernel's shift overflow while numpy's from the mean do not (var of
    23 such values was inf; numpy and the exact variance 1.08e306). Below 1e-154 variances
    are subnormal: the kernels' squares (and numpy's) are rounded to the subnormals' spacing,
    so such outputs are summed again scaled by 2^600 and rounded once (var::Rescaled); the
    values near 1e-160 had 6-7 outputs in 120 less accurate than numpy's before."""
    if e == 148:  # the fuzz's case, one rounding more before: ...689e+295
        five = np.array([0.0, 0.0, 0.0, 0.0, 1.8722363096793313e148])
        assert call(func, five) == (
            5.60843007885069e295 if "var" in func else 7.488945238717326e147
        )
    rng = np.random.default_rng(abs(e) * 10 + (e > 0))
    a = rng.standard_normal((5, 11)) * 10.0**e
    a[1] = 0.0
    a[1, 7] = 1.8722363096793313 * 10.0**e
    if func.startswith("nan"):
        a[::2, ::3] = np.nan
    for v in (a, np.asfortranarray(a), a[::-1, ::-1]):
        for axis in (None, 0, 1):
            check_outputs(func, v, axis)
            check_outputs(func, v, axis, ddof=1)


def test_deviations_from_the_shift_overflow() -> None:
    """var([x, -x]) with x = 9e153: numpy's and the exact M2 (2 x², 1.62e308) are finite,
    the kernel's deviation from its shift (the first element) squared, 4 x², is not."""
    x = 9e153
    a = np.array([x, -x])
    assert call("var", a) == np.var(a) == x * x
    assert call("std", a) == np.std(a) == x
    m = np.array([[x, -x], [-x, x], [x, x]])
    assert np.all(call("var", m, axis=1) == np.array([x * x, x * x, 0.0]))
    assert np.all(call("var", m.T, axis=0) == np.array([x * x, x * x, 0.0]))
    # Like the fuzz's case: 23 values near 1e153.
    a = np.random.default_rng(11).standard_normal(23) * 1e153
    check_outputs("var", a, None)
    check_outputs("nanstd", a, None)
