"""The timed cases: one test per (case, library); all libraries of a case share one
pytest-benchmark group, so the report's ratios come from one run. Run by ``make bench``."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import cases
import stridewise as sw

# The read loops the probe takes the best of (no single loop reaches a machine's limit
# everywhere): stridewise's plain wrapping sum in order and as 4 streams side by side, on all
# threads and on one; and numpy's own `min` (one thread). Names ending in "1t" are one-thread.
PROBES = ("in order", "streams", "in order, 1t", "streams, 1t", "numpy min, 1t")


def _probe(benchmark, inputs: cases.Inputs, when: str, loop: str) -> None:
    words = inputs.probe(cases.PROBE_WORDS)
    benchmark.group = f"read-bandwidth probe ({when}, {loop})"
    benchmark.extra_info.update(lib="probe", bytes=int(words.nbytes), elements=int(words.size))
    if loop.startswith("numpy min"):
        benchmark(np.min, words)
        return
    streams = loop.startswith("streams")
    with sw.threads(1) if loop.endswith("1t") else contextlib.nullcontext():
        benchmark(sw._native.read_probe, words, streams=streams)


@pytest.mark.benchmark
@pytest.mark.parametrize("loop", PROBES)
def test_read_probe(benchmark, inputs: cases.Inputs, loop: str) -> None:
    """The machine's read bandwidth at the start of the run (this VM's varies by a third
    from one minute to the next, so it is measured again at the end)."""
    _probe(benchmark, inputs, "start", loop)


@pytest.mark.benchmark
def test_case(benchmark, inputs: cases.Inputs, case: cases.Case, lib: str) -> None:
    arrays = inputs.views(case)
    f = cases.function(lib, case)
    a = cases.first_array(arrays[0])
    benchmark.group = case.name
    # stridewise-Nt: the thread count is set once around the whole benchmark (its calibration
    # and every round), so no call pays for setting it.
    with cases.thread_setting(lib):
        stridewise = lib.startswith("stridewise")
        benchmark.extra_info.update(
            func=case.func,
            dtype=case.dtype,
            layout=case.layout,
            side_or_size=case.size,
            shape=list(a.shape),
            ndim=case.ndim,
            axis=case.axis,
            lib=lib,
            elements=int(a.size),
            bytes=int(a.size * a.itemsize),
            calls=case.calls,  # a loop case times `calls` reductions: the report divides
            copies=len(arrays),
            in_cache=cases.in_cache(case),
            threads=sw.get_num_threads() if stridewise else None,
            path=sw.explain(getattr(sw, case.func), a, axis=case.axis)["path"]
            if stridewise
            else None,
        )
        if len(arrays) == 1:
            benchmark(f, arrays[0])
        else:
            benchmark(cases.rotating(f, arrays))


@pytest.mark.benchmark
@pytest.mark.parametrize("loop", PROBES)
def test_read_probe_end(benchmark, inputs: cases.Inputs, loop: str) -> None:
    """The read bandwidth again, after every case: the report divides by the best one."""
    _probe(benchmark, inputs, "end", loop)
