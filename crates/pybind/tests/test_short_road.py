"""The short road of small whole-array sums and means (`crates/pybind/src/fast.rs`).

`sw.sum(a)`, `sw.mean(a)`, `sw.nansum(a)` and `sw.nanmean(a)` of a small C-contiguous,
aligned float64 or float32 ndarray skip the plan and the executor. Each case here is checked
against the long road (the native `reduce_named`, which never takes the short one) and
against numpy: the same bits, the same type, the same warnings; and calls the short road
must not take (subclasses, other layouts, other arguments, results that are not finite)
still give numpy's answer.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from stridewise import _native

# GIL_RELEASE_MIN in exec.rs: the short road takes fewer elements.
LIMIT = 1 << 14


def _long(func: str, a: Any, **kw: Any) -> Any:
    return _native.reduce_named(func, a, **kw)


def _same(x: Any, y: Any) -> None:
    assert type(x) is type(y), (type(x), type(y))
    assert np.asarray(x).tobytes() == np.asarray(y).tobytes(), (x, y)


def _data(dtype: Any, n: int, kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        a = rng.standard_normal(n) * 3 + 1
    elif kind == "cancel":
        a = rng.standard_normal(n) * 1e16
        a = np.concatenate([a, -a[::-1]])[:n]
        a[n // 2 :: 7] = 1.0
    elif kind == "range":
        # Finite in the dtype: a huge dynamic range, no overflow.
        e = 300 if dtype == np.float64 else 30
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-e, e, n)
    elif kind == "nan":  # the nan-functions skip them; sum and mean take the long road
        a = rng.standard_normal(n) * 3 + 1
        a[rng.random(n) < 0.2] = np.nan
    else:  # "tiny": subnormals and zeros of both signs
        a = rng.standard_normal(n) * 5e-324 * 8
        a[::3] = -0.0
    with np.errstate(over="ignore"):
        return a.astype(dtype)


SIZES = [1, 2, 7, 31, 1000, 4097, LIMIT - 1, LIMIT, LIMIT + 5]
FUNCS = ["sum", "mean", "nansum", "nanmean"]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["normal", "cancel", "range", "tiny", "nan"])
@pytest.mark.parametrize("n", SIZES)
def test_short_road_gives_the_long_roads_bits(func: str, dtype: Any, kind: str, n: int) -> None:
    a = _data(dtype, n, kind, seed=n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = getattr(sw, func)(a)
        _same(ours, _long(func, a))
    with np.errstate(all="ignore"):
        want = getattr(np, func)(a)
    assert type(ours) is type(want)
    if kind == "normal":
        # numpy's own answer is near it (float32 sums accumulate in float32 there).
        assert np.isclose(ours, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("func", FUNCS)
def test_defaults_passed_by_name_take_the_short_road_too(func: str) -> None:
    a = _data(np.float64, 100, "normal", seed=3)
    f = getattr(sw, func)
    want = _long(func, a)
    _same(f(a, axis=None), want)
    _same(f(a, None, None, None), want)
    _same(f(a, keepdims=np._NoValue), want)  # type: ignore[attr-defined]
    _same(f(a, where=np._NoValue), want)  # type: ignore[attr-defined]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    "kw",
    [
        {"axis": 0},
        {"keepdims": True},
        {"dtype": np.float32},
        {"where": np.arange(6) % 2 == 0},
    ],
)
def test_other_arguments_take_the_long_road(func: str, kw: dict[str, Any]) -> None:
    a = _data(np.float64, 6, "normal", seed=4)
    ours = getattr(sw, func)(a, **kw)
    _same(ours, _long(func, a, **kw))
    want = getattr(np, func)(a, **kw)
    assert type(ours) is type(want) and np.shape(ours) == np.shape(want)
    np.testing.assert_allclose(ours, want, rtol=1e-6)


def test_out_is_written() -> None:
    a = _data(np.float64, 50, "normal", seed=5)
    out = np.zeros(())
    r = sw.mean(a, out=out)
    assert r is out
    assert out[()] == _long("mean", a)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a[::2],  # stepped
        lambda a: a[::-1],  # reversed
        lambda a: a.reshape(4, 6).T,  # Fortran order
        lambda a: a.astype(a.dtype.newbyteorder()),  # byte-swapped
        lambda a: np.frombuffer(b"\0" + a.tobytes(), a.dtype, offset=1),  # misaligned
        lambda a: np.asmatrix(a.reshape(4, 6)),  # a subclass
        lambda a: np.ma.masked_array(a, mask=a > 1),  # a subclass with a mask
        lambda a: a.reshape(2, 3, 4),  # C order, more axes: the short road
        lambda a: np.array(a[0]),  # 0-d
    ],
)
@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_other_inputs_give_numpys_answer(make: Any, func: str, dtype: Any) -> None:
    base = _data(dtype, 24, "normal", seed=6)
    a = make(base)
    ours = getattr(sw, func)(a)
    want = getattr(np, func)(a)
    assert type(ours) is type(want)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(want), rtol=1e-5)
    if type(a) is np.ndarray:
        _same(ours, _long(func, a))


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "values",
    [
        [1.0, np.inf, 2.0],
        [np.nan, 1.0],
        [-np.inf, np.inf],
        [np.nan, np.nan],
        "overflow",
    ],
)
def test_results_that_are_not_finite_keep_the_long_roads_warnings(
    func: str, dtype: Any, values: Any
) -> None:
    """Such results go the long road, whose warnings are numpy's (tested against numpy in
    test_errors_warnings.py): the same value, type and warnings as it."""
    if values == "overflow":
        big = np.finfo(dtype).max
        a = np.array([big, big, -big / 4], dtype)
    else:
        a = np.array(values, dtype)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = _long(func, a)
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = getattr(sw, func)(a)
    _same(ours, want)
    assert [(w.category, str(w.message)) for w in ours_w] == [
        (w.category, str(w.message)) for w in theirs
    ]
    if not (values == "overflow" and func in ("mean", "nanmean") and dtype == np.float32):
        # (numpy's float32 mean overflows in its float32 accumulator; stridewise's is the
        # exact mean, finite here.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np_value = getattr(np, func)(a)
        if np.isnan(np_value):
            # (A NaN's sign is not numpy's contract: -inf + inf is -nan there on x86.)
            assert np.isnan(ours)
        else:
            assert np.asarray(ours).tobytes() == np.asarray(np_value).tobytes()


def test_empty_keeps_numpys_warning() -> None:
    a = np.zeros(0)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        r = sw.mean(a)
    assert np.isnan(r)
    _same(sw.sum(a), np.sum(a))


def test_every_simd_level_and_thread_count_gives_the_same_bits() -> None:
    a = _data(np.float64, 3001, "cancel", seed=7)
    b = _data(np.float32, 3001, "range", seed=7)
    b[::7] = np.nan
    funcs = [sw.sum, sw.mean, sw.nansum, sw.nanmean]
    want = [f(x) for f in funcs for x in (a, b)]
    threads_before = sw.get_num_threads()
    ran = []
    try:
        for level in sw.available_simd_levels():
            for threads in (1, 2):
                sw.set_simd_level(level)
                sw.set_num_threads(threads)
                got = [f(x) for f in funcs for x in (a, b)]
                for x, y in zip(got, want, strict=True):
                    _same(x, y)
                ran.append(level)
    finally:
        sw.set_simd_level(None)
        sw.set_num_threads(threads_before)
    print("short road checked at SIMD levels:", sorted(set(ran)))


EXTREME_DTYPES = [
    np.float64,
    np.float32,
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
    np.longlong,  # another type object than int64's: the long road
    np.float16,  # not a kernel type: the long road
    np.bool_,
]


def _extreme_data(dtype: Any, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(n) < 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        a[rng.integers(0, n)] = info.max if seed % 2 else info.min
        return a
    a = (rng.standard_normal(n) * 100).astype(dt)
    a[:: max(1, n // 5)] = -0.0
    return a


@pytest.mark.parametrize("func", ["min", "max"])
@pytest.mark.parametrize("dtype", EXTREME_DTYPES)
@pytest.mark.parametrize("n", [1, 7, 1000, LIMIT - 1, LIMIT + 5])
def test_min_max_take_the_short_road_with_numpys_answer(func: str, dtype: Any, n: int) -> None:
    a = _extreme_data(dtype, n, seed=n)
    ours = getattr(sw, func)(a)
    _same(ours, _long(func, a))
    want = getattr(np, func)(a)
    assert type(ours) is type(want)
    assert np.asarray(ours).tobytes() == np.asarray(want).tobytes() or ours == want


@pytest.mark.parametrize("func", ["min", "max"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
def test_min_max_of_specials_take_the_long_road(func: str, dtype: Any, special: float) -> None:
    a = _extreme_data(dtype, 100, seed=3)
    a[37] = special
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = getattr(sw, func)(a)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = getattr(np, func)(a)
    assert type(ours) is type(want)
    assert (np.isnan(ours) and np.isnan(want)) or ours == want
    assert [w.category for w in ours_w] == [w.category for w in theirs]
    _same(ours, _long(func, a))


@pytest.mark.parametrize("func", ["min", "max"])
def test_min_max_with_arguments_take_the_long_road(func: str) -> None:
    a = _extreme_data(np.int32, 60, seed=4)
    for kw in [{"axis": 0}, {"initial": 5}, {"keepdims": True}, {"where": a > 0, "initial": 0}]:
        ours = getattr(sw, func)(a, **kw)
        want = getattr(np, func)(a, **kw)
        assert type(ours) is type(want) and np.array_equal(ours, want), kw
    with pytest.raises(ValueError):
        getattr(sw, func)(np.zeros(0))
