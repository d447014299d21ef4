"""Thread scaling and one-thread speed against numpy on a many-core machine (issue 12).

Each case interleaves numpy's call and stridewise's (``sw.threads(t)``) for a few rounds of
the median of a few calls, and prints numpy's time, stridewise's, their ratio (with the range
over the rounds) and stridewise's read rate. Nothing is asserted. Run by hand, on the machine
to be measured:

    PYTHONPATH=crates/pybind/python .venv/bin/python python-bench/thread_scaling.py [out.txt]

(On the development machines, 2 cores, thread counts above 2 only oversubscribe.) The
results of a 16-core Xeon are in ``report/xeon-16-cores.md``.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import stridewise as sw

THREADS = [1, 2, 4, 8, 16]


def median_time(f: Callable[..., Any], x: np.ndarray, kw: dict[str, Any], reps: int) -> float:
    """The median of `reps` timed calls `f(x, **kw)`, in seconds."""
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f(x, **kw)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main() -> None:
    out = open(sys.argv[1], "w") if len(sys.argv) > 1 else None

    def say(line: str) -> None:
        print(line, flush=True)
        if out is not None:
            out.write(line + "\n")

    def case(
        name: str,
        fn: str,
        x: np.ndarray,
        kw: dict[str, Any],
        threads: list[int],
        reps: int = 15,
        rounds: int = 5,
    ) -> None:
        for t in threads:
            with sw.threads(t):
                pairs = [
                    (
                        median_time(getattr(np, fn), x, kw, reps),
                        median_time(getattr(sw, fn), x, kw, reps),
                    )
                    for _ in range(rounds)
                ]
            tn = float(np.median([p[0] for p in pairs]))
            ts = float(np.median([p[1] for p in pairs]))
            r = sorted(p[0] / p[1] for p in pairs)
            say(
                f"{name:42s} t={t:2d} numpy {tn * 1e6:10.1f} us  stridewise {ts * 1e6:10.1f} us"
                f"  {tn / ts:6.2f}x ({r[0]:.2f}-{r[-1]:.2f})  {x.nbytes / ts / 1e9:6.1f} GB/s"
            )

    cpu = [line for line in open("/proc/cpuinfo") if line.startswith("model name")]
    say(
        f"cpu: {cpu[0].split(':')[1].strip() if cpu else '?'} x{len(cpu)}; "
        f"numpy {np.__version__}; python {platform.python_version()}; "
        f"simd {sw.explain('mean', np.zeros(8))['simd']}"
    )
    rng = np.random.default_rng(0)
    start = time.time()
    for n in [10**3, 10**4, 10**5, 10**6, 10**7]:
        case(
            f"mean f64 {n:.0e}",
            "mean",
            rng.standard_normal(n),
            {},
            THREADS,
            51 if n <= 10**5 else 15,
        )
    x = rng.standard_normal(10**8)
    case("mean f64 1e8", "mean", x, {}, [1, 4, 16], reps=5, rounds=3)
    case("min f64 1e8", "min", x, {}, [1, 16], reps=5, rounds=3)
    del x
    img = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    case("mean u8 image 1080x1920x3 axis=(0,1)", "mean", img, {"axis": (0, 1)}, [1, 2, 16])
    frames = rng.integers(0, 256, (32, 480, 640), dtype=np.uint8)
    case("max u8 32x480x640 axis=(1,2)", "max", frames, {"axis": (1, 2)}, [1, 16])
    a = rng.standard_normal((4000, 4000))
    case("mean f64 4000x4000 axis=0", "mean", a, {"axis": 0}, [1, 2, 16], reps=9, rounds=3)
    case("mean f64 4000x4000 axis=1", "mean", a, {"axis": 1}, [1, 16], reps=9, rounds=3)
    case("mean f64 4000x4000 .T", "mean", a.T, {}, [1, 16], reps=9, rounds=3)
    case("mean f64 4000x4000 [::2,::2]", "mean", a[::2, ::2], {}, [1, 16], reps=9, rounds=3)
    b = rng.standard_normal((1000, 1000))
    case("sum f64 1000x1000 axis=0", "sum", b, {"axis": 0}, [1, 16])
    case("mean f64 1000x1000 axis=1", "mean", b, {"axis": 1}, [1, 16])
    c = rng.standard_normal((316, 316))
    case("mean f64 316x316 axis=0", "mean", c, {"axis": 0}, [1, 16], reps=51)
    case("argmax f64 316x316 axis=1", "argmax", c, {"axis": 1}, [1, 16], reps=51)
    case("var f64 1e5", "var", rng.standard_normal(10**5), {}, [1, 16], reps=51)
    case("median f64 1e7", "median", rng.standard_normal(10**7), {}, [1, 16], reps=3, rounds=3)
    cube = rng.standard_normal((365, 180, 360)).astype(np.float32)
    case("mean f32 365x180x360 axis=0", "mean", cube, {"axis": 0}, [1, 16], reps=5, rounds=3)
    say(f"elapsed {time.time() - start:.0f} s")
    if out is not None:
        out.close()


if __name__ == "__main__":
    main()
