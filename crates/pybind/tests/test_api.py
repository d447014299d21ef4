"""explain(), the thread and SIMD controls, and numpy's signatures."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import FUNCS, KERNEL_DTYPES, check_against_numpy, make_data

# --------------------------------------------------------------------------------------------
# explain()


def _misaligned_f64(n: int) -> np.ndarray:
    buf = np.zeros(n * 8 + 1, np.uint8)
    a = np.ndarray((n,), np.float64, buffer=buf.data, offset=1)
    a[:] = np.arange(n)
    return a


def _record_field() -> np.ndarray:
    rec = np.zeros(6, dtype=[("a", "f8"), ("b", "i4")])
    return rec["a"]


M = make_data(np.float64, (6, 8), seed=1)

KERNEL_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("sum", M, {}),
    ("mean", M, {"axis": 0}),
    ("var", M.T, {"axis": -1, "ddof": 1}),
    ("std", M[::2, ::-3], {"axis": (0, 1)}),
    ("min", np.broadcast_to(M[0], (5, 8)), {"axis": 1}),
    ("nanmax", M.astype(np.int16), {"keepdims": True}),
    ("nansum", np.ones(10, np.uint64), {"dtype": np.uint8}),
    ("mean", M, {"where": True}),
    ("sum", M, {"axis": 1, "out": np.empty(6)}),
    ("max", sw.zeros((3, 5), np.float32), {"axis": 0}),
    ("sum", [1, 2, 3], {}),
    ("nanmean", M, {"dtype": np.float64}),
]
COPY_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("sum", M.astype(np.float16), {}),
    ("mean", M.astype(">f8"), {"axis": 0}),
    ("var", _misaligned_f64(20), {}),
    ("max", _record_field(), {}),
    ("sum", M.astype(np.float32), {"dtype": np.float64}),
    ("mean", M.astype(np.int32), {"dtype": np.float32}),
]
NUMPY_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("sum", M.astype(np.complex128), {}),
    ("mean", M.astype(object), {}),
    ("min", M.astype("datetime64[s]"), {}),
    ("var", M.astype(np.longdouble), {}),
    ("max", np.array(["a", "b"]), {}),
    ("sum", np.ma.masked_array(M), {}),
    ("sum", M, {"where": M > 0}),
    ("sum", M, {"initial": 1.0}),
    ("var", M, {"mean": M.mean(axis=0, keepdims=True), "axis": 0}),
    ("sum", M, {"axis": 0, "out": np.empty(8, np.float32)}),
    ("sum", M, {"axis": 0, "out": np.empty(9)}),
    ("sum", M, {"axis": 2}),
    ("sum", M, {"axis": (0, 0)}),
    ("mean", np.zeros((0, 3)), {}),
    ("var", M, {"ddof": 48}),
    ("min", np.zeros((0, 3)), {"axis": 0}),
    ("nanmin", np.zeros(0), {}),
    ("sum", M, {"dtype": np.complex128}),
    ("sum", (x for x in range(3)), {}),
]


@pytest.mark.parametrize(
    ("path", "func", "a", "kwargs"),
    [("kernel", *c) for c in KERNEL_CASES]
    + [("kernel+copy", *c) for c in COPY_CASES]
    + [("numpy", *c) for c in NUMPY_CASES],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_explain_paths(path: str, func: str, a: Any, kwargs: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # explain decides without running: no warning
        e = sw.explain(getattr(sw, func), a, **kwargs)
    assert e["path"] == path, e
    assert isinstance(e["reason"], str) and e["reason"].strip(), e
    assert e["simd"] == sw.simd_level()
    assert e["threads"] == sw.get_num_threads()
    kernel_keys = {"kernel_dtype", "copy_to", "axes", "parallel"}
    if path == "numpy":
        assert not kernel_keys & set(e), e
    else:
        assert kernel_keys <= set(e), e
        assert isinstance(e["kernel_dtype"], np.dtype)
        assert (e["copy_to"] is None) == (path == "kernel"), e
        assert e["parallel"] is False  # small inputs
    # explain by name is the same as by function.
    assert sw.explain(func, a, **kwargs)["path"] == path


def test_explain_details() -> None:
    a = make_data(np.float64, (4, 5, 6))
    assert sw.explain(sw.sum, a)["axes"] is None
    assert sw.explain(sw.sum, a, axis=-1)["axes"] == (2,)
    assert sw.explain(sw.sum, a, axis=(2, -3))["axes"] == (0, 2)
    assert sw.explain(sw.sum, a, axis=(0, 1, 2))["axes"] is None
    assert sw.explain(sw.sum, a.astype(np.int8))["kernel_dtype"] == np.int8
    e = sw.explain(sw.mean, a.astype(np.float16))  # sums and means: rounded once
    assert e["kernel_dtype"] == np.float64 and e["copy_to"] == np.float64
    e = sw.explain(sw.var, a.astype(np.float16))  # the rest: as numpy accumulates
    assert e["kernel_dtype"] == np.float32 and e["copy_to"] == np.float32
    assert sw.explain(sw.sum, a, dtype=np.float32)["kernel_dtype"] == np.float32
    big = np.zeros(sw.parallel_threshold())
    with sw.threads(2):
        assert sw.explain(sw.sum, big)["parallel"] is True
        assert sw.explain(sw.sum, big[:-1])["parallel"] is False
        assert sw.explain(sw.sum, big)["threads"] == 2
        # Below the pool's threshold, mid sizes go to the hand-off helpers.
        assert sw.explain(sw.sum, big[:-1])["handoff"] is True
        assert sw.explain(sw.sum, big)["handoff"] is False
        assert sw.explain(sw.sum, big[: 1 << 15])["handoff"] is False
        # Strided runs count double (the lane path gathers them): half as many elements do.
        assert sw.explain(sw.sum, big[: 1 << 16 : 2])["handoff"] is True
        grid = np.zeros((256, 256))
        assert sw.explain(sw.mean, grid[:, ::2], axis=1)["handoff"] is True
        assert sw.explain(sw.mean, grid[:, :128], axis=1)["handoff"] is False
        # ... but not runs the vertical path reads (axis 0 of C order here).
        assert sw.explain(sw.mean, grid[:, ::2], axis=0)["handoff"] is False
        # min/max count bytes (as 8-byte elements): narrow types need 8/itemsize times more.
        assert sw.explain(sw.max, big)["parallel"] is True
        small = big.astype(np.uint8)
        assert sw.explain(sw.sum, small)["parallel"] is True
        assert sw.explain(sw.max, small)["parallel"] is False
        assert sw.explain(sw.max, small)["handoff"] is True
        assert sw.explain(sw.min, small[: len(small) // 8])["handoff"] is False
        assert sw.explain(sw.min, np.zeros(8 * len(big), np.uint8))["parallel"] is True
    with sw.threads(1):
        assert sw.explain(sw.sum, big)["parallel"] is False
        assert sw.explain(sw.sum, big[:-1])["handoff"] is False
        assert sw.explain(sw.sum, big)["threads"] == 1


def test_explain_walk() -> None:
    """explain names the loop the kernels run: an image's channels read as wide rows."""
    img = make_data(np.uint8, (48, 64, 3))
    assert sw.explain(sw.mean, img, axis=(0, 1))["walk"] == (
        "interleaved: 3 outputs read as rows of 256 x 3"
    )
    assert sw.explain(sw.mean, img[:, :, ::-1], axis=(0, 1))["walk"].startswith("vertical")
    # A few elements for each of many outputs: rows of outputs too; longer lines: lanes.
    assert sw.explain(sw.mean, img, axis=2)["walk"].startswith("vertical")
    # ... four at a time where each output is one contiguous run (float sums and means);
    # every other layout, kernel or length as before.
    assert sw.explain(sw.mean, make_data(np.float64, (40, 100)), axis=1)["walk"].startswith("runs")
    assert sw.explain(sw.sum, make_data(np.float32, (40, 512)), axis=1)["walk"].startswith("runs")
    # Longer rows: in batches in a reduction of at most 1 MiB (likely in cache), up to 16
    # KiB a row; in larger ones up to 2 KiB (f64) or 4 KiB (f32) a row.
    assert sw.explain(sw.sum, make_data(np.float64, (40, 2048)), axis=1)["walk"].startswith("runs")
    assert sw.explain(sw.sum, make_data(np.float64, (40, 2049)), axis=1)["walk"].startswith("lanes")
    assert sw.explain(sw.sum, make_data(np.float32, (40, 4096)), axis=1)["walk"].startswith("runs")
    big64, big32 = np.zeros((1000, 257)), np.zeros((1000, 1025), np.float32)
    assert sw.explain(sw.sum, big64[:, :256], axis=1)["walk"].startswith("runs")
    assert sw.explain(sw.sum, big64, axis=1)["walk"].startswith("lanes")
    assert sw.explain(sw.sum, big32[:, :1024], axis=1)["walk"].startswith("runs")
    assert sw.explain(sw.sum, big32, axis=1)["walk"].startswith("lanes")
    assert sw.explain(sw.sum, make_data(np.float64, (3, 100)), axis=1)["walk"].startswith("lanes")
    assert sw.explain(sw.nanmean, make_data(np.float64, (40, 100)), axis=1)["walk"].startswith(
        "lanes"
    )
    assert sw.explain(sw.max, make_data(np.float64, (40, 100)), axis=1)["walk"].startswith("lanes")
    assert sw.explain(sw.mean, make_data(np.int32, (40, 100)), axis=1)["walk"].startswith("lanes")
    # f64 rows at stride 2 are batched too (read as whole vectors, shuffled); f32 ones and
    # wider strides are not.
    assert sw.explain(sw.mean, make_data(np.float64, (40, 100))[:, ::2], axis=1)["walk"].startswith(
        "runs"
    )
    assert sw.explain(sw.mean, make_data(np.float32, (40, 100))[:, ::2], axis=1)["walk"].startswith(
        "lanes"
    )
    assert sw.explain(sw.mean, make_data(np.float64, (40, 99))[:, ::3], axis=1)["walk"].startswith(
        "lanes"
    )
    assert sw.explain(sw.mean, img)["walk"].startswith("lanes")
    assert sw.explain(sw.max, np.zeros((3, 0)), axis=0)["walk"] == "nothing to read"
    # After numpy's copy the copy's layout decides: not reported.
    assert sw.explain(sw.mean, img.astype(">f8"), axis=0)["walk"] is None
    assert sw.explain(sw.mean, img, axis=0)["broadcast"] == ()


def test_explain_broadcast() -> None:
    """Broadcast axes are read once: explain names them, and the work is that of one row."""
    row = make_data(np.float64, (1 << 16,))
    b = np.broadcast_to(row, (64, 1 << 16))
    assert b.size >= sw.parallel_threshold() > row.size
    with sw.threads(2):
        e = sw.explain(sw.mean, b, axis=0)
        assert (e["broadcast"], e["parallel"]) == ((0,), False)
        assert sw.explain(sw.mean, np.ascontiguousarray(b), axis=0)["parallel"] is True
    assert sw.explain(sw.mean, b[:, None, :], axis=2)["broadcast"] == (0,)
    assert sw.explain(sw.mean, np.broadcast_to(row[:1], (3, 1)))["broadcast"] == (0,)
    # The values: each column is one element 64 times; each row the same row.
    np.testing.assert_array_equal(sw.mean(b, axis=0), row)
    np.testing.assert_array_equal(sw.max(b, axis=1), np.full(64, row.max()))
    np.testing.assert_array_equal(sw.var(b, axis=0), np.zeros_like(row))


def test_explain_rejects() -> None:
    a = np.ones(3)
    with pytest.raises(ValueError):
        sw.explain(np.cumsum, a)
    with pytest.raises(ValueError):
        sw.explain("cumsum", a)
    with pytest.raises(TypeError):
        sw.explain(sw.mean, a, initial=0)  # mean takes no initial=, as the call itself
    with pytest.raises(TypeError):
        sw.mean(a, initial=0)
    with pytest.raises(TypeError):
        sw.explain(sw.min, a, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Threads


def test_threads_context_manager_restores() -> None:
    before = sw.get_num_threads()
    with sw.threads(3):
        assert sw.get_num_threads() == 3
        with sw.threads(1):
            assert sw.get_num_threads() == 1
        assert sw.get_num_threads() == 3
    assert sw.get_num_threads() == before
    with pytest.raises(KeyError), sw.threads(2):
        assert sw.get_num_threads() == 2
        raise KeyError("boom")
    assert sw.get_num_threads() == before


def test_threads_as_a_plain_call_sets_the_count_until_restored() -> None:
    # Called without `with` (as threadpoolctl's threadpool_limits may be), the count changes
    # at once: it used to be a generator context manager that a plain call never entered.
    before = sw.get_num_threads()
    other = 1 if before != 1 else 2
    limit = sw.threads(other)
    try:
        assert sw.get_num_threads() == other
        assert sw.explain("sum", np.ones(10))["threads"] == other
    finally:
        limit.restore()
    assert sw.get_num_threads() == before
    with sw.threads(other) as inside:
        assert isinstance(inside, sw.threads)
        assert sw.get_num_threads() == other
    assert sw.get_num_threads() == before
    with pytest.raises(ValueError):
        sw.threads(0)
    assert sw.get_num_threads() == before


def test_set_num_threads() -> None:
    before = sw.get_num_threads()
    assert before >= 1
    try:
        sw.set_num_threads(5)
        assert sw.get_num_threads() == 5
        for bad in (0, -1):
            with pytest.raises(ValueError):
                sw.set_num_threads(bad)
            assert sw.get_num_threads() == 5
        with pytest.raises(ValueError), sw.threads(0):
            pass
        assert sw.get_num_threads() == 5
    finally:
        sw.set_num_threads(before)


def test_parallel_threshold() -> None:
    assert sw.parallel_threshold() == 524288


# --------------------------------------------------------------------------------------------
# SIMD levels


def test_simd_controls() -> None:
    levels = sw.available_simd_levels()
    assert levels[0] == "scalar"
    assert set(levels) <= {"scalar", "avx2", "avx512"}
    assert sw.simd_level() in levels  # the best, or STRIDEWISE_SIMD's choice
    try:
        for lvl in levels:
            assert sw.set_simd_level(lvl) == lvl
            assert sw.simd_level() == lvl
            assert sw.explain(sw.sum, np.ones(3))["simd"] == lvl
        with pytest.raises(ValueError):
            sw.set_simd_level("sse9")
        assert sw.simd_level() == levels[-1]
    finally:
        assert sw.set_simd_level(None) == levels[-1]
    assert sw.simd_level() == levels[-1]


def _representative() -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    rng = np.random.default_rng(99)
    f64 = rng.standard_normal((301, 257)) * 1e3 + 7
    f64[5, 9] = np.nan
    f32 = rng.standard_normal((1000, 67)).astype(np.float32)
    i32 = rng.integers(-(2**31), 2**31, (513, 129), dtype=np.int32)
    u8 = rng.integers(0, 256, 70_001, dtype=np.uint8)
    big = rng.standard_normal(sw.parallel_threshold() + 999)
    cases: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    for func in FUNCS:
        for a in (f64, f64.T, f64[::3, ::-2], f32, i32[:, 1:], u8, big):
            for axis in (None, 0, -1):
                if a.ndim == 1 and axis == 0:
                    continue
                cases.append((func, a, {"axis": axis}))
    cases.append(("var", f64, {"axis": 0, "ddof": 1}))
    cases.append(("sum", f32, {"dtype": np.float64}))
    cases.append(("mean", f32.astype(np.float16), {"axis": 1}))
    return cases


def test_simd_levels_bitwise_identical() -> None:
    """Every SIMD level gives the same bits (also with several threads)."""
    levels = sw.available_simd_levels()
    assert levels
    cases = _representative()
    results: dict[str, list[bytes]] = {}
    try:
        for lvl in levels:
            sw.set_simd_level(lvl)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                for n in (1, 2):
                    with sw.threads(n):
                        key = f"{lvl}/{n}"
                        results[key] = [
                            np.asarray(getattr(sw, f)(a, **kw)).tobytes() for f, a, kw in cases
                        ]
    finally:
        sw.set_simd_level(None)
    first = next(iter(results.values()))
    for key, res in results.items():
        diffs = [cases[i][0] for i, (x, y) in enumerate(zip(res, first, strict=True)) if x != y]
        assert not diffs, f"{key} differs from {next(iter(results))} in {diffs}"


# --------------------------------------------------------------------------------------------
# Signatures


@pytest.mark.parametrize("func", FUNCS)
def test_signature_matches_numpy(func: str) -> None:
    """Parameter names, order and kinds (positional-or-keyword / keyword-only) as numpy's."""
    ours = inspect.signature(getattr(sw, func))
    theirs = inspect.signature(getattr(np, func))
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.kind for p in ours.parameters.values()] == [
        p.kind for p in theirs.parameters.values()
    ]


@pytest.mark.parametrize("func", FUNCS)
def test_table_keywords_are_numpys(func: str) -> None:
    """The table's keywords are numpy's parameters besides ``a``, in numpy's order."""
    row = sw._native.REDUCTIONS[func]
    theirs = [k for k in inspect.signature(getattr(np, func)).parameters if k != "a"]
    assert list(row["keywords"]) == theirs


@pytest.mark.parametrize("func", FUNCS)
def test_table_result_dtypes_are_numpys(func: str) -> None:
    """The table's result dtype of every kernel dtype is what numpy returns."""
    row = sw._native.REDUCTIONS[func]
    assert set(row["result_dtype"]) == {np.dtype(t).name for t in KERNEL_DTYPES}
    for src, result in row["result_dtype"].items():
        a = np.ones((2, 3), dtype=src)
        if func == "ptp" and src == "bool":
            with pytest.raises(TypeError):
                np.ptp(a, axis=0)  # numpy does not subtract booleans: no result dtype
            continue
        assert np.dtype(result) == getattr(np, func)(a, axis=0).dtype, src


def test_table_rows_are_public_numpy_functions() -> None:
    """Every row is a public function here and a numpy function, and nothing else is."""
    assert FUNCS
    for func in FUNCS:
        assert func in sw.__all__ and callable(getattr(np, func))
    assert set(sw._reduce._FUNCS) == set(FUNCS)


@pytest.mark.parametrize("func", FUNCS)
def test_native_keywords_are_checked(func: str) -> None:
    """The native entries refuse a keyword the function does not take, as numpy does."""
    a = np.ones(3)
    with pytest.raises(TypeError, match=f"{func}\\(\\) got an unexpected keyword argument 'q'"):
        sw._native.reduce_named(func, a, q=0.5)
    with pytest.raises(TypeError):
        getattr(np, func)(a, q=0.5)
    with pytest.raises(ValueError, match="not a stridewise reduction"):
        sw._native.reduce("median", a)
    keywords = sw._native.REDUCTIONS[func]["keywords"]
    with pytest.raises(TypeError, match="takes"):
        sw._native.reduce(func, a, *([None] * (len(keywords) + 1)))
    with pytest.raises(TypeError, match="multiple values for argument 'axis'"):
        sw._native.reduce_named(func, a, None, axis=0)


@pytest.mark.parametrize("func", FUNCS)
def test_native_binds_by_position_or_name(func: str) -> None:
    """Positional arguments bind to the table's keywords in order, as numpy's parameters do."""
    a = make_data(np.float64, (4, 5), seed=8)
    keywords = sw._native.REDUCTIONS[func]["keywords"]
    values = {"axis": 1, "keepdims": True, "ddof": 0}
    upto = keywords[: keywords.index("keepdims") + 1]
    by_position = sw._native.reduce(func, a, *[values.get(k) for k in upto])
    by_name = sw._native.reduce_named(func, a, axis=1, keepdims=True)
    expected = getattr(np, func)(a, axis=1, keepdims=True)
    for r in (by_position, by_name):
        assert r.shape == expected.shape == (4, 1)
        np.testing.assert_allclose(r, expected, rtol=1e-12)


@pytest.mark.parametrize("func", FUNCS)
def test_name_and_doc(func: str) -> None:
    f = getattr(sw, func)
    assert f.__name__ == func
    assert f.__doc__ and f"numpy.{func}" in f.__doc__


POSITIONAL: dict[str, list[tuple[Any, ...]]] = {
    "sum": [(0,), (1, np.float32), (0, None, None, True), (1, np.int64, None, False, 5)],
    "mean": [(0,), (1, np.float32), (0, None, None, True)],
    "var": [(0,), (1, None, None, 1), (0, np.float32, None, 2, True)],
    "min": [(0,), (1, None, True), (0, None, False, 0.5)],
}
POSITIONAL["nansum"] = POSITIONAL["sum"]
POSITIONAL["prod"] = POSITIONAL["nanprod"] = POSITIONAL["sum"]
POSITIONAL["nanmean"] = POSITIONAL["mean"]
for _f in ("std", "nanvar", "nanstd"):
    POSITIONAL[_f] = POSITIONAL["var"]
for _f in ("max", "nanmin", "nanmax"):
    POSITIONAL[_f] = POSITIONAL["min"]
POSITIONAL["any"] = [(0,), (1, None, True), (None, None, False)]
POSITIONAL["all"] = POSITIONAL["any"]
POSITIONAL["count_nonzero"] = [(0,), (1,), ((0, 1),)]
POSITIONAL["ptp"] = [(0,), (1, None, True), (None, None, False)]
for _f in ("argmin", "argmax", "nanargmin", "nanargmax"):
    POSITIONAL[_f] = [(0,), (1, None), (None, None)]  # keepdims is keyword-only


@pytest.mark.parametrize("func", FUNCS)
def test_positional_arguments(func: str) -> None:
    """Arguments passed by position land where numpy puts them."""
    a = make_data(np.float64, (4, 5), seed=3)
    for args in POSITIONAL[func]:
        r_np = getattr(np, func)(a, *args)
        r_sw = getattr(sw, func)(a, *args)
        assert type(r_sw) is type(r_np)
        assert r_sw.dtype == r_np.dtype and r_sw.shape == r_np.shape, args
        np.testing.assert_allclose(r_sw, r_np, rtol=1e-6)
    # One positional argument too many (where/mean/correction are keyword-only in numpy).
    n = len(inspect.signature(getattr(np, func)).parameters)
    kinds = [p.kind for p in inspect.signature(getattr(np, func)).parameters.values()]
    npos = sum(k is inspect.Parameter.POSITIONAL_OR_KEYWORD for k in kinds)
    extra = (None,) * npos
    with pytest.raises(TypeError):
        getattr(np, func)(a, *extra)
    with pytest.raises(TypeError):
        getattr(sw, func)(a, *extra)
    assert n >= npos


@pytest.mark.parametrize("func", FUNCS)
def test_keyword_a(func: str) -> None:
    a = make_data(np.float64, (3, 4), seed=4)
    np.testing.assert_array_equal(getattr(sw, func)(a=a), getattr(sw, func)(a))
    check_against_numpy(func, a, axis=None)
