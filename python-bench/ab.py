"""Two builds of stridewise against each other (and numpy), in one process.

On a shared, noisy machine the same build can measure 2-3x apart a few minutes later, and
separate processes (or `make bench` runs) then compare the noise. Here both builds are
imported side by side (the package copied twice under other names, each with its own
native library), and their calls alternate in blocks, so that every build sees the same
machine; the best block of each is reported, and the median.

    python python-bench/ab.py OLD.so NEW.so 'mean|1000|None' ['sum|4x250000|0' ...]
        [--dtype f8] [--threads 1] [--blocks 200]

A case is `function|shape|axis` (shape `AxBxC`, axis an int or None) on standard normal
data plus one. A build is a native library: `target/release/lib_native.so` after
`cargo build --release -p stridewise-py`, copied away before the next build.

The order of loading counts: on a Zen 4 VM the build loaded first (OLD) measured 2-4% faster
than the second one even when both were the same library (the same file as OLD and NEW:
mean of 1e5 f64 0.963-0.976, of 1e3 0.978, one and two threads). Below about 5%, run both
orders (swap the two arguments) and take the geometric mean of the two ratios.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

PACKAGE = Path(__file__).resolve().parent.parent / "crates" / "pybind" / "python" / "stridewise"


def load(library: str, name: str, root: Path) -> ModuleType:
    """The package as `name`, with `library` as its native module."""
    dest = root / name
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    shutil.copy(library, dest / "_native.abi3.so")
    return importlib.import_module(name)


def case(text: str, dtype: str) -> tuple[str, np.ndarray, Any]:
    func, shape, axis = text.split("|")
    dims = tuple(int(x) for x in shape.split("x"))
    data = (np.random.default_rng(0).standard_normal(dims) + 1).astype(dtype)
    return func, data, None if axis == "None" else int(axis)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("cases", nargs="+")
    p.add_argument("--dtype", default="f8")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blocks", type=int, default=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        builds = {
            "old": load(args.old, "sw_old", Path(tmp)),
            "new": load(args.new, "sw_new", Path(tmp)),
        }
        for sw in builds.values():
            sw.set_num_threads(args.threads)
        for text in args.cases:
            func, a, axis = case(text, args.dtype)
            fs = {k: getattr(m, func) for k, m in builds.items()}
            fs["numpy"] = getattr(np, func)
            calls = max(1, 200_000 // a.size)  # a block: about 0.2 M elements or more
            times: dict[str, list[float]] = {k: [] for k in fs}
            for f in fs.values():
                f(a, axis=axis)
            for i in range(args.blocks):
                order = list(fs) if i % 2 == 0 else list(fs)[::-1]
                for k in order:
                    t0 = time.perf_counter()
                    for _ in range(calls):
                        fs[k](a, axis=axis)
                    times[k].append((time.perf_counter() - t0) / calls)
            best = {k: min(v) for k, v in times.items()}
            ratios = [o / n for o, n in zip(times["old"], times["new"], strict=True)]
            cells = " | ".join(
                f"{k} {best[k] * 1e6:.2f} us (median {statistics.median(v) * 1e6:.2f})"
                for k, v in times.items()
            )
            print(
                f"{text} {args.dtype} {args.threads}t: {cells}; old/new best "
                f"{best['old'] / best['new']:.3f}, median of block ratios "
                f"{statistics.median(ratios):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
