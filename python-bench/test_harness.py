"""The harness's own tests (run by ``make test``; nothing here is timed).

They check that what the benchmarks compare is comparable (every library gives numpy's answer
on the case's input), that the inputs have the layouts their names say, that large inputs are
never reused while in cache, and that the report states what the JSON holds, losses included.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import cases

HERE = pathlib.Path(__file__).parent


def small(case: cases.Case) -> cases.Case:
    """The same case on a small input (so every case can be checked quickly)."""
    size = min(case.size, 2000) if case.ndim == 1 else min(case.size, 40)
    return cases.Case(case.func, case.dtype, case.layout, size, case.ndim, case.axis)


ALL = sorted({small(c) for c in cases.full_cases()}, key=lambda c: c.name)


@pytest.fixture(scope="module")
def inputs() -> cases.Inputs:
    return cases.Inputs()


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_every_library_gives_numpys_answer(inputs: cases.Inputs, case: cases.Case) -> None:
    a = inputs.views(case)[0]
    want = np.asarray(cases.function("numpy", case)(a), dtype=np.float64)
    for lib in cases.libs_for(case)[1:]:
        got = np.asarray(cases.function(lib, case)(a), dtype=np.float64)
        assert got.shape == want.shape, lib
        # f32 is summed in f32 by numpy and numexpr: compare at f32's precision.
        rtol = 1e-4 if case.dtype == "f32" else 1e-9
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=lib)


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


def _fake_results(path: pathlib.Path) -> None:
    """A pytest-benchmark JSON with a probe, a win, a loss and a bottleneck time."""

    def bench(group: str, lib: str, median: float, **info: object) -> dict[str, object]:
        extra = {"lib": lib, "bytes": 8 * 10**7, "elements": 10**7, "in_cache": False}
        extra.update(func="mean", dtype="f64", layout="contiguous", ndim=1, axis=None)
        extra.update(info)
        return {"group": group, "extra_info": extra, "stats": {"median": median}}

    data = {
        "datetime": "2026-01-02T03:04:05",
        "machine_info": {"python_version": "3.11", "stridewise": {"cpu_model": "Test CPU"}},
        "benchmarks": [
            bench("read-bandwidth probe (start)", "probe", 0.02, bytes=8 * 10**8),
            bench("read-bandwidth probe (end)", "probe", 0.025, bytes=8 * 10**8),
            bench("mean f64 1e7 contiguous", "numpy", 0.004),
            bench("mean f64 1e7 contiguous", "stridewise", 0.002),
            bench("mean f64 4000x4000 contiguous axis=0", "numpy", 0.005, axis=0, ndim=2),
            bench("mean f64 4000x4000 contiguous axis=0", "stridewise", 0.01, axis=0, ndim=2),
            bench("nanmean f64 1e7 contiguous", "numpy", 0.024, func="nanmean"),
            bench("nanmean f64 1e7 contiguous", "stridewise", 0.002, func="nanmean"),
            bench("nanmean f64 1e7 contiguous", "bottleneck", 0.006, func="nanmean"),
        ],
    }
    path.write_text(json.dumps(data))


def test_report_states_wins_losses_and_targets(tmp_path: pathlib.Path) -> None:
    results = tmp_path / "results.json"
    _fake_results(results)
    out = tmp_path / "report"
    run = subprocess.run(
        [sys.executable, str(HERE / "report.py"), str(results), str(out), "--print"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = (out / "README.md").read_text()
    assert (out / "speedup.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # probe: 800 MB in 20 ms = 40 GB/s; the 1e7 mean reads 80 MB in 2 ms = 40 GB/s = 100%.
    assert "start 40.0 GB/s, end 32.0 GB/s; fractions divide by the higher, **40.0 GB/s**" in doc
    assert (
        "| mean f64 1e7 contiguous | 4.00 ms | 2.00 ms | 2.00x | >= 2.5x | 100% (>= 85%) | **no** |"
        in doc
    )
    # The loss is listed among the losses, in bold.
    losses = doc.split("## Losses to numpy")[1].split("## Every case")[0]
    assert "mean f64 4000x4000 contiguous axis=0 | 5.00 ms | 10.00 ms | **0.50x**" in losses
    assert "mean f64 1e7" not in losses
    # nanmean: 12x numpy and faster than bottleneck, so met; bottleneck's own ratio is shown.
    assert "| nanmean f64 1e7 contiguous | 24.00 ms | 2.00 ms | 12.00x | >= 6.0x |" in doc
    assert "6.00 ms (4.00x)" in doc
    # A target with no measurement says so instead of passing.
    assert "| min f64 1e7 contiguous | | | | >= 1.5x | | not run |" in doc
    assert "## Targets" in run.stdout and "0.50x" in run.stdout
