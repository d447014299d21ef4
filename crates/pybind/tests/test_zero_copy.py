"""The zero-copy, GIL-release and determinism claims, measured.

* Reducing strided views of a 64 MB array allocates nothing proportional to it: numpy's
  allocations are traced by tracemalloc, and the whole process's peak RSS (Rust included) is
  read in a fresh subprocess (VmHWM, the peak RSS that getrusage's ru_maxrss also reports).
* The GIL is released during a reduction: a Python thread makes progress while one runs.
* Results are bitwise identical for 1..4 threads and when 8 Python threads call at once.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import stridewise as sw
from conftest import ARG_FUNCS, FAMILY, FUNCS, make_data

MB = 1 << 20


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    """64 MB of float64, 4096 x 2048, with values (touched, so resident)."""
    a = np.arange(4096 * 2048, dtype=np.float64).reshape(4096, 2048)
    a *= 1e-6
    return a


@pytest.fixture(scope="module")
def near_one(big: np.ndarray) -> np.ndarray:
    """64 MB of float64 near 1, whose products along any axis stay finite and nonzero (a
    NaN or inf result runs numpy's function too, for its floating-point warnings: exec.rs)."""
    return 1.0 + 1e-4 * np.sin(big)


def _views(a: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "step2": a[::2],
        "T": a.T,
        "cols_step3": a[:, ::3],
        "reversed": a[::-1],
        "reversed_both": a[::-1, ::-1],
        "padded": a[1:, :-1],
        "T_step": a.T[::-2, 1::2],
        "broadcast": np.broadcast_to(a[7], (4096, 2048)),
    }


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def _peak_increase(fn: Callable[[], Any]) -> int:
    """Bytes numpy (or Python) allocated at the peak of fn(), beyond what was live before."""
    gc_before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    res = fn()
    peak = tracemalloc.get_traced_memory()[1]
    del res
    return peak - gc_before


@pytest.mark.parametrize("func", FUNCS)
def test_views_are_not_copied_tracemalloc(
    big: np.ndarray, near_one: np.ndarray, func: str, traced: None
) -> None:
    f = getattr(sw, func)
    for name, v in _views(near_one if FAMILY[func] == "prod" else big).items():
        for axis in (None, 0, 1):
            e = sw.explain(f, v, axis=axis)
            assert e["path"] == "kernel", (name, axis, e)
            assert e["copy_to"] is None
            inc = _peak_increase(lambda v=v, axis=axis: f(v, axis=axis))
            assert inc < 1 * MB, f"{func} {name} axis={axis}: peak +{inc / MB:.1f} MB"


def test_average_reads_views_and_weights_in_place(
    big: np.ndarray, near_one: np.ndarray, traced: None
) -> None:
    """Weighted averages read the data and the weights where they lie: weights of the data's
    shape (another view), or along an axis (broadcast, never materialised). numpy's own
    multiplies into a temporary of the data's size."""
    for name, v in _views(big).items():
        w_full = _views(near_one)[name]
        for axis, w in ((None, w_full), (0, w_full), (1, w_full), (0, near_one[: v.shape[0], 0])):
            e = sw.explain(sw.average, v, axis=axis, weights=w)
            assert e["path"] == "kernel", (name, axis, e)
            inc = _peak_increase(lambda v=v, axis=axis, w=w: sw.average(v, axis, w))
            assert inc < 1 * MB, f"average {name} axis={axis}: peak +{inc / MB:.1f} MB"
    v = _views(big)["T"]
    inc = _peak_increase(lambda: np.average(v, 0, near_one[: v.shape[0], 0]))
    assert inc >= v.nbytes * 0.9, inc


def test_tracemalloc_sees_copies(big: np.ndarray, traced: None) -> None:
    """The instrument works: the kernel+copy path (byte-swapped) allocates a full copy."""
    swapped = big[:1024].astype(">f8")  # 16 MB
    assert sw.explain(sw.sum, swapped)["path"] == "kernel+copy"
    inc = _peak_increase(lambda: sw.sum(swapped))
    assert inc >= swapped.nbytes * 0.9, inc


RSS_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import stridewise as sw

    def peak_kb():
        # VmHWM: this process image's peak RSS. ru_maxrss would also do, but on Linux it
        # carries over the parent's RSS across fork+exec (a big pytest process masks ours).
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    a = np.arange(4096 * 2048, dtype=np.float64).reshape(4096, 2048)  # 64 MB, resident
    funcs = [getattr(sw, f) for f in sys.argv[1].split(",")]
    views = [a[::2], a.T, a[:, ::3], a[::-1], a[::-1, ::-1], a[1:, :-1], a.T[::-2, 1::2]]
    # Warm up: thread pool, first-call allocations (on a view: nothing is copied).
    for n in (1, 2):
        with sw.threads(n):
            for f in funcs:
                f(a[:300], axis=None); f(a[:300], axis=0); f(a[:300], axis=1)
    base = peak_kb()
    paths = set()
    for n in (1, 2):
        with sw.threads(n):
            for f in funcs:
                for v in views:
                    for axis in (None, 0, 1):
                        paths.add(sw.explain(f, v, axis=axis)["path"])
                        f(v, axis=axis)
    views_peak = peak_kb()
    # Control: a call that copies (byte-swapped input) must show up in the peak.
    swapped = a.astype(">f8")
    del a
    sw.sum(swapped)
    control_peak = peak_kb()
    print(json.dumps({"base": base, "views": views_peak, "control": control_peak,
                      "paths": sorted(paths)}))
    """
)


def _rss_run(funcs: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, ",".join(funcs)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB on Linux")
def test_views_are_not_copied_peak_rss() -> None:
    """Peak RSS of the whole process (numpy and Rust allocations) while reducing strided views
    of a 64 MB array with 1 and 2 threads: less than 4 MB above the peak before. (Not the
    products: theirs overflow on this array, and an inf result runs numpy's function too,
    for its floating-point warnings; the tracemalloc test above covers them on finite data.)"""
    r = _rss_run([f for f in FUNCS if FAMILY[f] != "prod"])
    assert r["paths"] == ["kernel"]
    grew = (r["views"] - r["base"]) * 1024
    assert grew < 4 * MB, f"peak RSS grew by {grew / MB:.1f} MB while reducing views"
    # The control (one 64 MB copy) is visible: the measurement can fail.
    assert (r["control"] - r["views"]) * 1024 > 48 * MB, r


# --------------------------------------------------------------------------------------------
# The GIL


def _progress_during(fn: Callable[[], Any], reps: int) -> int:
    """How far a Python thread's counter moves while the calling thread runs fn() up to
    `reps` times (it stops at the first call during which the counter moved). The counter
    thread gives the GIL back between increments (sleep), and the switch interval is long
    (5 s, far above the few milliseconds a call takes), so it can only advance while the
    caller has released the GIL: a call that holds the GIL throughout leaves the counter
    where it was, however loaded the machine is."""
    counter = [0]
    stop = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(1e-5)

    old = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    t = threading.Thread(target=spin, daemon=True)
    t.start()
    try:
        started.wait()
        time.sleep(0.01)
        c0 = counter[0]
        for _ in range(reps):
            fn()
            if counter[0] != c0:
                break
        c1 = counter[0]
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    return c1 - c0


@pytest.mark.parametrize("func", ["sum", "mean", "var", "max", "nanmean"])
def test_gil_released(func: str) -> None:
    a = np.ones(8_000_000)  # 64 MB: milliseconds per call on one thread
    f = getattr(sw, func)
    with sw.threads(1):
        moved = _progress_during(lambda: f(a), reps=100)
        moved_axis = _progress_during(lambda: f(a.reshape(4000, 2000), axis=0), reps=100)
    assert moved > 0, "no Python thread ran while the reduction ran: the GIL was held"
    assert moved_axis > 0


def test_gil_probe_detects_held_gil() -> None:
    """The probe can fail: a C call that keeps the GIL (math.fsum over a range, of a similar
    duration) lets the counter thread make no progress."""
    moved = _progress_during(lambda: math.fsum(range(3_000_000)), reps=3)
    assert moved == 0


# --------------------------------------------------------------------------------------------
# Determinism across thread counts and concurrent callers


def _det_cases() -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    n = sw.parallel_threshold()
    rng = np.random.default_rng(2024)
    f64 = rng.standard_normal((1500, 1201)) * 100 + 3
    f64[17, 33] = np.nan
    f32 = rng.standard_normal(n + 77_777).astype(np.float32)
    i32 = rng.integers(-(10**9), 10**9, n + 5, dtype=np.int32)
    u8 = rng.integers(0, 255, (900, 700), dtype=np.uint8)
    cases: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    for func in FUNCS:
        for a in (f64, f64.T, f64[::-1, ::-1], f64[:, ::2], f32, i32, u8):
            assert a.size >= n
            axes = (None, 0, 1, (0, 1)) if a.ndim == 2 else (None,)
            for axis in axes:
                if func in ARG_FUNCS and isinstance(axis, tuple):
                    continue  # one axis only

                cases.append((func, a, {"axis": axis}))
    cases.append(("var", f64, {"axis": 1, "ddof": 1}))
    cases.append(("mean", f32, {"dtype": np.float64}))
    return cases


def _run_cases(cases: list[tuple[str, np.ndarray, dict[str, Any]]]) -> list[bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [np.asarray(getattr(sw, f)(a, **kw)).tobytes() for f, a, kw in cases]


def test_bitwise_identical_for_1_to_4_threads() -> None:
    cases = _det_cases()
    with sw.threads(1):
        serial = _run_cases(cases)
    for n in (2, 3, 4):
        with sw.threads(n):
            for func, a, kw in cases[:3]:
                assert sw.explain(getattr(sw, func), a, **kw)["parallel"] is True
            got = _run_cases(cases)
        bad = [
            f"{cases[i][0]} {cases[i][2]} shape={cases[i][1].shape}"
            for i, (x, y) in enumerate(zip(got, serial, strict=True))
            if x != y
        ]
        assert not bad, f"{n} threads differ from 1 thread: {bad}"


def test_concurrent_python_threads_get_serial_answers() -> None:
    cases = _det_cases()[::3]  # a third of the cases, every function
    with sw.threads(1):
        serial = _run_cases(cases)

    def worker(k: int) -> list[bytes]:
        order = list(range(len(cases)))
        rot = (k * 7) % len(order)  # each thread starts elsewhere, so calls overlap
        order = order[rot:] + order[:rot]
        out: list[bytes] = [b""] * len(cases)
        for i in order:
            f, a, kw = cases[i]
            out[i] = np.asarray(getattr(sw, f)(a, **kw)).tobytes()
        return out

    with sw.threads(2), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(worker, range(8)))
    for k, res in enumerate(results):
        bad = [cases[i][0] for i, (x, y) in enumerate(zip(res, serial, strict=True)) if x != y]
        assert not bad, f"python thread {k}: {bad}"


def test_concurrent_small_calls() -> None:
    """Many small calls (single-threaded path) from 8 threads at once."""
    arrays = [make_data(dt, (37, 41), seed=i) for i, dt in enumerate([np.float64, np.int16])]
    tasks = [(f, a, ax) for f in FUNCS for a in arrays for ax in (None, 0, 1)]
    serial = [np.asarray(getattr(sw, f)(a, axis=ax)).tobytes() for f, a, ax in tasks]

    def worker(_: int) -> list[bytes]:
        return [np.asarray(getattr(sw, f)(a, axis=ax)).tobytes() for f, a, ax in tasks * 3]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for res in pool.map(worker, range(8)):
            assert res == serial * 3
