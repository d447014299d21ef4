"""Float sums are correctly rounded: the exact sum of the elements rounded once.

The reference is exact integer arithmetic: every f64 is a multiple of 2^-1074 and every f32
of 2^-149, so a sum is an integer N times that, rounded here to 53 or 24 bits with ties to
even. Means are `RN64(S) / n` in f64, then the result type. The same values in any layout,
at any thread count and SIMD level, give the same bits.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw

F64_LSB = 1074
F32_LSB = 149
F16_LSB = 24


def _exact(vals: np.ndarray, lsb: int) -> int:
    """The exact sum of finite values as an integer multiple of 2^-lsb."""
    total = 0
    for x in vals.astype(np.float64).ravel().tolist():
        p, q = x.as_integer_ratio()  # q is a power of two, at most 2^lsb
        total += p * (2**lsb // q)
    return total


def _round(n: int, lsb: int, bits: int, emax: int) -> float:
    """n 2^-lsb rounded to nearest (ties to even) with `bits` bits, no last bit below 2^-lsb;
    inf beyond 2^emax."""
    neg, n = n < 0, abs(n)
    shift = max(n.bit_length() - bits, 0)
    m, rest = n >> shift, n & ((1 << shift) - 1)
    half = 1 << (shift - 1) if shift else 0
    if shift and (rest > half or (rest == half and m & 1)):
        m += 1
    if m == 0:
        return 0.0
    value_exp = m.bit_length() + shift - lsb  # value < 2^value_exp
    if value_exp > emax:
        v = math.inf
    else:
        v = math.ldexp(m, shift - lsb)
    return -v if neg else v


def exact_sum(vals: np.ndarray, dtype: Any) -> float:
    """The exact sum rounded to `dtype` (IEEE specials as IEEE's sum has them)."""
    v = vals.astype(np.float64).ravel()
    if np.isnan(v).any() or (np.isposinf(v).any() and np.isneginf(v).any()):
        return math.nan
    if np.isinf(v).any():
        return float(v[np.isinf(v)][0])
    if dtype == np.float32:
        return _round(_exact(v, F32_LSB), F32_LSB, 24, 128)
    if dtype == np.float16:
        return _round(_exact(v, F16_LSB), F16_LSB, 11, 16)
    return _round(_exact(v, F64_LSB), F64_LSB, 53, 1024)


def call(func: str, a: np.ndarray, **kw: Any) -> Any:
    """`sw.func(a, **kw)`, its warnings (all-NaN slices) silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return getattr(sw, func)(a, **kw)


def same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def expected(func: str, a: np.ndarray, axis: Any) -> np.ndarray:
    """The correctly rounded answer of `func` (sum, mean, nansum, nanmean), output by output;
    `axis` None, an int or a tuple."""
    dt = a.dtype.type
    axes = tuple(range(a.ndim)) if axis is None else np.atleast_1d(axis).tolist()
    axes = [x % a.ndim for x in axes]
    moved = np.moveaxis(a, axes, range(a.ndim - len(axes), a.ndim))
    shape: tuple[int, ...] = moved.shape[: a.ndim - len(axes)]
    rows = list(moved.reshape(math.prod(shape), math.prod(moved.shape[len(shape) :])))
    out = []
    for r in rows:
        if func.startswith("nan"):
            r = r[~np.isnan(r)]
        if func.endswith("sum"):
            out.append(exact_sum(r, dt))
        elif len(r) == 0:
            out.append(math.nan)
        else:
            out.append(exact_sum(r, np.float64) / len(r))
    return np.array(out, dtype=dt).reshape(shape)


def adversarial(kind: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "cancel":  # 1e16, 1, -1e16 patterns
        x = np.tile([1e16, 1.0, -1e16], n // 3 + 1)[:n]
    elif kind == "tenths":
        x = np.full(n, 0.1)
    elif kind == "range":  # huge dynamic range, sum far below the largest terms
        e = rng.integers(-300, 300, n)
        x = rng.choice([-1.0, 1.0], n) * np.ldexp(rng.random(n) + 0.5, e)
        x = np.concatenate([x, -x[::-1]])[:n]
        x[n // 2] += 1e-200
    elif kind == "subnormal":
        x = rng.integers(-(2**40), 2**40, n) * np.float64(5e-324)
    elif kind == "ties":  # exact sums halfway between two floats
        x = np.zeros(n)
        x[0::4] = 1.0
        x[1::4] = 2.0**-53
        x[2::4] = -1.0
        x[3::4] = 2.0**-80
    elif kind == "tie-exact":
        x = np.zeros(n)
        x[0] = 1.0
        x[-1] = 2.0**-53
    elif kind == "ill":  # random, then its own rounded sum subtracted: condition ~1e16
        x = rng.standard_normal(n) * 1e8
        x[-1] -= x.sum()
    elif kind == "overflow":  # partial sums beyond the largest float, exact sum inside
        x = np.zeros(n)
        x[: n // 2 : 2] = 1.5e308
        x[1 : n // 2 : 2] = -1.4e308
    elif kind == "specials":
        x = rng.standard_normal(n)
        x[n // 3] = np.inf
        x[n // 2] = -np.inf if n % 2 else np.inf
    elif kind == "nan":
        x = rng.standard_normal(n)
        x[::7] = np.nan
    else:
        x = rng.standard_normal(n) * 3 + 1
    return x


KINDS = [
    "normal",
    "cancel",
    "tenths",
    "range",
    "subnormal",
    "ties",
    "tie-exact",
    "ill",
    "overflow",
    "specials",
    "nan",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [1, 7, 100, 4099, 70_001])
@pytest.mark.parametrize("func", ["sum", "mean", "nansum", "nanmean"])
def test_whole_f64_is_the_exact_sum_rounded(kind: str, n: int, func: str) -> None:
    a = adversarial(kind, n)
    with np.errstate(all="ignore"):
        want = expected(func, a, None)
    got = call(func, a)
    assert same(got, want), (got, want)


@pytest.mark.parametrize("kind", ["normal", "cancel", "range", "ties", "ill", "nan"])
@pytest.mark.parametrize("func", ["sum", "mean", "nansum", "nanmean"])
def test_whole_f32_is_the_exact_sum_rounded(kind: str, func: str) -> None:
    with np.errstate(all="ignore"):
        a = adversarial(kind, 5003).astype(np.float32)
        if kind == "ties":
            a[1::4] = np.float32(2.0**-24)
            a[3::4] = 0
        want = expected(func, a, None)
    got = call(func, a)
    assert same(got, want), (got, want)


def f16_data(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """float16 values whose sums float32 would round twice on the way to float16."""
    rng = np.random.default_rng(seed)
    if kind == "double":  # 1 + 2^-11 + 2^-24: float32 rounds to the float16 tie 1 + 2^-11
        x = np.zeros(n)
        x[0::6], x[1::6], x[2::6] = 1.0, 2.0**-11, 2.0**-24
        x[3::6], x[4::6], x[5::6] = -1.0, -(2.0**-11), 0.0
        x[-1] += 2.0**-24 if n % 6 == 0 else 0.0
        x = x[rng.permutation(n)]
    elif kind == "cancel":  # pairs that cancel, a few small values between
        h = rng.standard_normal(n // 2) * 100
        x = np.concatenate([h, -h[::-1], 2.0 ** -rng.integers(11, 25, n % 2 + 2)])[:n]
    elif kind == "overflow":  # beyond float16's largest: inf
        x = np.full(n, 30000.0)
    elif kind == "nan":
        x = rng.standard_normal(n)
        x[::7] = np.nan
    else:
        x = rng.standard_normal(n) * 3 + 1
    return x.astype(np.float16)


@pytest.mark.parametrize("kind", ["normal", "double", "cancel", "overflow", "nan"])
@pytest.mark.parametrize("n", [3, 6, 5003])
@pytest.mark.parametrize("func", ["sum", "mean", "nansum", "nanmean"])
def test_whole_f16_is_the_exact_sum_rounded_once(kind: str, n: int, func: str) -> None:
    a = f16_data(kind, n)
    with np.errstate(all="ignore"):
        want = expected(func, a, None)
    got = call(func, a)
    assert same(got, want), (got, want)
    if kind == "double" and func == "sum" and n == 3:
        assert got == np.float16(1 + 2.0**-10)  # float32 first gave 1.0


@pytest.mark.parametrize("axis", [0, 1])
def test_f16_axes_are_the_exact_sums_rounded_once(axis: int) -> None:
    a = f16_data("double", 6 * 40).reshape(24, 10)
    for func in ("sum", "mean"):
        want = expected(func, a, axis)
        assert same(call(func, a, axis=axis), want), func
        assert same(call(func, np.asfortranarray(a), axis=axis), want), func
    assert "float64" in sw.explain("sum", a)["reason"]


@pytest.mark.parametrize("src", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("func", ["sum", "mean", "nansum", "nanmean"])
def test_dtype_float16_rounds_the_elements_then_the_sum_once(src: Any, func: str) -> None:
    """`dtype=float16`: the elements rounded to float16 first (as numpy casts them), then
    their exact sum rounded once to float16 (numpy rounds at every step of its float16
    accumulation)."""
    rng = np.random.default_rng(3)
    cases = [
        f16_data("double", 6 * 50).astype(src) if src != np.int32 else np.arange(300),
        (rng.standard_normal(20_000) * 4).astype(src),
        np.full(10_000, 0.1 if src != np.int32 else 3).astype(src),
    ]
    for a in cases:
        a = a.astype(src)
        want = expected(func, a.astype(np.float16), None)
        got = call(func, a, dtype=np.float16)
        assert same(got, want), (a[:4], got, want)
    e = sw.explain(func, cases[0].astype(src), dtype=np.float16)
    assert e["round_to"] == np.float16 and e["kernel_dtype"] == np.float64


@pytest.mark.parametrize("src", [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dtype_casts_round_the_elements_then_the_sum_once(src: Any, dtype: Any) -> None:
    """`dtype=float64` / `float32` on any input: the elements cast to `dtype` (as numpy casts
    them: float64 to float32 rounds each, int64 beyond 2^53 rounds each), then their exact
    sum rounded once to `dtype`, over every axis form; the result has type `dtype`."""
    for kind in ("normal", "cancel", "ill", "range", "ties", "tenths", "nan"):
        with np.errstate(all="ignore"):
            a = adversarial(kind, 257 * 61, seed=3).reshape(257, 61)
            if np.issubdtype(src, np.integer):
                # Integers of the adversarial shapes (1e16 + 1 - 1e16 rounds as int64 -> f64).
                info = np.iinfo(src)
                a = np.clip(np.nan_to_num(a * 1e3), info.min, info.max)
            a = a.astype(src)
            cast = a.astype(dtype)
        for func in ("sum", "mean", "nansum", "nanmean"):
            for axis in (None, 0, 1, (0, 1)):
                with np.errstate(all="ignore"):
                    want = expected(func, cast, axis)
                got = call(func, a, axis=axis, dtype=dtype)
                assert same(got, want), (kind, func, axis, got, want)


def test_ten_million_tenths() -> None:
    a = np.full(10_000_000, 0.1)
    assert sw.sum(a) == math.fsum(a) == 1_000_000.0
    assert sw.mean(a) == math.fsum(a) / a.size


def layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    """The same values (as a 2-d array) in other memory layouts."""
    rows, cols = a.shape
    big = np.zeros((rows * 2, cols * 2 + 3), dtype=a.dtype)
    big[::2, 1 : 2 * cols + 1 : 2] = a
    padded = np.zeros((rows, cols + 5), dtype=a.dtype)
    padded[:, :cols] = a
    return {
        "C": np.ascontiguousarray(a),
        "F": np.asfortranarray(a),
        "reversed": np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
        "stepped": big[::2, 1 : 2 * cols + 1 : 2],
        "padded": padded[:, :cols],
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["normal", "cancel", "ill", "range", "nan"])
@pytest.mark.parametrize("func", ["sum", "mean", "nansum", "nanmean"])
@pytest.mark.parametrize("threads", [1, 2])
def test_same_bits_in_every_layout(dtype: Any, kind: str, func: str, threads: int) -> None:
    with np.errstate(all="ignore"):
        a = adversarial(kind, 257 * 61, seed=3).reshape(257, 61).astype(dtype)
    sw.set_num_threads(threads)  # (conftest restores it)
    for axis in (None, 0, 1):
        with np.errstate(all="ignore"):
            want = expected(func, a, axis)
        for name, v in layouts(a).items():
            got = call(func, v, axis=axis)
            assert same(got, want), (name, axis, got, want)


def conformance_views(a: np.ndarray) -> dict[str, np.ndarray]:
    """The same values as `a` (any number of dimensions) in each layout of the conformance
    set (test_against_numpy's LAYOUTS): read in place or copied, the bits must not move."""
    nd = a.ndim
    rev = tuple(range(nd - 1, -1, -1))
    big = np.zeros([2 * n for n in a.shape[:-1]] + [3 * a.shape[-1] + 2], dtype=a.dtype)
    step = (*(slice(None, None, 2),) * (nd - 1), slice(1, 3 * a.shape[-1] + 1, 3))
    big[step] = a
    neg = np.zeros([2 * n for n in a.shape], dtype=a.dtype)
    neg[(slice(None, None, -2),) * nd] = a
    padded = np.zeros((*a.shape[:-1], a.shape[-1] + 5), dtype=a.dtype)
    padded[..., : a.shape[-1]] = a
    readonly = a.copy()
    readonly.flags.writeable = False
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    misaligned = np.ndarray(a.shape, dtype=a.dtype, buffer=buf.data, offset=1)
    misaligned[...] = a
    records = {}
    for name, fields in (
        ("record_first", [("a", a.dtype), ("b", "i4")]),
        ("record_offset1", [("c", "i1"), ("a", a.dtype)]),
    ):
        rec = np.zeros(a.shape, dtype=fields)
        rec["a"] = a
        records[name] = rec["a"]
    return {
        "C": np.ascontiguousarray(a),
        "F": np.asfortranarray(a),
        "reversed": np.flip(np.ascontiguousarray(np.flip(a))),
        "stepped": big[step],
        "neg_step": neg[(slice(None, None, -2),) * nd],
        "padded": padded[..., : a.shape[-1]],
        "transposed": np.ascontiguousarray(a.transpose(rev)).transpose(rev),
        "misaligned": misaligned,
        "byteswapped": a.astype(a.dtype.newbyteorder("S")),
        "readonly": readonly,
        **records,
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["normal", "cancel", "ill", "range", "ties", "nan"])
@pytest.mark.parametrize("threads", [1, 2])
def test_same_bits_in_every_conformance_layout(dtype: Any, kind: str, threads: int) -> None:
    """A 3-d array in every layout of the conformance set, and broadcast ones, over every
    axis form (None, each axis, each pair): the correctly rounded sums and means."""
    with np.errstate(all="ignore"):
        a = adversarial(kind, 9 * 37 * 23, seed=4).reshape(9, 37, 23).astype(dtype)
    views = conformance_views(a)
    assert all(np.array_equal(v, a, equal_nan=True) for v in views.values())
    # Broadcast: a row repeated down an axis, and a column across one, against their copies.
    broadcast = {
        "broadcast": np.broadcast_to(a[0], a.shape),
        "broadcast_col": np.broadcast_to(a[:, :, :1], a.shape),
    }
    sw.set_num_threads(threads)  # (conftest restores it)
    axes = [None, 0, 1, 2, (0, 1), (0, 2), (1, 2)]
    for func in ("sum", "mean", "nansum", "nanmean"):
        for axis in axes:
            with np.errstate(all="ignore"):
                want = expected(func, a, axis)
            for name, v in views.items():
                got = call(func, v, axis=axis)
                assert same(got, want), (name, func, axis)
            for name, v in broadcast.items():
                with np.errstate(all="ignore"):
                    want_b = expected(func, np.ascontiguousarray(v), axis)
                assert same(call(func, v, axis=axis), want_b), (name, func, axis)


@pytest.mark.parametrize("level", sw.available_simd_levels())
@pytest.mark.parametrize("kind", ["normal", "cancel", "ill", "ties"])
def test_every_simd_level(level: str, kind: str) -> None:
    a64 = adversarial(kind, 3 * 4097, seed=1).reshape(3, 4097)
    sw.set_simd_level(level)
    # Contiguous and stride-2 rows (read in place, with shuffles, at the vector levels), of
    # f64 and f32.
    for dtype in (np.float64, np.float32):
        with np.errstate(all="ignore"):
            a = a64.astype(dtype)
        for name in ("C", "stepped"):
            v = layouts(a)[name]
            for axis in (None, 0, 1):
                with np.errstate(all="ignore"):
                    want = {f: expected(f, a, axis) for f in ("sum", "mean")}
                for func in ("sum", "mean"):
                    got = call(func, v, axis=axis)
                    assert same(got, want[func]), (level, dtype, name, axis, func)


def test_broadcast_axis() -> None:
    row = adversarial("ties", 64)
    a = np.broadcast_to(row, (5, 64))
    for axis in (None, 0, 1):
        assert same(sw.sum(a, axis=axis), expected("sum", np.ascontiguousarray(a), axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("func", ["sum", "nansum", "mean", "nanmean"])
def test_signed_zeros_as_numpy(dtype: Any, func: str) -> None:
    """A sum that is exactly zero is +0.0 unless every element is -0.0 (IEEE's rule, and
    numpy's): an f32 sum of zeros once came out -0.0 where its bound straddled zero."""
    for n in (1, 3, 40, 5000, 70_000):
        for fill in (0.0, -0.0):
            a = np.full(n, fill, dtype)
            for axis in (None, 0):
                assert same(call(func, a, axis=axis), call_np(func, a, axis=axis)), (n, fill, axis)
        m = np.zeros((7, n), dtype)
        m[::2] = -0.0
        for axis in (None, 0, 1):
            assert same(call(func, m, axis=axis), call_np(func, m, axis=axis)), (n, axis)
        # Values that cancel exactly to zero: +0.0.
        c = np.array([1.5, -1.5] * n, dtype)
        assert same(call(func, c), call_np(func, c)), n
    assert same(call(func, np.zeros(0, dtype)), call_np(func, np.zeros(0, dtype)))
    # All NaN: nansum's 0.0 (+0.0, as numpy's), nanmean's NaN (its sign bit aside).
    got, want = call(func, np.array([np.nan], dtype)), call_np(func, np.array([np.nan], dtype))
    assert type(got) is type(want)
    assert same(got, want) or (np.isnan(got) and np.isnan(want))


def call_np(func: str, a: np.ndarray, **kw: Any) -> Any:
    """numpy's `func(a, **kw)`, warnings silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return getattr(np, func)(a, **kw)


def test_against_fsum_random() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
        assert sw.sum(a) == math.fsum(a)


def short_values(kind: str, shape: tuple[int, int], dtype: Any, seed: int) -> np.ndarray:
    """Values for short reductions: sums of a few similar numbers lie exactly halfway between
    two floats often (the cheap proof from the smallest magnitude must decide them), and a
    wide range or a tiny element defeats that proof (the exact path must)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if kind == "range":
        x *= np.ldexp(1.0, rng.integers(-60, 60, shape))
    elif kind == "tiny":  # one element of each row far below the others
        x[:, 0] *= 2.0**-70
    elif kind == "zeros":
        x[rng.random(shape) < 0.5] = 0.0
    elif kind == "nan":
        x[rng.random(shape) < 0.2] = np.nan
    elif kind == "signed":  # zeros of both signs, some outputs all -0.0 (their sum is +0.0)
        x[rng.random(shape) < 0.5] = -0.0
        x[rng.random(shape) < 0.2] = 0.0
        x[:, ::5] = -0.0
        x[::5, :] = -0.0
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["normal", "range", "tiny", "zeros", "nan", "signed"])
@pytest.mark.parametrize("shape", [(4099, 3), (1000, 12), (300, 13), (2, 5000), (1, 700), (3, 999)])
@pytest.mark.parametrize("threads", [1, 2])
def test_short_reductions_are_the_exact_sum_rounded(
    dtype: Any, kind: str, shape: tuple[int, int], threads: int
) -> None:
    """Many outputs of a few elements each, over either axis and in every layout (the
    vertical path, with its per-output proof of exactness, takes these)."""
    a = short_values(kind, shape, dtype, seed=shape[0] + shape[1])
    sw.set_num_threads(threads)  # (conftest restores it)
    for func in ("sum", "mean", "nansum", "nanmean"):
        for axis in (0, 1):
            with np.errstate(all="ignore"):
                want = expected(func, a, axis)
            for name, v in layouts(a).items():
                got = call(func, v, axis=axis)
                assert same(got, want), (func, name, axis)


@pytest.mark.parametrize("kind", ["normal", "range", "tiny", "nan", "signed"])
def test_short_columns_at_every_simd_level(kind: str) -> None:
    """Short columns (a few rows, many outputs: `kernels/short_sum.rs`, whose f64 loop is
    written in vectors of the level) give the exact sums rounded at every SIMD level."""
    levels = sw.available_simd_levels()
    for shape in [(1, 37), (2, 101), (3, 999), (16, 300), (32, 41)]:
        a = short_values(kind, shape, np.float64, seed=sum(shape))
        for func in ("sum", "mean", "nansum", "nanmean"):
            with np.errstate(all="ignore"):
                want = expected(func, a, 0)
            for level in levels:
                sw.set_simd_level(level)  # (conftest restores it)
                got = call(func, a, axis=0)
                assert same(got, want), (func, shape, level)
                got = call(func, a[:, ::-1], axis=0)
                assert same(got, want[::-1]), (func, shape, level, "reversed")
    print("short columns checked at SIMD levels:", levels)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["cancel", "ill", "range", "nan"])
@pytest.mark.parametrize("func", ["sum", "nanmean"])
@pytest.mark.parametrize("threads", [1, 2])
def test_long_outputs_on_the_exact_path(dtype: Any, kind: str, func: str, threads: int) -> None:
    """Outputs of 2^14 elements and more skip the proof and are summed exactly in pieces
    (in parallel where it pays): rows read in place, columns gathered, NaN skipped."""
    with np.errstate(all="ignore"):
        a = adversarial(kind, 3 * 45_001, seed=5).reshape(3, 45_001).astype(dtype)
    sw.set_num_threads(threads)  # (conftest restores it)
    for axis in (None, 1):
        with np.errstate(all="ignore"):
            want = expected(func, a, axis)
        for name, v in layouts(a).items():
            got = call(func, v, axis=axis)
            assert same(got, want), (name, axis, got, want)
        # The same values as columns.
        got = call(func, np.ascontiguousarray(a.T), axis=0 if axis == 1 else None)
        assert same(got, want), ("columns", axis, got, want)
