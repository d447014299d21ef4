"""The Dask section of ``make bench``: stridewise's reductions of a Dask array against Dask's
own, on a real ``distributed.LocalCluster`` (worker processes on loopback), and the results
of the float sums and means across chunkings.

1. Speed: a float64 array (``--gb``, 4 GB in ``make bench``) persisted on the cluster, reduced
   by Dask's own ``x.mean()``, ``x.var(axis=0)``, ``da.nanmean(x)`` (and ``x.sum(axis=0)``,
   ``x.mean(axis=1)``) and by the same calls through stridewise; each the best of
   ``--repeat`` computes, one after the other in the same run.
2. Chunkings: an array whose sums cancel heavily, reduced under three chunkings by both;
   each result as its float's hex, with whether they agree across the chunkings.

Writes a Markdown table (``--out``) and prints it. Nothing here is asserted: the harness
test (``test_harness.py``) runs it on a small array to check that it works.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import platform
import time
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import distributed
import numpy as np

import stridewise as sw


def best_of(repeat: int, f: Callable[[], Any]) -> float:
    """The shortest wall time of ``repeat`` calls of ``f`` (each a full compute)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed_rows(client: distributed.Client, gb: float, repeat: int) -> tuple[list[str], str]:
    cols = 10_000
    rows = max(int(gb * 2**30 / 8 / cols), 8)
    chunk_rows = max(rows // 20, 1)  # 20 row chunks (200 MB each at 4 GB)
    x = da.random.default_rng(0).standard_normal((rows, cols), chunks=(chunk_rows, cols))
    x = x.persist()
    distributed.wait(x)
    what = (
        f"{rows} x {cols} float64 ({x.nbytes / 2**30:.2f} GiB), {x.numblocks[0]} chunks of "
        f"{chunk_rows} rows, persisted"
    )
    calls: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("x.mean()", x.mean, lambda: sw.mean(x)),
        ("x.var(axis=0)", lambda: x.var(axis=0), lambda: sw.var(x, axis=0)),
        ("nanmean(x)", lambda: da.nanmean(x), lambda: sw.nanmean(x)),
        ("x.sum(axis=0)", lambda: x.sum(axis=0), lambda: sw.sum(x, axis=0)),
        ("x.mean(axis=1)", lambda: x.mean(axis=1), lambda: sw.mean(x, axis=1)),
        ("x.max()", x.max, lambda: sw.max(x)),
    ]
    out = ["| call | Dask's own | stridewise | speed-up |", "|---|---:|---:|---:|"]
    for name, own, ours in calls:
        # One compute of each first: the graph's first run pays for imports on the workers.
        client.compute(own()).result()
        client.compute(ours()).result()
        t_own = best_of(repeat, lambda f=own: client.compute(f()).result())
        t_sw = best_of(repeat, lambda f=ours: client.compute(f()).result())
        out.append(
            f"| `{name}` | {t_own * 1e3:.1f} ms | {t_sw * 1e3:.1f} ms | {t_own / t_sw:.2f}x |"
        )
    return out, what


def cancelling(n: int) -> np.ndarray:
    """Values whose sums cancel: large pairs of opposite sign, small values between."""
    rng = np.random.default_rng(1)
    big = rng.standard_normal(n // 4) * 1e16
    small = rng.standard_normal(n - 2 * (n // 4))
    x = np.concatenate([big, small, -big])
    rng.shuffle(x)
    return x.reshape(-1, 8)


def chunking_rows(client: distributed.Client, n: int) -> list[str]:
    x = cancelling(n)
    rows = x.shape[0]
    chunkings = [(rows, 8), (max(rows // 7, 1), 8), (max(rows // 64, 1), 3)]
    out = [
        "| function | chunks | stridewise | Dask's own |",
        "|---|---|---|---|",
    ]
    for name in ("sum", "mean", "nansum", "nanmean"):
        mine, theirs = [], []
        for chunks in chunkings:
            d = da.from_array(x, chunks=chunks)
            ours = float(client.compute(getattr(sw, name)(d)).result())
            own = float(client.compute(getattr(da, name)(d)).result())
            mine.append(ours)
            theirs.append(own)
            out.append(f"| {name} | {chunks} | `{ours.hex()}` | `{own.hex()}` |")
        whole = float(getattr(sw, name)(x))
        same = all(m == whole for m in mine)
        differ = len(set(theirs)) > 1
        out.append(
            f"| {name} | all equal? | {'yes' if same else 'NO'}, = the numpy array's "
            f"`{whole.hex()}` | {'no: they differ' if differ else 'yes'} |"
        )
    fsum = math.fsum(x.ravel())
    out.append(f"\nmath.fsum of the values: `{fsum.hex()}` ({fsum!r}).")
    return out


def cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gb", type=float, default=4.0, help="size of the persisted array")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--chunking-n", type=int, default=1 << 20, help="values in the table's array")
    p.add_argument("--out", type=pathlib.Path, default=None)
    args = p.parse_args(argv)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        speed, what = speed_rows(client, args.gb, args.repeat)
        chunks = chunking_rows(client, args.chunking_n)
    lines = [
        "# Dask: stridewise against Dask's own reductions",
        "",
        f"`make bench`, {time.strftime('%Y-%m-%d')}, {cpu_model()}"
        f" ({os.cpu_count()} cores), SIMD {sw.simd_level()}, dask {dask.__version__}, "
        f"distributed {distributed.__version__}, numpy {np.__version__}.",
        "LocalCluster: 2 worker processes of 1 thread each, on loopback. Each time is the best",
        f"of {args.repeat} computes of the whole graph (scheduling included).",
        "",
        f"## Speed: {what}",
        "",
        *speed,
        "",
        f"## Float sums and means across chunkings ({args.chunking_n} values that cancel)",
        "",
        "stridewise's float sums are exact per chunk and rounded once at the end, so every",
        "chunking gives the same bits; Dask's own round per chunk and per combination.",
        "",
        *chunks,
        "",
    ]
    text = "\n".join(lines)
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
