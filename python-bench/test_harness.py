"""The harness's own tests (run by ``make test``; nothing here is timed).

They check that what the benchmarks compare is comparable (every library gives numpy's answer
on the case's input), that the inputs have the layouts their names say, that large inputs are
never reused while in cache, and that the report states what the JSON holds, losses included.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import cases
import report
import stridewise as sw

HERE = pathlib.Path(__file__).parent


def small(case: cases.Case) -> cases.Case:
    """The same case on a small input (so every case can be checked quickly)."""
    if case.loop:
        return dataclasses.replace(case, loop=min(case.loop, 5))
    if case.shape:
        shape = tuple(min(d, 24) for d in case.shape)  # keeps 3 and 4 channels
        return dataclasses.replace(case, shape=shape, size=math.prod(shape))
    size = min(case.size, 2000) if case.ndim == 1 else min(case.size, 40)
    return dataclasses.replace(case, size=size)


def _small_with_libs() -> dict[cases.Case, tuple[str, ...]]:
    """Each small stand-in with the libraries of the real cases it stands for (the real case's
    name decides the scaling libraries, and the stand-in's name differs)."""
    out: dict[cases.Case, tuple[str, ...]] = {}
    for c in cases.full_cases():
        s = small(c)
        out[s] = tuple(dict.fromkeys(out.get(s, ()) + cases.libs_for(c)))
    return out


SMALL_LIBS = _small_with_libs()
ALL = sorted(SMALL_LIBS, key=lambda c: c.name)


@pytest.fixture(scope="module")
def inputs() -> cases.Inputs:
    return cases.Inputs()


def _answer(lib: str, case: cases.Case, a: object) -> np.ndarray:
    with cases.thread_setting(lib):
        return np.asarray(cases.function(lib, case)(a), dtype=np.float64)


def _assert_close(got: np.ndarray, want: np.ndarray, dtype: str, lib: str) -> None:
    assert got.shape == want.shape, lib
    # f32 is summed in f32 by numpy and numexpr: compare at f32's precision.
    rtol = 1e-4 if dtype == "f32" else 1e-9
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=lib)


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_every_library_gives_numpys_answer(inputs: cases.Inputs, case: cases.Case) -> None:
    a = inputs.views(case)[0]
    want = _answer("numpy", case, a)
    libs = SMALL_LIBS[case]
    assert libs[0] == "numpy" and "stridewise-1t" in libs
    for lib in libs[1:]:
        _assert_close(_answer(lib, case, a), want, case.dtype, lib)


def _stand_in(case: cases.Case) -> np.ndarray:
    """A contiguous input of the case's kind with at least twice ``parallel_threshold``
    elements, so that more than one thread really runs (the real inputs are too big here)."""
    need = 2 * sw.parallel_threshold()
    shape = case.base_shape
    if len(shape) == 1:
        shape = (need,)
    else:  # grow the first axis, keep the others (at most 1024 each)
        rest = tuple(min(d, 1024) for d in shape[1:])
        shape = (math.ceil(need / math.prod(rest)), *rest)
    values = cases.Inputs()._values(case.dtype, math.prod(shape), case.nan_input)
    return values.reshape(shape)


@pytest.mark.parametrize("name", cases.SCALING_CASES)
def test_thread_counts_give_numpys_answer_and_the_same_bits(name: str) -> None:
    (case,) = [c for c in cases.full_cases() if c.name == name]
    a = _stand_in(case)
    want = _answer("numpy", case, a)
    one = _answer("stridewise-1t", case, a)
    _assert_close(one, want, case.dtype, "stridewise-1t")
    # This machine's counts, and 3 and 4 whatever the machine (stridewise takes any count).
    libs = [lib for lib in cases.libs_for(case) if cases.lib_threads(lib)]
    libs += ["stridewise-3t", "stridewise-4t"]
    for lib in libs:
        with cases.thread_setting(lib):
            assert sw.explain(getattr(sw, case.func), a, axis=case.axis)["threads"] == (
                cases.lib_threads(lib)
            )
        got = _answer(lib, case, a)
        _assert_close(got, want, case.dtype, lib)
        np.testing.assert_array_equal(got, one, err_msg=lib)  # same bits for any count


def test_thread_setting_pins_and_restores() -> None:
    before = sw.get_num_threads()
    with cases.thread_setting("stridewise-1t"):
        assert sw.get_num_threads() == 1
    with cases.thread_setting("stridewise-3t"):
        assert sw.get_num_threads() == 3
    with cases.thread_setting("stridewise"):
        assert sw.get_num_threads() == before
    assert sw.get_num_threads() == before
    assert cases.lib_threads("stridewise-16t") == 16
    assert cases.lib_threads("stridewise") is None
    assert cases.lib_threads("numpy") is None


def test_thread_counts() -> None:
    assert cases.thread_counts(1) == (1,)
    assert cases.thread_counts(2) == (1, 2)
    assert cases.thread_counts(6) == (1, 2, 4, 6)
    assert cases.thread_counts(16) == (1, 2, 4, 8, 16)
    assert cases.thread_counts(24) == (1, 2, 4, 8, 16, 24)


def test_existing_case_names_are_unchanged() -> None:
    """The 444 cases before issue 12, by name: a digest of their sorted names."""
    old = sorted(
        c.name
        for c in cases.full_cases()
        if not c.shape and not c.loop and c.dtype in cases.DTYPES and c.func in cases.FUNCS
    )
    assert len(old) == 444
    digest = hashlib.sha256("\n".join(old).encode()).hexdigest()
    assert digest == "4de30764d3c91adb41de787020fd01b29a448603897f2862f9105e3d7902e1e1"


def test_the_new_functions_are_in_the_matrix() -> None:
    names = {c.name for c in cases.full_cases()}
    for f in ("count_nonzero", "any", "all", "ptp"):
        assert f"{f} f64 1e7 contiguous" in names
        assert f"{f} f64 4000x4000 contiguous axis=0" in names


def test_the_selection_targets_are_in_the_matrix() -> None:
    """Issue 14's target cases run in the full matrix and the quick set, q as named."""
    names = {c.name for c in cases.full_cases()}
    quick = {c.name for c in cases.target_cases()}
    for name in [
        "median f64 1e7 contiguous",
        "nanmedian f32 365x180x360 contiguous axis=0",
        "nanquantile f32 365x180x360 contiguous axis=0 q=(0.1,0.5,0.9)",
        "percentile f64 4000x4000 contiguous axis=1 100q",
    ]:
        assert name in names and name in quick and name in cases.TARGETS
    (pct,) = [c for c in cases.full_cases() if c.name.endswith("100q")]
    assert len(pct.q) == 100 and pct.q[0] == 0.0 and pct.q[-1] == 100.0
    assert "bottleneck" in cases.libs_for(small_named("nanmedian f32 365x180x360"))


def small_named(prefix: str) -> cases.Case:
    (case,) = [c for c in cases.full_cases() if c.name.startswith(prefix)]
    return case


def test_the_new_shapes_are_in_the_matrix() -> None:
    names = [c.name for c in cases.full_cases()]
    assert len(names) == len(set(names))
    for name in [
        "mean u8 1080x1920x3 contiguous axis=(0,1)",
        "std u8 1080x1920x3 contiguous axis=(0,1)",
        "max u8 1080x1920x3 contiguous axis=(0,1)",
        "mean f32 1080x1920x4 contiguous axis=(0,1)",
        "max u8 32x480x640 contiguous axis=(1,2)",
        "mean u8 32x480x640 contiguous axis=(1,2)",
        "mean f64 200000x40 contiguous axis=0",
        "sum f32 200000x40 contiguous axis=0",
        "max f32 4096x768 contiguous axis=-1",
        "nanmean f32 365x180x360 contiguous axis=(1,2)",
        "mean f32 365x180x360 contiguous axis=0",
        "min u8 1e7 contiguous",
        "sum i16 1e5 contiguous",
        "mean f64 64 loop x1000",
        "sum f64 4096 loop x1000",
    ]:
        assert name in names, name
    assert set(cases.SCALING_CASES) <= set(names)


def test_libraries_sit_out_the_forms_they_lack() -> None:
    by_name = {c.name: c for c in cases.full_cases()}
    for c in by_name.values():
        libs = cases.libs_for(c)
        assert libs[:3] == ("numpy", "stridewise", "stridewise-1t"), c.name
        if isinstance(c.axis, tuple) or c.loop:
            assert "bottleneck" not in libs and "numexpr" not in libs, c.name
        scaled = [lib for lib in libs if (cases.lib_threads(lib) or 1) > 1]
        want = [f"stridewise-{n}t" for n in cases.thread_counts() if n > 1]
        assert scaled == (want if c.name in cases.SCALING_CASES else []), c.name
    assert "bottleneck" in cases.libs_for(by_name["nanmean f32 365x180x360 contiguous axis=0"])
    # numexpr takes axis=-1 as the same axis counted from the front.
    assert "numexpr" in cases.libs_for(by_name["mean f32 4096x768 contiguous axis=-1"])


def test_new_inputs_are_what_their_names_say(inputs: cases.Inputs) -> None:
    image = inputs.views(cases.shaped("mean", "u8", (20, 30, 3), (0, 1)))[0]
    assert image.shape == (20, 30, 3) and image.dtype == np.uint8 and image.flags.c_contiguous
    u8 = inputs.views(cases.Case("max", "u8", "contiguous", 10**4, 1, None))[0]
    assert u8.min() == 0 and u8.max() == 255
    i16 = inputs.views(cases.Case("max", "i16", "contiguous", 10**4, 1, None))[0]
    assert i16.dtype == np.int16 and i16.min() < -990 and 990 < i16.max() < 1000
    cube = inputs.views(cases.shaped("nanmean", "f32", (10, 20, 30), (1, 2)))[0]
    assert cube.dtype == np.float32 and 0 < np.isnan(cube).mean() <= 0.011
    # A loop case: separate arrays, each its own allocation, of the case's size.
    loop = cases.looped("mean", "f64", 64, count=7)
    (arrays,) = inputs.views(loop)
    assert len(arrays) == 7 and all(x.shape == (64,) and x.flags.owndata for x in arrays)
    assert len({x.ctypes.data for x in arrays}) == 7
    got = [float(v) for v in cases.function("stridewise", loop)(arrays)]
    np.testing.assert_allclose(got, [x.mean() for x in arrays], rtol=1e-12)
    assert loop.calls == 7 and cases.in_cache(loop)
    # 1000 arrays of 4096 f64 are 32 MB a round: they rotate like one 32 MB input.
    big = cases.looped("sum", "f64", 4096)
    assert big.base_len == 4096 * 1000 and not cases.in_cache(big)
    assert cases.copies_needed(8 * big.base_len, big.base_len) == 17


def test_layouts_are_what_their_names_say(inputs: cases.Inputs) -> None:
    side = 40

    def view(layout: str) -> np.ndarray:
        return inputs.views(cases.Case("mean", "f64", layout, side, 2, None))[0]

    assert view("contiguous").flags.c_contiguous
    f = view("fortran")
    assert f.flags.f_contiguous and not f.flags.c_contiguous
    p = view("padded")
    assert p.shape == (side, side - 1) and p.strides == (side * 8, 8)
    assert view("step2-inner").strides == (side * 8, 16)
    assert view("step2-both").strides == (2 * side * 8, 16)
    assert view("reversed").strides == (-side * 8, 8)
    assert view("broadcast").strides == (0, 8)
    c = inputs.views(cases.Case("sum", "f64", "cancelling", 2000, 1, None, shape=(2000,)))[0]
    assert c.shape == (2000,) and math.fsum(c) == 0.0 and np.all(c[:1000] == -c[:999:-1])
    al = view("aligned")
    assert al.ctypes.data % 64 == 0 and al.strides[0] % 64 == 0
    assert np.array_equal(al, view("contiguous"))
    # The nan-functions read data with NaN in it; the others never do.
    assert np.isnan(
        inputs.views(cases.Case("nanmean", "f64", "contiguous", 10**4, 1, None))[0]
    ).any()
    assert not np.isnan(
        inputs.views(cases.Case("mean", "f64", "contiguous", 10**4, 1, None))[0]
    ).any()


def test_large_inputs_rotate_past_the_cache() -> None:
    assert cases.copies_needed(8 * cases.HOT_MAX, cases.HOT_MAX) == 1
    for n, itemsize in [(10**6, 8), (10**6, 4), (10**7, 8), (4000 * 4000, 8), (10**8, 8)]:
        k = cases.copies_needed(n * itemsize, n)
        assert k * n * itemsize >= cases.ROTATE_BYTES
        assert (k - 1) * n * itemsize < cases.ROTATE_BYTES or k == 1


def test_rotating_cycles_through_every_copy() -> None:
    seen: list[int] = []
    arrays = [np.full(3, i) for i in range(3)]
    call = cases.rotating(lambda a: seen.append(int(a[0])), arrays)
    for _ in range(7):
        call()
    assert seen == [0, 1, 2, 0, 1, 2, 0]


def test_every_target_is_a_case_the_quick_set_runs() -> None:
    names = {c.name for c in cases.target_cases()}
    assert set(cases.TARGETS) <= names
    assert set(cases.PROBE_TARGETS) <= set(cases.TARGETS)
    full = {c.name for c in cases.full_cases()}
    assert names <= full


def _fake_results(path: pathlib.Path, losses: bool = True) -> None:
    """A pytest-benchmark JSON with a probe, wins, losses (at the default thread count and on
    one thread only, within noise), a bottleneck time, a scaling case and a loop case."""

    def bench(
        group: str, lib: str, median: float, q: tuple[float, float] | None = None, **info: object
    ) -> dict[str, object]:
        extra = {"lib": lib, "bytes": 8 * 10**7, "elements": 10**7, "in_cache": False}
        extra.update(func="mean", dtype="f64", layout="contiguous", ndim=1, axis=None)
        extra.update(info)
        q1, q3 = q or (median, median)
        stats = {"median": median, "q1": q1, "q3": q3}
        return {"group": group, "extra_info": extra, "stats": stats}

    ax0 = "mean f64 4000x4000 contiguous axis=0"
    mx = "max f64 1e5 contiguous"
    loop = "mean f64 64 loop x1000"
    small = {"bytes": 8 * 10**5, "elements": 10**5, "in_cache": True, "func": "max"}
    per_loop = {"bytes": 512, "elements": 64, "in_cache": True, "calls": 1000, "layout": "loop"}
    benchmarks = [
        bench("read-bandwidth probe (start, in order)", "probe", 0.025, bytes=8 * 10**8),
        bench("read-bandwidth probe (start, streams)", "probe", 0.02, bytes=8 * 10**8),
        bench("read-bandwidth probe (end, streams)", "probe", 0.025, bytes=8 * 10**8),
        bench("read-bandwidth probe (start, streams, 1t)", "probe", 0.05, bytes=8 * 10**8),
        bench("read-bandwidth probe (end, numpy min, 1t)", "probe", 0.04, bytes=8 * 10**8),
        bench("mean f64 1e7 contiguous", "numpy", 0.004),
        bench("mean f64 1e7 contiguous", "stridewise", 0.002),
        bench("mean f64 1e7 contiguous", "stridewise-1t", 0.003),
        bench("mean f64 1e7 contiguous", "stridewise-2t", 0.0025),
        bench("nanmean f64 1e7 contiguous", "numpy", 0.024, func="nanmean"),
        bench("nanmean f64 1e7 contiguous", "stridewise", 0.002, func="nanmean"),
        bench("nanmean f64 1e7 contiguous", "stridewise-1t", 0.004, func="nanmean"),
        bench("nanmean f64 1e7 contiguous", "bottleneck", 0.006, func="nanmean"),
        bench(loop, "numpy", 0.005, **per_loop),
        bench(loop, "stridewise", 0.002, **per_loop),
        bench(loop, "stridewise-1t", 0.0021, **per_loop),
    ]
    if losses:
        benchmarks += [
            bench(ax0, "numpy", 0.005, (0.0049, 0.0051), axis=0, ndim=2),
            bench(ax0, "stridewise", 0.01, (0.009, 0.011), axis=0, ndim=2),
            bench(ax0, "stridewise-1t", 0.012, (0.0115, 0.0125), axis=0, ndim=2),
            # Wins at the default count, loses on one thread, but within noise.
            bench(mx, "numpy", 10e-6, (9.5e-6, 10.5e-6), **small),
            bench(mx, "stridewise", 9e-6, (8.6e-6, 9.4e-6), **small),
            bench(mx, "stridewise-1t", 10.5e-6, (10e-6, 11e-6), **small),
        ]
    sw_info = {
        "cpu_model": "Test CPU",
        "simd_level": "avx2",
        "stridewise_threads": 2,
        "scaling_threads": [1, 2],
    }
    data = {
        "datetime": "2026-01-02T03:04:05",
        "machine_info": {"python_version": "3.11", "stridewise": sw_info},
        "benchmarks": benchmarks,
    }
    path.write_text(json.dumps(data))


def _report(tmp_path: pathlib.Path, losses: bool) -> tuple[str, str]:
    """report.py run on the fake results: the README and what --print printed."""
    results = tmp_path / "results.json"
    _fake_results(results, losses)
    out = tmp_path / "report"
    run = subprocess.run(
        [sys.executable, str(HERE / "report.py"), str(results), str(out), "--print"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (out / "speedup.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return (out / "README.md").read_text(), run.stdout


@pytest.fixture(scope="module")
def with_losses(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return _report(tmp_path_factory.mktemp("losses"), losses=True)


def _section(doc: str, title: str) -> str:
    return doc.split(f"## {title}\n")[1].split("\n## ")[0]


def test_report_states_wins_losses_and_targets(with_losses: tuple[str, str]) -> None:
    doc, stdout = with_losses
    # Best probe on all threads: 800 MB in 20 ms = 40 GB/s, so the 1e7 mean (80 MB in 2 ms =
    # 40 GB/s) is at 100%; on one thread numpy's min, 20 GB/s: the one-thread mean (80 MB in
    # 3 ms = 26.7 GB/s) is at 133% of it.
    # The probes' table: a row per read loop, the start and the end of the run as columns.
    assert "| in order | 32.0 GB/s |  |" in doc
    assert "| streams | 40.0 GB/s | 32.0 GB/s |" in doc
    assert "| numpy min, 1t |  | 20.0 GB/s |" in doc
    assert "all threads **40.0 GB/s**; one thread **20.0 GB/s**" in doc
    # The SIMD level and the thread counts that ran.
    assert "stridewise SIMD level `avx2`, 2 threads (and one: `stridewise-1t`)" in doc
    assert "- Thread scaling: stridewise pinned to 1, 2 threads" in doc
    assert (
        "| mean f64 1e7 contiguous | 4.00 ms | 2.00 ms | 2.00x | >= 2.5x | 100% (>= 85%) | 133%"
        " | **no** |" in doc
    )
    # nanmean: 12x numpy and faster than bottleneck, so met; bottleneck's own ratio is shown.
    assert "| nanmean f64 1e7 contiguous | 24.00 ms | 2.00 ms | 12.00x | >= 6.0x |" in doc
    assert "6.00 ms (4.00x)" in doc
    # A target with no measurement says so instead of passing.
    assert "| min f64 1e7 contiguous | | | | >= 1.5x | | | not run |" in doc
    assert "## Targets" in stdout and "0.50x" in stdout
    # Every case shows the one-thread time and ratio; a loop case's times are per call.
    every = _section(doc, "Every case")
    assert "| nanmean f64 1e7 contiguous | 24.00 ms | 2.00 ms | 12.00x | 4.00 ms | 6.00x |" in every
    assert "| mean f64 64 loop x1000 | 5.00 us | 2.00 us | 2.50x | 2.10 us | 2.38x |" in every


def test_report_lists_losses_at_either_thread_count_with_their_spread(
    with_losses: tuple[str, str],
) -> None:
    doc, stdout = with_losses
    losses = _section(doc, "Losses to numpy")
    assert (
        "2 cases: 1 slower than numpy at the default 2 threads, 2 on one thread;"
        " 1 of them within noise"
    ) in losses
    # IQR ranges: 4.9/11 .. 5.1/9 ms, and 4.9/12.5 .. 5.1/11.5 ms on one thread.
    assert (
        "| mean f64 4000x4000 contiguous axis=0 | 5.00 ms | 10.00 ms | **0.50x** | 0.45-0.57x"
        " | 12.00 ms | **0.42x** | 0.39-0.44x |"
    ) in losses
    # A loss on one thread only is listed; its range crosses 1x, so it is marked as a flip.
    assert (
        "| max f64 1e5 contiguous | 10.00 us | 9.00 us | 1.11x | 1.01-1.22x"
        " | 10.50 us | **0.95x** | 0.86-1.05x (flips) |"
    ) in losses
    assert "mean f64 1e7" not in losses and "nanmean" not in losses
    assert "IQR range" in doc.split("## Targets")[0]  # the header says what the range is
    assert "0.86-1.05x (flips)" in stdout


def test_report_says_none_when_there_is_no_loss(tmp_path: pathlib.Path) -> None:
    doc, stdout = _report(tmp_path, losses=False)
    losses = _section(doc, "Losses to numpy")
    assert losses.strip().startswith("none")
    assert "|" not in losses
    assert "## Losses to numpy\n\nnone" in stdout


def test_report_thread_scaling_table(with_losses: tuple[str, str]) -> None:
    doc, _ = with_losses
    scaling = _section(doc, "Thread scaling")
    # 1 thread 3 ms, 2 threads 2.5 ms, default (2) 2 ms; numpy 4 ms.
    assert "| mean f64 1e7 contiguous | 1 | 3.00 ms | 1.00x | 1.33x |" in scaling
    assert "| mean f64 1e7 contiguous | 2 | 2.50 ms | 1.20x | 1.60x |" in scaling
    assert "| mean f64 1e7 contiguous | default (2) | 2.00 ms | 1.50x | 2.00x |" in scaling
    assert "nanmean" not in scaling  # only cases that ran on a pinned count above 1


def _row(name: str, **times: tuple[float, float, float]) -> report.Row:
    """A report row from (q1, median, q3) per library."""
    row = report.Row(name, {"bytes": 8, "elements": 1, "in_cache": True})
    for lib, (q1, median, q3) in times.items():
        row.times[lib.replace("_", "-")] = median
        row.quartiles[lib.replace("_", "-")] = (q1, q3)
    return row


def test_ratio_spread_arithmetic() -> None:
    r = _row("a", numpy=(0.9, 1.0, 1.1), stridewise=(1.0, 1.1, 1.2), stridewise_1t=(2, 2, 2))
    assert r.ratio() == pytest.approx(1 / 1.1)
    lo, hi = r.ratio_range()
    assert (lo, hi) == (pytest.approx(0.9 / 1.2), pytest.approx(1.1 / 1.0))
    assert report.fmt_range((lo, hi)) == "0.75-1.10x (flips)"
    assert r.lost("stridewise") and r.lost("stridewise-1t")
    assert not r.within_noise()  # the one-thread loss (0.5x, no spread) is a clear loss
    clear = _row("b", numpy=(0.9, 1.0, 1.1), stridewise=(1.9, 2.0, 2.1))
    assert clear.ratio_range() == (pytest.approx(0.9 / 2.1), pytest.approx(1.1 / 1.9))
    assert report.fmt_range(clear.ratio_range()) == "0.43-0.58x"
    assert not clear.within_noise()
    noisy = _row("c", numpy=(0.9, 1.0, 1.1), stridewise=(1.0, 1.05, 1.1))
    assert noisy.within_noise()
    win = _row("d", numpy=(0.9, 1.0, 1.1), stridewise=(0.4, 0.5, 0.6), stridewise_1t=(1, 1, 1))
    assert not win.lost("stridewise") and not win.lost("stridewise-1t")  # 1.0x is no loss
    assert report.loss_table([win], 2)[0].startswith("none")
    lines = report.loss_table([win, noisy, clear], 2)
    assert lines[0].startswith("2 cases: 2 slower than numpy at the default 2 threads, 0 on one")
    assert "1 of them within noise" in lines[0]
    assert [ln.split(" | ")[0] for ln in lines[4:]] == ["| c", "| b"]


def test_scaling_table_arithmetic() -> None:
    r = _row(
        "mean f64 1e7 contiguous",
        numpy=(8e-3, 8e-3, 8e-3),
        stridewise=(2.5e-3, 2.5e-3, 2.5e-3),
        stridewise_1t=(8e-3, 10e-3, 12e-3),
        stridewise_4t=(2.5e-3, 2.5e-3, 2.5e-3),
        stridewise_2t=(5e-3, 5e-3, 5e-3),
    )
    other = _row("sum f64 1e7 contiguous", numpy=(1, 1, 1), stridewise_1t=(1, 1, 1))
    lines = report.scaling_table([other, r], 4)
    assert lines[2:] == [
        "| mean f64 1e7 contiguous | 1 | 10.00 ms | 1.00x | **0.80x** |",
        "| mean f64 1e7 contiguous | 2 | 5.00 ms | 2.00x | 1.60x |",
        "| mean f64 1e7 contiguous | 4 | 2.50 ms | 4.00x | 3.20x |",
        "| mean f64 1e7 contiguous | default (4) | 2.50 ms | 4.00x | 3.20x |",
    ]
    assert report.scaling_table([other], 4)[0].startswith("not run")


def test_dask_section_runs_and_shows_equal_bits_across_chunkings(tmp_path: pathlib.Path) -> None:
    """``make bench``'s Dask section on a small array: it runs on a real LocalCluster, writes
    its table, and the table shows stridewise's sums equal across chunkings (and Dask's own
    not, on this cancelling data)."""
    pytest.importorskip("distributed")
    import dask_bench

    out = tmp_path / "dask.md"
    text = dask_bench.main(
        ["--gb", "0.01", "--repeat", "1", "--chunking-n", "20000", "--out", str(out)]
    )
    assert out.read_text() == text
    verdicts = [line for line in text.splitlines() if "all equal?" in line]
    assert len(verdicts) == 4
    assert all("| yes, = the numpy array's" in line for line in verdicts), verdicts
    assert any("no: they differ" in line for line in verdicts), verdicts
    assert text.count("x |") >= 6  # six speed rows with a ratio
