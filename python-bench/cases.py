"""What the harness measures: the cases, the libraries each one runs, and the inputs.

A case is one call: a function (``mean``, ``sum``, ...), a dtype, a layout of the input, its
size and an axis. Every case runs numpy's function and stridewise's, plus bottleneck's and
numexpr's where they have that function, as tests of one pytest-benchmark group, so every ratio
comes from one run.

Inputs are made once per session and kept (up to ``CACHE_BYTES``). Inputs of at most
``HOT_MAX`` elements are measured hot in cache, on purpose: that is the in-cache case. Larger
inputs come in ``k`` copies that the benchmark rotates through, so that at least
``ROTATE_BYTES`` are read between two uses of one buffer and nothing is measured hot by
accident. The broadcast layout is the exception: it reads one row over and over, which is in
cache by nature; its figures are labelled so.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import stridewise as sw

FUNCS = ("mean", "sum", "var", "std", "min", "max", "nanmean", "nansum")
DTYPES = ("f64", "f32", "i32", "i64")
NP_DTYPE = {"f64": np.float64, "f32": np.float32, "i32": np.int32, "i64": np.int64}
SIZES = (10**3, 10**4, 10**5, 10**6, 10**7, 10**8)
# Sides of the square 2-d inputs the layouts are cut from: about 1e3 .. 1e8 elements, and
# 4000 x 4000, the size the targets name.
SIDES = (32, 100, 316, 1000, 4000, 10000)
LAYOUTS = (
    "contiguous",
    "fortran",
    "padded",
    "step2-inner",
    "step2-both",
    "reversed",
    "broadcast",
    "aligned",
)

HOT_MAX = 100_000  # elements; up to this size the input is measured in cache (L2 is 1 MiB here)
# Read between two uses of one buffer: 16 times the 32 MiB L3. Three times was not enough: this
# L3 does not evict in LRU order and kept about a quarter of a 128 MB array read over and over
# (the first runs measured 126% of the probe).
ROTATE_BYTES = 512 << 20
CACHE_BYTES = 8 << 30  # inputs kept for the session; the oldest are dropped past this
PROBE_WORDS = 10**8  # uint64 words the read-bandwidth probe reads (800 MB)


@dataclass(frozen=True)
class Case:
    func: str
    dtype: str
    layout: str
    size: int  # 1-d: elements; 2-d: the side of the square base
    ndim: int
    axis: int | None

    @property
    def name(self) -> str:
        """The case as the report shows it, e.g. ``mean f64 4000x4000 fortran axis=0``."""
        if self.ndim == 1:
            shape = f"{self.size:.0e}".replace("e+0", "e")
        else:
            shape = f"{self.size}x{self.size}"
        axis = "" if self.axis is None else f" axis={self.axis}"
        return f"{self.func} {self.dtype} {shape} {self.layout}{axis}"

    @property
    def base_len(self) -> int:
        """Elements of the base array the case's view is cut from."""
        return self.size if self.ndim == 1 else self.size * self.size

    @property
    def nan_input(self) -> bool:
        """The nan-functions read float data with 1% NaN, as they would in use."""
        return self.func.startswith("nan") and self.dtype.startswith("f")


def libs_for(case: Case) -> tuple[str, ...]:
    """Libraries that have the case's function, numpy first.

    bottleneck has only the nan-functions. numexpr has ``sum()`` (its mean is ``sum(a) / n``,
    which is how its users write one); it is run on floats only, because it sums int32 in
    int32 and wraps where numpy and stridewise do not.
    """
    libs = ["numpy", "stridewise"]
    if case.func.startswith("nan"):
        libs.append("bottleneck")
    if case.func in ("sum", "mean") and case.dtype.startswith("f"):
        libs.append("numexpr")
    return tuple(libs)


def full_cases() -> list[Case]:
    """The whole matrix ``make bench`` runs (about 450 cases)."""
    cases = [Case(f, d, "contiguous", n, 1, None) for f in FUNCS for d in DTYPES for n in SIZES]
    # mean f64 over every layout, size and axis: the main table and the plot.
    cases += [
        Case("mean", "f64", lay, side, 2, axis)
        for side in SIDES
        for lay in LAYOUTS
        for axis in (None, 0, 1)
    ]
    # mean of the other dtypes, and the other functions, over every layout at 4000x4000.
    cases += [Case("mean", d, lay, 4000, 2, None) for d in DTYPES[1:] for lay in LAYOUTS]
    cases += [Case(f, "f64", lay, 4000, 2, None) for f in FUNCS[1:] for lay in LAYOUTS]
    cases += [
        Case(f, "f64", lay, 4000, 2, axis)
        for f in FUNCS[1:]
        for lay in ("contiguous", "fortran")
        for axis in (0, 1)
    ]
    return cases


def target_cases() -> list[Case]:
    """The cases the speed targets name (``make bench-quick``)."""
    m = "mean"
    return [
        Case(m, "f64", "contiguous", 10**3, 1, None),
        Case(m, "f64", "contiguous", 10**5, 1, None),
        Case(m, "f64", "contiguous", 10**7, 1, None),
        Case(m, "f32", "contiguous", 10**7, 1, None),
        Case(m, "i32", "contiguous", 10**7, 1, None),
        Case(m, "f64", "contiguous", 4000, 2, None),
        Case(m, "f64", "fortran", 4000, 2, None),
        Case(m, "f64", "padded", 4000, 2, None),
        Case(m, "f64", "reversed", 4000, 2, None),
        Case(m, "f64", "step2-both", 4000, 2, None),
        Case(m, "f64", "step2-inner", 4000, 2, None),
        Case(m, "f64", "contiguous", 4000, 2, 0),
        Case(m, "f64", "contiguous", 4000, 2, 1),
        Case("var", "f64", "contiguous", 10**7, 1, None),
        Case("nanmean", "f64", "contiguous", 10**7, 1, None),
        Case("min", "f64", "contiguous", 10**7, 1, None),
    ]


# The speed each target case must show over numpy (the benchmark issue's table).
TARGETS: dict[str, float] = {
    "mean f64 1e3 contiguous": 4.0,
    "mean f64 1e5 contiguous": 3.0,
    "mean f64 1e7 contiguous": 2.5,
    "mean f32 1e7 contiguous": 2.5,
    "mean i32 1e7 contiguous": 3.0,
    "mean f64 4000x4000 fortran": 2.5,
    "mean f64 4000x4000 padded": 2.5,
    "mean f64 4000x4000 reversed": 2.5,
    "mean f64 4000x4000 step2-both": 2.5,
    "mean f64 4000x4000 step2-inner": 1.2,
    "mean f64 4000x4000 contiguous axis=0": 1.5,
    "mean f64 4000x4000 contiguous axis=1": 2.0,
    "var f64 1e7 contiguous": 4.0,
    "nanmean f64 1e7 contiguous": 6.0,
    "min f64 1e7 contiguous": 1.5,
}
# Cases that must also reach this fraction of the read-bandwidth probe.
PROBE_TARGETS: dict[str, float] = {
    "mean f64 1e7 contiguous": 0.85,
    "mean f32 1e7 contiguous": 0.85,
}


def function(lib: str, case: Case) -> Callable[[Any], Any]:
    """The callable one library runs for a case, taking the input array."""
    if lib == "numexpr":
        import numexpr as ne

        expr = "sum(a)" if case.axis is None else f"sum(a, axis={case.axis})"
        if case.func == "mean":

            def ne_mean(a: Any) -> Any:
                n = a.size if case.axis is None else a.shape[case.axis]
                return ne.evaluate(expr, local_dict={"a": a}) / n

            return ne_mean
        return lambda a: ne.evaluate(expr, local_dict={"a": a})
    module: Any
    if lib == "numpy":
        module = np
    elif lib == "stridewise":
        module = sw
    elif lib == "bottleneck":
        import bottleneck as module
    else:
        raise ValueError(f"unknown library {lib!r}")
    f = getattr(module, case.func)
    return f if case.axis is None else functools.partial(f, axis=case.axis)


class Inputs:
    """The session's input arrays: made once, reused by every case and library."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self._bases: OrderedDict[tuple[Any, ...], list[np.ndarray]] = OrderedDict()
        self._budget = budget

    def _kept(self, key: tuple[Any, ...], make: Callable[[], list[np.ndarray]]) -> list[np.ndarray]:
        if key in self._bases:
            self._bases.move_to_end(key)
            return self._bases[key]
        arrays = make()
        self._bases[key] = arrays
        while sum(a.nbytes for v in self._bases.values() for a in v) > self._budget:
            if len(self._bases) == 1:
                break
            self._bases.popitem(last=False)
        return arrays

    def _values(self, dtype: str, n: int, nan: bool) -> np.ndarray:
        rng = np.random.default_rng(n)
        if dtype.startswith("i"):
            return rng.integers(-1000, 1000, n, dtype=NP_DTYPE[dtype])
        a = rng.standard_normal(n, dtype=NP_DTYPE[dtype])
        a += 1.0
        if nan:
            a[rng.integers(0, n, max(n // 100, 1))] = np.nan
        return a

    def base(self, case: Case, aligned: bool = False, order: str = "C") -> list[np.ndarray]:
        """The copies of the case's base array (1-d of ``size``, or 2-d ``size`` square)."""
        n = case.base_len
        shape = (n,) if case.ndim == 1 else (case.size, case.size)
        key = (case.dtype, shape, case.nan_input, aligned, order)

        def make() -> list[np.ndarray]:
            first = self._values(case.dtype, n, case.nan_input).reshape(shape)
            copies = copies_needed(first.nbytes, n)
            out = []
            for _ in range(copies):
                if aligned:
                    a = sw.empty(shape, dtype=first.dtype)
                    a[...] = first
                else:
                    a = np.array(first, order=order)
                out.append(a)
            return out

        return self._kept(key, make)

    def views(self, case: Case) -> list[np.ndarray]:
        """The arrays the case reads: one per rotated copy."""
        lay = case.layout
        if lay == "broadcast":
            row = self.base(Case(case.func, case.dtype, "contiguous", case.size, 1, None))[0]
            return [np.broadcast_to(row, (case.size, case.size))]
        bases = self.base(case, aligned=lay == "aligned", order="F" if lay == "fortran" else "C")
        cut: Callable[[np.ndarray], np.ndarray] = {
            "contiguous": lambda b: b,
            "fortran": lambda b: b,
            "aligned": lambda b: b,
            "padded": lambda b: b[:, : b.shape[1] - 1],
            "step2-inner": lambda b: b[:, ::2],
            "step2-both": lambda b: b[::2, ::2],
            "reversed": lambda b: b[::-1],
        }[lay]
        return [cut(b) for b in bases]

    def probe(self, words: int) -> np.ndarray:
        key = ("probe", words)
        return self._kept(key, lambda: [np.arange(words, dtype=np.uint64)])[0]


def copies_needed(nbytes: int, n: int) -> int:
    """Copies to rotate through so a buffer is never reused while still in cache."""
    if n <= HOT_MAX:
        return 1
    return max(1, math.ceil(ROTATE_BYTES / nbytes))


def in_cache(case: Case) -> bool:
    """Whether the case is measured on data in cache (on purpose: small, or broadcast)."""
    return case.base_len <= HOT_MAX or case.layout == "broadcast"


def rotating(f: Callable[[Any], Any], arrays: list[np.ndarray]) -> Callable[[], Any]:
    """A no-argument call of ``f`` on the next copy each time."""
    it = itertools.cycle(arrays)
    return lambda: f(next(it))
