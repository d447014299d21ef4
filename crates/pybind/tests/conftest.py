"""Shared helpers: run a reduction through numpy and stridewise and compare the outcomes.

``check_against_numpy(name, a, **kwargs)`` is the one oracle every comparison test uses. It
calls ``numpy.<name>`` and ``stridewise.<name>`` with the same arguments (each with its own
copy of ``out=``) and checks:

* the same exception type and message, or none; after a rejected ``out`` it holds what
  numpy's copy holds (numpy leaves it unchanged, except std/nanstd which write the variance
  before failing the cast of the square root);
* the same RuntimeWarnings (category and message), in the same order. numpy's floating-point
  error warnings ("overflow encountered in reduce", "invalid value encountered in ...") are
  compared separately (test_errors_warnings.py::test_floating_point_warnings): here stridewise
  may omit them, but may emit one only where numpy emits one too;
* the input is not modified;
* the same result type (numpy scalar type, ndarray, or ``out`` itself), dtype and shape;
* the values: bitwise equal on the numpy path and for min/max and integer sums; at least as
  close to a high-precision reference as numpy (plus one ulp of the result dtype) for float
  sums and means; for var/std of float32/float64 results the correctly rounded exact value
  (so never further from it than numpy's); float16 results within numpy's error plus a
  relative tolerance.
"""

from __future__ import annotations

import math
import platform
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import stridewise as sw

# The reductions and their families, from the one table (the kernels' stridewise::ops).
FUNCS = tuple(sw._native.REDUCTIONS)
FAMILY = {name: row["family"] for name, row in sw._native.REDUCTIONS.items()}
NAN_FUNCS = frozenset(f for f in FUNCS if sw._native.REDUCTIONS[f]["skips_nan"])
SUM_FUNCS = tuple(f for f in FUNCS if FAMILY[f] == "sum")
MEAN_FUNCS = tuple(f for f in FUNCS if FAMILY[f] == "mean")
VAR_FUNCS = tuple(f for f in FUNCS if FAMILY[f] in ("var", "std"))
MINMAX_FUNCS = tuple(f for f in FUNCS if FAMILY[f] == "minmax")
PTP_FUNCS = tuple(f for f in FUNCS if FAMILY[f] == "ptp")
# argmin/argmax and their nan-variants: positions (one axis or all; a tuple is numpy's error).
ARG_FUNCS = tuple(f for f in FUNCS if FAMILY[f] == "arg")
# count_nonzero, any, all: exact counts and truth values.
LOGICAL_FUNCS = tuple(f for f in FUNCS if FAMILY[f] in ("count_nonzero", "any", "all"))
KEYWORDS = {name: frozenset(row["keywords"]) for name, row in sw._native.REDUCTIONS.items()}


def funcs_taking(keyword: str) -> tuple[str, ...]:
    """The reductions whose numpy signature has `keyword` (count_nonzero has no out=)."""
    return tuple(f for f in FUNCS if keyword in KEYWORDS[f])


OUT_FUNCS = funcs_taking("out")
WHERE_FUNCS = funcs_taking("where")

# The dtypes the kernels read in place, and float16 (kernel after a copy to float32).
KERNEL_DTYPES = (
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float32,
    np.float64,
)
ALL_KERNEL_DTYPES = (*KERNEL_DTYPES, np.float16)
FLOAT_DTYPES = (np.float16, np.float32, np.float64)


def dtype_id(dt: Any) -> str:
    return np.dtype(dt).name


# --------------------------------------------------------------------------------------------
# Data


def make_data(dtype: Any, shape: tuple[int, ...], seed: int = 0, nan: float = 0.0) -> np.ndarray:
    """Deterministic values of `dtype`: full range for integers (so integer sums wrap, as in
    numpy), moderate normals with a non-zero mean for floats, and a fraction `nan` of NaN."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(rng.random(shape) < 0.5)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.asarray(rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True))
    if dt.kind == "f":
        scale = 4.0 if dt.itemsize == 2 else 10.0
        x = np.asarray(rng.standard_normal(shape) * scale + 3.0).astype(dt)
        if nan:
            x[rng.random(shape) < nan] = np.nan
        return x
    if dt.kind == "c":
        return np.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    raise ValueError(dt)


# --------------------------------------------------------------------------------------------
# Calling


@dataclass
class Outcome:
    result: Any
    exc: BaseException | None
    warns: list[tuple[type, str]]


def call(mod: Any, name: str, a: Any, kwargs: dict[str, Any]) -> Outcome:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            res, exc = getattr(mod, name)(a, **kwargs), None
        except Exception as e:  # the comparison is the point
            res, exc = None, e
    return Outcome(res, exc, [(w.category, str(w.message)) for w in rec])


def _snapshot(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return (x.dtype, x.shape, x.copy())
    return None


def _same_snapshot(x: Any, snap: Any) -> bool:
    if snap is None:
        return True
    dt, shape, data = snap
    if x.dtype != dt or x.shape != shape:
        return False
    if dt.hasobject:
        return bool(np.all(x == data)) if x.size else True
    return np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(data).tobytes()


def explain_path(name: str, a: Any, kwargs: dict[str, Any]) -> str:
    return sw.explain(getattr(sw, name), a, **kwargs)["path"]


def _shape(a: Any) -> Any:
    try:
        return np.shape(a)
    except ValueError:
        return "ragged"


def is_fp_warning(w: tuple[type, str]) -> bool:
    """numpy's floating-point error warnings (np.errstate), e.g. 'overflow encountered in
    reduce'; distinct from the reduction warnings ('Mean of empty slice', ...)."""
    return w[0] is RuntimeWarning and " encountered in " in w[1]


def _same_warnings(w_np: list[tuple[type, str]], w_sw: list[tuple[type, str]]) -> bool:
    """Equal reduction warnings; a floating-point warning from stridewise only where numpy
    also emits one (an overflow may surface in a different step, e.g. the final cast)."""
    extra_fp = [w for w in w_sw if is_fp_warning(w)] and not any(map(is_fp_warning, w_np))
    keep_np = [w for w in w_np if not is_fp_warning(w)]
    keep_sw = [w for w in w_sw if not is_fp_warning(w)]
    return not extra_fp and keep_np == keep_sw


def check_against_numpy(name: str, a: Any, **kwargs: Any) -> Outcome:
    """Run `name` in numpy and stridewise with the same arguments and compare everything.

    Returns stridewise's outcome (for callers that check more)."""
    a_snap = _snapshot(a)
    kw_np = dict(kwargs)
    kw_sw = dict(kwargs)
    out = kwargs.get("out")
    out_snap = None
    if isinstance(out, np.ndarray):
        out_snap = _snapshot(out)
        kw_np["out"] = out.copy()
        kw_sw["out"] = out.copy()
        if not out.flags.writeable:
            kw_np["out"].flags.writeable = False
            kw_sw["out"].flags.writeable = False
    info = sw.explain(getattr(sw, name), a, **kw_sw)
    path = info["path"]
    ctx = f"{name}(a: dtype={getattr(a, 'dtype', type(a))} shape={_shape(a)} "
    ctx += f"strides={getattr(a, 'strides', None)}, {kwargs!r}) path={path}"

    o_np = call(np, name, a, kw_np)
    o_sw = call(sw, name, a, kw_sw)

    assert _same_snapshot(a, a_snap), f"{ctx}: the input was modified"
    if o_np.exc is not None:
        assert o_sw.exc is not None, (
            f"{ctx}: numpy raised {type(o_np.exc).__name__}: {o_np.exc}, stridewise returned "
            f"{o_sw.result!r}"
        )
        assert type(o_sw.exc) is type(o_np.exc), (
            f"{ctx}: numpy raised {type(o_np.exc).__name__}({o_np.exc}), stridewise "
            f"{type(o_sw.exc).__name__}({o_sw.exc})"
        )
        assert str(o_sw.exc) == str(o_np.exc), ctx
        if out_snap is not None:
            assert _same_snapshot(kw_sw["out"], _snapshot(kw_np["out"])), (
                f"{ctx}: after the error, out holds {kw_sw['out']!r}, numpy's {kw_np['out']!r}"
            )
            if _same_snapshot(kw_np["out"], out_snap):
                assert _same_snapshot(kw_sw["out"], out_snap), f"{ctx}: rejected out changed"
        assert _same_warnings(o_np.warns, o_sw.warns), f"{ctx}: {o_np.warns} != {o_sw.warns}"
        return o_sw
    if o_sw.exc is not None:
        raise AssertionError(
            f"{ctx}: numpy returned {o_np.result!r}, stridewise raised "
            f"{type(o_sw.exc).__name__}: {o_sw.exc}"
        ) from o_sw.exc
    assert _same_warnings(o_np.warns, o_sw.warns), (
        f"{ctx}: warnings differ: numpy {o_np.warns}, stridewise {o_sw.warns}"
    )
    # The values the result is of: cast to the kernel's dtype, or rounded to `round_to` first
    # (dtype=float16: numpy, too, casts the input to the dtype before it sums).
    kernel_dtype = info.get("round_to")
    if kernel_dtype is None:
        kernel_dtype = info.get("kernel_dtype")
    if out is not None and isinstance(out, np.ndarray):
        assert (o_np.result is kw_np["out"]) == (o_sw.result is kw_sw["out"]), (
            f"{ctx}: numpy returns out: {o_np.result is kw_np['out']}"
        )
        # What was written into out, whatever was returned.
        assert_result_matches(
            name, a, kw_np["out"], kw_sw["out"], kwargs, path, ctx + " (out)", kernel_dtype
        )
    assert_result_matches(name, a, o_np.result, o_sw.result, kwargs, path, ctx, kernel_dtype)
    return o_sw


# --------------------------------------------------------------------------------------------
# Comparing results


def assert_result_matches(
    name: str,
    a: Any,
    r_np: Any,
    r_sw: Any,
    kwargs: dict[str, Any],
    path: str,
    ctx: str = "",
    kernel_dtype: Any = None,
) -> None:
    """Compare results; `kernel_dtype` is the type the kernel read (explain's), which says
    whether the values were first cast to a float (as numpy casts them for dtype=)."""
    assert type(r_sw) is type(r_np), f"{ctx}: type {type(r_sw)} != numpy's {type(r_np)}"
    if not isinstance(r_np, np.ndarray | np.generic):
        assert r_sw == r_np or (r_sw != r_sw and r_np != r_np), ctx
        return
    assert r_sw.dtype == r_np.dtype, f"{ctx}: dtype {r_sw.dtype} != numpy's {r_np.dtype}"
    # Equal dtypes may be distinct numpy types (longlong 'q' and int64 'l').
    assert r_sw.dtype.char == r_np.dtype.char, f"{ctx}: {r_sw.dtype.char!r} {r_np.dtype.char!r}"
    assert r_sw.shape == r_np.shape, f"{ctx}: shape {r_sw.shape} != numpy's {r_np.shape}"
    fam = FAMILY[name]
    exact = (
        path == "numpy" or fam in ("minmax", "ptp") or r_np.dtype.kind not in "fc" or r_np.size == 0
    )
    if exact:
        np.testing.assert_array_equal(r_sw, r_np, err_msg=ctx, strict=True)
        return
    assert path in ("kernel", "kernel+copy"), ctx
    cast = kernel_dtype if kernel_dtype is not None and kernel_dtype.kind == "f" else None
    _assert_accurate(name, a, np.ravel(r_np), np.ravel(r_sw), kwargs, ctx, cast)


def _axes(axis: Any, ndim: int) -> list[int]:
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, tuple):
        return sorted(int(x) % ndim for x in axis)
    return [int(axis) % ndim]


def reduced_rows(a: Any, axis: Any, cast: Any = None) -> np.ndarray:
    """The values each output reduces, one row per output, outputs in C order."""
    x = np.asarray(a)
    if cast is not None:
        with np.errstate(over="ignore"):  # beyond float16: inf, as numpy's own cast
            x = x.astype(cast)
    if x.ndim == 0:
        return x.reshape(1, 1)
    red = _axes(axis, x.ndim)
    keep = [d for d in range(x.ndim) if d not in red]
    nout = math.prod(x.shape[d] for d in keep)
    k = math.prod(x.shape[d] for d in red)
    return np.transpose(x, keep + red).reshape(nout, k)


def _values(row: np.ndarray, skip_nan: bool) -> list[Any]:
    vals = row.tolist()
    if row.dtype.kind == "b":
        vals = [int(v) for v in vals]
    if skip_nan and row.dtype.kind == "f":
        vals = [v for v in vals if v == v]
    return vals


def _finite(vals: list[Any]) -> bool:
    return all(isinstance(v, int) or math.isfinite(v) for v in vals)


def _exact_sum(vals: list[Any]) -> Fraction:
    """The exact sum of integers; for floats math.fsum's correctly rounded sum (within half
    an ulp of float64 of the exact sum, far below the tolerances)."""
    if all(isinstance(v, int) for v in vals):
        return Fraction(sum(vals))
    return Fraction(math.fsum(vals))


def _product(vals: list[Any]) -> Fraction:
    """The product of the values, to 250 bits (relative error below n * 2^-250, far below
    any float's rounding): the running product is an integer mantissa times a power of two,
    cut back to 256 bits after each factor (an exact Fraction product of 1e5 floats is a
    number of millions of bits)."""
    m, e = 1, 0
    for v in vals:
        num, den = (v, 1) if isinstance(v, int) else float(v).as_integer_ratio()
        m *= num
        e -= den.bit_length() - 1
        extra = abs(m).bit_length() - 256
        if extra > 0:
            m = -(abs(m) >> extra) if m < 0 else m >> extra
            e += extra
    return Fraction(m) * (Fraction(2) ** e)


def _abs_sum(vals: list[Any]) -> Fraction:
    try:
        return Fraction(math.fsum(abs(float(v)) for v in vals))
    except OverflowError:  # beyond float64: exactly
        return sum((abs(Fraction(v)) for v in vals), Fraction(0))


def exact_var(vals: list[Any], ddof: float) -> Fraction:
    """The exact M2 / (n - ddof) of finite values as float64 reads them (integers beyond 2^53
    rounded, as both numpy and the kernels convert them): with `X = x 2^K` integers,
    `M2 = (n ΣX² - (ΣX)²) / (n 4^K)`."""
    ratios = [float(x).as_integer_ratio() for x in vals]
    k = max(q for _, q in ratios).bit_length() - 1  # the finest power of two
    xs = [p << (k - (q.bit_length() - 1)) for p, q in ratios]
    n = len(xs)
    s1 = sum(xs)
    s2 = sum(x * x for x in xs)
    return Fraction(n * s2 - s1 * s1, n << (2 * k)) / (Fraction(n) - Fraction(ddof))


def _overflow_edge(dt: Any) -> Fraction:
    """The midpoint between `dt`'s largest value and the next power of two: exact values from
    there on round to inf."""
    big = np.finfo(dt).max
    return Fraction(float(big)) + Fraction(float(big - np.nextafter(big, dt(0)))) / 2


def rounds_correctly(r: float, exact: Fraction, dt: Any, sqrt: bool) -> bool:
    """`r` is the value of `dt` nearest to `exact` (to its square root if `sqrt`): `exact`
    lies between the midpoints to `r`'s neighbours (compared as squares for the root); inf
    where `exact` (its root) lies beyond the midpoint past the largest value."""
    v = dt(r)
    edge = _overflow_edge(dt)
    if np.isinf(v):
        return bool(v > 0) and exact >= (edge * edge if sqrt else edge)
    lo = Fraction(float(np.nextafter(v, dt(-np.inf))))
    up = np.nextafter(v, dt(np.inf))
    hi = 2 * edge - Fraction(float(v)) if np.isinf(up) else Fraction(float(up))
    f = Fraction(float(v))
    m1, m2 = (lo + f) / 2, (f + hi) / 2
    # (A tie at the overflow midpoint rounds to inf.)
    top = m2 * m2 if sqrt else m2
    below = exact < top if np.isinf(up) else exact <= top
    if sqrt:
        return r >= 0 and (m1 <= 0 or m1 * m1 <= exact) and below
    return m1 <= exact and below


def no_further(ours: float, theirs: float, exact: Fraction, sqrt: bool) -> bool:
    """|ours - exact| <= |theirs - exact| (to the square root if `sqrt`), decided exactly:
    `ours` is nearer iff `exact` is on its side of the midpoint (ties count as nearer). A
    finite value is nearer than numpy's inf or NaN; an inf of ours only where numpy's is inf
    too (`rounds_correctly` says whether it is the right one)."""
    if math.isnan(ours):
        return math.isnan(theirs)
    if not math.isfinite(theirs):
        return math.isfinite(ours) or ours == theirs
    if math.isinf(ours):
        return False
    a, b = Fraction(float(ours)), Fraction(float(theirs))
    if a == b:
        return True
    mid = (a + b) / 2
    if sqrt:
        if mid < 0:
            return a > b
        return exact <= mid * mid if a < b else exact >= mid * mid
    return exact <= mid if a < b else exact >= mid


def exact_std(var: Fraction) -> Fraction:
    """sqrt(var) to 120 bits or more (an integer square root, scaled)."""
    if var <= 0:
        return Fraction(0)
    bits = var.numerator.bit_length() - var.denominator.bit_length()
    k = max(0, 120 - bits // 2)
    return Fraction(math.isqrt((var.numerator << (2 * k)) // var.denominator), 1 << k)


# Below this, the kernels' squares of the smallest deviations may underflow (their error is
# then no longer below half an ulp of the variance); the usual tolerance applies.
TINY_VAR = Fraction(2) ** -900


Reference = tuple[Fraction, Fraction, Fraction]


def _reference(name: str, vals: list[Any], ddof: float) -> Reference | None:
    """(reference value, scale for the relative tolerance, scale of the rounding errors a
    sound implementation can make: sum of |x| for sums), or None when the answer is a
    special value (empty, NaN, inf, no degrees of freedom): then numpy's answer is the
    reference, bit for bit."""
    fam = FAMILY[name]
    n = len(vals)
    if not _finite(vals):
        return None
    if fam == "sum":
        s = _exact_sum(vals)
        return s, abs(s), _abs_sum(vals)
    if fam == "prod":
        # The exact product (stridewise's is rounded once at the end, its exponent never
        # overflowing on the way); beyond float64 numpy's inf is the answer.
        p = _product(vals)
        if abs(p) > Fraction(float(np.finfo(np.float64).max)):
            return None
        return p, abs(p), abs(p)
    if n == 0:
        return None
    if fam == "mean":
        m = _exact_sum(vals) / n
        return m, abs(m), _abs_sum(vals) / n
    if n - ddof <= 0:
        return None
    fl = [float(v) for v in vals]
    var = exact_var(fl, ddof)
    top = Fraction(float(np.finfo(np.float64).max))
    try:
        second = Fraction(math.fsum(v * v for v in fl) / n)
        big = var > top or second > top
    except OverflowError:
        big = True
    if fam == "var":
        if big:
            return None  # beyond the largest float: inf, as numpy's
        scale = max(var, second)
        return var, scale, scale
    if big:
        # The variance passes the largest float, its root need not (numpy's is inf; ours is
        # the exact root rounded, kernels/var.rs).
        second = sum((Fraction(v) * Fraction(v) for v in fl), Fraction(0)) / n
    std = exact_std(var)
    if std > top:
        return None
    scale = exact_std(max(var, second))
    return std, scale, scale


def _rtol(fam: str, dt: np.dtype) -> float:
    if fam in ("sum", "mean", "prod"):
        return 0.0
    return 1e-12 if dt == np.float64 else 1e-5


def _ulp(x: Fraction, dt: np.dtype) -> Fraction:
    v = dt.type(abs(float(x)))
    return Fraction(float(np.spacing(v)))


def _assert_accurate(
    name: str,
    a: Any,
    r_np: np.ndarray,
    r_sw: np.ndarray,
    kwargs: dict[str, Any],
    ctx: str,
    cast: Any,
) -> None:
    """Per output: |ours - ref| <= |numpy - ref| + slack. The reference reduces the values
    the kernel reads: the input's, or their cast to a float when dtype= asks numpy to cast
    (both implementations then start from the same rounded values).

    The reference models the plain reduction; if numpy's sum or mean is far from it (beyond
    any rounding error: numpy computed something else, e.g. masked by an unusual where=),
    the model does not apply and stridewise must give numpy's answer exactly."""
    fam = FAMILY[name]
    dt = r_np.dtype
    rows = reduced_rows(a, kwargs.get("axis"), cast)
    assert rows.shape[0] == r_np.size, ctx
    given = [kwargs.get(k) for k in ("ddof", "correction")]
    ddof = float(next((v for v in given if v is not None and v is not np._NoValue and v), 0))
    rtol = _rtol(fam, dt)
    for i, row in enumerate(rows):
        vals = _values(row, name in NAN_FUNCS)
        ours, theirs = r_sw[i], r_np[i]
        ref = _reference(name, vals, ddof)
        where = f"{ctx}: output {i}: stridewise {ours!r}, numpy {theirs!r}"
        with np.errstate(over="ignore"):
            if ref is not None and not np.isfinite(dt.type(float(ref[0]))):
                ref = None
        if ref is None:
            np.testing.assert_array_equal(ours, theirs, err_msg=where)
            continue
        value, scale, cond = ref
        slack = _ulp(value, dt) + Fraction(rtol) * scale
        if np.isfinite(theirs):
            err_np = abs(Fraction(float(theirs)) - value)
            model_tol = Fraction(max(1e-3, 16 * float(np.finfo(dt).eps))) * cond + slack
            # (sums and means only: numpy's var/std can lose everything to underflow of
            # the squares in float16/float32, e.g. std([tiny, -tiny]) == 0.)
            if fam in ("sum", "mean") and err_np > model_tol:
                np.testing.assert_array_equal(
                    ours, theirs, err_msg=f"{where}: numpy is not the plain reduction here"
                )
                continue
        else:
            # numpy overflowed in an intermediate (e.g. squares in float32): ours may be
            # finite, and must then be close to the reference.
            err_np = Fraction(0)
        assert np.isfinite(ours), f"{where}, reference {float(value)!r}"
        err_sw = abs(Fraction(float(ours)) - value)
        if fam in ("var", "std") and dt.type in (np.float32, np.float64) and np.isfinite(theirs):
            # Correctly rounded (kernels/var.rs), so never further than numpy's.
            ex = exact_var(vals, ddof)
            if ex >= TINY_VAR:
                assert rounds_correctly(float(ours), ex, dt.type, fam == "std"), (
                    f"{where}: not the exact {fam} rounded, {float(value)!r}"
                )
                assert no_further(ours, theirs, ex, fam == "std"), (
                    f"{where}: further than numpy from {float(value)!r}"
                )
                continue
        assert err_sw <= err_np + slack, (
            f"{where}, reference {float(value)!r}: error {float(err_sw):.3g} > numpy's "
            f"{float(err_np):.3g} + {float(slack):.3g}"
        )


# --------------------------------------------------------------------------------------------
# Axis choices


def axis_choices(ndim: int, full: bool = True) -> list[Any]:
    """None, every axis, negative axes, tuples (pairs, all, empty)."""
    if ndim == 0:
        return [None]
    out: list[Any] = [None, *range(ndim), -1, -ndim]
    if full:
        out += [tuple(range(ndim)), ()]
        out += [(i, j) for i in range(ndim) for j in range(i + 1, ndim)]
        if ndim >= 3:
            out += [(0, -1, 1), (-2, 0)]
    seen: list[Any] = []
    for x in out:
        if x not in seen:
            seen.append(x)
    return seen


@pytest.fixture(autouse=True)
def _restore_controls() -> Any:
    """Tests that change the thread count or SIMD level must not leak them."""
    threads = sw.get_num_threads()
    yield
    sw.set_simd_level(None)
    sw.set_num_threads(threads)


def simd_levels_line() -> str:
    """Which SIMD levels the level-sweeping tests run here, and which this CPU lacks."""
    levels = sw.available_simd_levels()
    arm = platform.machine().lower() in ("aarch64", "arm64")
    known = ("scalar", "neon") if arm else ("scalar", "avx2", "avx512")
    skipped = [lvl for lvl in known if lvl not in levels]
    return (
        f"stridewise: SIMD levels tested on this CPU: {', '.join(levels)}; "
        f"not available here (skipped): {', '.join(skipped) or 'none'}; "
        f"{sw.get_num_threads()} threads"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Printed at the end of every run, `-q` included (a report header is not)."""
    terminalreporter.write_line(simd_levels_line())


# numpy's own tests (test_numpy_own.py) that take the function as a parameter bound at import
# (``method=np.argmax``): the same test with stridewise's function.
_NUMPY_TO_OURS = {
    id(getattr(np, name)): getattr(sw, name)
    for name in ("argmin", "argmax", "nanargmin", "nanargmax")
}


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: Any) -> None:
    if pyfuncitem.module.__name__.rsplit(".", 1)[-1] != "test_numpy_own":
        return
    args = pyfuncitem.funcargs
    for k, v in list(args.items()):
        if callable(v) and id(v) in _NUMPY_TO_OURS:
            args[k] = _NUMPY_TO_OURS[id(v)]
